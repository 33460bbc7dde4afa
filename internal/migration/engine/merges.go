package engine

import (
	"context"
	"fmt"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pass"
	"github.com/cutover/cutover/internal/pipeline"
)

// Merging records by dedupe key across chunks (a mapping with dedupe keys
// and neither references nor people named inline, planned into several
// chunks). Every chunk that reads runs as before, after the id shuffle,
// except that it writes no record: it spills each one, as pass.Spill
// gives them, to the merge partition of its dedupe key
// (merge/p-<partition>/c-<chunk>, one object for every pair, an empty
// one too). Then a second Distributed Map runs the merge partitions, which
// the plan lists as chunks after the ones that read (cutover.Chunk.Merge),
// so they keep the chunks' status, attempts and failure handling: each
// reads its objects in chunk order, merges them (pass.Merge), writes the
// merged records to TEST or LIVE with a snapshot, and keeps what merging
// changed in the chunks' account (rows merged, rows whose record the
// destination refused) as its own counts and reports, which the finish
// steps add up with the chunks'. No step holds more than a chunk or a
// partition.

// DefaultMergeRows is how many records one merge partition is planned for
// when the deployment does not say: a partition's merger holds its
// records, about 4.5 KB each in memory (BenchmarkMergeSteps: 248 MiB of
// heap at its peak for a partition of 55,000), so a partition stays well
// inside the functions' 1 and 2 GB.
const DefaultMergeRows = 50_000

// MergeRun tells the state machine how to run an extract's merge
// partitions: a Distributed Map over this manifest (one ChunkItem per
// partition, its Index the partition's chunk), after the chunks.
type MergeRun struct {
	Manifest      string `json:"manifest"`
	Partitions    int    `json:"partitions"`
	ResultsPrefix string `json:"resultsPrefix"`
}

// mergesManifestName is the merge partitions' manifest's name; the state
// machine's policy in template.yaml grants reading it: keep them in step.
const mergesManifestName = "merges.jsonl"

// putMergeRun writes the manifest of the merge partitions among chunks
// under prefix (a line per partition: item with its index) and returns
// its MergeRun; nil when there are none.
//
// Errors: as putManifest.
func (s *base) putMergeRun(ctx context.Context, prefix, resultsPrefix string, item ChunkItem, chunks []cutover.Chunk) (*MergeRun, error) {
	items := chunkItems(chunks, item, true)
	if len(items) == 0 {
		return nil, nil
	}
	key := prefix + mergesManifestName
	if err := s.putManifest(ctx, key, items); err != nil {
		return nil, err
	}
	return &MergeRun{Manifest: key, Partitions: len(items), ResultsPrefix: resultsPrefix + "/merges"}, nil
}

// chunkItems are the manifest items of the chunks that read (merge
// false) or of the merge partitions (merge true): item with each index.
func chunkItems(chunks []cutover.Chunk, item ChunkItem, merge bool) []ChunkItem {
	var items []ChunkItem
	for _, c := range chunks {
		if c.Merge == merge {
			item.Index = c.Index
			items = append(items, item)
		}
	}
	return items
}

// spill is where one extract's merge partitions live: reading chunks
// 0..chunks-1 spill to parts partitions.
type spill struct {
	prefix string // the phase's artifacts + "shuffle/"
	chunks int
	parts  int
}

func (sp spill) key(part, chunk int) string {
	return fmt.Sprintf("%smerge/p-%05d/c-%06d", sp.prefix, part, chunk)
}

// spiller collects a chunk's spilled records by partition.
type spiller struct {
	sp   spill
	bufs [][]byte
}

func newSpiller(sp spill) *spiller { return &spiller{sp: sp, bufs: make([][]byte, sp.parts)} }

// add is the chunk's pass.Pass.Spill.
func (s *spiller) add(rec *mapspec.Record, key string, seen *pipeline.Sighting) error {
	i := pass.SpillPartition(rec, key, s.sp.parts)
	s.bufs[i] = pass.AppendSpilled(s.bufs[i], rec, key, seen)
	return nil
}

// putSpill stores chunk's spill, an object per partition (an empty one too: a
// missing object is a chunk that did not run, never "no records").
//
// Errors: as Files.Put.
func (s *base) putSpill(ctx context.Context, sp *spiller, chunk int) error {
	return s.putAll(ctx, sp.sp.parts, func(i int) (string, []byte) { return sp.sp.key(i, chunk), sp.bufs[i] })
}

// mergeInput reads partition part's spill from every reading chunk, once
// all of them are done.
//
// Errors: ECONFLICT when a chunk that reads is not done (it is named);
// ENOTFOUND or EUNAVAILABLE from storage.
func (s *base) mergeInput(ctx context.Context, sp spill, part int, chunks []cutover.Chunk) ([][]byte, error) {
	for _, c := range chunks {
		if !c.Merge && c.Index < sp.chunks && c.Status != cutover.ChunkDone {
			return nil, cutover.Errorf(cutover.ECONFLICT, "Merging waits for part %d (%s), which has not finished.", c.Index+1, c.FileName)
		}
	}
	return s.getAll(ctx, sp.chunks, func(c int) string { return sp.key(part, c) })
}

// partsDetail says how many parts an extract ran in, for the audit
// trail: its chunks, and its merge partitions when it has some.
func partsDetail(chunks, merges int) string {
	if merges == 0 {
		return fmt.Sprintf("%d chunk(s)", chunks)
	}
	return fmt.Sprintf("%d chunk(s) and %d merge partition(s)", chunks-merges, merges)
}
