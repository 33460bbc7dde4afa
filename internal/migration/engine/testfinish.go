package engine

import (
	"bufio"
	"container/heap"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"strings"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/delta"
	"github.com/cutover/cutover/internal/destination"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/pipeline"
	"github.com/cutover/cutover/internal/schema"
	"github.com/cutover/cutover/internal/workbook"
)

// FinishTest accounts for every chunk of the round and builds what the
// customer reviews: it merges the chunks' results (counts, per-file
// reports with their warnings, combined values and fill rates, rejects
// and review files, possible duplicates, identity notes, spot-check
// samples) into the workbook, writes the test snapshot as a streaming
// merge of the chunks' sorted snapshots, reads TEST back against it (the
// destination must hold, per entity, exactly the distinct records the
// chunks wrote), and announces the round's test migration as completed.
//
// Errors: ECONFLICT when the migration is not test-migrating this round;
// EINTERNAL when a chunk did not finish (naming the first and its error),
// the chunks on record are not the ones planned, their rows do not add up
// to the extract's or do not balance, or TEST's read-back differs (naming
// the entity and both counts); EINVALID when a stored snapshot is
// malformed; ENOTFOUND when a chunk's results are missing; EUNAVAILABLE
// from storage.
func (s *TestRun) FinishTest(ctx context.Context, in TestStep) (*TestOutput, error) {
	m, plan, chunks, err := s.roundChunks(ctx, in)
	if err != nil {
		return nil, err
	}
	if failed := retryable(chunks); len(failed) > 0 {
		f := failed[0]
		return nil, cutover.Errorf(cutover.EINTERNAL, "%d of %d parts of the test migration did not finish; the first, part %d (%s): %s",
			len(failed), len(chunks), f.Index+1, f.FileName, f.Error)
	}
	merged, err := s.mergeTestChunks(ctx, m, plan, chunks)
	if err != nil {
		return nil, err
	}
	counts := merged.counts
	if !counts.Balanced() {
		return nil, cutover.Errorf(cutover.EINTERNAL, "Row accounting does not balance across the chunks: read %d, migrated %d, merged %d, rejected %d, skipped %d.",
			counts.Read, counts.Migrated, counts.Merged, counts.Rejected, counts.Skipped)
	}
	if counts.Read != plan.Rows {
		return nil, cutover.Errorf(cutover.EINTERNAL, "The chunks read %d rows; the test extract has %d.", counts.Read, plan.Rows)
	}
	target := testTarget(m, in.Round, plan)
	wrote, found, err := s.testSnapshot(ctx, m, in.Round, chunks)
	if err != nil {
		return nil, err
	}
	if err := readBackAndSeal(ctx, s.dest, target, wrote, found); err != nil {
		return nil, err
	}
	if err := s.storeWorkbook(ctx, m, in.Round, plan.Seed, partsDetail(len(chunks), plan.Merges), merged); err != nil {
		return nil, err
	}
	s.announceTestCompleted(ctx, m, in.Round)
	return &TestOutput{Counts: &counts}, nil
}

// roundChunks is the migration, the plan and the chunks (and merge
// partitions) of the round in test.
//
// Errors: ECONFLICT when the migration is not test-migrating this round;
// EINTERNAL when the chunks on record are not the ones planned; as
// GetMigration and ListTestChunks; ENOTFOUND for a missing plan.
func (s *TestRun) roundChunks(ctx context.Context, in TestStep) (*cutover.Migration, testPlan, []cutover.Chunk, error) {
	var plan testPlan
	m, err := s.Store().GetMigration(ctx, in.MigrationID)
	if err != nil {
		return nil, plan, nil, err
	}
	if m.Status != cutover.StatusTestMigrating || m.Round != in.Round {
		return nil, plan, nil, cutover.Errorf(cutover.ECONFLICT, "The test migration of round %d cannot finish while the migration is %s (round %d).", in.Round, m.Status, m.Round)
	}
	if err := s.readArtifact(ctx, testPlanKey(m.ID, in.Round), "test migration's plan", &plan); err != nil {
		return nil, plan, nil, err
	}
	all, err := s.chunks.ListTestChunks(ctx, m.ID, in.Round)
	if err != nil {
		return nil, plan, nil, err
	}
	var chunks []cutover.Chunk
	for _, c := range all {
		if c.Index < plan.Chunks+plan.Merges {
			chunks = append(chunks, c)
		}
	}
	if len(chunks) != plan.Chunks+plan.Merges || len(chunks) == 0 {
		return nil, plan, nil, cutover.Errorf(cutover.EINTERNAL, "The test migration has %d chunk(s) on record, not the %d planned.", len(chunks), plan.Chunks+plan.Merges)
	}
	return m, plan, chunks, nil
}

// compareScopeOf is the merge of the round's test snapshot in key ranges
// (compare.go): the chunks' snapshots, merged, with nothing before them;
// with the chunks when withChunks is set (planning needs them; a range
// has its byte ranges in its part).
//
// Errors: ECONFLICT when the migration is not test-migrating this round;
// as roundChunks.
func (s *TestRun) compareScopeOf(ctx context.Context, in TestStep, withChunks bool) (*compareScope, error) {
	if withChunks {
		m, _, chunks, err := s.roundChunks(ctx, in)
		if err != nil {
			return nil, err
		}
		return testScope(m, in.Round, chunks), nil
	}
	m, err := s.Store().GetMigration(ctx, in.MigrationID)
	if err != nil {
		return nil, err
	}
	if m.Status != cutover.StatusTestMigrating || m.Round != in.Round {
		return nil, cutover.Errorf(cutover.ECONFLICT, "The test migration of round %d cannot merge its snapshot while the migration is %s (round %d).", in.Round, m.Status, m.Round)
	}
	return testScope(m, in.Round, nil), nil
}

func testScope(m *cutover.Migration, round int, chunks []cutover.Chunk) *compareScope {
	return &compareScope{m: m, round: round, prefix: testPrefix(m.ID, round) + "compare/", chunks: chunks, mode: compareMerge}
}

// testSnapshot stores the round's test snapshot and returns what it
// holds per entity (what TEST must hold), and what the key ranges read
// TEST back to hold (none when they did not: the finish step reads it):
// joined from the key ranges the state machine merged (ComparePartitions
// of the test), or, for an execution from before those, merged here from
// every chunk's.
//
// Errors: as compared, composeSnapshot and writeTestSnapshot.
func (s *TestRun) testSnapshot(ctx context.Context, m *cutover.Migration, round int, chunks []cutover.Chunk) (wrote map[string]cutover.Holding, found readBackFound, err error) {
	cmp, err := s.compared(ctx, testScope(m, round, chunks))
	if err != nil {
		return nil, found, err
	}
	if cmp == nil {
		wrote, err = s.writeTestSnapshot(ctx, testSnapshotKey(m.ID, round), chunks)
		return wrote, found, err
	}
	if err := s.composeSnapshot(ctx, testSnapshotKey(m.ID, round), cmp); err != nil {
		return nil, found, err
	}
	return cmp.Holdings, cmp.heldRead(), nil
}

// mergedTest is the round's chunks' results, merged.
type mergedTest struct {
	counts  cutover.Counts
	reports []*pipeline.Report
	rejects []workbook.RejectsFile
	reviews []workbook.RejectsFile
	dups    workbook.PossibleDuplicates
	entries map[string]mapspec.FileSpec
	sampler *workbook.Sampler
}

// mergeTestChunks reads each chunk's results, in chunk order, and merges
// them: counts add up, reports of a file and entity add up
// (mergeReports), rejects and review files are listed per chunk (a file
// in several chunks as "name (part n)"), and the spot-check samples merge
// into one sampler of the round's seed.
func (s *TestRun) mergeTestChunks(ctx context.Context, m *cutover.Migration, plan testPlan, chunks []cutover.Chunk) (*mergedTest, error) {
	out := &mergedTest{entries: map[string]mapspec.FileSpec{}, sampler: workbook.NewSampler(plan.Seed, m.SpotCheckIDs)}
	parts, seen := map[string]int{}, map[string]int{}
	for _, c := range chunks {
		parts[c.FileID]++
	}
	label := func(c cutover.Chunk, file string) string {
		if parts[c.FileID] < 2 {
			return file
		}
		return fmt.Sprintf("%s (part %d)", file, seen[c.FileID])
	}
	var reports []*pipeline.Report
	for _, c := range chunks {
		seen[c.FileID]++
		var res testChunkResult
		if err := s.readArtifact(ctx, c.Reports, fmt.Sprintf("results of test chunk %d", c.Index), &res); err != nil {
			return nil, err
		}
		out.counts = out.counts.Add(c.Counts)
		reports = append(reports, res.Reports...)
		for _, r := range res.Rejects {
			out.rejects = append(out.rejects, workbook.RejectsFile{File: label(c, r.File), Key: r.Key})
		}
		for _, r := range res.Reviews {
			out.reviews = append(out.reviews, workbook.RejectsFile{File: label(c, r.File), Key: r.Key})
		}
		out.dups.Add(res.PossibleDuplicates)
		for k, v := range res.Entries {
			if _, ok := out.entries[k]; !ok {
				out.entries[k] = v
			}
		}
		out.sampler.Merge(res.Samples)
	}
	out.reports = mergeReports(reports)
	out.counts.RejectsKey = testPrefix(m.ID, m.Round)
	return out, nil
}

// storeWorkbook builds the round's workbook from the merged chunks,
// stores it, and records it and the counts on the migration.
func (s *TestRun) storeWorkbook(ctx context.Context, m *cutover.Migration, round int, seed uint64, parts string, t *mergedTest) error {
	counts := t.counts
	wb := workbook.Build(workbook.Meta{MigrationID: m.ID, Round: round, MappingVersion: m.MappingVersion, Seed: seed, CreatedAt: s.Now()},
		t.reports, m.Checklist, t.sampler, counts.Orphans, t.rejects)
	wb.AddPossibleDuplicates(&t.dups)
	wb.AddReviewFiles(t.reviews)
	wb.AddIdentityNotes(t.entries, schema.Default())
	wb.AddCombined(t.reports)
	key := testPrefix(m.ID, round) + "workbook.json"
	body, err := json.Marshal(wb)
	if err != nil {
		return cutover.Wrap(cutover.EINTERNAL, err, "The workbook could not be encoded.")
	}
	if err := s.files.Put(ctx, key, "application/json", body); err != nil {
		return err
	}
	summary := &cutover.WorkbookSummary{
		Round: round, Key: key, Snapshot: testSnapshotKey(m.ID, round), Seed: seed, Spots: len(wb.SpotChecks), CreatedAt: wb.CreatedAt,
		WarningGroups: len(wb.Issues.Warnings), Duplicates: &cutover.DuplicateCounts{Merged: wb.Issues.DuplicateCounts.Merged, Possible: wb.Issues.DuplicateCounts.Possible},
	}
	for i, sc := range wb.SpotChecks {
		if sc.WaiveOnly {
			summary.WaiveOnly = append(summary.WaiveOnly, i)
		}
	}
	for _, r := range wb.Reconciliation {
		summary.Entities = append(summary.Entities, cutover.EntityReconciled{Entity: r.Entity, Checklist: r.Checklist, Rows: r.Rows, Migrated: r.Migrated, Status: r.Status})
	}
	summary.Issues = &cutover.IssueSummary{Rejected: []cutover.RejectReason{}, Warned: wb.Issues.Warned, Orphans: wb.Issues.Orphans}
	for _, r := range wb.Issues.Rejected[:min(len(wb.Issues.Rejected), cutover.MaxSummaryReasons)] {
		summary.Issues.Rejected = append(summary.Issues.Rejected, cutover.RejectReason{File: r.File, Entity: r.Entity, Reason: cutover.Clip(r.Reason, cutover.MaxReasonBytes), Count: r.Count})
	}
	_, err = s.Update(ctx, m.ID, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		cur.Test, cur.Workbook = &counts, summary
		return []cutover.AuditEvent{s.Event(migration.System, "test.migrated", migration.CountsDetail(counts)+" in "+parts+"; workbook ready")}, nil
	})
	return err
}

// writeTestSnapshot stores the round's test snapshot as the merge of the
// chunks' snapshots (each sorted by key; of a key several chunks wrote,
// the first chunk's entry is kept, as one snapshot of the whole extract
// keeps the first added), streamed into storage as it is merged, and
// returns what it holds per entity: what TEST must hold.
//
// Errors: ENOTFOUND when a chunk's snapshot is missing; EINVALID when one
// is malformed; EUNAVAILABLE from storage.
func (s *TestRun) writeTestSnapshot(ctx context.Context, key string, chunks []cutover.Chunk) (map[string]cutover.Holding, error) {
	snaps := make([]io.Reader, 0, len(chunks))
	for _, c := range chunks {
		if c.Snapshot == "" {
			return nil, cutover.Errorf(cutover.ENOTFOUND, "Chunk %d of the test migration kept no snapshot.", c.Index)
		}
		rc, err := s.files.Open(ctx, c.Snapshot)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		snaps = append(snaps, rc)
	}
	var (
		held map[string]cutover.Holding
		x    delta.Indexer
	)
	err := s.files.Stream(ctx, key, "application/x-ndjson", func(w io.Writer) (err error) {
		held, err = mergeSnapshots(snaps, w, &x)
		return err
	})
	if err != nil {
		return nil, err
	}
	return held, s.putSnapshotIndex(ctx, key, x.Index())
}

// mergeSnapshots writes the merge of snapshots sorted by key to w (nil
// for none: the holdings alone), each key once (the first snapshot's
// entry of a key several hold), noting each line in x (when w and x are
// not nil), and returns per entity the distinct records' count and id
// checksum. It holds one line per snapshot.
//
// Errors: EINVALID when a snapshot line is not an entry; EUNAVAILABLE
// when a snapshot cannot be read or w fails.
func mergeSnapshots(snaps []io.Reader, w io.Writer, x *delta.Indexer) (map[string]cutover.Holding, error) {
	h := &keyHeap{}
	for i, r := range snaps {
		k := &keyReader{sc: bufio.NewScanner(r), idx: i}
		k.sc.Buffer(make([]byte, 64<<10), delta.MaxLine+1)
		ok, err := k.next()
		if err != nil {
			return nil, err
		}
		if ok {
			heap.Push(h, k)
		}
	}
	var bw *bufio.Writer
	if w != nil {
		bw = bufio.NewWriterSize(w, 64<<10)
	}
	counts := map[string]int64{}
	sums := map[string]*destination.IDChecksum{}
	last, first := "", true
	for h.Len() > 0 {
		k := (*h)[0]
		if key := k.key; first || key != last {
			first, last = false, key
			entity, id, _ := strings.Cut(key, "#")
			if sums[entity] == nil {
				sums[entity] = &destination.IDChecksum{}
			}
			sums[entity].Add(id)
			counts[entity]++
			if x != nil && bw != nil {
				x.Line(key, len(k.sc.Bytes())+1)
			}
			if err := writeLine(bw, k.sc.Bytes()); err != nil {
				return nil, err
			}
		}
		ok, err := k.next()
		if err != nil {
			return nil, err
		}
		if ok {
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
		}
	}
	if bw != nil {
		if err := bw.Flush(); err != nil {
			return nil, cutover.Wrap(cutover.EUNAVAILABLE, err, "The test snapshot could not be written.")
		}
	}
	out := make(map[string]cutover.Holding, len(counts))
	for e := range maps.Keys(counts) {
		out[e] = cutover.Holding{Count: counts[e], IDChecksum: sums[e].String()}
	}
	return out, nil
}

// writeLine writes line and a newline to w (nil: nowhere).
//
// Errors: EUNAVAILABLE when w fails.
func writeLine(w *bufio.Writer, line []byte) error {
	if w == nil {
		return nil
	}
	w.Write(line)
	if err := w.WriteByte('\n'); err != nil {
		return cutover.Wrap(cutover.EUNAVAILABLE, err, "The test snapshot could not be written.")
	}
	return nil
}
