package engine

import (
	"context"
	"fmt"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pass"
	"github.com/cutover/cutover/internal/pipeline"
	"github.com/cutover/cutover/internal/schema"
	"github.com/cutover/cutover/internal/shuffle"
)

// The pre-flight dry-runs the whole final extract in one step. For a
// mapping that merges records by dedupe key, one pass would hold every
// record in its merger (about 4.5 KB each: a wall at a few hundred
// thousand rows in a 2 GB Lambda, before the final migration, which
// merges in partitions, ever ran). So the dry run spills its records by
// partition of dedupe key (pass.Spill, pass.SpillPartition), a run of all
// partitions at a time under …/final/preflight/merge/ once what it holds
// passes the snapshot's run size, and then merges one partition at a time
// (pass.Merge) into the snapshot: memory is a run and a partition, and
// the counts and reports are one pass's.

// bytesPerMergedRow is the fewest bytes of extract a row is taken to be
// when the pre-flight sizes its partitions from the files' sizes (a
// generated contact is about 130): a partition of narrow rows then holds
// at most about DefaultMergeRows records.
const bytesPerMergedRow = 64

// spillRuns is the dry run's records spilled by partition.
type spillRuns struct {
	b        *base
	prefix   string
	parts    int
	runBytes int64
	bufs     [][]byte
	held     int64
	runs     [][]int // per partition, the runs that stored some of its records, in order
	stored   int     // runs stored
}

// mergingPreflight returns the spill of a dry run of files with spec, or
// nil when spec merges nothing by dedupe key, or needs every record at
// once (references, people named inline) and so is dry-run in one pass.
func (s *Final) mergingPreflight(m *cutover.Migration, spec *mapspec.Spec, files []cutover.File) *spillRuns {
	sch := schema.Default()
	if !spec.HoldsRecords(sch) || !shuffle.Supports(spec, sch) {
		return nil
	}
	var size int64
	for _, f := range files {
		size += f.Size
	}
	perPartition := int64(s.chunking.MergeRows)
	if perPartition <= 0 {
		perPartition = DefaultMergeRows
	}
	parts := int(min(max((size+perPartition*bytesPerMergedRow-1)/(perPartition*bytesPerMergedRow), 1), maxPartitions))
	return &spillRuns{b: &s.base, prefix: finalPrefix(m) + "preflight/merge/", parts: parts, runBytes: s.runBytes, bufs: make([][]byte, parts), runs: make([][]int, parts)}
}

func (r *spillRuns) key(part, run int) string {
	return fmt.Sprintf("%sp-%05d/r-%06d", r.prefix, part, run)
}

// spill is the dry run's pass.Pass.Spill.
func (r *spillRuns) spill(ctx context.Context) func(*mapspec.Record, string, *pipeline.Sighting) error {
	return func(rec *mapspec.Record, key string, _ *pipeline.Sighting) error {
		i := pass.SpillPartition(rec, key, r.parts)
		n := len(r.bufs[i])
		r.bufs[i] = pass.AppendSpilled(r.bufs[i], rec, key, nil)
		if r.held += int64(len(r.bufs[i]) - n); r.held < r.runBytes {
			return nil
		}
		return r.flush(ctx)
	}
}

// flush stores what is held as a run: an object per partition it has
// records of (runs says which).
//
// Errors: as Files.Put.
func (r *spillRuns) flush(ctx context.Context) error {
	var held []int
	for i, b := range r.bufs {
		if len(b) > 0 {
			held = append(held, i)
		}
	}
	err := r.b.putAll(ctx, len(held), func(j int) (string, []byte) { return r.key(held[j], r.stored), r.bufs[held[j]] })
	if err != nil {
		return err
	}
	for _, i := range held {
		r.runs[i] = append(r.runs[i], r.stored)
		r.bufs[i] = nil
	}
	r.stored, r.held = r.stored+1, 0
	return nil
}

// partition reads part's records back, run by run.
//
// Errors: as getAll.
func (r *spillRuns) partition(ctx context.Context, part int) ([][]byte, error) {
	runs := r.runs[part]
	return r.b.getAll(ctx, len(runs), func(i int) string { return r.key(part, runs[i]) })
}

// merge stores the records still held, then merges each partition into
// snap and adds what merging changed to res (its counts, and its reports
// to each table's).
//
// Errors: as flush, partition and pass.Merge.
func (r *spillRuns) merge(ctx context.Context, spec *mapspec.Spec, snap *spilledSnapshot, res *pass.Result) error {
	if err := r.flush(ctx); err != nil {
		return err
	}
	reports := res.Reports
	for i := range r.parts {
		spilled, err := r.partition(ctx, i)
		if err != nil {
			return err
		}
		mr, err := pass.Merge(ctx, pass.MergeInput{Spec: spec, Spilled: spilled, ArtifactsPrefix: fmt.Sprintf("%sp-%05d/", r.prefix, i)}, spillSink{snap}, r.b.files)
		if err != nil {
			return err
		}
		res.Counts = res.Counts.Add(mr.Counts)
		reports = append(reports, mr.Reports...)
	}
	res.Reports = mergeReports(reports)
	return nil
}
