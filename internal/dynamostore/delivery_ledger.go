package dynamostore

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cutover/cutover/internal/cutover"
)

// DeliveryLedger is the HTTPS destination's delivery ledger
// (destination/webhook.Ledger): what the destination answered for each
// record delivered to a target. One item per record: PK
// "DLV/{env}/{tenant}/{migration}/{round}" (each part path-escaped, so no
// two targets share a partition), with "#NN" after it for a target whose
// records spread over Target.LiveShards (LIVE) or Target.TestShards (a
// test round) keys (the record id's FNV-1a shard: one key takes 1,000
// writes a second, and a large migration records one item per record);
// SK the record id. Items are
// only ever created, with attribute_not_exists: the first answer stored
// for a record is the one that stands.
type DeliveryLedger struct {
	API   LedgerAPI
	Table string
	// Concurrency bounds the puts in flight; 0 means 8.
	Concurrency int
	// Now stamps each item's deliveredAt; nil means time.Now.
	Now func() time.Time
	// TestRetention is how long a TEST delivery is kept (its PurgeAt, the
	// table's TTL attribute), as long as the TEST records it names
	// (TEST_RECORD_RETENTION_DAYS); 0 keeps it. A LIVE delivery is always
	// kept: it is what stops a record going live twice.
	TestRetention time.Duration
}

// A ledger item's attributes besides its key (and PurgeAt).
const (
	ledgerOutcome = "outcome"
	ledgerReason  = "reason"
	ledgerAt      = "deliveredAt"
)

// maxBatchGetKeys is BatchGetItem's limit of keys a call.
const maxBatchGetKeys = 100

// ledgerPartition is a target's partition: each test round has its own
// (a corrected round re-delivers the same ids), LIVE has round 0.
func ledgerPartition(t cutover.Target) string {
	return "DLV/" + url.PathEscape(t.Env) + "/" + url.PathEscape(t.TenantID) + "/" + url.PathEscape(t.MigrationID) + "/" + strconv.Itoa(t.Round)
}

// ledgerKey is the partition key of the record id's item: its target's
// partition, and its shard of the target's layout (t.LiveShards in LIVE,
// t.TestShards in a test round; none when 0, as a final or a round
// planned before the ledger was sharded recorded it, so a delivery in
// flight across that deploy finds its answers where it left them).
func ledgerKey(t cutover.Target, id string) ddb.AttributeValue {
	return str(shardedKey(ledgerPartition(t), t, id))
}

// shardedKey is the key of the record id's item of a per-record register
// of t (the ledger, the drop's claims) whose partition is base: base and
// the id's shard of t's layout, or base alone when t has none.
func shardedKey(base string, t cutover.Target, id string) string {
	shards := t.TestShards
	if t.Env == cutover.EnvLive {
		shards = t.LiveShards
	}
	if shards <= 0 {
		return base
	}
	return fmt.Sprintf("%s#%02d", base, shardOf(id, shards))
}

// Delivered implements webhook.Ledger: strongly consistent batched reads,
// 100 keys a call, resending the keys DynamoDB left unprocessed with
// backoff (a call refused as a whole is the SDK client's retryer's).
//
// Errors: EUNAVAILABLE when storage is unreachable or keeps throttling;
// EINTERNAL when the table is missing.
func (l *DeliveryLedger) Delivered(ctx context.Context, t cutover.Target, ids []string) (map[string]cutover.DeliveryResult, error) {
	out := make(map[string]cutover.DeliveryResult, len(ids))
	for len(ids) > 0 {
		n := min(maxBatchGetKeys, len(ids))
		keys := make([]map[string]ddb.AttributeValue, n)
		for i, id := range ids[:n] {
			keys[i] = map[string]ddb.AttributeValue{"PK": ledgerKey(t, id), "SK": str(id)}
		}
		ids = ids[n:]
		pending := map[string]ddb.KeysAndAttributes{l.Table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
		for attempt := 0; len(pending[l.Table].Keys) > 0; attempt++ {
			if attempt >= maxBatchAttempts {
				return nil, cutover.Errorf(cutover.EUNAVAILABLE, "Storage kept throttling the delivery ledger; try again.")
			}
			if attempt > 0 {
				if err := backoff(ctx, attempt); err != nil {
					return nil, cutover.Wrap(cutover.EUNAVAILABLE, err, "Reading the delivery ledger was interrupted.")
				}
			}
			res, err := l.API.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				return nil, mapErr(err, "delivery ledger")
			}
			for _, item := range res.Responses[l.Table] {
				r := cutover.DeliveryResult{ID: attrS(item, "SK"), Outcome: attrS(item, ledgerOutcome), Reason: attrS(item, ledgerReason)}
				out[r.ID] = r
			}
			pending = res.UnprocessedKeys
		}
	}
	return out, nil
}

// Record implements webhook.Ledger: one conditional put per result, a few
// in flight at once; a put that finds the record already there is the
// no-op the port asks for.
//
// Errors: EUNAVAILABLE when storage is unreachable; EINTERNAL when the
// table is missing.
func (l *DeliveryLedger) Record(ctx context.Context, t cutover.Target, results []cutover.DeliveryResult) error {
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	at := now().UTC()
	var purge ddb.AttributeValue
	if t.Env == cutover.EnvTest && l.TestRetention > 0 {
		purge = &ddb.AttributeValueMemberN{Value: strconv.FormatInt(at.Add(l.TestRetention).Unix(), 10)}
	}
	workers := l.Concurrency
	if workers <= 0 {
		workers = 8
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
		next  = make(chan cutover.DeliveryResult)
	)
	for range min(workers, len(results)) {
		wg.Go(func() {
			for r := range next {
				if err := l.put(ctx, ledgerKey(t, r.ID), str(at.Format(time.RFC3339Nano)), purge, r); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		})
	}
feed:
	for _, r := range results {
		select {
		case next <- r:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		return cutover.Wrap(cutover.EUNAVAILABLE, ctx.Err(), "Writing the delivery ledger was interrupted.")
	}
	return first
}

// put creates one result's item unless the record has one already.
// purge, when not nil, is its PurgeAt.
func (l *DeliveryLedger) put(ctx context.Context, pk, at, purge ddb.AttributeValue, r cutover.DeliveryResult) error {
	item := map[string]ddb.AttributeValue{"PK": pk, "SK": str(r.ID), ledgerOutcome: str(r.Outcome), ledgerAt: at}
	if purge != nil {
		item[ttlAttribute] = purge
	}
	if r.Reason != "" {
		item[ledgerReason] = str(r.Reason)
	}
	_, err := l.API.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &l.Table, Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	if err = mapErr(err, "delivery ledger"); cutover.ErrorCode(err) == cutover.ECONFLICT {
		return nil // recorded before: the first answer stands
	}
	return err
}

// attrS is a string attribute's value, or "".
func attrS(item map[string]ddb.AttributeValue, name string) string {
	if v, ok := item[name].(*ddb.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}
