package dynamostore

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination"
	"github.com/cutover/cutover/internal/schema"
	"golang.org/x/sync/errgroup"
)

// Destination is the built-in destination (issue 14): this stack's own
// TEST and LIVE tables behind cutover.Destination. TEST keeps today's
// guarantees (one partition per migration, idempotent overwrites, each
// record expiring Retention after it was written); LIVE keeps its own
// (a tenant's records spread over cutover.LiveShards partition keys,
// LivePartition; create-only: a record that exists is never overwritten,
// and reported Existed). Records are stored typed
// (destination.Typed): lists as lists, money as {amount: N, currency: S},
// numbers as N, booleans as BOOL, dates as ISO strings, references as the
// referenced records' ids.
type Destination struct {
	Test *TestEnv
	Live *LiveEnv
	// Reader reads back what LIVE holds (Holdings): a Query on the LIVE
	// table, kept apart from LiveEnv's API so that writing LIVE still
	// needs nothing but conditional Puts.
	Reader LiveReader
	// Schema is the target schema the records are typed by; nil is
	// schema.Default().
	Schema *schema.Schema
}

// Deliverer implements cutover.Destination: TEST records (t.Env ==
// cutover.EnvTest) go to the TEST table, every other target's to LIVE.
func (d *Destination) Deliverer(t cutover.Target) cutover.Deliverer {
	return &deliverer{d: d, t: t}
}

type deliverer struct {
	d *Destination
	t cutover.Target
}

func (d *Destination) schema() *schema.Schema {
	if d.Schema != nil {
		return d.Schema
	}
	return schema.Default()
}

// Deliver implements cutover.Deliverer. TEST reports every record
// Created (an overwrite is the same record again); LIVE reports Created
// for the records its conditional Puts created and Existed for those the
// table held already (an earlier attempt, another chunk).
//
// Errors: EINVALID when a record's fields do not read as their schema
// types (destination.Typed) or DynamoDB refuses an item; EUNAVAILABLE
// when storage keeps throttling or is unreachable.
func (w *deliverer) Deliver(ctx context.Context, recs []cutover.Record) ([]cutover.DeliveryResult, error) {
	now := time.Now()
	items := make([]map[string]ddb.AttributeValue, len(recs))
	for i, r := range recs {
		partition := TestPartition(w.t.MigrationID, r.ID)
		if w.t.Env != cutover.EnvTest {
			partition = LivePartition(w.t.TenantID, r.ID, w.t.LiveShards)
		}
		item, err := w.d.typedItem(partition, w.t, r, now)
		if err != nil {
			return nil, err
		}
		items[i] = item
	}
	if w.t.Env == cutover.EnvTest {
		return w.deliverTest(ctx, recs, items, now)
	}
	return w.deliverLive(ctx, recs, items)
}

func (w *deliverer) deliverTest(ctx context.Context, recs []cutover.Record, items []map[string]ddb.AttributeValue, now time.Time) ([]cutover.DeliveryResult, error) {
	env := w.d.Test
	reqs := make([]ddb.WriteRequest, 0, len(items))
	seen := make(map[string]bool, len(items))
	out := make([]cutover.DeliveryResult, len(recs))
	for i, item := range items {
		out[i] = cutover.DeliveryResult{ID: recs[i].ID, Outcome: cutover.Created}
		key := recs[i].Entity + "#" + recs[i].ID
		if seen[key] {
			continue // one BatchWriteItem may not name an item twice
		}
		seen[key] = true
		if env.Retention > 0 {
			item[ttlAttribute] = env.purgeAt(now)
		}
		reqs = append(reqs, ddb.WriteRequest{PutRequest: &ddb.PutRequest{Item: item}})
	}
	if err := batchWrite(ctx, env.API, env.Table, reqs); err != nil {
		return nil, err
	}
	return out, nil
}

// deliverLive creates the records in transactions of conditional Puts,
// Concurrency of them at a time, and reports which existed.
func (w *deliverer) deliverLive(ctx context.Context, recs []cutover.Record, items []map[string]ddb.AttributeValue) ([]cutover.DeliveryResult, error) {
	env := w.d.Live
	groups, repeated := env.transactGroups(recs, items)
	existed, err := env.createAll(ctx, groups)
	if err != nil {
		return nil, err
	}
	out := make([]cutover.DeliveryResult, len(recs))
	for i, r := range recs {
		out[i] = cutover.DeliveryResult{ID: r.ID, Outcome: cutover.Created}
		if repeated[i] || existed[r.Entity+"#"+r.ID] {
			out[i].Outcome = cutover.Existed // the batch's first creates a repeated id
		}
	}
	return out, nil
}

// createAll runs createOnce on every group, Concurrency at a time, and
// returns the SKs of the items that existed already.
//
// Errors: the first group's failure (createOnce's).
func (l *LiveEnv) createAll(ctx context.Context, groups [][]ddb.TransactWriteItem) (map[string]bool, error) {
	workers := l.Concurrency
	if workers <= 0 {
		workers = 4
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		existed  = map[string]bool{}
		firstErr error
		wg       sync.WaitGroup
		slots    = make(chan struct{}, workers)
	)
	for _, g := range groups {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			ex, err := l.createOnce(ctx, g)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
				cancel()
			}
			for _, it := range ex {
				existed[it.Put.Item["SK"].(*ddb.AttributeValueMemberS).Value] = true
			}
		}()
	}
	wg.Wait()
	return existed, firstErr
}

// typedItem is r's item with its fields stored typed.
func (d *Destination) typedItem(partition string, t cutover.Target, r cutover.Record, now time.Time) (map[string]ddb.AttributeValue, error) {
	ent, ok := d.schema().Entity(r.Entity)
	if !ok {
		return nil, cutover.Errorf(cutover.EINVALID, "Record %s: %q is not an entity of the target schema.", r.ID, r.Entity)
	}
	typed, err := destination.Typed(t.TenantID, r, ent)
	if err != nil {
		return nil, err
	}
	fields := make(map[string]ddb.AttributeValue, len(typed.Fields))
	for k, v := range typed.Fields {
		av, err := typedAttribute(v)
		if err != nil {
			return nil, cutover.Wrap(cutover.EINVALID, err, "Record %s: field %q: %s", r.ID, k, cutover.ErrorMessage(err))
		}
		fields[k] = av
	}
	item := recordItem(partition, t.MigrationID, r, now)
	item["fields"] = &ddb.AttributeValueMemberM{Value: fields}
	if t.Env == cutover.EnvTest {
		addTestAttributes(item, t, r)
	}
	return item, nil
}

// typedAttribute stores one of destination.Typed's values.
//
// Errors: EINTERNAL for a value Typed never makes.
func typedAttribute(v any) (ddb.AttributeValue, error) {
	switch v := v.(type) {
	case string:
		return str(v), nil
	case bool:
		return &ddb.AttributeValueMemberBOOL{Value: v}, nil
	case json.Number:
		return number(v), nil
	case []string:
		l := make([]ddb.AttributeValue, len(v))
		for i, s := range v {
			l[i] = str(s)
		}
		return &ddb.AttributeValueMemberL{Value: l}, nil
	case destination.Money:
		return &ddb.AttributeValueMemberM{Value: map[string]ddb.AttributeValue{
			"amount": number(v.Amount), "currency": str(v.Currency),
		}}, nil
	}
	return nil, cutover.Errorf(cutover.EINTERNAL, "a value of type %T cannot be stored", v)
}

// Holdings implements cutover.Destination: it reads the table back (TEST:
// the migration's partition; LIVE: the tenant's partitions, the items this
// migration wrote) and counts, per entity, the items and the
// destination.IDChecksum of their ids. It counts what is stored, not what
// a writer said it wrote.
//
// Errors: EUNAVAILABLE from DynamoDB; EINTERNAL when LIVE has no Reader.
func (d *Destination) Holdings(ctx context.Context, t cutover.Target) (map[string]cutover.Holding, error) {
	return d.holdingsIn(ctx, t, "", "")
}

// HoldingsIn implements cutover.RangeHolder: Holdings of the items whose
// sort key (entity#id) is in [lo, hi), a Query of each of t's partitions
// with the range as its key condition, so the comparison's key ranges
// read LIVE (or TEST) back a range a step. It always reads by range.
//
// Errors: as Holdings.
func (d *Destination) HoldingsIn(ctx context.Context, t cutover.Target, lo, hi string) (map[string]cutover.Holding, bool, error) {
	held, err := d.holdingsIn(ctx, t, lo, hi)
	return held, err == nil, err
}

// holdingsIn is Holdings of the sort keys in [lo, hi) ("" for an open end).
func (d *Destination) holdingsIn(ctx context.Context, t cutover.Target, lo, hi string) (map[string]cutover.Holding, error) {
	partitions := testPartitions(t.MigrationID, "")
	if t.Env != cutover.EnvTest {
		partitions = LivePartitions(t.TenantID, t.LiveShards)
	}
	sums := map[string]*destination.IDChecksum{}
	counts := map[string]int64{}
	var mu sync.Mutex
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(holdingsReaders)
	for _, p := range partitions {
		g.Go(func() error {
			return d.holdings(ctx, t, p, lo, hi, func(entity, id string) {
				mu.Lock()
				defer mu.Unlock()
				if sums[entity] == nil {
					sums[entity] = &destination.IDChecksum{}
				}
				sums[entity].Add(id)
				counts[entity]++
			})
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := make(map[string]cutover.Holding, len(counts))
	for e, n := range counts {
		out[e] = cutover.Holding{Count: n, IDChecksum: sums[e].String()}
	}
	return out, nil
}

// holdingsReaders is how many of a target's partition keys Holdings (and
// a page of TEST records) reads at once.
const holdingsReaders = 8

// holdings calls add with the entity and id of each item t holds in
// partition whose sort key is in [lo, hi).
//
// Errors: EUNAVAILABLE from DynamoDB; EINTERNAL when LIVE has no Reader,
// or an item has no entity or id.
func (d *Destination) holdings(ctx context.Context, t cutover.Target, partition, lo, hi string, add func(entity, id string)) error {
	in := &dynamodb.QueryInput{
		// Strongly consistent: the read-back runs right after the last
		// writes (and, in TEST, after the round's reset); an eventually
		// consistent read could miss the newest items or still see deleted
		// ones, and fail a correct migration.
		ConsistentRead:            aws.Bool(true),
		KeyConditionExpression:    aws.String("PK = :p" + sortKeyRange(lo, hi)),
		ProjectionExpression:      aws.String("#e, #i, #m, SK"),
		ExpressionAttributeNames:  map[string]string{"#e": "entity", "#i": "id", "#m": "migrationId"},
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":p": str(partition)},
	}
	if lo != "" {
		in.ExpressionAttributeValues[":lo"] = str(lo)
	}
	if hi != "" {
		in.ExpressionAttributeValues[":hi"] = str(hi)
	}
	var api queryAPI
	what := "TEST environment"
	if t.Env == cutover.EnvTest {
		api, in.TableName = d.Test.API, &d.Test.Table
	} else {
		if d.Reader == nil {
			return cutover.Errorf(cutover.EINTERNAL, "The built-in destination has no LIVE reader.")
		}
		api, in.TableName, what = d.Reader, &d.Live.Table, "LIVE environment"
		in.FilterExpression = aws.String("#m = :m")
		in.ExpressionAttributeValues[":m"] = str(t.MigrationID)
	}
	p := dynamodb.NewQueryPaginator(api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return mapErr(err, what)
		}
		for _, it := range page.Items {
			if sk, ok := it["SK"].(*ddb.AttributeValueMemberS); ok && hi != "" && sk.Value == hi {
				continue // BETWEEN includes its upper end; the range does not
			}
			e, eok := it["entity"].(*ddb.AttributeValueMemberS)
			id, iok := it["id"].(*ddb.AttributeValueMemberS)
			if !eok || !iok {
				return cutover.Errorf(cutover.EINTERNAL, "%s holds an item without an entity or an id.", what)
			}
			add(e.Value, id.Value)
		}
	}
	return nil
}

// sortKeyRange is the key condition's part for the sort keys in [lo, hi)
// ("" for an open end). A key condition takes one comparison of the sort
// key, so a closed range is BETWEEN lo AND hi, and the caller leaves out
// an item whose key is hi itself.
func sortKeyRange(lo, hi string) string {
	switch {
	case lo != "" && hi != "":
		return " AND SK BETWEEN :lo AND :hi"
	case lo != "":
		return " AND SK >= :lo"
	case hi != "":
		return " AND SK < :hi"
	}
	return ""
}

// LivePartition is the LIVE table's partition key for the record of
// tenantID with record id id: "<tenant>#<shard>", the shard (two decimal
// digits) an FNV-1a hash of the id modulo shards, so a tenant's records
// spread evenly over shards keys (cutover.LiveShards) and one key's limit
// of 1,000 write units a second does not bound a large final; with
// shards 0 (a final planned before LIVE was sharded), the tenant's id
// alone. A reader of a tenant's LIVE records queries LivePartitions.
func LivePartition(tenantID, id string, shards int) string {
	if shards <= 0 {
		return tenantID
	}
	return fmt.Sprintf("%s#%02d", tenantID, shardOf(id, shards))
}

// shardOf is the record id's shard of shards (> 0): FNV-1a, stable across
// processes, as every chunk's Lambda must put an id in the same place.
func shardOf(id string, shards int) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return h.Sum32() % uint32(shards)
}

// LivePartitions are every partition key of tenantID's LIVE records
// written with shards (LivePartition).
func LivePartitions(tenantID string, shards int) []string {
	if shards <= 0 {
		return []string{tenantID}
	}
	out := make([]string, shards)
	for i := range out {
		out[i] = fmt.Sprintf("%s#%02d", tenantID, i)
	}
	return out
}

// queryAPI is what Holdings reads with.
type queryAPI interface {
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// maxNumberDigits is the most significant digits a DynamoDB number keeps.
const maxNumberDigits = 38

// number stores n as a DynamoDB number, or as its text when it has more
// significant digits than DynamoDB keeps (which refuses such a number
// outright): the value stays exact either way, and the write cannot fail
// on every retry of the chunk.
func number(n json.Number) ddb.AttributeValue {
	mantissa, _, _ := strings.Cut(strings.ToLower(n.String()), "e")
	digits := strings.TrimLeft(strings.NewReplacer("-", "", "+", "", ".", "").Replace(mantissa), "0")
	if len(digits) > maxNumberDigits {
		return str(n.String())
	}
	return &ddb.AttributeValueMemberN{Value: n.String()}
}
