package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/pipeline"
	"github.com/cutover/cutover/internal/workbook"
)

// repeatingContacts is chunkyContacts with rows that repeat source ids
// after them: id 5 (migrated in the first chunk) near the end, id 11
// (rejected for want of an e-mail and a name, so it holds no id) near the
// end with what it lacked, and id 40 twice in a row (one chunk or two).
func repeatingContacts() string {
	return chunkyContacts(90) +
		"40,again40@x.com,Forty Again,07700 900040,02/02/2024\n" +
		"5,again5@x.com,Five Again,07700 900005,02/02/2024\n" +
		"11,eleven@x.com,Eleven At Last,07700 900011,02/02/2024\n"
}

// A source id repeated in another chunk of the test extract is one record
// and one rejected duplicate, as it is when the extract is one chunk:
// counts, rejected rows, TEST's records and the snapshot are the same,
// whichever chunk the repeat falls in and whatever order the shuffle's
// children finish in (the harness runs them last first). A row rejected
// for another reason does not hold its id.
func TestASourceIDRepeatedAcrossTestChunksIsOneRecordAndOneDuplicate(t *testing.T) {
	body := repeatingContacts()
	one := runTestInChunks(t, body, 0)
	many, err := tryTestInChunks(t, body, 400, func(s *Service) { s.Chunking.PartitionRows = 20 })
	if err != nil {
		t.Fatal(err)
	}
	if len(one.chunks) != 1 || len(many.chunks) < 4 {
		t.Fatalf("planned %d and %d chunks, want 1 and several", len(one.chunks), len(many.chunks))
	}
	var plan testPlan
	if err := json.Unmarshal([]byte(many.objects[testPlanKey(many.m.ID, 1)]), &plan); err != nil || plan.Partitions != 5 {
		t.Fatalf("the plan %+v (%v): want 93 rows at 20 a partition in 5 partitions", plan, err)
	}
	c1, c2 := *one.counts, *many.counts
	c1.RejectsKey, c2.RejectsKey = "", ""
	if c1 != c2 || c1.Read != 93 || c1.Migrated != len(one.records) {
		t.Fatalf("counts: one chunk %+v, in chunks %+v", *one.counts, *many.counts)
	}
	wbOne, wbMany := workbookOf(t, one), workbookOf(t, many)
	r1, r2 := rows(t, one.objects, wbOne.Issues.RejectsFiles), rows(t, many.objects, wbMany.Issues.RejectsFiles)
	if !reflect.DeepEqual(r1, r2) {
		t.Fatalf("rejected rows: one chunk %q, in chunks %q", r1, r2)
	}
	dups := slices.DeleteFunc(slices.Clone(r2), func(r string) bool { return !strings.Contains(r, pipeline.DuplicateSourceID) })
	if len(dups) != 2 || !strings.HasPrefix(dups[0], "40,again40@x.com") || !strings.HasPrefix(dups[1], "5,again5@x.com") {
		t.Fatalf("duplicates rejected in chunks: %q; want the repeats of 40 and 5", dups)
	}
	if !reflect.DeepEqual(one.records, many.records) {
		t.Fatalf("TEST holds %d records after one chunk, %d after several; or they differ", len(one.records), len(many.records))
	}
	if r := many.records[recordKey(many.records, "5")]; r.Fields["emails"] != "p5@x.com" {
		t.Fatalf("record 5 is %v; want the first row's", r.Fields)
	}
	if r := many.records[recordKey(many.records, "11")]; r.Fields["emails"] != "eleven@x.com" {
		t.Fatalf("record 11 is %v; want the only row of 11 that was migrated", r.Fields)
	}
	if s1, s2 := one.objects[one.m.Workbook.Snapshot], many.objects[many.m.Workbook.Snapshot]; s1 == "" || s1 != s2 {
		t.Fatalf("the snapshots differ:\n%s\n---\n%s", s1, s2)
	}
	if d1, d2 := mustJSON(t, wbOne.Issues.Duplicates), mustJSON(t, wbMany.Issues.Duplicates); d1 != d2 {
		t.Fatalf("workbook duplicates: one chunk %s, in chunks %s", d1, d2)
	}
}

// workbookOf is the workbook a test run stored.
func workbookOf(t *testing.T, run testRun) *workbook.Workbook {
	t.Helper()
	var wb workbook.Workbook
	if err := json.Unmarshal([]byte(run.objects[run.m.Workbook.Key]), &wb); err != nil {
		t.Fatal(err)
	}
	return &wb
}

// The final migration's chunks keep source ids unique between them the
// same way: LIVE gets one record per id (the first migrated row's), the
// repeat is one rejected row, and the counts are those of the extract as
// one chunk. The shuffle's objects are where the plan says, one per
// chunk and partition.
func TestASourceIDRepeatedAcrossFinalChunksIsOneRecordAndOneDuplicate(t *testing.T) {
	// A third of the rows rejected, as in the test extract, so the
	// pre-flight clears it: the repeats of 1 and 2 and 3's bad row.
	extract := "Id,Email,Name\n1,a@x.com,Ann\n2,b@x.com,Bo\n1,a2@x.com,Ann Again\n3,bad,\n3,c@x.com,Cy\n4,d@x.com,Di\n5,e@x.com,Ed\n6,f@x.com,Fi\n2,b@x.com,Bo\n"
	final := func(chunkBytes int64) (*FinalOutput, *liveTable, *Service, string) {
		svc, store, live := finalService(t, chunkBytes)
		svc.Chunking.PartitionRows = 2
		id := signedOff(t, svc, store, "acme")
		withFinalExtract(t, svc, store, id, extract)
		cleared(t, svc, id)
		out, err := runFinal(t, svc, id)
		if err != nil {
			t.Fatal(err)
		}
		return out, live, svc, id
	}
	one, liveOne, _, _ := final(0)
	many, liveMany, svc, id := final(8)
	m, _ := svc.Store.GetMigration(context.Background(), id)
	p := m.FinalPlan
	if p == nil || p.Chunks < 6 || p.Partitions != 5 {
		t.Fatalf("the final plan %+v: want chunks of a row or two, 5 partitions of 2 rows", m.FinalPlan)
	}
	c1, c2 := *one.Counts, *many.Counts
	c1.RejectsKey, c2.RejectsKey = "", ""
	if c1 != c2 || c2.Read != 9 || c2.Migrated != 6 || c2.Rejected != 3 {
		t.Fatalf("counts: one chunk %+v, in chunks %+v; want 9 read, 6 migrated, 3 rejected", *one.Counts, *many.Counts)
	}
	if got := liveSourceIDs(liveMany); !slices.Equal(got, []string{"1", "2", "3", "4", "5", "6"}) || !reflect.DeepEqual(liveOne.records, liveMany.records) {
		t.Fatalf("LIVE holds %v in chunks, %d records in one", got, len(liveOne.records))
	}
	for _, r := range liveMany.records {
		if r.SourceID == "1" && r.Fields["emails"] != "a@x.com" {
			t.Fatalf("record 1 is %v; want the first row's", r.Fields)
		}
	}
	chunks, err := svc.FinalChunks(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var dups []string
	for _, c := range chunks {
		for _, k := range c.Rejects {
			for _, line := range strings.Split(files(svc)[k], "\n") {
				if strings.Contains(line, pipeline.DuplicateSourceID) {
					dups = append(dups, fmt.Sprintf("chunk %d: %s", c.Index, line))
				}
			}
		}
	}
	if len(dups) != 2 || !strings.Contains(dups[0], ": 1,a2@x.com") || !strings.Contains(dups[1], ": 2,b@x.com") || strings.HasPrefix(dups[1], "chunk 0:") {
		t.Fatalf("the chunks rejected as duplicates %q; want the repeats of 1 and 2, in later chunks", dups)
	}
	objs := files(svc)
	for c := 0; c < p.Chunks; c++ {
		for part := 0; part < 5; part++ {
			sh := idShuffle{prefix: finalPrefix(m) + "shuffle/"}
			for _, k := range []string{sh.keysKey(part, c), sh.claimedKey(c, part)} {
				if _, ok := objs[k]; !ok {
					t.Fatalf("%s is not stored", k)
				}
			}
		}
	}
}

// A chunk whose shuffle did not run fails, naming what is missing,
// instead of migrating its rows as if no other chunk held their ids; and
// the shuffle's steps refuse a migration that is not running one.
func TestAChunkWithoutItsShuffleFails(t *testing.T) {
	svc, store, _ := finalService(t, 8)
	id := signedOff(t, svc, store, "acme")
	withFinalExtract(t, svc, store, id, "Id,Email,Name\n1,a@x.com,Ann\n2,b@x.com,Bo\n")
	cleared(t, svc, id)
	ctx := context.Background()
	if _, err := svc.Final(ctx, FinalStep{Action: FinalResolve, MigrationID: id, Round: 1}); cutover.ErrorCode(err) != cutover.ECONFLICT {
		t.Fatalf("resolve before the plan: %v; want ECONFLICT", err)
	}
	plan, err := svc.Final(ctx, FinalStep{Action: FinalPlan, MigrationID: id, Round: 1})
	if err != nil {
		t.Fatal(err)
	}
	if run := planRun(t, plan); run.Shuffle == nil || run.Shuffle.Partitions != 1 || len(manifestItems(t, svc, run.Shuffle.Manifest)) != 1 {
		t.Fatalf("the plan's run %+v: want a shuffle of one partition", run)
	}
	_, err = svc.Final(ctx, FinalStep{Action: FinalChunk, MigrationID: id, Round: 1, Index: 1})
	if msg := cutover.ErrorMessage(err); cutover.ErrorCode(err) != cutover.ENOTFOUND || !strings.Contains(msg, "an earlier step") || strings.Contains(msg, "upload") {
		t.Fatalf("a chunk before its shuffle: %v; want ENOTFOUND saying an earlier step's results are missing, not an upload", err)
	}
	if _, err := svc.Final(ctx, FinalStep{Action: FinalResolve, MigrationID: id, Round: 1, Index: 1}); cutover.ErrorCode(err) != cutover.ECONFLICT {
		t.Fatalf("resolve of a partition the plan has not: %v; want ECONFLICT", err)
	}
	if _, err := svc.Final(ctx, FinalStep{Action: FinalResolve, MigrationID: id, Round: 1}); cutover.ErrorCode(err) != cutover.ENOTFOUND {
		t.Fatalf("resolve before the keys: %v; want ENOTFOUND", err)
	}
}
