package dynamostore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/dynamostore"
)

// The TEST records of a migration read back a page at a time on the
// emulator: every record once, typed, with the round that wrote it and the
// source row it came from; a page can start after any key of the
// migration's, and no key reaches another migration's partition.
func TestTestRecordsPageBackWithTheirSourceRows(t *testing.T) {
	db, table := recordsTable(t)
	ctx := context.Background()
	env := &dynamostore.TestEnv{API: db, Table: table}
	d := &dynamostore.Destination{Test: env}
	recs := typedRecords("t1", 56) // 56 contacts and a property
	for i := range recs {
		recs[i].Source = &cutover.SourceRow{File: "contacts.csv", Line: recs[i].SourceRow, Columns: []string{"id", "first", "email"}, Values: []string{recs[i].SourceID, "Ada", recs[i].SourceID + "@example.test"}}
	}
	if _, err := d.Deliverer(cutover.Target{Env: cutover.EnvTest, TenantID: "t1", MigrationID: "m1", Round: 2}).Deliver(ctx, recs); err != nil {
		t.Fatal(err)
	}
	other := typedRecords("t2", 3)
	if _, err := d.Deliverer(cutover.Target{Env: cutover.EnvTest, TenantID: "t2", MigrationID: "m2", Round: 2}).Deliver(ctx, other); err != nil {
		t.Fatal(err)
	}
	byID := map[string]cutover.Record{}
	for _, r := range recs {
		byID[r.ID] = r
	}
	got := map[string]cutover.TestRecord{}
	after, pages := "", 0
	for {
		page, err := env.TestRecords(ctx, "m1", after, 10)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(page.Records) > 10 {
			t.Fatalf("a page of 10 holds %d", len(page.Records))
		}
		for _, r := range page.Records {
			if _, dup := got[r.ID]; dup {
				t.Fatalf("record %s read twice", r.ID)
			}
			got[r.ID] = r
		}
		if page.After == "" {
			break
		}
		after = page.After
		if pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	if len(got) != len(recs) {
		t.Fatalf("read %d records, wrote %d", len(got), len(recs))
	}
	for id, r := range got {
		w, ok := byID[id]
		if !ok {
			t.Fatalf("read %s, which migration m1 never wrote", id)
		}
		if r.Round != 2 || r.SourceID != w.SourceID || r.Entity != w.Entity || r.Key != w.Entity+"#"+w.ID || !reflect.DeepEqual(r.Source, w.Source) {
			t.Errorf("%s read back as %+v (source %+v), wrote %+v", id, r, r.Source, w)
		}
	}
	c := got[recs[0].ID]
	if !reflect.DeepEqual(c.Fields["emails"], []any{"c-000@example.test", "other@example.test"}) || c.Fields["marketing_consent"] != true || c.Fields["first_name"] != "Ada" {
		t.Errorf("contact fields read back as %#v", c.Fields)
	}
	if p := got[recs[56].ID].Fields["price"]; !reflect.DeepEqual(p, map[string]any{"amount": json.Number("1250000.50"), "currency": "GBP"}) {
		t.Errorf("money read back as %#v", p)
	}

	// A page that starts after another migration's key stays in m1's.
	page, err := env.TestRecords(ctx, "m1", "contact#"+other[0].ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range page.Records {
		if _, ok := byID[r.ID]; !ok {
			t.Fatalf("a page of m1 after m2's key holds %s", r.ID)
		}
	}
	for _, bad := range []string{"no-hash", string(make([]byte, 1025))} {
		if _, err := env.TestRecords(ctx, "m1", bad, 10); cutover.ErrorCode(err) != cutover.EINVALID {
			t.Errorf("after %.20q: %v, want EINVALID", bad, err)
		}
	}
	if page, err := env.TestRecords(ctx, "m3", "", 10); err != nil || len(page.Records) != 0 {
		t.Errorf("a migration with no records: %v %d", err, len(page.Records))
	}
}

// shortQueries is the emulator's DynamoDB with some Queries stopping
// early, as DynamoDB stops one at 1 MB of items: a query of a key ending
// in one of the digits short returns at most two items and where it
// stopped.
type shortQueries struct {
	*dynamodb.Client
	short string
}

func (s shortQueries) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	pk := in.ExpressionAttributeValues[":p"].(*ddb.AttributeValueMemberS).Value
	if strings.ContainsAny(pk[len(pk)-1:], s.short) {
		cp := *in
		cp.Limit = aws.Int32(min(aws.ToInt32(in.Limit), 2))
		in = &cp
	}
	return s.Client.Query(ctx, in, opts...)
}

// A migration's TEST records spread over its shard keys, and those
// written before TEST was sharded under its own key, page back in key
// order, every record once, however unevenly the keys' queries stop: a
// page never skips past a record a key has not returned yet.
func TestTestRecordsPageAcrossTheirKeysInKeyOrder(t *testing.T) {
	db, table := recordsTable(t)
	ctx := context.Background()
	d := &dynamostore.Destination{Test: &dynamostore.TestEnv{API: db, Table: table}}
	recs := typedRecords("t1", 300)
	if _, err := d.Deliverer(cutover.Target{Env: cutover.EnvTest, TenantID: "t1", MigrationID: "m1", Round: 1}).Deliver(ctx, recs); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, r := range recs {
		want[r.Entity+"#"+r.ID] = true
	}
	for i := range 20 { // written before the shards: under the migration's key
		id := cutover.RecordID("t1", "contact", fmt.Sprintf("old-%d", i))
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: map[string]ddb.AttributeValue{
			"PK": &ddb.AttributeValueMemberS{Value: "m1"}, "SK": &ddb.AttributeValueMemberS{Value: "contact#" + id},
			"id": &ddb.AttributeValueMemberS{Value: id}, "entity": &ddb.AttributeValueMemberS{Value: "contact"},
		}}); err != nil {
			t.Fatal(err)
		}
		want["contact#"+id] = true
	}
	under := map[string]int{}
	for _, it := range partitionItems(t, db, table, "m1") {
		under[it["PK"].(*ddb.AttributeValueMemberS).Value]++
	}
	if len(under) < 12 || under["m1"] != 20 {
		t.Fatalf("the records are under the keys %v; want them spread over the shards, the old ones under m1", under)
	}
	for _, short := range []string{"", "m37bf"} {
		env := &dynamostore.TestEnv{API: shortQueries{db, short}, Table: table}
		var keys []string
		after := ""
		for pages := 0; ; pages++ {
			page, err := env.TestRecords(ctx, "m1", after, 25)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Records) > 25 || pages > 200 || page.After != "" && len(page.Records) == 0 {
				t.Fatalf("short %q: page %d holds %d records, after %q", short, pages, len(page.Records), page.After)
			}
			for _, r := range page.Records {
				keys = append(keys, r.Key)
			}
			if page.After == "" {
				break
			}
			after = page.After
		}
		if len(keys) != len(want) || !slices.IsSorted(keys) {
			t.Fatalf("short %q: read %d keys (sorted: %v), wrote %d", short, len(keys), slices.IsSorted(keys), len(want))
		}
		for i, k := range keys {
			if !want[k] || i > 0 && keys[i-1] == k {
				t.Fatalf("short %q: read %s, unwritten or twice", short, k)
			}
		}
	}
}
