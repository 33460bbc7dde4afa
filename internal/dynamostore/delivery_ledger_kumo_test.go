package dynamostore_test

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination/webhook"
	"github.com/cutover/cutover/internal/dynamostore"
)

var _ webhook.Ledger = (*dynamostore.DeliveryLedger)(nil)

// halfUnprocessed answers every other BatchGetItem with half of its keys
// left unprocessed, as a throttled DynamoDB does, and counts the calls.
type halfUnprocessed struct {
	*dynamodb.Client
	calls atomic.Int64
}

func (h *halfUnprocessed) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	if h.calls.Add(1)%2 == 0 {
		return h.Client.BatchGetItem(ctx, in, opts...)
	}
	for table, ka := range in.RequestItems {
		if len(ka.Keys) < 2 {
			break
		}
		half := len(ka.Keys) / 2
		rest := ka
		rest.Keys = ka.Keys[half:]
		ka.Keys = ka.Keys[:half]
		out, err := h.Client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]ddb.KeysAndAttributes{table: ka}}, opts...)
		if err != nil {
			return nil, err
		}
		out.UnprocessedKeys = map[string]ddb.KeysAndAttributes{table: rest}
		return out, nil
	}
	return h.Client.BatchGetItem(ctx, in, opts...)
}

// scanCount counts what the table holds, read with its own scan.
func scanCount(t *testing.T, db *dynamodb.Client, table string) int {
	t.Helper()
	n := 0
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: &table})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Items)
	}
	return n
}

// The ledger keeps the first answer per record and target, whether a
// LIVE target's records spread over cutover.LiveShards keys or (a final
// planned before LIVE was sharded) stay under its one key.
func TestDeliveryLedgerFirstWriteWinsPerTarget(t *testing.T) {
	for _, c := range []struct {
		env    string
		shards int
	}{{cutover.EnvLive, cutover.LiveShards}, {cutover.EnvLive, 0}, {cutover.EnvTest, cutover.TestShards}, {cutover.EnvTest, 0}} {
		t.Run(fmt.Sprintf("%s %d shards", c.env, c.shards), func(t *testing.T) { ledgerFirstWriteWins(t, c.env, c.shards) })
	}
}

// ledgerFirstWriteWins delivers to a target of env laid out over shards
// keys; "live" and "test" below are that target and one of the other
// environment.
func ledgerFirstWriteWins(t *testing.T, env string, shards int) {
	db, table := recordsTable(t)
	api := &halfUnprocessed{Client: db}
	l := &dynamostore.DeliveryLedger{API: api, Table: table}
	ctx := context.Background()
	live := cutover.Target{Env: cutover.EnvLive, TenantID: "acme", MigrationID: "m1", LiveShards: shards}
	test := cutover.Target{Env: cutover.EnvTest, TenantID: "acme", MigrationID: "m1", Round: 1}
	base := "DLV/live/acme/m1/0"
	if env == cutover.EnvTest {
		live = cutover.Target{Env: cutover.EnvTest, TenantID: "acme", MigrationID: "m1", Round: 3, TestShards: shards}
		test = cutover.Target{Env: cutover.EnvLive, TenantID: "acme", MigrationID: "m1"}
		base = "DLV/test/acme/m1/3"
	}

	// 250 results: BatchGetItem reads at most 100 keys a call.
	var first []cutover.DeliveryResult
	var ids []string
	for i := range 250 {
		id := fmt.Sprintf("r-%03d", i)
		ids = append(ids, id)
		r := cutover.DeliveryResult{ID: id, Outcome: cutover.Created}
		if i%50 == 0 {
			r = cutover.DeliveryResult{ID: id, Outcome: cutover.Rejected, Reason: "no postcode"}
		}
		first = append(first, r)
	}
	if err := l.Record(ctx, live, first); err != nil {
		t.Fatal(err)
	}
	// A second write of the same ids (another answer) changes nothing.
	second := make([]cutover.DeliveryResult, len(first))
	for i, r := range first {
		second[i] = cutover.DeliveryResult{ID: r.ID, Outcome: cutover.Existed}
	}
	if err := l.Record(ctx, live, second); err != nil {
		t.Fatalf("a second write of the same ids: %v", err)
	}
	if n := scanCount(t, db, table); n != 250 {
		t.Errorf("the table holds %d items, want 250", n)
	}
	// Where they are, read apart from the ledger: under the target's key,
	// or spread over its shard keys.
	if keys := shardKeys(t, db, table, base, shards); shards > 0 && len(keys) < min(shards/2, 32) {
		t.Errorf("250 deliveries under %d keys with %d shards; want them spread", len(keys), shards)
	}

	got, err := l.Delivered(ctx, live, append(ids, "never-sent"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 250 {
		t.Fatalf("%d delivered, want 250", len(got))
	}
	for _, r := range first {
		if got[r.ID] != r {
			t.Errorf("%s: %+v, want the first answer %+v", r.ID, got[r.ID], r)
		}
	}
	if api.calls.Load() < 6 {
		t.Errorf("%d BatchGetItem calls: the unprocessed keys were not read again", api.calls.Load())
	}
	// Another environment of the same migration has delivered nothing.
	if other, err := l.Delivered(ctx, test, ids); err != nil || len(other) != 0 {
		t.Errorf("TEST: %d delivered, %v", len(other), err)
	}
	// A test round's deliveries are its own: round 2 re-delivers the ids
	// round 1 delivered.
	round1 := cutover.Target{Env: cutover.EnvTest, TenantID: "acme", MigrationID: "m1", Round: 1, TestShards: shards}
	if err := l.Record(ctx, round1, []cutover.DeliveryResult{{ID: ids[0], Outcome: cutover.Created}}); err != nil {
		t.Fatal(err)
	}
	round2 := round1
	round2.Round = 2
	if got, err := l.Delivered(ctx, round2, ids[:1]); err != nil || len(got) != 0 {
		t.Errorf("round 2: %d delivered of round 1's, %v", len(got), err)
	}
	if none, err := l.Delivered(ctx, live, nil); err != nil || len(none) != 0 {
		t.Errorf("no ids: %v %v", none, err)
	}
}

func TestDeliveryLedgerOnAMissingTableIsAnError(t *testing.T) {
	db, _ := recordsTable(t)
	l := &dynamostore.DeliveryLedger{API: db, Table: "no-such-table"}
	tg := cutover.Target{Env: cutover.EnvLive, TenantID: "acme", MigrationID: "m1"}
	if _, err := l.Delivered(context.Background(), tg, []string{"a"}); err == nil {
		t.Error("reading a missing table succeeded")
	}
	if err := l.Record(context.Background(), tg, []cutover.DeliveryResult{{ID: "a", Outcome: cutover.Created}}); err == nil {
		t.Error("writing a missing table succeeded")
	}
}

// A TEST delivery expires with the TEST records (PurgeAt, the table's TTL
// attribute, in epoch seconds); a LIVE one is kept.
func TestDeliveryLedgerExpiresTestDeliveriesOnly(t *testing.T) {
	db, table := recordsTable(t)
	at := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	l := &dynamostore.DeliveryLedger{API: db, Table: table, TestRetention: 48 * time.Hour, Now: func() time.Time { return at }}
	ctx := context.Background()
	for _, env := range []string{cutover.EnvTest, cutover.EnvLive} {
		tg := cutover.Target{Env: env, TenantID: "acme", MigrationID: "m1"}
		if err := l.Record(ctx, tg, []cutover.DeliveryResult{{ID: "r-" + env, Outcome: cutover.Created}}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: &table})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 2 {
		t.Fatalf("%d items", len(out.Items))
	}
	for _, it := range out.Items {
		sk := it["SK"].(*ddb.AttributeValueMemberS).Value
		purge, has := it["PurgeAt"].(*ddb.AttributeValueMemberN)
		switch sk {
		case "r-test":
			if !has || purge.Value != strconv.FormatInt(at.Add(48*time.Hour).Unix(), 10) {
				t.Errorf("the TEST delivery's PurgeAt: %v", it["PurgeAt"])
			}
		case "r-live":
			if it["PurgeAt"] != nil {
				t.Errorf("a LIVE delivery expires: %v", it["PurgeAt"])
			}
		}
	}
}
