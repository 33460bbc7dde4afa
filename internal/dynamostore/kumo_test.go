package dynamostore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cutover/cutover/infra/emulator"
	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/dynamostore"
)

// kumoDB starts the local emulator once for the package's tests.
var kumoDB = sync.OnceValues(func() (*dynamodb.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(root, ".build", "kumo")
	if err := emulator.Build(ctx, root, bin); err != nil {
		return nil, err
	}
	srv, err := emulator.Start(context.Background(), emulator.Options{Binary: bin})
	if err != nil {
		return nil, err
	}
	stopKumo = func() { _ = srv.Close() }
	return dynamodb.New(dynamodb.Options{
		Region:                          emulator.Region,
		BaseEndpoint:                    aws.String(srv.Endpoint),
		Credentials:                     credentials.NewStaticCredentialsProvider("test", "test", ""),
		DisableValidateResponseChecksum: true,
	}), nil
})

var stopKumo = func() {}

func TestMain(m *testing.M) {
	code := m.Run()
	stopKumo()
	os.Exit(code)
}

// recordsTable creates a records table (PK, SK) on the emulator.
func recordsTable(t testing.TB) (*dynamodb.Client, string) {
	t.Helper()
	db, err := kumoDB()
	if err != nil {
		t.Fatalf("start the emulator: %v", err)
	}
	name := fmt.Sprintf("records-%d", time.Now().UnixNano())
	_, err = db.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:   &name,
		BillingMode: ddb.BillingModePayPerRequest,
		AttributeDefinitions: []ddb.AttributeDefinition{
			{AttributeName: aws.String("PK"), AttributeType: ddb.ScalarAttributeTypeS},
			{AttributeName: aws.String("SK"), AttributeType: ddb.ScalarAttributeTypeS},
		},
		KeySchema: []ddb.KeySchemaElement{
			{AttributeName: aws.String("PK"), KeyType: ddb.KeyTypeHash},
			{AttributeName: aws.String("SK"), KeyType: ddb.KeyTypeRange},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return db, name
}

func contacts(n int, first string) []cutover.Record {
	recs := make([]cutover.Record, n)
	for i := range recs {
		src := fmt.Sprintf("c-%05d", i)
		recs[i] = cutover.Record{
			ID: cutover.RecordID("t1", "contact", src), Entity: "contact", SourceID: src, SourceRow: i + 2,
			Fields: map[string]string{"emails": src + "@example.com", "first_name": first},
		}
	}
	return recs
}

// partitionItems reads every item of a partition back, consistently: the
// items under the key partition and under its shard keys (partition#…),
// found by a Scan, apart from the code that chose the keys.
func partitionItems(t *testing.T, db *dynamodb.Client, table, partition string) []map[string]ddb.AttributeValue {
	t.Helper()
	var out []map[string]ddb.AttributeValue
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{
		TableName:        &table,
		ConsistentRead:   aws.Bool(true),
		FilterExpression: aws.String("PK = :p OR begins_with(PK, :s)"),
		ExpressionAttributeValues: map[string]ddb.AttributeValue{
			":p": &ddb.AttributeValueMemberS{Value: partition}, ":s": &ddb.AttributeValueMemberS{Value: partition + "#"},
		},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
	}
	return out
}

// stored reads a partition back: SK → the item's fields and writtenAt.
func stored(t *testing.T, db *dynamodb.Client, table, partition string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, it := range partitionItems(t, db, table, partition) {
		sk := it["SK"].(*ddb.AttributeValueMemberS).Value
		f := it["fields"].(*ddb.AttributeValueMemberM).Value
		out[sk] = fmt.Sprintf("%s %s %s", f["emails"].(*ddb.AttributeValueMemberL).Value[0].(*ddb.AttributeValueMemberS).Value,
			f["first_name"].(*ddb.AttributeValueMemberS).Value, it["writtenAt"].(*ddb.AttributeValueMemberS).Value)
	}
	return out
}

// sortKeys reads the sort keys of a partition back, whatever its items'
// entities.
func sortKeys(t *testing.T, db *dynamodb.Client, table, partition string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, it := range partitionItems(t, db, table, partition) {
		out[it["SK"].(*ddb.AttributeValueMemberS).Value] = true
	}
	return out
}

// throttlingLive stands between the LIVE writer and the real emulator and
// answers some transactions the way a throttled DynamoDB does: cancelled
// with some items throttled, or in conflict with another transaction, and
// nothing written. (A call refused as a whole is the SDK client's to
// retry: internal/awsenv's tests, and infra/e2e's final migration, which
// throttles through the real client.)
type throttlingLive struct {
	api                dynamostore.LiveAPI
	calls, conflicted  atomic.Int64
	cancelled, through atomic.Int64
}

func (t *throttlingLive) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	cancel := func(code string) (*dynamodb.TransactWriteItemsOutput, error) {
		reasons := make([]ddb.CancellationReason, len(in.TransactItems))
		for i := range reasons {
			reasons[i].Code = aws.String("None")
			if i%2 == 0 {
				reasons[i].Code = aws.String(code)
			}
		}
		return nil, &ddb.TransactionCanceledException{Message: aws.String("injected"), CancellationReasons: reasons}
	}
	switch t.calls.Add(1) % 3 {
	case 0:
		t.conflicted.Add(1)
		return cancel("TransactionConflict")
	case 1:
		t.cancelled.Add(1)
		return cancel("ThrottlingError")
	}
	t.through.Add(1)
	return t.api.TransactWriteItems(ctx, in, opts...)
}

func TestLiveWritesSurviveThrottling(t *testing.T) {
	db, table := recordsTable(t)
	api := &throttlingLive{api: db}
	live := &dynamostore.LiveEnv{API: api, Table: table}
	recs := contacts(1000, "Ann")
	if err := writeLive(live, recs); err != nil {
		t.Fatalf("write through throttling: %v", err)
	}
	if api.conflicted.Load() == 0 || api.cancelled.Load() == 0 {
		t.Fatalf("no throttling was injected: %d conflicted, %d cancelled", api.conflicted.Load(), api.cancelled.Load())
	}
	got := stored(t, db, table, "t1")
	if len(got) != len(recs) {
		t.Fatalf("LIVE holds %d records, want %d", len(got), len(recs))
	}
	for _, r := range recs {
		if _, ok := got["contact#"+r.ID]; !ok {
			t.Fatalf("record %s is missing", r.SourceID)
		}
	}
	t.Logf("%d calls: %d conflicted, %d cancelled, %d through", api.calls.Load(), api.conflicted.Load(), api.cancelled.Load(), api.through.Load())
}

func TestLiveRecordsAreCreatedOnce(t *testing.T) {
	db, table := recordsTable(t)
	live := &dynamostore.LiveEnv{API: db, Table: table}
	first := contacts(250, "Ann")
	if err := writeLive(live, first[:120]); err != nil {
		t.Fatal(err)
	}
	before := stored(t, db, table, "t1")
	// A restarted run writes everything again, and a record id repeated
	// inside one batch is written once.
	again := append(contacts(250, "Bob"), contacts(3, "Carol")...)
	if err := writeLive(live, again); err != nil {
		t.Fatalf("rewrite: %v", err)
	}
	after := stored(t, db, table, "t1")
	if len(after) != 250 {
		t.Fatalf("LIVE holds %d records, want 250", len(after))
	}
	for sk, v := range before {
		if after[sk] != v {
			t.Fatalf("a live record changed on rewrite: %q became %q", v, after[sk])
		}
	}
}

// unprocessingTest forwards half of every batch and hands the rest back as
// unprocessed. (A call refused as a whole is the SDK client's to retry.)
type unprocessingTest struct {
	api                dynamostore.TestAPI
	calls, unprocessed atomic.Int64
}

func (u *unprocessingTest) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return u.api.Query(ctx, in, opts...)
}

func (u *unprocessingTest) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	u.calls.Add(1)
	out := &dynamodb.BatchWriteItemOutput{UnprocessedItems: map[string][]ddb.WriteRequest{}}
	fwd := map[string][]ddb.WriteRequest{}
	for table, reqs := range in.RequestItems {
		half := (len(reqs) + 1) / 2
		fwd[table] = reqs[:half]
		if len(reqs[half:]) > 0 {
			out.UnprocessedItems[table] = reqs[half:]
			u.unprocessed.Add(int64(len(reqs) - half))
		}
	}
	if _, err := u.api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: fwd}, opts...); err != nil {
		return nil, err
	}
	return out, nil
}

func TestTestWritesSurviveUnprocessedItems(t *testing.T) {
	db, table := recordsTable(t)
	api := &unprocessingTest{api: db}
	env := &dynamostore.TestEnv{API: api, Table: table}
	recs := contacts(60, "Ann")
	ctx := context.Background()
	if _, err := testSink(env, "m1").Write(ctx, recs); err != nil {
		t.Fatalf("write: %v", err)
	}
	if api.unprocessed.Load() == 0 {
		t.Fatal("no unprocessed items were injected")
	}
	if got := stored(t, db, table, "m1"); len(got) != len(recs) {
		t.Fatalf("TEST holds %d records, want %d", len(got), len(recs))
	}
	if err := env.ResetSegment(ctx, "m1", nil, ""); err != nil {
		t.Fatalf("reset: %v", err)
	}
	if got := stored(t, db, table, "m1"); len(got) != 0 {
		t.Fatalf("TEST holds %d records after reset, want 0", len(got))
	}
}

// A reset a slice at a time (cutover.RecordIDPrefixes) deletes exactly
// the slice's records of the migration's entities, under its shard keys
// and under its own key (records written before TEST was sharded):
// another slice, another entity and another migration keep theirs, and
// every slice together leaves none.
func TestResetBySlices(t *testing.T) {
	db, table := recordsTable(t)
	env := &dynamostore.TestEnv{API: db, Table: table}
	ctx := context.Background()
	recs := contacts(80, "Ann")
	for i := range recs[:10] {
		recs[i].Entity, recs[i].Fields = "company", map[string]string{"name": "Acme"}
	}
	if _, err := testSink(env, "m1").Write(ctx, recs[:60]); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs[60:] { // as written before the shards
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: map[string]ddb.AttributeValue{
			"PK": &ddb.AttributeValueMemberS{Value: "m1"}, "SK": &ddb.AttributeValueMemberS{Value: r.Entity + "#" + r.ID},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := testSink(env, "m2").Write(ctx, contacts(20, "Bob")); err != nil {
		t.Fatal(err)
	}
	prefixes := cutover.RecordIDPrefixes(cutover.SegmentRecords + 1)
	entities := []string{"contact", "company"}
	if err := env.ResetSegment(ctx, "m1", entities, prefixes[3]); err != nil {
		t.Fatal(err)
	}
	left := sortKeys(t, db, table, "m1")
	want := 0
	for _, r := range recs {
		if !strings.HasPrefix(r.ID, prefixes[3]) {
			want++
		} else if _, ok := left[r.Entity+"#"+r.ID]; ok {
			t.Fatalf("record %s of the reset slice %q is still there", r.ID, prefixes[3])
		}
	}
	if len(left) != want || want == len(recs) {
		t.Fatalf("%d records left of %d after resetting one slice; want %d", len(left), len(recs), want)
	}
	for _, p := range prefixes {
		if err := env.ResetSegment(ctx, "m1", entities, p); err != nil {
			t.Fatal(err)
		}
	}
	if n, other := len(sortKeys(t, db, table, "m1")), len(sortKeys(t, db, table, "m2")); n != 0 || other != 20 {
		t.Fatalf("after every slice: %d records left, the other migration has %d of 20", n, other)
	}
}

// A reset and an expiry page through a slice larger than a page
// (segmentPageItems) and reach every record of it, whether the emulator
// caps a page or not.
func TestResetAndExpiryPageThroughALargeSlice(t *testing.T) {
	db, table := recordsTable(t)
	env := &dynamostore.TestEnv{API: db, Table: table, Retention: time.Hour}
	ctx := context.Background()
	recs := contacts(2600, "Ann")
	if _, err := testSink(env, "m1").Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	from := time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)
	if err := env.ExpireSegment(ctx, "m1", []string{"contact"}, "", from); err != nil {
		t.Fatal(err)
	}
	want := strconv.FormatInt(from.Add(time.Hour).Unix(), 10)
	items := partitionItems(t, db, table, "m1")
	for _, it := range items {
		if v, ok := it["PurgeAt"].(*ddb.AttributeValueMemberN); !ok || v.Value != want {
			t.Fatalf("a record kept the expiry %v; want %s", it["PurgeAt"], want)
		}
	}
	if len(items) != 2600 {
		t.Fatalf("%d records after the expiry, want 2600", len(items))
	}
	if err := env.ResetSegment(ctx, "m1", []string{"contact"}, ""); err != nil {
		t.Fatal(err)
	}
	if n := len(partitionItems(t, db, table, "m1")); n != 0 {
		t.Fatalf("%d records left after the reset", n)
	}
}

// writeLive writes records in batches of 800, as a final chunk does.
func writeLive(live *dynamostore.LiveEnv, recs []cutover.Record) error {
	w := liveSink(live, "t1", "m1")
	ctx := context.Background()
	for lo := 0; lo < len(recs); lo += 800 {
		if _, err := w.Write(ctx, recs[lo:min(lo+800, len(recs))]); err != nil {
			return err
		}
	}
	return nil
}

func TestLiveWriterReportsAnUnthrottledFailure(t *testing.T) {
	db, _ := recordsTable(t)
	live := &dynamostore.LiveEnv{API: db, Table: "no-such-table"}
	_, err := liveSink(live, "t1", "m1").Write(context.Background(), contacts(3, "Ann"))
	if err == nil {
		t.Fatal("writing to a missing table succeeded")
	}
	var e *cutover.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an application error", err)
	}
}

// shardKeys scans table and returns the distinct partition keys of its
// items, each of which must be base with shards 0, else base#NN: read
// apart from the code that chose them.
func shardKeys(t *testing.T, db *dynamodb.Client, table, base string, shards int) map[string]bool {
	t.Helper()
	keys := map[string]bool{}
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: &table})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			k := it["PK"].(*ddb.AttributeValueMemberS).Value
			if shard, ok := strings.CutPrefix(k, base+"#"); (shards == 0) != (k == base) || shards > 0 && (!ok || len(shard) != 2) {
				t.Errorf("an item is under the key %q with %d shards", k, shards)
			}
			keys[k] = true
		}
	}
	return keys
}
