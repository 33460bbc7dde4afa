package engine

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pass"
	"github.com/cutover/cutover/internal/pipeline"
)

// Merging records by dedupe key across chunks (a mapping with dedupe keys,
// planned into several chunks, or into one chunk of more records than a
// partition holds). Every chunk that reads runs as before, after the id shuffle,
// except that it writes no record: it spills each one, as pass.Spill
// gives them, to the merge partition of its dedupe key: into a local
// file, keeping in memory only where each record is, then stored as one
// object ordered by partition (merge/c-<chunk>/spill), and an index of
// where each partition's records begin (merge/c-<chunk>/index, stored
// last: a chunk without one did not finish). Then a second Distributed
// Map runs the merge partitions, which the plan lists as chunks after the
// ones that read (cutover.Chunk.Merge), so they keep the chunks' status,
// attempts and failure handling: each reads its byte range of every
// chunk's spill (two small range reads a chunk, whatever the partitions),
// in chunk order, merges them (pass.Merge), writes the
// merged records to TEST or LIVE with a snapshot, and keeps what merging
// changed in the chunks' account (rows merged, rows whose record the
// destination refused) as its own counts and reports, which the finish
// steps add up with the chunks'. No step holds more than a chunk or a
// partition.

// DefaultMergeRows is how many records one merge partition is planned for
// when the deployment does not say: a partition's merger holds its
// records, about 4.5 KB each in memory (BenchmarkMergeSteps: 248 MiB of
// heap at its peak for a partition of 55,000). The collector lets a
// process grow to about twice what is live, so 50,000 took a test
// migration's process to 558 MB (bench-anysize, 300,000 rows); at
// 25,000 it peaked at 292 MB, and 294 MB at 1,000,000 rows (BENCHMARKS.md),
// with twice as many (shorter) partitions.
const DefaultMergeRows = 25_000

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

// spillKey is where chunk keeps its spilled records, ordered by partition.
func (sp spill) spillKey(chunk int) string {
	return fmt.Sprintf("%smerge/c-%06d/spill", sp.prefix, chunk)
}

// indexKey is where chunk keeps its spill's index: parts+1 offsets, each
// eight bytes little-endian, partition p's records at [offset p, offset
// p+1) of its spill, so a partition reads its two offsets alone.
func (sp spill) indexKey(chunk int) string {
	return fmt.Sprintf("%smerge/c-%06d/index", sp.prefix, chunk)
}

// key is where a chunk spilled partition part's records before indexes
// (one object a pair): an execution that spilled so before a deploy
// merges after it.
func (sp spill) key(part, chunk int) string {
	return fmt.Sprintf("%smerge/p-%05d/c-%06d", sp.prefix, part, chunk)
}

// maxMergePartitions bounds an extract's merge partitions. A chunk
// writes two objects whatever their number, and a partition reads two
// ranges of each chunk's, so they may be many: 10,000 is 250 million
// records at DefaultMergeRows.
const maxMergePartitions = 10_000

// spiller collects a chunk's spilled records in a local file (the
// Lambda's /tmp), so that the chunk's memory holds only where each
// record is (sixteen bytes a record), and stores them ordered by partition.
type spiller struct {
	sp    spill
	chunk int

	file  *os.File
	w     *bufio.Writer
	size  int64
	frame []byte  // the record being added
	ends  []int64 // where each frame ends in the file
	parts []int32 // each frame's partition
}

// newSpiller collects chunk's spilled records for sp; close removes its
// file.
//
// Errors: EUNAVAILABLE when no local file can be made.
func newSpiller(sp spill, chunk int) (*spiller, error) {
	f, err := os.CreateTemp("", "cutover-spill-*")
	if err != nil {
		return nil, cutover.Wrap(cutover.EUNAVAILABLE, err, "The records to merge could not be kept; try again.")
	}
	return &spiller{sp: sp, chunk: chunk, file: f, w: bufio.NewWriterSize(f, 1<<20)}, nil
}

// close removes the spiller's file: a warm Lambda keeps its /tmp.
func (s *spiller) close() {
	_ = s.file.Close()
	_ = os.Remove(s.file.Name())
}

// add is the chunk's pass.Pass.Spill.
//
// Errors: EUNAVAILABLE when the local file cannot be written.
func (s *spiller) add(rec *mapspec.Record, key string, seen *pipeline.Sighting) error {
	s.frame = pass.AppendSpilled(s.frame[:0], rec, key, seen)
	if _, err := s.w.Write(s.frame); err != nil {
		return cutover.Wrap(cutover.EUNAVAILABLE, err, "The records to merge could not be kept; try again.")
	}
	s.size += int64(len(s.frame))
	s.ends = append(s.ends, s.size)
	s.parts = append(s.parts, int32(pass.SpillPartition(rec, key, s.sp.parts)))
	return nil
}

// putSpill stores chunk's spill, its records ordered by partition (a
// stable counting sort: a partition's records keep the order they were
// spilled in), then its index, which says the spill is whole (a chunk
// that spilled nothing has an index too: a missing index is a chunk that
// did not run, never "no records").
//
// Errors: as Files.Stream and Files.Put; EUNAVAILABLE when the local file
// cannot be read back.
func (s *base) putSpill(ctx context.Context, sp *spiller) error {
	if err := sp.w.Flush(); err != nil {
		return cutover.Wrap(cutover.EUNAVAILABLE, err, "The records to merge could not be kept; try again.")
	}
	parts := sp.sp.parts
	offsets := make([]int64, parts+1)
	first := make([]int, parts+1) // where each partition's frames begin in order
	begin := func(i int) int64 {
		if i == 0 {
			return 0
		}
		return sp.ends[i-1]
	}
	for i, p := range sp.parts {
		offsets[p+1] += sp.ends[i] - begin(i)
		first[p+1]++
	}
	for p := range parts {
		offsets[p+1] += offsets[p]
		first[p+1] += first[p]
	}
	order := make([]int32, len(sp.parts))
	for i, p := range sp.parts {
		order[first[p]] = int32(i)
		first[p]++
	}
	sp.parts = nil
	err := s.files.Stream(ctx, sp.sp.spillKey(sp.chunk), "application/octet-stream", func(w io.Writer) error {
		var buf []byte
		for _, i := range order {
			start := begin(int(i))
			buf = slices.Grow(buf[:0], int(sp.ends[i]-start))[:sp.ends[i]-start]
			if _, err := sp.file.ReadAt(buf, start); err != nil {
				return cutover.Wrap(cutover.EUNAVAILABLE, err, "The records to merge could not be read back; try again.")
			}
			if _, err := w.Write(buf); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	index := make([]byte, 0, 8*len(offsets))
	for _, o := range offsets {
		index = binary.LittleEndian.AppendUint64(index, uint64(o))
	}
	return s.files.Put(ctx, sp.sp.indexKey(sp.chunk), "application/octet-stream", index)
}

// mergeInput reads partition part's spill from every reading chunk, once
// all of them are done: from each chunk, its two offsets in the chunk's
// index, then that byte range of its spill.
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
	damaged := cutover.Errorf(cutover.EINVALID, "The index of the records part %d spilled for merging is damaged or of another plan.", chunk+1)
	if part < 0 || part >= sp.parts {
		return nil, damaged
	}
	at, err := s.readRange(ctx, sp.indexKey(chunk), int64(8*part), int64(8*part+16))
	if cutover.ErrorCode(err) == cutover.ENOTFOUND {
		if old, oldErr := s.readAll(ctx, sp.key(part, chunk)); oldErr == nil {
			return old, nil
		}
	}
	if err != nil {
		return nil, err
	}
	if len(at) != 16 {
		return nil, damaged
	}
	start, end := int64(binary.LittleEndian.Uint64(at)), int64(binary.LittleEndian.Uint64(at[8:]))
	if start < 0 || end < start {
		return nil, damaged
	}
	if end == start {
		return nil, nil
	}
	body, err := s.readRange(ctx, sp.spillKey(chunk), start, end)
	if err != nil {
		return nil, err
	}
	if int64(len(body)) != end-start {
		return nil, damaged
	}
	return body, nil
}

// readRange reads the bytes [start, end) of the artifact at key.
//
// Errors: as Files.OpenRange; EUNAVAILABLE when reading stops midway.
func (s *base) readRange(ctx context.Context, key string, start, end int64) ([]byte, error) {
	rc, err := s.files.OpenRange(ctx, key, start, end)
	return drain(key, rc, err)
}

// partsDetail says how many parts an extract ran in, for the audit
// trail: its chunks, and its merge partitions when it has some.
func partsDetail(chunks, merges int) string {
	if merges == 0 {
		return fmt.Sprintf("%d chunk(s)", chunks)
	}
	return fmt.Sprintf("%d chunk(s) and %d merge partition(s)", chunks-merges, merges)
}
