package engine

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/workbook"
)

const refusedFor = "this e-mail address belongs to another account"

// A record the destination refuses is a rejected row like our own
// rejections: the test migration succeeds, the row is in its file's
// rejects with the destination's reason, the counts, the workbook's
// rejects by reason and the sign-off summary say so, no spot check shows
// it as migrated, and the read-back (of what was accepted) agrees.
func TestTestMigrateRejectsWhatTheDestinationRefuses(t *testing.T) {
	svc, store, id := mappedMigration(t)
	fake := &sinkDestination{svc: svc, held: map[cutover.Target]accepted{}, Refuse: map[string]string{"2": refusedFor}}
	svc.Dest = fake
	ctx := context.Background()
	counts, err := svc.TestMigrate(ctx, migration.StepInput{MigrationID: id, Round: 1})
	if err != nil {
		t.Fatalf("TestMigrate: %v", err)
	}
	if counts.Read != 3 || counts.Migrated != 1 || counts.Rejected != 2 || !counts.Balanced() {
		t.Fatalf("counts %+v, want 1 migrated and 2 rejected (ours and the destination's)", counts)
	}
	held := fake.held[cutover.Target{Env: cutover.EnvTest, TenantID: "acme", MigrationID: id, Round: 1, TestShards: cutover.TestShards}]
	if len(held["contact"]) != 1 || !hasKey(held["contact"], cutover.RecordID("acme", "contact", "1")) {
		t.Fatalf("the destination holds %v", held)
	}
	m := store.migs[id]
	var wb workbook.Workbook
	if err := json.Unmarshal([]byte(files(svc)[m.Workbook.Key]), &wb); err != nil {
		t.Fatal(err)
	}
	var rejectsKey string
	for _, f := range wb.Issues.RejectsFiles {
		rejectsKey = f.Key
	}
	csv := files(svc)[rejectsKey]
	if !strings.Contains(csv, "2,b@x.com,Bo,") || !strings.Contains(csv, "Refused by the destination: "+refusedFor) || !strings.Contains(csv, "3,bad,") {
		t.Fatalf("rejects file %q:\n%s", rejectsKey, csv)
	}
	found := false
	for _, r := range wb.Issues.Rejected {
		found = found || strings.Contains(r.Reason, refusedFor) && r.Count == 1
	}
	if !found {
		t.Errorf("the workbook's rejects by reason %+v lack the destination's", wb.Issues.Rejected)
	}
	found = false
	for _, r := range m.Workbook.Issues.Rejected {
		found = found || strings.Contains(r.Reason, refusedFor)
	}
	if !found {
		t.Errorf("the sign-off summary's rejects %+v lack the destination's", m.Workbook.Issues.Rejected)
	}
	refusedID := cutover.RecordID("acme", "contact", "2")
	for _, sc := range wb.SpotChecks {
		if sc.RecordID == refusedID && sc.Found || sc.SourceID == "2" && sc.Outcome != "rejected" {
			t.Errorf("spot check %+v shows the refused record as migrated", sc)
		}
	}
	for _, e := range m.Workbook.Entities {
		if e.Entity == "contact" && e.Migrated != 1 {
			t.Errorf("summary %+v, want 1 contact migrated", e)
		}
	}
}

func hasKey(m map[string]struct{}, k string) bool { _, ok := m[k]; return ok }

// In the final migration a refused record is a rejected row of its chunk:
// the chunk is done, LIVE's read-back (from the chunks' snapshots, which
// hold only accepted records) agrees, and the final report carries the
// reason. A chunk run again (its answer lost) is answered from the
// destination's ledger, which keeps the rejection: it reports the same
// rejection again, not a migrated record.
func TestFinalRejectsWhatTheDestinationRefusesEvenOnARetry(t *testing.T) {
	svc, store, _ := finalService(t, 0)
	id := signedOff(t, svc, store, "acme")
	fake := &ledgerDestination{sinkDestination: &sinkDestination{svc: svc, held: map[cutover.Target]accepted{}, Refuse: map[string]string{"1": refusedFor}}, answers: map[string]cutover.DeliveryResult{}}
	svc.Dest = fake
	out, err := runFinal(t, svc, id)
	if err != nil {
		t.Fatalf("final: %v", err)
	}
	if c := out.Counts; c.Read != 3 || c.Migrated != 1 || c.Rejected != 2 || !c.Balanced() {
		t.Fatalf("counts %+v, want 1 migrated, 2 rejected", c)
	}
	m := store.migs[id]
	report := files(svc)[m.FinalReport.ReportKey]
	if !strings.Contains(report, "Refused by the destination: "+refusedFor) {
		t.Errorf("the final report lacks the destination's reason:\n%s", report)
	}

	// The chunk runs again, as after a lost answer: the ledger answers.
	ctx := context.Background()
	chunks := svc.Chunks.(*memChunks)
	c := chunks.chunks[id][0]
	first := c.Counts
	c.Status = cutover.ChunkFailed
	chunks.chunks[id][0] = c
	fake.Refuse = nil                       // the destination's rules changed: only its ledger remembers
	m.Status = cutover.StatusFinalMigrating // as while the chunk first ran
	store.migs[id] = m
	again, err := svc.MigrateChunk(ctx, FinalStep{MigrationID: id, Round: 1, Index: 0})
	if err != nil {
		t.Fatal(err)
	}
	if again.Chunk == nil || again.Chunk.Counts.Migrated != first.Migrated || again.Chunk.Counts.Rejected != first.Rejected {
		t.Fatalf("retried chunk %+v, first run %+v", again.Chunk, first)
	}
}

// ledgerDestination answers a record it answered before with its first
// answer, as the HTTPS destination's delivery ledger does.
type ledgerDestination struct {
	*sinkDestination
	answers map[string]cutover.DeliveryResult
}

func (d *ledgerDestination) Deliverer(t cutover.Target) cutover.Deliverer {
	inner := d.sinkDestination.Deliverer(t)
	return delivererFunc(func(ctx context.Context, recs []cutover.Record) ([]cutover.DeliveryResult, error) {
		var out []cutover.DeliveryResult
		var fresh []cutover.Record
		for _, r := range recs {
			if a, ok := d.answers[t.Env+r.ID]; ok {
				out = append(out, a)
				continue
			}
			fresh = append(fresh, r)
		}
		res, err := inner.Deliver(ctx, fresh)
		if err != nil {
			return nil, err
		}
		for _, a := range res {
			d.answers[t.Env+a.ID] = a
		}
		return append(out, res...), nil
	})
}

// A test round delivers in the layout its plan recorded: a round planned
// now spreads its per-record state over cutover.TestShards keys (the
// HTTPS destination's ledger); a plan written before names none, and a
// chunk of that round run again after the deploy keeps its one key.
func TestATestRoundDeliversInTheLayoutItsPlanRecorded(t *testing.T) {
	svc, store, id := mappedMigration(t)
	fake := &sinkDestination{svc: svc, held: map[cutover.Target]accepted{}}
	svc.Dest = fake
	if _, err := svc.TestMigrate(context.Background(), migration.StepInput{MigrationID: id, Round: 1}); err != nil {
		t.Fatal(err)
	}
	var plan testPlan
	if err := json.Unmarshal([]byte(files(svc)[testPlanKey(id, 1)]), &plan); err != nil || plan.TestShards != cutover.TestShards {
		t.Fatalf("the round's plan %+v (%v); want %d test shards", plan, err, cutover.TestShards)
	}
	if tg := fake.writtenFor(t, cutover.EnvTest); tg.TestShards != cutover.TestShards {
		t.Errorf("TEST was written for %+v; want %d shards", tg, cutover.TestShards)
	}
	var before testPlan
	if err := json.Unmarshal([]byte(`{"seed":1,"rows":3,"chunks":1}`), &before); err != nil {
		t.Fatal(err)
	}
	m := store.migs[id]
	if tg := testTarget(&m, 1, before); tg.TestShards != 0 || tg.Round != 1 || tg.MigrationID != id {
		t.Errorf("a round planned before delivers to %+v; want one key", tg)
	}
}
