package dynamostore

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cutover/cutover/internal/cutover"
)

func recordItem(partition, migrationID string, r cutover.Record, at time.Time) map[string]ddb.AttributeValue {
	fields := make(map[string]ddb.AttributeValue, len(r.Fields))
	for k, v := range r.Fields {
		fields[k] = str(v)
	}
	item := map[string]ddb.AttributeValue{
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
	if len(r.Invalid) > 0 {
		// The values the mapping left out, field -> {value, reason}; each
		// value is already cut to cutover.MaxInvalidValueBytes.
		inv := make(map[string]ddb.AttributeValue, len(r.Invalid))
		for k, v := range r.Invalid {
			inv[k] = &ddb.AttributeValueMemberM{Value: map[string]ddb.AttributeValue{"value": str(v.Value), "reason": str(v.Reason)}}
		}
		item["invalid"] = &ddb.AttributeValueMemberM{Value: inv}
	}
	return item
}

// TestEnv is the disposable TEST environment: a migration's records
// spread over testShards partition keys, "<migration>#<h>", h the first
// hex digit of the record id (TestPartition), so a test round writes at
// up to sixteen keys' rate (one key takes 1,000 write units a second: a
// 100M-record round under one key would take more than a day), and a
// slice of records (cutover.RecordIDPrefixes: the ids beginning with a
// prefix) lives under one key. Readers also read the migration's own key,
// under which every record was written before TEST was sharded: a round
// reset after the deploy clears both.
//
// TEST records are personal data, so each carries a TTL (PurgeAt, epoch
// seconds) and DynamoDB deletes it Retention after the migration last used
// it: a record is written with PurgeAt = written + Retention, so the
// records of a migration that failed or was abandoned go that long after
// its last test round; when the migration goes live, ExpireSegment sets
// them to go that long after go-live. A new round resets and rewrites
// them. Both run a slice at a time (cutover.RecordIDPrefixes), one step
// each, so no step's time grows with the migration's records.
type TestEnv struct {
	API   TestAPI
	Table string
	// Retention is how long TEST records are kept after their migration
	// last used them; 0 gives them no TTL (they stay until reset).
	Retention time.Duration
}

// ttlAttribute is the TEST table's TTL attribute (template.yaml's
// TestRecordsTable TimeToLiveSpecification).
const ttlAttribute = "PurgeAt"

// purgeAt is the TTL value for records last used at t.
func (t *TestEnv) purgeAt(at time.Time) ddb.AttributeValue {
	return &ddb.AttributeValueMemberN{Value: strconv.FormatInt(at.Add(t.Retention).Unix(), 10)}
}

// ResetSegment implements engine.TestEnv: it deletes the migration's
// TEST records whose id begins with prefix (cutover.RecordIDPrefixes), of
// the given entities; the prefix "" deletes every record of the migration,
// whatever its entity.
//
// Errors: EUNAVAILABLE from DynamoDB.
func (t *TestEnv) ResetSegment(ctx context.Context, migrationID string, entities []string, prefix string) error {
	return t.eachPage(ctx, migrationID, entities, prefix, true, func(items []map[string]ddb.AttributeValue) error {
		reqs := make([]ddb.WriteRequest, 0, len(items))
		for _, item := range items {
			reqs = append(reqs, ddb.WriteRequest{DeleteRequest: &ddb.DeleteRequest{Key: map[string]ddb.AttributeValue{"PK": item["PK"], "SK": item["SK"]}}})
		}
		return batchWrite(ctx, t.API, t.Table, reqs)
	})
}

// ExpireSegment implements engine.TestEnv and migration.TestExpiry: the
// migration's TEST records whose id begins with prefix, of the given
// entities ("": every record of the migration), are rewritten to be
// deleted Retention after from. Running it again sets the same expiry.
// With no Retention it changes nothing.
//
// Errors: EUNAVAILABLE from DynamoDB.
func (t *TestEnv) ExpireSegment(ctx context.Context, migrationID string, entities []string, prefix string, from time.Time) error {
	if t.Retention <= 0 {
		return nil
	}
	purge := t.purgeAt(from)
	return t.eachPage(ctx, migrationID, entities, prefix, false, func(items []map[string]ddb.AttributeValue) error {
		reqs := make([]ddb.WriteRequest, 0, len(items))
		for _, item := range items {
			item[ttlAttribute] = purge
			reqs = append(reqs, ddb.WriteRequest{PutRequest: &ddb.PutRequest{Item: item}})
		}
		return batchWrite(ctx, t.API, t.Table, reqs)
	})
}

// testShards is how many keys a migration's TEST records spread over:
// one per hex digit a record id begins with.
const testShards = 16

// TestPartition is the TEST table's partition key for the record id of
// migrationID: the migration and the id's first hex digit (an id that
// does not begin with one, which a RecordID always does, gets a digit by
// its FNV-1a hash, so it still lands under a key the readers read).
func TestPartition(migrationID, id string) string {
	return migrationID + "#" + string(testShardDigit(id))
}

func testShardDigit(id string) byte {
	const hex = "0123456789abcdef"
	if id != "" && strings.IndexByte(hex, id[0]) >= 0 {
		return id[0]
	}
	return hex[shardOf(id, testShards)]
}

// testPartitions are the keys a migration's TEST records whose ids begin
// with prefix can be under: the migration's own (written before TEST was
// sharded) and, with the prefix "", every shard key, else its first
// digit's.
func testPartitions(migrationID, prefix string) []string {
	out := []string{migrationID}
	if prefix != "" {
		return append(out, TestPartition(migrationID, prefix))
	}
	for _, h := range "0123456789abcdef" {
		out = append(out, migrationID+"#"+string(h))
	}
	return out
}

// segmentPageItems bounds a page of a reset or an expiry: DynamoDB stops
// a page at 1 MB, but an emulator may not (kumo returns a whole key at
// once), and a page is held while it is rewritten.
const segmentPageItems = 1000

// eachPage calls fn with each page of the migration's TEST records in a
// slice: with the prefix "", every key of the migration; otherwise, for
// each entity, the sort keys beginning entity#prefix (a record's sort key
// is its entity and id) under the prefix's key and the migration's own.
// keysOnly reads the keys alone, consistently (a reset must see every
// item the round wrote).
func (t *TestEnv) eachPage(ctx context.Context, migrationID string, entities []string, prefix string, keysOnly bool, fn func([]map[string]ddb.AttributeValue) error) error {
	type query struct{ pk, cond, sk string }
	var queries []query
	for _, pk := range testPartitions(migrationID, prefix) {
		if prefix == "" {
			queries = append(queries, query{pk: pk, cond: "PK = :p"})
			continue
		}
		for _, e := range entities {
			queries = append(queries, query{pk: pk, cond: "PK = :p AND begins_with(SK, :s)", sk: e + "#" + prefix})
		}
	}
	for _, sl := range queries {
		in := &dynamodb.QueryInput{
			TableName:                 &t.Table,
			KeyConditionExpression:    aws.String(sl.cond),
			ExpressionAttributeValues: map[string]ddb.AttributeValue{":p": str(sl.pk)},
			Limit:                     aws.Int32(segmentPageItems),
		}
		if sl.sk != "" {
			in.ExpressionAttributeValues[":s"] = str(sl.sk)
		}
		if keysOnly {
			in.ConsistentRead, in.ProjectionExpression = aws.Bool(true), aws.String("PK, SK")
		}
		p := dynamodb.NewQueryPaginator(t.API, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return mapErr(err, "TEST environment")
			}
			if err := fn(page.Items); err != nil {
				return err
			}
		}
	}
	return nil
}

// maxBatchAttempts bounds the calls that resend what a successful call
// left undone: BatchWriteItem's UnprocessedItems, the items of a
// transaction cancelled because they were throttled. A call that fails
// as a whole is not retried here: the SDK client has already retried it
// (internal/awsenv's DynamoDB retryer), and doing it again on top would
// multiply the calls (12 × 4 = 48 for one throttled write before).
const maxBatchAttempts = 12

// batchWrite writes requests 25 at a time, resending unprocessed items
// with exponential backoff and full jitter.
//
// Errors: EUNAVAILABLE when storage keeps throttling or is unreachable.
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
				return mapErr(err, "TEST environment")
			}
			pending = out.UnprocessedItems[table]
		}
	}
	return nil
}

// LiveEnv is the LIVE environment: a tenant's records under its shard keys
// (LivePartition), created with attribute_not_exists so the first write
// wins and a retried or restarted run converges on the same records. Its
// records are written by the built-in destination (Destination).
type LiveEnv struct {
	API         LiveAPI
	Table       string
	Concurrency int // transactions in flight within one delivery; 0 means 4
}

// maxTransactItems and maxTransactBytes are DynamoDB's limits on one
// transaction (100 actions, 4 MB), the second with room to spare.
const (
	maxTransactItems = 100
	maxTransactBytes = 3 << 20
)

// transactGroups turns records (and their items) into groups of
// conditional Puts that fit one transaction each. A record id repeated in
// the batch is written once (the first); a transaction may not touch one
// item twice. repeated[i] says record i repeats an earlier one.
func (l *LiveEnv) transactGroups(recs []cutover.Record, items []map[string]ddb.AttributeValue) (groups [][]ddb.TransactWriteItem, repeated []bool) {
	var (
		cur  []ddb.TransactWriteItem
		size int
	)
	repeated = make([]bool, len(recs))
	seen := make(map[string]bool, len(recs))
	for i, r := range recs {
		key := r.Entity + "#" + r.ID
		if seen[key] {
			repeated[i] = true
			continue
		}
		seen[key] = true
		n := recordSize(r)
		if len(cur) == maxTransactItems || (len(cur) > 0 && size+n > maxTransactBytes) {
			groups, cur, size = append(groups, cur), nil, 0
		}
		cur = append(cur, ddb.TransactWriteItem{Put: &ddb.Put{
			TableName:           &l.Table,
			Item:                items[i],
			ConditionExpression: aws.String("attribute_not_exists(PK)"),
		}})
		size += n
	}
	if len(cur) > 0 {
		groups = append(groups, cur)
	}
	return groups, repeated
}

// recordSize estimates a record's stored size in bytes.
func recordSize(r cutover.Record) int {
	n := 200 + len(r.ID) + len(r.Entity) + len(r.SourceID)
	for k, v := range r.Fields {
		n += len(k) + len(v)
	}
	return n
}

// createOnce creates every item of a group that does not exist yet and
// returns the items that existed. An item that exists (written by an
// earlier attempt, a crashed run or a retried chunk) is left exactly as
// it is. The items of a transaction
// cancelled for throttling or a conflict are resent with backoff and full
// jitter; a call that fails as a whole was already retried by the client.
//
// Errors: EUNAVAILABLE when storage keeps throttling or is unreachable;
// EINVALID when DynamoDB refuses an item (too large, for instance).
func (l *LiveEnv) createOnce(ctx context.Context, pending []ddb.TransactWriteItem) ([]ddb.TransactWriteItem, error) {
	var existed []ddb.TransactWriteItem
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt >= maxBatchAttempts {
			return nil, cutover.Errorf(cutover.EUNAVAILABLE, "Storage kept throttling the LIVE environment; the step can be retried safely.")
		}
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return nil, cutover.Wrap(cutover.EUNAVAILABLE, err, "Writing was interrupted.")
			}
		}
		_, err := l.API.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: pending})
		if err == nil {
			return existed, nil
		}
		var tc *ddb.TransactionCanceledException
		switch {
		case errors.As(err, &tc):
			rest, ex, err := stillToCreate(pending, tc.CancellationReasons)
			if err != nil {
				return nil, err
			}
			pending, existed = rest, append(existed, ex...)
		default:
			return nil, mapErr(err, "live record")
		}
	}
	return existed, nil
}

// stillToCreate drops from a cancelled transaction the items that already
// exist (and returns them apart) and keeps the rest for another attempt.
//
// Errors: EINVALID when DynamoDB refused an item for a reason a retry
// cannot cure.
func stillToCreate(items []ddb.TransactWriteItem, reasons []ddb.CancellationReason) (rest, existed []ddb.TransactWriteItem, err error) {
	if len(reasons) != len(items) {
		return items, nil, nil // no per-item account: try them all again
	}
	rest = items[:0:0]
	for i, r := range reasons {
		switch code := aws.ToString(r.Code); code {
		case "ConditionalCheckFailed":
			existed = append(existed, items[i]) // it exists: the first write won
		case "", "None", "ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict", "RequestLimitExceeded":
			rest = append(rest, items[i])
		default:
			return nil, nil, cutover.Errorf(cutover.EINVALID, "DynamoDB refused a live record (%s): %s", code, aws.ToString(r.Message))
		}
	}
	return rest, existed, nil
}

func jitter(n int64) int64 {
	if n <= 0 {
		return 0
	}
	return rand.Int64N(n)
}
