package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
)

// The test migration reads a day-first extract (13/02/2024 reads no
// other way). The final extract is migrated in chunks, and one chunk's
// rows alone read month-first (12/13/2024): every chunk still reads the
// dates day-first, as the signed-off test did.
func TestFinalChunksReadDatesAsTheSignedOffTestDid(t *testing.T) {
	svc, store, live := finalService(t, 10)
	ctx := context.Background()
	c := create(t, svc, "acme")
	id := c.Migration.ID
	uploaded(t, store, id, cutover.File{ID: "f1", Name: "c.csv", Key: "k-" + id, Purpose: cutover.PurposeTest, Round: 1, Complete: true})
	files(svc)["k-"+id] = "Id,Email,Consent Date\n1,a@x.com,13/02/2024\n2,b@x.com,02/03/2024\n3,c@x.com,25/12/2023\n"
	m, _ := store.GetMigration(ctx, id)
	if _, err := svc.Submit(ctx, m); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Map(ctx, migration.StepInput{MigrationID: id, Round: 1}); err != nil {
		t.Fatal(err)
	}
	if m := store.migs[id]; !strings.Contains(m.Mapping, "marketing_consent_date") {
		t.Fatalf("the proposal does not map Consent Date: %s", m.Mapping)
	}
	if _, err := svc.TestMigrate(ctx, migration.StepInput{MigrationID: id, Round: 1}); err != nil {
		t.Fatal(err)
	}
	signed := store.migs[id]
	signed.Status = cutover.StatusScheduled
	signed.SignOff = &cutover.SignOffRecord{Round: 1, MappingVersion: signed.MappingVersion, MappingHash: signed.MappingHash}
	store.migs[id] = signed
	// 10-byte chunks: each row is a chunk of its own, so 12/13/2024 is read
	// apart from the rows that show the extract is day-first.
	// One date in six cannot be read day-first: the fill rate falls by
	// under the pre-flight's 20 points, so go-live is not held.
	withFinalExtract(t, svc, store, id, "Id,Email,Consent Date\n1,a@x.com,13/02/2024\n4,d@x.com,12/13/2024\n5,e@x.com,04/05/2024\n6,f@x.com,12/11/2024\n7,g@x.com,14/01/2024\n8,h@x.com,15/01/2024\n")
	cleared(t, svc, id)
	plan, err := svc.Final(ctx, FinalStep{Action: FinalPlan, MigrationID: id, Round: 1})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Run == nil || plan.Run.Chunks < 4 {
		t.Fatalf("planned %+v, want the rows apart", plan.Run)
	}
	if _, err := runFinal(t, svc, id); err != nil {
		t.Fatal(err)
	}
	got := map[string]cutover.Record{}
	for _, r := range live.records {
		got[r.SourceID] = r
	}
	if v := got["5"].Fields["marketing_consent_date"]; v != "2024-05-04" {
		t.Fatalf("04/05/2024 = %q, want 2024-05-04 (day-first, as the test read)", v)
	}
	if v := got["6"].Fields["marketing_consent_date"]; v != "2024-11-12" {
		t.Fatalf("12/11/2024 = %q, want 2024-11-12", v)
	}
	if r := got["4"]; r.Fields["marketing_consent_date"] != "" || r.Invalid["marketing_consent_date"].Value != "12/13/2024" {
		t.Fatalf("12/13/2024 = %+v, want it left out, not read month-first", r)
	}
}
