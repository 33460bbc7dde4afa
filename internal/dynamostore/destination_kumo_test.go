package dynamostore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination"
	"github.com/cutover/cutover/internal/dynamostore"
)

// typedRecords are n contacts and one property of tenant, in the default
// schema's fields (a list, money, a reference).
func typedRecords(tenant string, n int) []cutover.Record {
	var recs []cutover.Record
	for i := range n {
		src := fmt.Sprintf("c-%03d", i)
		recs = append(recs, cutover.Record{
			ID: cutover.RecordID(tenant, "contact", src), Entity: "contact", SourceID: src, SourceRow: i + 2,
			Fields: map[string]string{"first_name": "Ada", "emails": src + "@example.test; other@example.test", "marketing_consent": "true"},
		})
	}
	return append(recs, cutover.Record{
		ID: cutover.RecordID(tenant, "property", "p-1"), Entity: "property", SourceID: "p-1", SourceRow: 2,
		Fields: map[string]string{"price": "1250000.50 GBP", "bedrooms": "3", "landlord": "c-000"},
	})
}

// checksumOf is the checksum of recs' ids of entity, computed here.
func checksumOf(recs []cutover.Record, entity string) string {
	var c destination.IDChecksum
	for _, r := range recs {
		if r.Entity == entity {
			c.Add(r.ID)
		}
	}
	return c.String()
}

func outcomes(t *testing.T, res []cutover.DeliveryResult, n int) map[string]int {
	t.Helper()
	if len(res) != n {
		t.Fatalf("%d results for %d records", len(res), n)
	}
	out := map[string]int{}
	for _, r := range res {
		out[r.Outcome]++
	}
	return out
}

// LIVE is written and read back alike whether a final spreads a tenant's
// records over cutover.LiveShards partition keys or, planned before LIVE
// was sharded, keeps them under the tenant's one key.
func TestBuiltInDestinationLiveCreatesOnceStoresTypedAndReadsBack(t *testing.T) {
	for _, shards := range []int{cutover.LiveShards, 0} {
		t.Run(fmt.Sprintf("%d shards", shards), func(t *testing.T) { liveCreatesOnceStoresTypedAndReadsBack(t, shards) })
	}
}

func liveCreatesOnceStoresTypedAndReadsBack(t *testing.T, shards int) {
	db, table := recordsTable(t)
	ctx := context.Background()
	d := &dynamostore.Destination{Live: &dynamostore.LiveEnv{API: db, Table: table}, Reader: db}
	target := cutover.Target{Env: cutover.EnvLive, TenantID: "t1", MigrationID: "m1", LiveShards: shards}
	recs := typedRecords("t1", 5)
	pk := func(id string) ddb.AttributeValue {
		return &ddb.AttributeValueMemberS{Value: dynamostore.LivePartition("t1", id, shards)}
	}

	res, err := d.Deliverer(target).Deliver(ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	if got := outcomes(t, res, 6); got[cutover.Created] != 6 {
		t.Errorf("first delivery: %v, want 6 created", got)
	}
	res, err = d.Deliverer(target).Deliver(ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	if got := outcomes(t, res, 6); got[cutover.Existed] != 6 {
		t.Errorf("second delivery: %v, want 6 existed", got)
	}
	// Another migration's record under the same tenant is not this one's.
	other := cutover.Record{ID: cutover.RecordID("t1", "contact", "x"), Entity: "contact", SourceID: "x", Fields: map[string]string{"first_name": "Bo"}}
	if _, err := d.Deliverer(cutover.Target{Env: cutover.EnvLive, TenantID: "t1", MigrationID: "m0", LiveShards: shards}).Deliver(ctx, []cutover.Record{other}); err != nil {
		t.Fatal(err)
	}
	// Where the items are, read apart from the writer: under the tenant's
	// key alone, or spread over several of its shard keys.
	if keys := shardKeys(t, db, table, "t1", shards); scanCount(t, db, table) != 7 || shards > 0 && len(keys) < 3 {
		t.Errorf("%d items under %d keys with %d shards; want 7, spread", scanCount(t, db, table), len(keys), shards)
	}

	prop, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: map[string]ddb.AttributeValue{
		"PK": pk(recs[5].ID), "SK": &ddb.AttributeValueMemberS{Value: "property#" + recs[5].ID},
	}})
	if err != nil {
		t.Fatal(err)
	}
	f := prop.Item["fields"].(*ddb.AttributeValueMemberM).Value
	price := f["price"].(*ddb.AttributeValueMemberM).Value
	if price["amount"].(*ddb.AttributeValueMemberN).Value != "1250000.50" || price["currency"].(*ddb.AttributeValueMemberS).Value != "GBP" {
		t.Errorf("price stored as %#v", price)
	}
	if f["bedrooms"].(*ddb.AttributeValueMemberN).Value != "3" {
		t.Errorf("bedrooms stored as %#v", f["bedrooms"])
	}
	if f["landlord"].(*ddb.AttributeValueMemberS).Value != recs[0].ID {
		t.Errorf("landlord stored as %#v, want the contact's record id", f["landlord"])
	}
	c, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: map[string]ddb.AttributeValue{
		"PK": pk(recs[0].ID), "SK": &ddb.AttributeValueMemberS{Value: "contact#" + recs[0].ID},
	}})
	if err != nil {
		t.Fatal(err)
	}
	cf := c.Item["fields"].(*ddb.AttributeValueMemberM).Value
	if l := cf["emails"].(*ddb.AttributeValueMemberL).Value; len(l) != 2 || l[1].(*ddb.AttributeValueMemberS).Value != "other@example.test" {
		t.Errorf("emails stored as %#v", l)
	}
	if !cf["marketing_consent"].(*ddb.AttributeValueMemberBOOL).Value {
		t.Errorf("marketing_consent stored as %#v", cf["marketing_consent"])
	}

	h, err := d.Holdings(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	if h["contact"] != (cutover.Holding{Count: 5, IDChecksum: checksumOf(recs, "contact")}) || h["property"] != (cutover.Holding{Count: 1, IDChecksum: checksumOf(recs, "property")}) || len(h) != 2 {
		t.Fatalf("holdings = %+v", h)
	}

	// One record goes behind the writer's back: the read-back sees it.
	if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &table, Key: map[string]ddb.AttributeValue{
		"PK": pk(recs[2].ID), "SK": &ddb.AttributeValueMemberS{Value: "contact#" + recs[2].ID},
	}}); err != nil {
		t.Fatal(err)
	}
	h, err = d.Holdings(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	left := append(append([]cutover.Record{}, recs[:2]...), recs[3:]...)
	if h["contact"].Count != 4 || h["contact"].IDChecksum == checksumOf(recs, "contact") || h["contact"].IDChecksum != checksumOf(left, "contact") {
		t.Errorf("after a delete: %+v, want 4 and the checksum of the 4 left", h["contact"])
	}
}

func TestBuiltInDestinationTestOverwritesWithExpiryAndReadsBack(t *testing.T) {
	db, table := recordsTable(t)
	ctx := context.Background()
	d := &dynamostore.Destination{Test: &dynamostore.TestEnv{API: db, Table: table, Retention: time.Hour}}
	target := cutover.Target{Env: cutover.EnvTest, TenantID: "t1", MigrationID: "m1"}
	recs := typedRecords("t1", 30) // more than one BatchWriteItem
	for range 2 {
		res, err := d.Deliverer(target).Deliver(ctx, recs)
		if err != nil {
			t.Fatal(err)
		}
		if got := outcomes(t, res, 31); got[cutover.Created] != 31 {
			t.Errorf("delivery: %v, want 31 created", got)
		}
	}
	if _, err := d.Deliverer(cutover.Target{Env: cutover.EnvTest, TenantID: "t1", MigrationID: "m2"}).Deliver(ctx, recs[:3]); err != nil {
		t.Fatal(err)
	}
	it, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: map[string]ddb.AttributeValue{
		"PK": &ddb.AttributeValueMemberS{Value: dynamostore.TestPartition("m1", recs[0].ID)}, "SK": &ddb.AttributeValueMemberS{Value: "contact#" + recs[0].ID},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := it.Item["PurgeAt"].(*ddb.AttributeValueMemberN); !ok {
		t.Errorf("a TEST record has no expiry: %v", it.Item["PurgeAt"])
	}
	h, err := d.Holdings(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	if h["contact"] != (cutover.Holding{Count: 30, IDChecksum: checksumOf(recs, "contact")}) || h["property"].Count != 1 {
		t.Fatalf("holdings = %+v", h)
	}
	if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &table, Key: map[string]ddb.AttributeValue{
		"PK": &ddb.AttributeValueMemberS{Value: dynamostore.TestPartition("m1", recs[30].ID)}, "SK": &ddb.AttributeValueMemberS{Value: "property#" + recs[30].ID},
	}}); err != nil {
		t.Fatal(err)
	}
	h, err = d.Holdings(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h["property"]; ok || h["contact"].Count != 30 {
		t.Errorf("after deleting the property: %+v", h)
	}
}

// The read-back by key range: over contiguous ranges of sort keys, TEST
// and LIVE (sharded and not) add up to the whole read-back, and each
// range holds exactly the records whose key is in it, counted here from
// the records written. An item whose key is a range's upper end itself
// belongs to the next range, not to both.
func TestBuiltInDestinationReadsBackByKeyRange(t *testing.T) {
	for _, target := range []cutover.Target{
		{Env: cutover.EnvTest, TenantID: "t1", MigrationID: "m1"},
		{Env: cutover.EnvLive, TenantID: "t1", MigrationID: "m1", LiveShards: cutover.LiveShards},
		{Env: cutover.EnvLive, TenantID: "t1", MigrationID: "m1"},
	} {
		t.Run(fmt.Sprintf("%s %d", target.Env, target.LiveShards), func(t *testing.T) {
			db, table := recordsTable(t)
			ctx := context.Background()
			d := &dynamostore.Destination{Test: &dynamostore.TestEnv{API: db, Table: table}, Live: &dynamostore.LiveEnv{API: db, Table: table}, Reader: db}
			recs := typedRecords("t1", 200)
			if _, err := d.Deliverer(target).Deliver(ctx, recs); err != nil {
				t.Fatal(err)
			}
			// A record whose key is "contact#80" exactly, a range's end below.
			edge := cutover.Record{ID: "80", Entity: "contact", SourceID: "edge", Fields: map[string]string{"first_name": "Edge"}}
			if _, err := d.Deliverer(target).Deliver(ctx, []cutover.Record{edge}); err != nil {
				t.Fatal(err)
			}
			recs = append(recs, edge)
			whole, err := d.Holdings(ctx, target)
			if err != nil {
				t.Fatal(err)
			}
			bounds := []string{"", "contact#40", "contact#80", "contact#c0", "property#", ""}
			counts := map[string]int64{}
			for i := 0; i+1 < len(bounds); i++ {
				lo, hi := bounds[i], bounds[i+1]
				held, ok, err := d.HoldingsIn(ctx, target, lo, hi)
				if err != nil || !ok {
					t.Fatalf("[%q, %q): %v, %v", lo, hi, ok, err)
				}
				var in []cutover.Record
				for _, r := range recs {
					if k := r.Entity + "#" + r.ID; k >= lo && (hi == "" || k < hi) {
						in = append(in, r)
					}
				}
				for _, e := range []string{"contact", "property"} {
					n := 0
					for _, r := range in {
						if r.Entity == e {
							n++
						}
					}
					if held[e].Count != int64(n) || n > 0 && held[e].IDChecksum != checksumOf(in, e) {
						t.Errorf("[%q, %q): %s %+v, want the %d written there", lo, hi, e, held[e], n)
					}
					counts[e] += held[e].Count
				}
			}
			if counts["contact"] != whole["contact"].Count || counts["property"] != 1 || whole["contact"].Count != 201 {
				t.Errorf("the ranges hold %v, the whole %+v", counts, whole)
			}
		})
	}
}

func TestBuiltInDestinationRefusesAFieldThatDoesNotReadAsItsType(t *testing.T) {
	db, table := recordsTable(t)
	d := &dynamostore.Destination{Live: &dynamostore.LiveEnv{API: db, Table: table}, Reader: db}
	bad := cutover.Record{ID: "p", Entity: "property", SourceID: "p", Fields: map[string]string{"price": "lots"}}
	_, err := d.Deliverer(cutover.Target{Env: cutover.EnvLive, TenantID: "t1", MigrationID: "m1"}).Deliver(context.Background(), []cutover.Record{bad})
	if cutover.ErrorCode(err) != cutover.EINVALID {
		t.Fatalf("got %v, want EINVALID", err)
	}
	out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 0 {
		t.Errorf("%d items written", len(out.Items))
	}
}
