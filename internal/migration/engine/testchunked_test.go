package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/workbook"
)

// testRecords is a TEST environment that keeps what it was given, by
// migration: ResetSegment deletes a slice of it, as the real one does.
type testRecords struct {
	mu     sync.Mutex
	recs   map[string]map[string]cutover.Record // migration -> entity#id
	resets []string                             // the slices reset, in order
}

func (t *testRecords) ResetSegment(_ context.Context, id string, entities []string, prefix string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.resets = append(t.resets, prefix)
	for k, r := range t.recs[id] {
		if prefix == "" || slices.Contains(entities, r.Entity) && strings.HasPrefix(r.ID, prefix) {
			delete(t.recs[id], k)
		}
	}
	return nil
}

func (t *testRecords) ExpireSegment(context.Context, string, []string, string, time.Time) error {
	return nil
}

func (t *testRecords) Writer(id string) cutover.Sink { return testRecordsSink{t, id} }

type testRecordsSink struct {
	t  *testRecords
	id string
}

func (s testRecordsSink) Write(_ context.Context, recs []cutover.Record) ([]cutover.Refusal, error) {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	if s.t.recs[s.id] == nil {
		s.t.recs[s.id] = map[string]cutover.Record{}
	}
	for _, r := range recs {
		s.t.recs[s.id][r.Entity+"#"+r.ID] = r
	}
	return nil, nil
}

// A contacts export with every kind of row: day-first dates (the first
// rows show it; later ones alone would read month-first), phones that
// are not phones (a "!" warning, in the review file), rows without an
// e-mail or a name (rejected).
func chunkyContacts(rows int) string {
	var b strings.Builder
	b.WriteString("Id,Email,Name,Phone,Consent Date\n")
	for i := 1; i <= rows; i++ {
		email, name, phone := fmt.Sprintf("p%d@x.com", i), fmt.Sprintf("Person %d", i), fmt.Sprintf("07700 900%03d", i%1000)
		date := fmt.Sprintf("%02d/%02d/2024", 13+i%15, 1+i%12) // day first, unmistakably
		if i > rows/3 {
			date = fmt.Sprintf("%02d/%02d/2024", 1+i%12, 1+(i+1)%12) // either way round
		}
		switch {
		case i%7 == 0:
			phone = "not a phone"
		case i%11 == 0:
			email, name = "", ""
		}
		fmt.Fprintf(&b, "%d,%s,%s,%s,%s\n", i, email, name, phone, date)
	}
	return b.String()
}

// noDedupe maps the contacts without a dedupe key or a reference: the
// chunks need nothing of each other but their ids (no merge partitions,
// no alias or links round).
const noDedupe = `{"version":1,"files":[{"name":"f1","entity":"contact","sourceId":["Id"],"fields":[` +
	`{"target":"emails","column":"Email"},{"target":"first_name","column":"Name"},{"target":"phones","column":"Phone"},{"target":"marketing_consent_date","column":"Consent Date"}]}]}`

// testRun is one test migration of body, in chunks of chunkBytes, and
// what it left: the migration, TEST's records, and the stored artifacts.
type testRun struct {
	m       *cutover.Migration
	counts  *cutover.Counts
	records map[string]cutover.Record
	objects objects
	chunks  []cutover.Chunk
}

func runTestInChunks(t *testing.T, body string, chunkBytes int64) testRun {
	t.Helper()
	run, err := tryTestInChunks(t, body, chunkBytes, nil)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// tryTestInChunks is runTestInChunks on a service tweak may change first,
// returning the test migration's error.
func tryTestInChunks(t *testing.T, body string, chunkBytes int64, tweak func(*Service)) (testRun, error) {
	t.Helper()
	return tryTestRound(t, body, chunkBytes, tweak, nil)
}

// tryTestRound is tryTestInChunks with a hook that runs just before the
// test migration, given the stored migration and TEST.
func tryTestRound(t *testing.T, body string, chunkBytes int64, tweak func(*Service), before func(m *cutover.Migration, test *testRecords)) (testRun, error) {
	t.Helper()
	return tryTestMapping(t, body, noDedupe, chunkBytes, tweak, before)
}

// tryTestMapping is tryTestRound with the mapping mapping.
func tryTestMapping(t testing.TB, body, mapping string, chunkBytes int64, tweak func(*Service), before func(m *cutover.Migration, test *testRecords)) (testRun, error) {
	t.Helper()
	ctx := context.Background()
	svc, store, _ := finalService(t, 0)
	if tweak != nil {
		tweak(svc)
	}
	test := &testRecords{recs: map[string]map[string]cutover.Record{}}
	svc.Test, svc.TestChunkBytes = test, chunkBytes
	c := create(t, svc, "acme")
	id := c.Migration.ID
	uploaded(t, store, id, cutover.File{ID: "f1", Name: "contacts.csv", Key: "k-" + id, Purpose: cutover.PurposeTest, Round: 1, Complete: true})
	files(svc)["k-"+id] = body
	submittedAndMapped(t, svc, store, id, migration.ChecklistInput{Counts: map[string]int{"contact": 60}, SpotCheckIDs: map[string][]string{"contact": {"3", "22", "44"}}})
	mapped := store.migs[id]
	mapped.Mapping = mapping
	store.migs[id] = mapped
	if before != nil {
		before(&mapped, test)
		store.migs[id] = mapped
	}
	counts, runErr := svc.TestMigrate(ctx, migration.StepInput{MigrationID: id, Round: 1})
	chunks, err := svc.TestChunks.ListTestChunks(ctx, id, 1)
	if err != nil {
		t.Fatal(err)
	}
	return testRun{m: mustGet(t, store, id), counts: counts, records: test.recs[id], objects: files(svc), chunks: chunks}, runErr
}

// rows are the data rows of the listed CSV files, in order, each file's
// header left out.
func rows(t *testing.T, objs objects, files []workbook.RejectsFile) []string {
	t.Helper()
	var out []string
	for _, f := range files {
		body, ok := objs[f.Key]
		if !ok {
			t.Fatalf("%s (%s) is not stored", f.File, f.Key)
		}
		lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
		out = append(out, lines[1:]...)
	}
	return out
}

// A test migration planned into several chunks (a mapping without dedupe
// or references, small chunks) means exactly what the one-chunk run of
// the same file means: the same counts, the same rejected and review
// rows, the same TEST records read with the same inferred formats, the
// same snapshot, and a workbook with the same reconciliation, issues,
// fill rates, inference and spot checks.
func TestATestMigrationInChunksMeansWhatOneChunkMeans(t *testing.T) {
	body := chunkyContacts(90)
	one := runTestInChunks(t, body, 0)
	many := runTestInChunks(t, body, 400)
	if len(one.chunks) != 1 || len(many.chunks) < 4 {
		t.Fatalf("planned %d and %d chunks, want 1 and several", len(one.chunks), len(many.chunks))
	}
	c1, c2 := *one.counts, *many.counts
	c1.RejectsKey, c2.RejectsKey = "", "" // each migration's own
	if c1 != c2 || c1.Read != 90 || c1.Rejected == 0 {
		t.Fatalf("counts: one chunk %+v, in chunks %+v", *one.counts, *many.counts)
	}
	var wbOne, wbMany workbook.Workbook
	for _, x := range []struct {
		run testRun
		wb  *workbook.Workbook
	}{{one, &wbOne}, {many, &wbMany}} {
		if err := json.Unmarshal([]byte(x.run.objects[x.run.m.Workbook.Key]), x.wb); err != nil {
			t.Fatal(err)
		}
	}
	if rf := wbMany.Issues.RejectsFiles; len(rf) < 2 || !strings.HasPrefix(rf[0].File, "contacts.csv (part ") || rf[0].Key == rf[1].Key {
		t.Fatalf("the workbook lists the rejects files %+v, want one per chunk with rejects", rf)
	}
	if r1, r2 := rows(t, one.objects, wbOne.Issues.RejectsFiles), rows(t, many.objects, wbMany.Issues.RejectsFiles); len(r1) != one.counts.Rejected || !reflect.DeepEqual(r1, r2) {
		t.Fatalf("rejected rows: one chunk %q, in chunks %q", r1, r2)
	}
	if r1, r2 := rows(t, one.objects, wbOne.Issues.ReviewFiles), rows(t, many.objects, wbMany.Issues.ReviewFiles); len(r1) == 0 || !reflect.DeepEqual(r1, r2) {
		t.Fatalf("review rows: one chunk %q, in chunks %q", r1, r2)
	}
	if len(one.records) != one.counts.Migrated || !reflect.DeepEqual(one.records, many.records) {
		t.Fatalf("TEST holds %d records after one chunk, %d after several; or they differ", len(one.records), len(many.records))
	}
	// Row 80 (09/10/2024) is in a late chunk whose rows alone read either
	// way round: it still reads day-first, as the file's first rows show.
	if d1, d2 := one.records[recordKey(one.records, "80")].Fields["marketing_consent_date"], many.records[recordKey(many.records, "80")].Fields["marketing_consent_date"]; d1 != d2 || d1 != "2024-10-09" {
		t.Fatalf("row 80's date: one chunk %q, in chunks %q", d1, d2)
	}
	if s1, s2 := one.objects[one.m.Workbook.Snapshot], many.objects[many.m.Workbook.Snapshot]; s1 == "" || s1 != s2 {
		t.Fatalf("the snapshots differ:\n%s\n---\n%s", s1, s2)
	}
	for name, pick := range map[string]func(w *workbook.Workbook) any{
		"reconciliation": func(w *workbook.Workbook) any { return w.Reconciliation },
		"rejected":       func(w *workbook.Workbook) any { return w.Issues.Rejected },
		"warnings":       func(w *workbook.Workbook) any { return w.Issues.Warnings },
		"warned":         func(w *workbook.Workbook) any { return w.Issues.Warned },
		"fill rates":     func(w *workbook.Workbook) any { return w.FillRates },
		"inference":      func(w *workbook.Workbook) any { return w.Inference },
		"notes":          func(w *workbook.Workbook) any { return w.Notes },
		"unmapped":       func(w *workbook.Workbook) any { return w.Unmapped },
		"combined":       func(w *workbook.Workbook) any { return w.Combined },
		"left out":       func(w *workbook.Workbook) any { return w.Issues.LeftOut },
		"duplicates":     func(w *workbook.Workbook) any { return w.Issues.Duplicates },
	} {
		a, b := mustJSON(t, pick(&wbOne)), mustJSON(t, pick(&wbMany))
		if a != b {
			t.Errorf("workbook %s: one chunk %s, in chunks %s", name, a, b)
		}
	}
	// The spot checks are drawn by the round's own seed: compare which rows.
	spots := func(w *workbook.Workbook) []string {
		var out []string
		for _, sc := range w.SpotChecks {
			out = append(out, fmt.Sprintf("%s %s:%d %s", sc.Why, sc.File, sc.Line, sc.Outcome))
		}
		return out
	}
	if s := spots(&wbMany); len(s) != workbook.SpotChecksPerEntity+3 || !slices.ContainsFunc(s, func(x string) bool { return strings.HasPrefix(x, workbook.WhyNamed+" contacts.csv:45 ") }) {
		t.Fatalf("spot checks in chunks: %q", s)
	}
}

func recordKey(recs map[string]cutover.Record, sourceID string) string {
	for _, k := range slices.Sorted(maps.Keys(recs)) {
		if recs[k].SourceID == sourceID {
			return k
		}
	}
	return ""
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A round resets TEST a slice at a time, one step each, before a chunk
// writes: as many slices as the earlier round's records need (3,000,000
// rows read: 16), and together they leave nothing of it, of any entity,
// while another migration's records stay.
func TestARoundResetsTestASliceAtATime(t *testing.T) {
	var test *testRecords
	run, err := tryTestRound(t, chunkyContacts(90), 400, nil, func(m *cutover.Migration, tr *testRecords) {
		test = tr
		m.Test = &cutover.Counts{Read: 3_000_000, Migrated: 3_000_000}
		for _, mid := range []string{m.ID, "m-other"} {
			tr.recs[mid] = map[string]cutover.Record{}
			for i := range 200 {
				ent := []string{"contact", "company", "order"}[i%3]
				r := cutover.Record{Entity: ent, ID: cutover.RecordID(m.TenantID, ent, fmt.Sprint("old-", i)), SourceID: fmt.Sprint("old-", i)}
				tr.recs[mid][ent+"#"+r.ID] = r
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(test.resets) != 16 || len(slices.Compact(slices.Sorted(slices.Values(test.resets)))) != 16 {
		t.Fatalf("reset slices %q; want the 16 of 3,000,000 records, each once", test.resets)
	}
	for _, r := range run.records {
		if strings.HasPrefix(r.SourceID, "old-") {
			t.Fatalf("the earlier round's %s record %s is still in TEST", r.Entity, r.SourceID)
		}
	}
	if len(run.records) != run.counts.Migrated || len(test.recs["m-other"]) != 200 {
		t.Fatalf("TEST holds %d records of %d migrated; the other migration %d of 200", len(run.records), run.counts.Migrated, len(test.recs["m-other"]))
	}
}

// A chunk that cannot read its part of the file (its retries spent) is
// recorded failed with why; the other chunks run; the finish step fails
// the round naming it, and stores no workbook and no counts: a test
// migration that lost rows is never offered for review.
func TestATestChunkThatFailsFailsTheRoundNamingIt(t *testing.T) {
	body := chunkyContacts(90)
	run, err := tryTestInChunks(t, body, 400, func(svc *Service) {
		svc.Files = &failingRanges{objects: objects{}, broken: map[int64]bool{}}
	})
	if err != nil || len(run.chunks) < 3 {
		t.Fatalf("the healthy run: %v, %d chunks", err, len(run.chunks))
	}
	broken := run.chunks[2].Start
	run, err = tryTestInChunks(t, body, 400, func(svc *Service) {
		svc.Files = &failingRanges{objects: objects{}, broken: map[int64]bool{broken: true}, healthy: 1} // the keys step read it
	})
	msg := cutover.ErrorMessage(err)
	if cutover.ErrorCode(err) != cutover.EINTERNAL || !strings.Contains(msg, "1 of ") || !strings.Contains(msg, "part 3 (contacts.csv)") || !strings.Contains(msg, "bad day") {
		t.Fatalf("the round with a broken chunk: %v", err)
	}
	for _, c := range run.chunks {
		if want := cutover.ChunkDone; c.Index == 2 && c.Status != cutover.ChunkFailed || c.Index != 2 && c.Status != want {
			t.Fatalf("chunk %d is %s (%s)", c.Index, c.Status, c.Error)
		}
	}
	if run.m.Test != nil || run.m.Workbook != nil {
		t.Fatalf("a failed round left counts %+v and a workbook %+v", run.m.Test, run.m.Workbook)
	}

	// Broken from the start, the chunk fails its id shuffle's keys step:
	// no chunk runs (which ids repeat is not known), and the round fails
	// naming the part and why.
	run, err = tryTestInChunks(t, body, 400, func(svc *Service) {
		svc.Files = &failingRanges{objects: objects{}, broken: map[int64]bool{broken: true}}
	})
	if err == nil || run.m.Failure == nil || run.m.Failure.Reason != "Part 3 (contacts.csv) of the test extract could not be checked for source ids repeated in other parts: storage is having a bad day" {
		t.Fatalf("the round broken at its shuffle: %v, failure %+v", err, run.m.Failure)
	}
	for _, c := range run.chunks {
		if c.Status != cutover.ChunkPending {
			t.Fatalf("chunk %d is %s after its round's shuffle failed; want pending", c.Index, c.Status)
		}
	}
	if run.m.Test != nil || run.m.Workbook != nil {
		t.Fatalf("a failed round left counts %+v and a workbook %+v", run.m.Test, run.m.Workbook)
	}
}

// A date column empty in the file's first rows (past mapspec.InferSample)
// is read the same way in every chunk as in one pass of the whole file:
// a later chunk whose rows are all dates does not infer a format of its
// own that the whole file's reading did not.
func TestAColumnEmptyInTheFirstRowsReadsTheSameInChunks(t *testing.T) {
	var b strings.Builder
	b.WriteString("Id,Email,Name,Phone,Consent Date\n")
	n := 4096 + 200
	for i := 1; i <= n; i++ {
		date := ""
		switch {
		case i > 4096+50 && i%2 == 0:
			date = fmt.Sprintf("%02d/%02d/2024", 1+i%12, 1+(i+1)%12) // either way round
		case i > 4096+50:
			date = fmt.Sprintf("%02d/%02d/2024", 1+i%12, 13+i%15) // month first, unmistakably
		}
		fmt.Fprintf(&b, "%d,p%d@x.com,P %d,,%s\n", i, i, i, date)
	}
	one := runTestInChunks(t, b.String(), 0)
	many := runTestInChunks(t, b.String(), 4096)
	if len(one.chunks) != 1 || len(many.chunks) < 10 {
		t.Fatalf("planned %d and %d chunks", len(one.chunks), len(many.chunks))
	}
	for _, id := range []string{"4200", "4290"} {
		d1 := one.records[recordKey(one.records, id)].Fields["marketing_consent_date"]
		d2 := many.records[recordKey(many.records, id)].Fields["marketing_consent_date"]
		if d1 != d2 || d1 == "" {
			t.Fatalf("row %s's date: one pass %q, in chunks %q", id, d1, d2)
		}
		t.Logf("row %s: %q", id, d1)
	}
}

// submittedAndMapped fills migration id's checklist with in, submits its
// round 1 and runs the Map step, as the customer and the state machine do
// before the test migration.
func submittedAndMapped(t testing.TB, svc *Service, store *memStore, id string, in migration.ChecklistInput) {
	t.Helper()
	ctx := context.Background()
	m, _ := store.GetMigration(ctx, id)
	if _, err := svc.UpdateChecklist(ctx, m, in); err != nil {
		t.Fatal(err)
	}
	m, _ = store.GetMigration(ctx, id)
	if _, err := svc.Submit(ctx, m); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Map(ctx, migration.StepInput{MigrationID: id, Round: 1}); err != nil {
		t.Fatal(err)
	}
}
