package dynamostore

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migrate"
)

func recordItem(partition, migrationID string, r cutover.Record, at time.Time) map[string]ddb.AttributeValue {
	fields := make(map[string]ddb.AttributeValue, len(r.Fields))
	for k, v := range r.Fields {
		fields[k] = str(v)
	}
	return map[string]ddb.AttributeValue{
		"PK":          str(partition),
		"SK":          str(r.Entity + "#" + r.ID),
		"id":          str(r.ID),
		"entity":      str(r.Entity),
		"sourceId":    str(r.SourceID),
		"sourceRow":   num(r.SourceRow),
		"fields":      &ddb.AttributeValueMemberM{Value: fields},
		"migrationId": str(migrationID),
		"writtenAt":   str(at.UTC().Format(time.RFC3339Nano)),
	}
}

// TestAPI is the slice of DynamoDB the TEST environment uses.
type TestAPI interface {
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// TestEnv is the disposable TEST environment: one partition per migration.
type TestEnv struct {
	API   TestAPI
	Table string
}

// Reset implements migration.TestEnv.
//
// Errors: EUNAVAILABLE from DynamoDB.
func (t *TestEnv) Reset(ctx context.Context, migrationID string) error {
	p := dynamodb.NewQueryPaginator(t.API, &dynamodb.QueryInput{
		TableName:                 &t.Table,
		KeyConditionExpression:    aws.String("PK = :p"),
		ProjectionExpression:      aws.String("PK, SK"),
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":p": str(migrationID)},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return mapErr(err, "TEST environment")
		}
		var reqs []ddb.WriteRequest
		for _, item := range page.Items {
			reqs = append(reqs, ddb.WriteRequest{DeleteRequest: &ddb.DeleteRequest{Key: map[string]ddb.AttributeValue{"PK": item["PK"], "SK": item["SK"]}}})
		}
		if err := batchWrite(ctx, t.API, t.Table, reqs); err != nil {
			return err
		}
	}
	return nil
}

// Writer implements migration.TestEnv.
func (t *TestEnv) Writer(migrationID string) migrate.Sink {
	return sinkFunc(func(ctx context.Context, recs []cutover.Record) error {
		now := time.Now()
		reqs := make([]ddb.WriteRequest, 0, len(recs))
		for _, r := range recs {
			reqs = append(reqs, ddb.WriteRequest{PutRequest: &ddb.PutRequest{Item: recordItem(migrationID, migrationID, r, now)}})
		}
		return batchWrite(ctx, t.API, t.Table, reqs)
	})
}

type sinkFunc func(ctx context.Context, recs []cutover.Record) error

func (f sinkFunc) Write(ctx context.Context, recs []cutover.Record) error { return f(ctx, recs) }

// maxBatchAttempts bounds the retries of unprocessed items.
const maxBatchAttempts = 12

// batchWrite writes requests 25 at a time, retrying unprocessed items with
// exponential backoff and full jitter.
func batchWrite(ctx context.Context, api TestAPI, table string, reqs []ddb.WriteRequest) error {
	for len(reqs) > 0 {
		n := min(25, len(reqs))
		pending := reqs[:n]
		reqs = reqs[n:]
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt >= maxBatchAttempts {
				return cutover.Errorf(cutover.EUNAVAILABLE, "Storage kept throttling the TEST environment; try again.")
			}
			if attempt > 0 {
				if err := backoff(ctx, attempt); err != nil {
					return cutover.Wrap(cutover.EUNAVAILABLE, err, "Writing was interrupted.")
				}
			}
			out, err := api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddb.WriteRequest{table: pending}})
			if err != nil {
				if isThrottle(err) {
					continue
				}
				return mapErr(err, "TEST environment")
			}
			pending = out.UnprocessedItems[table]
		}
	}
	return nil
}

// LiveAPI is the slice of DynamoDB the LIVE environment uses: PutItem and
// nothing else, so no code path here can update or delete a live record.
type LiveAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// LiveEnv is the LIVE environment: one partition per tenant, records
// created with attribute_not_exists so the first write wins and retries
// converge.
type LiveEnv struct {
	API         LiveAPI
	Table       string
	Concurrency int // parallel puts; 0 means 8
}

// Writer implements migration.LiveEnv.
func (l *LiveEnv) Writer(tenantID, migrationID string) migrate.Sink {
	return sinkFunc(func(ctx context.Context, recs []cutover.Record) error {
		workers := l.Concurrency
		if workers <= 0 {
			workers = 8
		}
		now := time.Now()
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			firstErr error
		)
		sem := make(chan struct{}, workers)
		for _, r := range recs {
			item := recordItem(tenantID, migrationID, r, now)
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				if err := l.putOnce(ctx, item); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		return firstErr
	})
}

// putOnce creates a live record unless it exists; an existing record (a
// retried or restarted run) is left exactly as it is.
func (l *LiveEnv) putOnce(ctx context.Context, item map[string]ddb.AttributeValue) error {
	for attempt := 0; ; attempt++ {
		_, err := l.API.PutItem(ctx, &dynamodb.PutItemInput{TableName: &l.Table, Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")})
		if err == nil {
			return nil
		}
		mapped := mapErr(err, "live record")
		if cutover.ErrorCode(mapped) == cutover.ECONFLICT {
			return nil
		}
		if !isThrottle(err) || attempt+1 >= maxBatchAttempts {
			return mapped
		}
		if err := backoff(ctx, attempt); err != nil {
			return cutover.Wrap(cutover.EUNAVAILABLE, err, "Writing was interrupted.")
		}
	}
}

func isThrottle(err error) bool {
	var pte *ddb.ProvisionedThroughputExceededException
	var rle *ddb.RequestLimitExceeded
	var te *ddb.ThrottlingException
	return errors.As(err, &pte) || errors.As(err, &rle) || errors.As(err, &te)
}

func jitter(n int64) int64 {
	if n <= 0 {
		return 0
	}
	return rand.Int64N(n)
}
