package dynamostore_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

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
