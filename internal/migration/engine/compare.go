package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/delta"
	"github.com/cutover/cutover/internal/destination"
)

// The comparison in key ranges. After the final's chunks (or a
// pre-flight's dry run) every chunk has a snapshot of its records, sorted
// by key, and the signed-off test migration one of its own. What the
// finish steps need of them (the delta against the test, what LIVE must
// hold for the read-back, per field how many records change) was one
// streaming merge of every snapshot in one step: memory flat, but time
// linear in the records (at 100M rows, tens of GB through one Lambda).
//
// Instead compare-plan reads each snapshot's index (where each slot of
// keys begins: delta.Index), cuts the slots into key ranges of about
// FinalConfig.CompareBytes of snapshot each, and writes one part per range
// naming the byte range of every snapshot that holds its keys; the state
// machine's ComparePartitions Map runs compare-partition on each range
// apart (delta.CompareEach over those byte ranges), each storing its
// result; and the finish steps add the results up (compared): counts and
// id checksums add, the delta's reports merge in key order
// (delta.Merge), and the ranges' delta CSVs, each in key order, are
// joined within storage into the whole delta's (composeDelta). The test
// snapshot is merged the same way (compareMerge), its ranges joined into
// the whole (composeSnapshot).

// The comparison's actions, after the chunks (and merge partitions) of the
// final or of a pre-flight's dry run.
const (
	FinalComparePlan      = "compare-plan"
	FinalComparePartition = "compare-partition"
)

// DefaultCompareBytes is how much snapshot (the chunks' and the test's
// together) one key range compares, about; FinalConfig.CompareBytes
// overrides it.
const DefaultCompareBytes = 256 << 20

// CompareRun is the key ranges a comparison runs as a Distributed Map:
// none (Partitions 0) when the chunks are not all done, for the finish
// step to account for. Every field is always present: the state machine
// selects each by path.
type CompareRun struct {
	Manifest      string `json:"manifest"`
	ResultsPrefix string `json:"resultsPrefix"`
	Partitions    int    `json:"partitions"`
	Concurrency   int    `json:"concurrency"`
}

// comparePlan is what a comparison keeps beside its ranges.
type comparePlan struct {
	Partitions int    `json:"partitions"`
	Before     string `json:"before,omitempty"` // the test snapshot compared against; "" for none
	// ReadBack says each range reads the destination back over its keys
	// (a comparison of at least rangeReadBackRanges ranges); without it
	// the finish step reads the whole back, as before.
	ReadBack bool `json:"readBack,omitempty"`
}

// rangeReadBackRanges is how many key ranges a comparison needs before
// its ranges read the destination back, each over its own keys, instead
// of the finish step reading every record: at the default 256 MiB of
// snapshot a range, 8 ranges are about 4M records, which one step reads
// back in about a minute; past that the whole grows toward Lambda's 15
// minutes (BENCHMARKS.md, "The read-back"). Below it one read is
// cheaper: a range's read-back queries each of the target's keys, and an
// emulator that walks its table for every Query pays that per range.
const rangeReadBackRanges = 8

// comparePart is one key range: the slots from Lo to Hi ("" for either
// end) and where they are in each snapshot.
type comparePart struct {
	Lo     string    `json:"lo"`
	Hi     string    `json:"hi"`
	Before []segment `json:"before,omitempty"`
	After  []segment `json:"after"` // in chunk order: of a key two chunks hold, the first's entry is kept
}

// segment is a byte range of a snapshot; Whole for a snapshot without an
// index (written before indexes were): it is read whole, and only the
// range's lines are kept.
type segment struct {
	Key   string `json:"key"`
	Start int64  `json:"start"`
	End   int64  `json:"end"`
	Whole bool   `json:"whole,omitempty"`
}

// compareResult is one key range's share of the comparison.
type compareResult struct {
	Holdings map[string]cutover.Holding `json:"holdings"`
	Delta    *delta.Report              `json:"delta,omitempty"`   // nil without a test snapshot
	Changed  map[string]int             `json:"changed,omitempty"` // the pre-flight's: entity + "\x00" + field
	CSV      string                     `json:"csv,omitempty"`     // the final's: the range's delta CSV
	CSVBytes int64                      `json:"csvBytes,omitempty"`
	Snapshot string                     `json:"snapshot,omitempty"` // the test's: the range's part of its snapshot
	Index    *delta.Index               `json:"index,omitempty"`    // and where its slots begin
	// Held is what the destination holds of the range, read back in the
	// range's step when it reads by key range (cutover.RangeHolder), or,
	// when it cannot, of its part of the same number as the range
	// (cutover.PartHolder; HeldInParts): the read-back of a final or a
	// test round then takes a step per range, not one step over every
	// record. HeldRead says it was read.
	Held        map[string]cutover.Holding `json:"held,omitempty"`
	HeldRead    bool                       `json:"heldRead,omitempty"`
	HeldInParts bool                       `json:"heldInParts,omitempty"`
}

// rangeReadBack reads back what the destination holds of a target in key
// range i of n, the slots [lo, hi): among the range's keys
// (cutover.RangeHolder) or, from a destination that cannot read by key,
// its part i of n (cutover.PartHolder; inParts). ok is false when it can
// do neither. nil when nothing is read back by range (a pre-flight's dry
// run writes nothing).
type rangeReadBack func(ctx context.Context, i, n int, lo, hi string) (held map[string]cutover.Holding, ok, inParts bool, err error)

// readBackIn is dest's read-back of t by key range, or else in parts, or
// nil when dest can do neither. A slot range's keys are the record keys
// from lo up to hi (delta.InRange): a record id is 32 hex digits, never a
// slot itself, so the destination's key order places them alike. The
// parts of one n are disjoint and make up the whole, as the ranges do,
// so the ranges' read-backs add up to the target's either way.
func readBackIn(dest cutover.Destination, t cutover.Target) rangeReadBack {
	rh, byKey := dest.(cutover.RangeHolder)
	ph, byPart := dest.(cutover.PartHolder)
	if !byKey && !byPart {
		return nil
	}
	return func(ctx context.Context, i, n int, lo, hi string) (map[string]cutover.Holding, bool, bool, error) {
		if byKey {
			held, ok, err := rh.HoldingsIn(ctx, t, lo, hi)
			if err != nil || ok {
				return held, ok, false, err
			}
		}
		if byPart {
			held, ok, err := ph.HoldingsOfPart(ctx, t, i, n)
			return held, ok, ok, err
		}
		return nil, false, false, nil
	}
}

// comparison is a comparison's results added up (compared), for the
// finish steps.
type comparison struct {
	compareResult
	ranges []compareResult // each range's own, in key order
	// heldAll says every range read the destination back (Held is then
	// what it holds of the whole target); heldParts, when every range
	// read a part (cutover.PartHolder), is how many parts there were.
	heldAll   bool
	heldParts int
}

// readBackFound is what a comparison's key ranges read back of the
// destination, for readBackAndSeal: held is nil when they did not read
// it all (the finish step then reads the whole itself); parts is how
// many parts they read it in, for Seal (0: by key, or not read).
type readBackFound struct {
	held  map[string]cutover.Holding
	parts int
}

// heldRead is what the key ranges read back of the destination; none
// when a range did not (its destination cannot read by range or part, or
// the range's step ran before the read-back moved there).
func (c *comparison) heldRead() readBackFound {
	if !c.heldAll {
		return readBackFound{}
	}
	return readBackFound{held: c.Held, parts: c.heldParts}
}

// holdingSums adds up holdings of disjoint sets of records, per entity:
// counts add, and so do id checksums (destination.IDChecksum.AddSum).
type holdingSums struct {
	counts map[string]int64
	sums   map[string]*destination.IDChecksum
}

// add adds one set's holdings.
//
// Errors: EINVALID for a malformed checksum.
func (h *holdingSums) add(set map[string]cutover.Holding) error {
	if h.counts == nil {
		h.counts, h.sums = map[string]int64{}, map[string]*destination.IDChecksum{}
	}
	for e, x := range set {
		if h.sums[e] == nil {
			h.sums[e] = &destination.IDChecksum{}
		}
		if err := h.sums[e].AddSum(x.IDChecksum); err != nil {
			return err
		}
		h.counts[e] += x.Count
	}
	return nil
}

// total is the holdings added so far (an empty map for none).
func (h *holdingSums) total() map[string]cutover.Holding {
	out := make(map[string]cutover.Holding, len(h.counts))
	for e, n := range h.counts {
		out[e] = cutover.Holding{Count: n, IDChecksum: h.sums[e].String()}
	}
	return out
}

// compareScope is what one comparison compares, and for what.
type compareScope struct {
	m      *cutover.Migration
	round  int
	phase  string // a pre-flight's; its manifest's items hand it on
	prefix string // where its ranges and results are kept
	chunks []cutover.Chunk
	before string // the test snapshot, "" for none
	mode   compareMode
}

// compareMode is what a comparison makes of each key range.
type compareMode int

const (
	compareDelta compareMode = iota // the final's: the delta and its CSV
	compareCount                    // a pre-flight's: the delta and the changed fields
	compareMerge                    // the test's: the range of the test snapshot, merged from the chunks'
)

func (c *compareScope) partKey(i int) string   { return fmt.Sprintf("%sp-%d.json", c.prefix, i) }
func (c *compareScope) resultKey(i int) string { return fmt.Sprintf("%sr-%d.json", c.prefix, i) }
func (c *compareScope) csvKey(i int) string    { return fmt.Sprintf("%sd-%d.csv", c.prefix, i) }
func (c *compareScope) mergedKey(i int) string { return fmt.Sprintf("%ss-%d.jsonl", c.prefix, i) }

// compareScopeOf is the comparison of in: the final's (no phase) or a
// pre-flight's dry run, with its chunks when withChunks is set (planning
// needs them; a range has its byte ranges in its part, and reading every
// chunk once per range would be a read per chunk and range). It is nil
// when there is nothing to compare: a pre-flight already decided.
//
// Errors: as GetMigration, ListChunks, dryRunOf and dryChunks.
func (s *Final) compareScopeOf(ctx context.Context, in FinalStep, withChunks bool) (*compareScope, error) {
	var chunks []cutover.Chunk
	if in.Phase != "" {
		r, done, err := s.dryRunOf(ctx, in)
		if err != nil || done != nil {
			return nil, err
		}
		if withChunks {
			if chunks, err = s.dryChunks(ctx, r); err != nil {
				return nil, err
			}
		}
		sc := dryScope(r, chunks)
		sc.round, sc.phase = in.Round, in.Phase
		return sc, nil
	}
	m, err := s.Store().GetMigration(ctx, in.MigrationID)
	if err != nil {
		return nil, err
	}
	if withChunks {
		if chunks, err = s.chunks.ListChunks(ctx, m.ID); err != nil {
			return nil, err
		}
	}
	sc := finalScope(m, chunks)
	sc.round = in.Round
	return sc, nil
}

// finalScope is the final migration's comparison: its chunks against the
// signed-off test round's snapshot (compareWithTest's), keeping the delta
// CSV.
func finalScope(m *cutover.Migration, chunks []cutover.Chunk) *compareScope {
	sc := &compareScope{m: m, round: m.Round, prefix: finalPrefix(m) + "compare/", chunks: chunks, mode: compareDelta}
	if m.SignOff != nil && m.Workbook != nil && m.Workbook.Round == m.SignOff.Round && m.Workbook.Snapshot != "" {
		sc.before = m.Workbook.Snapshot
	}
	return sc
}

// dryScope is a pre-flight's comparison: its dry run's chunks against the
// test's snapshot (preflightDelta's), counting the changes per field.
func dryScope(r *dryRun, chunks []cutover.Chunk) *compareScope {
	sc := &compareScope{m: r.m, round: r.m.Round, prefix: r.prefix + "compare/", chunks: chunks, mode: compareCount}
	if r.m.Workbook != nil && r.m.Workbook.Snapshot != "" {
		sc.before = r.m.Workbook.Snapshot
	}
	return sc
}

// PlanCompare plans the comparison of in's chunks in key ranges (see the
// top of this file) and answers the CompareRun of them: none when there is
// nothing to compare yet (a chunk not done: the finish step accounts for
// it as before; a pre-flight already decided). Planning again writes the
// same ranges.
//
// Errors: ENOTFOUND when a chunk's snapshot is missing (or, for the
// final, the signed-off test's); as compareScopeOf; EUNAVAILABLE from
// storage.
func (s *Final) PlanCompare(ctx context.Context, in FinalStep) (*FinalOutput, error) {
	sc, err := s.compareScopeOf(ctx, in, true)
	if err != nil {
		return nil, err
	}
	run, err := s.planCompare(ctx, sc, s.chunking, s.compareBytes)
	if err != nil {
		return nil, err
	}
	return &FinalOutput{Compare: run}, nil
}

// planCompare plans sc's comparison in key ranges of about target bytes
// of snapshot, run with chunking's concurrency (nil sc, or a chunk not
// done: none).
//
// Errors: as PlanCompare.
func (s *base) planCompare(ctx context.Context, sc *compareScope, chunking Chunking, target int64) (*CompareRun, error) {
	if sc == nil || len(sc.chunks) == 0 || len(retryable(sc.chunks)) > 0 {
		return &CompareRun{}, nil
	}
	keys := make([]string, len(sc.chunks))
	for i, c := range sc.chunks {
		if c.Snapshot == "" {
			return nil, cutover.Errorf(cutover.ENOTFOUND, "Part %d (%s) kept no snapshot to compare.", c.Index+1, c.FileName)
		}
		keys[i] = c.Snapshot
	}
	if sc.before != "" {
		keys = append(keys, sc.before)
	}
	idx, err := s.snapshotIndexes(ctx, keys)
	if err != nil {
		return nil, err
	}
	if sc.before != "" && idx[len(keys)-1] == nil && sc.mode == compareCount {
		// A pre-flight compares with the test's snapshot when there is
		// one (preflightDelta); an unindexed one must be there to read.
		if err := s.snapshotExists(ctx, sc.before); cutover.ErrorCode(err) == cutover.ENOTFOUND {
			sc.before, keys, idx = "", keys[:len(keys)-1], idx[:len(idx)-1]
		} else if err != nil {
			return nil, err
		}
	}
	sizes := map[string]int64{}
	for _, x := range idx {
		if x != nil {
			x.SlotSizes(sizes)
		}
	}
	starts := delta.Cut(sizes, target)
	seg := func(key string, x *delta.Index, lo, hi string) (segment, bool) {
		if x == nil {
			return segment{Key: key, Whole: true}, true
		}
		start, end := x.Range(lo, hi)
		return segment{Key: key, Start: start, End: end}, end > start
	}
	err = s.putAll(ctx, len(starts), func(i int) (string, []byte) {
		p := comparePart{Lo: starts[i], After: []segment{}}
		if i+1 < len(starts) {
			p.Hi = starts[i+1]
		}
		for j, c := range sc.chunks {
			if g, ok := seg(c.Snapshot, idx[j], p.Lo, p.Hi); ok {
				p.After = append(p.After, g)
			}
		}
		if sc.before != "" {
			if g, ok := seg(sc.before, idx[len(keys)-1], p.Lo, p.Hi); ok {
				p.Before = append(p.Before, g)
			}
		}
		body, _ := json.Marshal(p) // strings and numbers: it always encodes
		return sc.partKey(i), body
	})
	if err != nil {
		return nil, err
	}
	if err := s.putJSON(ctx, sc.prefix+"plan.json", "The comparison's plan", comparePlan{Partitions: len(starts), Before: sc.before, ReadBack: len(starts) >= rangeReadBackRanges}); err != nil {
		return nil, err
	}
	items := make([]ChunkItem, len(starts))
	for i := range items {
		items[i] = ChunkItem{MigrationID: sc.m.ID, Round: sc.round, Index: i, Phase: sc.phase}
	}
	manifest := sc.prefix + "manifest.jsonl"
	if err := s.putManifest(ctx, manifest, items); err != nil {
		return nil, err
	}
	run := chunking.chunkRun(manifest, sc.prefix+"results/", len(items))
	return &CompareRun{Manifest: run.Manifest, ResultsPrefix: run.ResultsPrefix, Partitions: run.Chunks, Concurrency: run.Concurrency}, nil
}

// ComparePartition compares key range in.Index of in's comparison and
// stores its result. Run again, it stores the same.
//
// Errors: ENOTFOUND when the range was not planned or a snapshot is
// missing; EINVALID when a snapshot is malformed (as delta.Compare);
// EUNAVAILABLE from storage.
func (s *Final) ComparePartition(ctx context.Context, in FinalStep) (*FinalOutput, error) {
	sc, err := s.compareScopeOf(ctx, in, false)
	if err != nil || sc == nil {
		return &FinalOutput{}, err
	}
	var rb rangeReadBack
	if sc.mode == compareDelta { // the final's, after its chunks wrote LIVE
		rb = readBackIn(s.dest, liveTarget(sc.m))
	}
	return &FinalOutput{}, s.comparePartition(ctx, sc, in.Index, rb)
}

// comparePartition compares (or, for the test, merges) key range i of
// sc and stores its result, with what rb reads back of the range (nil:
// nothing).
//
// Errors: as ComparePartition; rb's.
func (s *base) comparePartition(ctx context.Context, sc *compareScope, i int, rb rangeReadBack) error {
	var plan comparePlan
	if err := s.readArtifact(ctx, sc.prefix+"plan.json", "the comparison's plan", &plan); err != nil {
		return err
	}
	if i < 0 || i >= plan.Partitions {
		return cutover.Errorf(cutover.ENOTFOUND, "The comparison has %d key range(s), not range %d.", plan.Partitions, i)
	}
	var p comparePart
	if err := s.readArtifact(ctx, sc.partKey(i), "a key range of the comparison", &p); err != nil {
		return err
	}
	after := make([]io.Reader, len(p.After))
	for j, g := range p.After {
		rc, err := s.openSegment(ctx, g, p)
		if err != nil {
			return err
		}
		defer rc.Close()
		after[j] = rc
	}
	var back compareResult
	if rb != nil && plan.ReadBack {
		var err error
		if back.Held, back.HeldRead, back.HeldInParts, err = rb(ctx, i, plan.Partitions, p.Lo, p.Hi); err != nil {
			return err
		}
	}
	if sc.mode == compareMerge {
		return s.mergeRange(ctx, sc, i, after, back)
	}
	var before io.Reader = strings.NewReader("")
	if len(p.Before) > 0 { // the test's snapshot: one segment
		rc, err := s.openSegment(ctx, p.Before[0], p)
		if err != nil {
			return err
		}
		defer rc.Close()
		before = rc
	}
	res := compareResult{Holdings: map[string]cutover.Holding{}, Held: back.Held, HeldRead: back.HeldRead, HeldInParts: back.HeldInParts}
	sums := map[string]*destination.IDChecksum{}
	each := func(e delta.Entry) {
		if sums[e.Entity] == nil {
			sums[e.Entity] = &destination.IDChecksum{}
		}
		sums[e.Entity].Add(strings.TrimPrefix(e.Key, e.Entity+"#"))
		h := res.Holdings[e.Entity]
		h.Count++
		res.Holdings[e.Entity] = h
	}
	var err error
	switch {
	case plan.Before == "":
		_, err = delta.CompareEach(before, after, nil, each)
	case sc.mode == compareDelta:
		res.CSV = sc.csvKey(i)
		err = s.files.Stream(ctx, res.CSV, "text/csv; charset=utf-8", func(w io.Writer) (err error) {
			cw := &delta.CountingWriter{W: w}
			res.Delta, err = delta.CompareEach(before, after, cw, each)
			res.CSVBytes = cw.N
			return err
		})
	default:
		res.Changed = map[string]int{}
		res.Delta, err = countedCompare(res.Changed, func(w io.Writer) (*delta.Report, error) {
			return delta.CompareEach(before, after, w, each)
		})
	}
	if err != nil {
		return err
	}
	for e, sum := range sums {
		h := res.Holdings[e]
		h.IDChecksum = sum.String()
		res.Holdings[e] = h
	}
	return s.putJSON(ctx, sc.resultKey(i), "A key range's comparison", res)
}

// mergeRange merges range i of the chunks' snapshots, after, into range
// i of the test snapshot (its own object, with its index, for
// composeSnapshot to join) and stores what it holds, and what TEST was
// read back to hold of it (back's Held, HeldRead and HeldInParts).
//
// Errors: as mergeSnapshots; EUNAVAILABLE from storage.
func (s *base) mergeRange(ctx context.Context, sc *compareScope, i int, after []io.Reader, back compareResult) error {
	res := compareResult{Snapshot: sc.mergedKey(i), Held: back.Held, HeldRead: back.HeldRead, HeldInParts: back.HeldInParts}
	var x delta.Indexer
	err := s.files.Stream(ctx, res.Snapshot, "application/x-ndjson", func(w io.Writer) (err error) {
		res.Holdings, err = mergeSnapshots(after, w, &x)
		return err
	})
	if err != nil {
		return err
	}
	idx := x.Index()
	res.Index = &idx
	return s.putJSON(ctx, sc.resultKey(i), "A key range's merge", res)
}

// openSegment opens g, keeping only range p's lines of a whole snapshot.
//
// Errors: as Files.Open and RangeOpener.OpenRange.
func (s *base) openSegment(ctx context.Context, g segment, p comparePart) (io.ReadCloser, error) {
	if !g.Whole {
		return s.files.OpenRange(ctx, g.Key, g.Start, g.End)
	}
	rc, err := s.files.Open(ctx, g.Key)
	if err != nil {
		return nil, err
	}
	return keepRange(rc, p.Lo, p.Hi), nil
}

// compared is the comparison's results added up: what the chunks hold per
// entity, the delta (nil without a test snapshot), per entity and field
// how many records change (a pre-flight's), and the ranges' delta CSVs in
// key order (the final's). It is nil when no comparison was planned at
// sc's prefix (an execution of a state machine from before
// ComparePartitions): the caller streams the snapshots itself.
//
// Errors: ENOTFOUND when a range kept no result (its step did not run);
// EINTERNAL for a result that does not decode; EUNAVAILABLE from storage.
func (s *base) compared(ctx context.Context, sc *compareScope) (*comparison, error) {
	var plan comparePlan
	err := s.readArtifact(ctx, sc.prefix+"plan.json", "the comparison's plan", &plan)
	if cutover.ErrorCode(err) == cutover.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	bodies, err := s.getAll(ctx, plan.Partitions, sc.resultKey)
	if err != nil {
		return nil, err
	}
	out := &comparison{compareResult: compareResult{Changed: map[string]int{}}, heldAll: len(bodies) > 0}
	inParts := 0
	var holdings, held holdingSums
	var deltas []*delta.Report
	for i, b := range bodies {
		var r compareResult
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, cutover.Wrap(cutover.EINTERNAL, err, "Key range %d of the comparison could not be read.", i)
		}
		if err := holdings.add(r.Holdings); err != nil {
			return nil, cutover.Wrap(cutover.EINTERNAL, err, "Key range %d of the comparison has a malformed checksum.", i)
		}
		if err := held.add(r.Held); err != nil {
			return nil, cutover.Wrap(cutover.EINTERNAL, err, "Key range %d's read-back has a malformed checksum.", i)
		}
		out.heldAll = out.heldAll && r.HeldRead
		if r.HeldInParts {
			inParts++
		}
		addCounts(out.Changed, r.Changed)
		if r.Delta != nil {
			deltas = append(deltas, r.Delta)
		}
		out.ranges = append(out.ranges, r)
	}
	out.Holdings, out.Held = holdings.total(), held.total()
	switch inParts {
	case 0:
	case len(bodies):
		out.heldParts = plan.Partitions
	default:
		// Some ranges read by key and some in parts add up to
		// neither: the finish step reads the whole back instead.
		out.heldAll = false
	}
	if plan.Before != "" {
		out.Delta = delta.Merge(deltas)
	}
	return out, nil
}

// composeDelta stores at key the whole delta CSV: the ranges' CSVs one
// after the other, each after the first without its head
// (delta.CSVHead), joined within storage (cutover.Composer); none (no
// test snapshot to compare with) stores an empty file.
//
// Errors: EINTERNAL for a range's CSV shorter than the head; as
// Composer.Compose.
func (s *base) composeDelta(ctx context.Context, key string, cmp *comparison) error {
	var pieces []cutover.Piece
	for i, r := range cmp.ranges {
		if r.CSV == "" {
			continue
		}
		if r.CSVBytes < int64(len(delta.CSVHead)) {
			return cutover.Errorf(cutover.EINTERNAL, "The delta of key range %d is %d bytes, shorter than its head.", i, r.CSVBytes)
		}
		p := cutover.Piece{Key: r.CSV, End: r.CSVBytes}
		if len(pieces) > 0 {
			p.Start = int64(len(delta.CSVHead))
		}
		pieces = append(pieces, p)
	}
	return s.files.Compose(ctx, key, "text/csv; charset=utf-8", pieces)
}

// composeSnapshot stores at key the test snapshot the ranges merged, one
// range after the other (each sorted, the ranges in key order, so the
// whole is sorted), joined within storage, and its index: the ranges'
// indexes, each moved past the ranges before it.
//
// Errors: EINTERNAL for a range that kept no index; as Compose and
// putSnapshotIndex.
func (s *base) composeSnapshot(ctx context.Context, key string, cmp *comparison) error {
	var (
		pieces []cutover.Piece
		whole  delta.Index
	)
	for i, r := range cmp.ranges {
		if r.Index == nil {
			return cutover.Errorf(cutover.EINTERNAL, "Key range %d of the test snapshot kept no index.", i)
		}
		if r.Index.Size == 0 {
			continue
		}
		pieces = append(pieces, cutover.Piece{Key: r.Snapshot, End: r.Index.Size})
		for _, slot := range r.Index.Slots {
			whole.Slots = append(whole.Slots, delta.SlotStart{Slot: slot.Slot, Offset: whole.Size + slot.Offset})
		}
		whole.Size += r.Index.Size
	}
	if err := s.files.Compose(ctx, key, "application/x-ndjson", pieces); err != nil {
		return err
	}
	return s.putSnapshotIndex(ctx, key, whole)
}

// snapshotIndexes reads the index of each snapshot of keys, compareIO at
// a time; nil for one without (a snapshot written before indexes were).
//
// Errors: EUNAVAILABLE from storage; EINTERNAL for an index that does not
// decode.
func (s *base) snapshotIndexes(ctx context.Context, keys []string) ([]*delta.Index, error) {
	out := make([]*delta.Index, len(keys))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(shuffleIO)
	for i, k := range keys {
		g.Go(func() error {
			var x delta.Index
			err := s.readArtifact(ctx, snapshotIndexKey(k), "a snapshot's index", &x)
			switch cutover.ErrorCode(err) {
			case "":
				out[i] = &x
				return nil
			case cutover.ENOTFOUND:
				return nil
			}
			return err
		})
	}
	return out, g.Wait()
}

// snapshotExists opens the snapshot at key to see that it is there.
//
// Errors: as Files.Open.
func (s *base) snapshotExists(ctx context.Context, key string) error {
	rc, err := s.files.Open(ctx, key)
	if err != nil {
		return err
	}
	return rc.Close()
}

// keepRange reads the lines of the snapshot rc whose key is in the slots
// from lo to hi (delta.InRange); a line that is no entry is kept, for the
// comparison to report.
func keepRange(rc io.ReadCloser, lo, hi string) io.ReadCloser {
	return &rangeReader{rc: rc, br: bufio.NewReaderSize(rc, 64<<10), lo: lo, hi: hi}
}

type rangeReader struct {
	rc     io.ReadCloser
	br     *bufio.Reader
	lo, hi string
	buf    []byte
	err    error
}

func (r *rangeReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		line, err := r.br.ReadBytes('\n')
		var e struct {
			K string `json:"k"`
		}
		if len(line) > 0 && (json.Unmarshal(line, &e) != nil || delta.InRange(e.K, r.lo, r.hi)) {
			r.buf = line
		}
		r.err = err
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func (r *rangeReader) Close() error { return r.rc.Close() }
