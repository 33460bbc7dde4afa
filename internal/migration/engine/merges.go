package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"golang.org/x/sync/errgroup"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pass"
	"github.com/cutover/cutover/internal/pipeline"
)

// Merging records by dedupe key across chunks (a mapping with dedupe keys
// and neither references nor people named inline, planned into several
// chunks). Every chunk that reads runs as before, after the id shuffle,
// except that it writes no record: it spills each one, as pass.Spill
// gives them, to the merge partition of its dedupe key. A chunk holds at
// most Chunking.SpillBytes of spilled records: it stores them as a run
// (merge/c-<chunk>/r-<run>), ordered by partition, and lists where each
// partition's records begin in each of its runs in its index
// (merge/c-<chunk>/index.json, stored last: a chunk without one did not
// finish). Then a second Distributed Map runs the merge partitions, which
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

// runKey is where chunk keeps its run of spilled records number run.
func (sp spill) runKey(chunk, run int) string {
	return fmt.Sprintf("%smerge/c-%06d/r-%04d", sp.prefix, chunk, run)
}

// indexKey is where chunk lists its runs (spillIndex).
func (sp spill) indexKey(chunk int) string {
	return fmt.Sprintf("%smerge/c-%06d/index.json", sp.prefix, chunk)
}

// key is where a chunk spilled partition part's records before runs (one
// object a pair): an execution that spilled so before a deploy merges
// after it.
func (sp spill) key(part, chunk int) string {
	return fmt.Sprintf("%smerge/p-%05d/c-%06d", sp.prefix, part, chunk)
}

// DefaultSpillBytes bounds the spilled records a chunk holds before it
// stores them as a run, when the deployment does not say: the frames of a 32 MiB chunk of contacts are
// about 130 MB (their records' values, keys and rows), which held whole
// (with the slices' growth) took a test chunk's process past 900 MB.
const DefaultSpillBytes = 64 << 20

// spillIndex lists a chunk's runs in the order it stored them.
type spillIndex struct {
	Parts int        `json:"parts"`
	Runs  []spillRun `json:"runs"`
}

// spillRun is one stored run: its records ordered by partition (in the
// order spilled within one), partition p's at [Offsets[p], Offsets[p+1]).
type spillRun struct {
	Key     string  `json:"key"`
	Offsets []int64 `json:"offsets"`
}

// spiller collects a chunk's spilled records and stores them in runs of
// of about limit bytes.
type spiller struct {
	// ctx is the chunk's step's: add (pass.Pass.Spill, which takes none)
	// stores a run when the buffer is full.
	ctx   context.Context
	files cutover.Streamer
	sp    spill
	chunk int
	limit int

	frame []byte  // the record being added
	buf   []byte  // the frames not yet stored, as spilled
	ends  []int   // where each frame in buf ends
	parts []int32 // each frame's partition
	runs  []spillRun
}

// newSpiller collects chunk's spilled records for sp in runs of about
// limit bytes (0: DefaultSpillBytes).
func (s *base) newSpiller(ctx context.Context, sp spill, chunk, limit int) *spiller {
	if limit <= 0 {
		limit = DefaultSpillBytes
	}
	return &spiller{ctx: ctx, files: s.files, sp: sp, chunk: chunk, limit: limit}
}

// add is the chunk's pass.Pass.Spill.
//
// Errors: as Files.Stream, when a full buffer cannot be stored.
func (s *spiller) add(rec *mapspec.Record, key string, seen *pipeline.Sighting) error {
	s.frame = pass.AppendSpilled(s.frame[:0], rec, key, seen)
	if len(s.buf) > 0 && len(s.buf)+len(s.frame) > s.limit {
		if err := s.store(); err != nil {
			return err
		}
	}
	s.buf = append(s.buf, s.frame...)
	s.ends = append(s.ends, len(s.buf))
	s.parts = append(s.parts, int32(pass.SpillPartition(rec, key, s.sp.parts)))
	return nil
}

// store writes the buffered frames as the chunk's next run, ordered by
// partition (a stable counting sort: a partition's records keep the
// order they were spilled in), and empties the buffer.
//
// Errors: as Files.Stream.
func (s *spiller) store() error {
	offsets := make([]int64, s.sp.parts+1)
	first := make([]int, s.sp.parts+1) // where each partition's frames begin in order
	begin := func(i int) int {
		if i == 0 {
			return 0
		}
		return s.ends[i-1]
	}
	for i, p := range s.parts {
		offsets[p+1] += int64(s.ends[i] - begin(i))
		first[p+1]++
	}
	for p := range s.sp.parts {
		offsets[p+1] += offsets[p]
		first[p+1] += first[p]
	}
	order := make([]int32, len(s.parts))
	for i, p := range s.parts {
		order[first[p]] = int32(i)
		first[p]++
	}
	key := s.sp.runKey(s.chunk, len(s.runs))
	err := s.files.Stream(s.ctx, key, "application/octet-stream", func(w io.Writer) error {
		for _, i := range order {
			if _, err := w.Write(s.buf[begin(int(i)):s.ends[i]]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.runs = append(s.runs, spillRun{Key: key, Offsets: offsets})
	s.buf, s.ends, s.parts = s.buf[:0], s.ends[:0], s.parts[:0]
	return nil
}

// putSpill stores what is left of chunk's spill as its last run and then
// its index, which says the chunk's spill is whole (a chunk that spilled
// nothing has an index of no runs: a missing index is a chunk that did
// not run, never "no records").
//
// Errors: as Files.Stream and Files.Put.
func (s *base) putSpill(ctx context.Context, sp *spiller) error {
	if len(sp.buf) > 0 {
		if err := sp.store(); err != nil {
			return err
		}
	}
	return s.putJSON(ctx, sp.sp.indexKey(sp.chunk), "A chunk's spilled records' index", spillIndex{Parts: sp.sp.parts, Runs: sp.runs})
}

// mergeInput reads partition part's spill from every reading chunk, once
// all of them are done: from each chunk, the partition's byte range of
// every run, in the order they were stored.
//
// Errors: ECONFLICT when a chunk that reads is not done (it is named);
// EINVALID when a chunk's index is damaged or of another plan; ENOTFOUND
// or EUNAVAILABLE from storage.
func (s *base) mergeInput(ctx context.Context, sp spill, part int, chunks []cutover.Chunk) ([][]byte, error) {
	for _, c := range chunks {
		if !c.Merge && c.Index < sp.chunks && c.Status != cutover.ChunkDone {
			return nil, cutover.Errorf(cutover.ECONFLICT, "Merging waits for part %d (%s), which has not finished.", c.Index+1, c.FileName)
		}
	}
	out := make([][]byte, sp.chunks)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(shuffleIO)
	for c := range sp.chunks {
		g.Go(func() (err error) {
			out[c], err = s.spilledBy(gctx, sp, part, c)
			return err
		})
	}
	return out, g.Wait()
}

// spilledBy reads what chunk spilled to partition part.
//
// Errors: as mergeInput.
func (s *base) spilledBy(ctx context.Context, sp spill, part, chunk int) ([]byte, error) {
	body, err := s.readAll(ctx, sp.indexKey(chunk))
	if cutover.ErrorCode(err) == cutover.ENOTFOUND {
		if old, oldErr := s.readAll(ctx, sp.key(part, chunk)); oldErr == nil {
			return old, nil
		}
	}
	if err != nil {
		return nil, err
	}
	var idx spillIndex
	if err := json.Unmarshal(body, &idx); err != nil || idx.Parts != sp.parts {
		return nil, cutover.Errorf(cutover.EINVALID, "The index of the records part %d spilled for merging is damaged or of another plan.", chunk+1)
	}
	var out []byte
	for _, r := range idx.Runs {
		if len(r.Offsets) != sp.parts+1 {
			return nil, cutover.Errorf(cutover.EINVALID, "The index of the records part %d spilled for merging is damaged.", chunk+1)
		}
		start, end := r.Offsets[part], r.Offsets[part+1]
		if end <= start {
			continue
		}
		rc, err := s.files.OpenRange(ctx, r.Key, start, end)
		if err != nil {
			return nil, err
		}
		out, err = appendAll(out, rc)
		_ = rc.Close()
		if err != nil {
			return nil, cutover.Wrap(cutover.EUNAVAILABLE, err, "The records part %d spilled for merging could not be read.", chunk+1)
		}
	}
	return out, nil
}

// appendAll appends what r reads, to its end, to b.
func appendAll(b []byte, r io.Reader) ([]byte, error) {
	buf := bytes.NewBuffer(b)
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// partsDetail says how many parts an extract ran in, for the audit
// trail: its chunks, and its merge partitions when it has some.
func partsDetail(chunks, merges int) string {
	if merges == 0 {
		return fmt.Sprintf("%d chunk(s)", chunks)
	}
	return fmt.Sprintf("%d chunk(s) and %d merge partition(s)", chunks-merges, merges)
}
