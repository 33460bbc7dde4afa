package dynamostore_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/dynamostore"
)

// purgeTimes reads every item of a partition with the SDK: its PurgeAt
// (epoch seconds), or -1 for an item without one.
func purgeTimes(t *testing.T, db *dynamodb.Client, table, partition string) []int64 {
	t.Helper()
	var out []int64
	for _, it := range partitionItems(t, db, table, partition) {
		v, ok := it["PurgeAt"].(*ddb.AttributeValueMemberN)
		if !ok {
			out = append(out, -1)
			continue
		}
		n, err := strconv.ParseInt(v.Value, 10, 64)
		if err != nil {
			t.Fatalf("PurgeAt %q", v.Value)
		}
		out = append(out, n)
	}
	return out
}

// TEST records carry their expiry from the moment they are written, and
// going live moves every one of them to the retention period after go-live.
// LIVE records carry none.
func TestTestRecordsExpire(t *testing.T) {
	db, table := recordsTable(t)
	const retention = 30 * 24 * time.Hour
	env := &dynamostore.TestEnv{API: db, Table: table, Retention: retention}
	ctx := context.Background()
	before := time.Now()
	if _, err := testSink(env, "m-ttl").Write(ctx, contacts(60, "Ann")); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	got := purgeTimes(t, db, table, "m-ttl")
	if len(got) != 60 {
		t.Fatalf("TEST holds %d records, want 60", len(got))
	}
	for _, p := range got {
		if p < before.Add(retention).Unix() || p > after.Add(retention).Unix() {
			t.Fatalf("a record written at %s expires at %d; want %s after", before, p, retention)
		}
	}

	live := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for range 2 { // a retried Complete sets the same expiry
		// A slice at a time, as the state machine runs it.
		for _, p := range cutover.RecordIDPrefixes(cutover.SegmentRecords + 1) {
			if err := env.ExpireSegment(ctx, "m-ttl", []string{"contact"}, p, live); err != nil {
				t.Fatal(err)
			}
		}
	}
	got = purgeTimes(t, db, table, "m-ttl")
	n := 0
	for _, p := range got {
		if p == live.Add(retention).Unix() {
			n++
		}
	}
	if len(got) != 60 || n != 60 {
		t.Fatalf("%d of %d TEST records expire %s after go-live; want all 60", n, len(got), retention)
	}

	if err := writeLive(&dynamostore.LiveEnv{API: db, Table: table}, contacts(5, "Ann")); err != nil {
		t.Fatal(err)
	}
	for _, p := range purgeTimes(t, db, table, "t1") {
		if p != -1 {
			t.Fatal("a LIVE record has an expiry")
		}
	}
}
