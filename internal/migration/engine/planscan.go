package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/chunk"
	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pass"
	"github.com/cutover/cutover/internal/tabular"
)

// Planning a large extract in parallel. Reading every file to its end in
// the planning step made its time grow with the extract (about 13 GB at
// 100M rows, minutes of one Lambda). A CSV file larger than two chunks is
// planned instead in three steps, with Distributed Maps between them
// (the state machine's TestPlanParts and PreflightPlanParts):
//
//  1. heads: the planning step reads each file's first bytes: its format,
//     header (which must fit its mapping entry, as before) and first rows
//     (from which each entry's phone region and date formats are
//     inferred), and where its header ends (chunk.Scanner.Head). It
//     divides the rest into ranges of the chunk size, each a part to
//     scan. A file that cannot be split (a workbook, UTF-16, classic Mac
//     line ends) or is no larger than two chunks is read whole here, as
//     before: it is one or two chunks anyway.
//  2. scan: each part reads its range once from each state a byte can be
//     in for the quote rules (chunk.ScanRange); the planning step then
//     stitches the ranges (chunk.Stitch) into chunks that start where
//     records do, and makes each chunk a part to check.
//  3. check: each part reads its chunk as a chunk is read when it runs
//     (the header's bytes, then its range, with its line offset), counts
//     its rows and notes its first error and the encoding its bytes
//     decide. The planning step adds the rows up and decides the file's
//     encoding from the first chunk that has a byte other than ASCII, as
//     the whole-file read decides it from the file's first such byte.
//
// A file that a check found malformed fails planning, before a record is
// written, as it always did, with the whole-file read's own message (the
// first error in the file, its line and byte): the first failed check's,
// when the checks before it read the file as the whole-file read does
// and the error is not about the encoding (firstFailure). Otherwise (a
// byte that is not UTF-8, an encoding that changes along the file) the
// planning step reads the file whole, as before, for that message, as it
// reads a file whose encoding turns out to be one that cannot be split.
//
// What the parts found is kept in S3 under the plan's prefix, so each
// step's state is the same whichever attempt of a step reads it, and the
// state machine's payload carries only the manifest's key.

// The planning parts' kinds and their action.
const (
	PlanPartScan  = "scan"
	PlanPartCheck = "check"
	// PlanPartAction is the test and the final Lambdas' action for one
	// planning part.
	PlanPartAction = "plan-part"
)

// PlanPart is one line of a planning manifest: a range of a file to scan,
// or a planned chunk of one to check. It names what it reads and where it
// writes what it found, so a part needs no other state.
type PlanPart struct {
	MigrationID string `json:"migrationId"`
	Round       int    `json:"round"`
	Phase       string `json:"phase,omitempty"` // a pre-flight's
	Kind        string `json:"kind"`
	FileKey     string `json:"fileKey"`
	FileName    string `json:"fileName"`
	Start       int64  `json:"start"`
	End         int64  `json:"end"`
	HeaderEnd   int64  `json:"headerEnd,omitempty"`  // check
	LineOffset  int    `json:"lineOffset,omitempty"` // check
	Encoding    string `json:"encoding,omitempty"`   // check: the customer's choice, or "" to detect
	Delimiter   string `json:"delimiter"`
	Out         string `json:"out"`
}

// PlanningRun is a planning step's answer while planning goes on: the
// manifest of parts the state machine runs before calling the step again.
type PlanningRun struct {
	Manifest      string `json:"manifest"`
	ResultsPrefix string `json:"resultsPrefix"` // where the Map's ResultWriter writes
	Parts         int    `json:"parts"`
	Concurrency   int    `json:"concurrency"`
}

// checkResult is what a check part found.
type checkResult struct {
	Rows     int    `json:"rows"`
	Failed   bool   `json:"failed"`
	NonASCII bool   `json:"nonAscii"`
	Encoding string `json:"encoding"` // after its last row, or where it failed
	// Error is the reader's message where a row failed to read (Failed),
	// and Code its code: what the whole-file read says there, when
	// firstFailure can tell. A check stored before it was kept has none.
	Error string `json:"error,omitempty"`
	Code  string `json:"code,omitempty"`
	// OwnNonASCII says the chunk's own bytes (not the header it is read
	// with) held a byte other than ASCII, up to where it failed (and
	// what the reader read ahead).
	OwnNonASCII bool `json:"ownNonAscii,omitempty"`
}

// planning is the state of a plan in parts, kept at planningKey.
type planning struct {
	// Now is "today" of the row rules the test's inference read with.
	Now      time.Time                     `json:"now"`
	Files    []plannedFile                 `json:"files"`
	Inferred map[string]*mapspec.Inference `json:"inferred"`
	// Entries are the mapping entries the files' tables chose (absent
	// from a plan kept before they were: not known).
	Entries []string `json:"entries,omitempty"`
	// Stitched says the scans were stitched: Files' chunks are to be
	// checked.
	Stitched bool `json:"stitched"`
}

// of reports whether st plans exactly files.
func (st *planning) of(files []cutover.File) bool {
	if len(st.Files) != len(files) {
		return false
	}
	for i, f := range files {
		if st.Files[i].Key != f.Key || st.Files[i].Size != f.Size {
			return false
		}
	}
	return true
}

// plannedFile is one file of a plan in parts: its chunks and rows when
// read whole, or what scanning it needs.
type plannedFile struct {
	Key    string         `json:"key"` // the file's stored object, and its size
	Size   int64          `json:"size"`
	Chunks []plannedChunk `json:"chunks,omitempty"`
	Rows   int            `json:"rows"`
	Scan   *fileScan      `json:"scan,omitempty"`
}

// plannedChunk is a cutover.Chunk as the plan keeps it (the Chunk's own
// JSON leaves its reading out).
type plannedChunk struct {
	FileID     string `json:"fileId"`
	FileName   string `json:"fileName"`
	Start      int64  `json:"start"`
	End        int64  `json:"end"`
	HeaderEnd  int64  `json:"headerEnd"`
	LineOffset int    `json:"lineOffset"`
	Encoding   string `json:"encoding"`
	Delimiter  string `json:"delimiter"`
}

func keepChunk(c cutover.Chunk) plannedChunk {
	return plannedChunk{c.FileID, c.FileName, c.Start, c.End, c.HeaderEnd, c.LineOffset, c.Encoding, c.Delimiter}
}

func (c plannedChunk) chunk() cutover.Chunk {
	return cutover.Chunk{FileID: c.FileID, FileName: c.FileName, Start: c.Start, End: c.End, HeaderEnd: c.HeaderEnd, LineOffset: c.LineOffset, Encoding: c.Encoding, Delimiter: c.Delimiter}
}

// fileScan is how a file is scanned in ranges.
type fileScan struct {
	Head      chunk.Head `json:"head"`
	Delimiter string     `json:"delimiter"`
	Ranges    int        `json:"ranges"`
	// Encoding is the customer's choice for the file, or "" (detect).
	Encoding string `json:"encoding,omitempty"`
}

func planningKey(prefix string) string { return prefix + "planning/plan.json" }

func scanKey(prefix string, file, r int) string {
	return fmt.Sprintf("%splanning/scan/f%03d-r%06d.json", prefix, file, r)
}

func checkKey(prefix string, file, c int) string {
	return fmt.Sprintf("%splanning/check/f%03d-c%06d.json", prefix, file, c)
}

// scanned reports whether a file of size bytes is planned in parts: when
// it holds more than two chunks.
func scanned(size, target int64) bool { return size > 2*target }

// planInParts is planExtract for an extract whose plan is kept under
// in.parts: it returns the plan once every file is planned, or the parts
// the state machine is to run first (and nil plan).
//
// A step whose parts have not all stored their results answers them
// again; a plan kept for other files (none should be: the prefix names
// the round or the pre-flight's extract) starts again from the heads.
//
// Errors: as planExtract; EINTERNAL when the scans do not stitch.
func (s *base) planInParts(ctx context.Context, in extractInput, target int64) (*extractPlan, *PlanningRun, error) {
	var st planning
	err := s.readArtifact(ctx, planningKey(in.parts), "The plan", &st)
	switch {
	case cutover.ErrorCode(err) == cutover.ENOTFOUND || err == nil && !st.of(in.files):
		return s.planHeads(ctx, in, target)
	case err != nil:
		return nil, nil, err
	case !st.Stitched:
		return s.stitch(ctx, in, &st)
	}
	return s.checked(ctx, in, &st, target)
}

// planHeads is the first step: every file read whole or by its head.
func (s *base) planHeads(ctx context.Context, in extractInput, target int64) (*extractPlan, *PlanningRun, error) {
	st := planning{Inferred: map[string]*mapspec.Inference{}}
	if in.infer != nil {
		st.Now = in.infer.now
	}
	var parts []PlanPart
	in.used = map[string]bool{}
	for i, f := range in.files {
		pf, err := s.planHead(ctx, in, f, target, st.Inferred)
		if err != nil {
			return nil, nil, err
		}
		pf.Key, pf.Size = f.Key, f.Size
		for r, rg := range rangesOf(pf.Scan, f.Size, target) {
			parts = append(parts, PlanPart{
				Kind: PlanPartScan, FileKey: f.Key, FileName: f.Name, Start: rg[0], End: rg[1],
				Delimiter: pf.Scan.Delimiter, Out: scanKey(in.parts, i, r),
			})
		}
		st.Files = append(st.Files, *pf)
	}
	st.Entries = slices.Sorted(maps.Keys(in.used))
	if len(parts) == 0 {
		return s.assemble(in, &st) // every file was read whole: no parts
	}
	run, err := s.putPlanning(ctx, in, &st, parts)
	return nil, run, err
}

// rangesOf is the ranges a scanned file is divided into.
func rangesOf(sc *fileScan, size, target int64) [][2]int64 {
	if sc == nil {
		return nil
	}
	return chunk.Ranges(sc.Head, size, target)
}

// planHead plans f whole (planFile), or reads its head when it is large
// and can be split.
func (s *base) planHead(ctx context.Context, in extractInput, f cutover.File, target int64, inferred map[string]*mapspec.Inference) (*plannedFile, error) {
	whole := func() (*plannedFile, error) {
		cs, n, err := s.planFile(ctx, in, f, target, inferred)
		if err != nil {
			return nil, err
		}
		pf := &plannedFile{Rows: n}
		for _, c := range cs {
			pf.Chunks = append(pf.Chunks, keepChunk(c))
		}
		return pf, nil
	}
	if !scanned(f.Size, target) {
		return whole()
	}
	// A workbook is one chunk, and opening it reads all of it: its first
	// bytes say so, and it is read once, whole.
	head, err := s.readHead(ctx, f.Key, f.Size)
	if err != nil {
		return nil, err
	}
	if kind, err := tabular.Sniff(head, f.Name); err != nil || kind != tabular.KindText {
		return whole() // planFile refuses what is neither, with Open's words
	}
	sc, err := s.readFileHead(ctx, in, f, inferred)
	if err != nil {
		return nil, err
	}
	if sc == nil {
		return whole()
	}
	sc.Ranges = len(chunk.Ranges(sc.Head, f.Size, target))
	return &plannedFile{Scan: sc}, nil
}

// readFileHead reads f's head: its table's header (which must fit its entry),
// its first rows (inferring from them), and where the header ends. It
// returns nil when f cannot be planned in parts.
//
// Errors: as planFile, for what the head holds.
func (s *base) readFileHead(ctx context.Context, in extractInput, f cutover.File, inferred map[string]*mapspec.Inference) (*fileScan, error) {
	rc, err := s.files.Open(ctx, f.Key)
	if err != nil {
		return nil, err
	}
	defer rc.Close() // the rest of the object is not read
	scan := chunk.NewScanner(maxTargetBytes)
	tables, err := tabular.Open(io.TeeReader(rc, scan), f.Name, pass.ReadOptions(f, tabular.Options{MaxXLSX: s.ReadLimits}))
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, t := range tables {
			_ = t.Close()
		}
	}()
	if len(tables) != 1 {
		return nil, nil
	}
	t := tables[0]
	scan.SetFormat(t.Format())
	fs, err := in.choose(in.spec, pass.TableName(f, t), t.Header())
	if err != nil {
		return nil, pass.Named(f.Name, err)
	}
	if in.used != nil {
		in.used[fs.Name] = true
	}
	var sample [][]string
	for len(sample) < mapspec.InferSample {
		r, err := t.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			return nil, err // the first error of the file: the whole-file read's
		}
		sample = append(sample, append([]string(nil), r.Fields...))
	}
	if err := inferFor(in, f, fs, t.Header(), sample, inferred); err != nil {
		return nil, err
	}
	h, ok := scan.Head(f.Size)
	if !ok || !chunk.Splittable(t.Format()) {
		return nil, nil
	}
	return &fileScan{Head: h, Delimiter: string(t.Format().Delimiter), Encoding: f.Encoding}, nil
}

// maxTargetBytes is a Scanner's target when it only finds a file's head.
const maxTargetBytes = 1 << 60

// stitch is the second step: the scans stitched into chunks to check.
//
// Errors: EINTERNAL when the scans do not stitch; the store's.
func (s *base) stitch(ctx context.Context, in extractInput, st *planning) (*extractPlan, *PlanningRun, error) {
	var parts []PlanPart
	for i := range st.Files {
		pf, f := &st.Files[i], in.files[i]
		if pf.Scan == nil {
			continue
		}
		scans := make([]chunk.RangeScan, pf.Scan.Ranges)
		missing, err := s.readParts(ctx, len(scans), func(r int) string { return scanKey(in.parts, i, r) }, func(r int) any { return &scans[r] })
		if err != nil || missing {
			return s.rerun(ctx, in, st, err) // the scans have not all run: run them
		}
		rs, err := chunk.Stitch(pf.Scan.Head, f.Size, scans)
		if err != nil {
			return nil, nil, cutover.Wrap(cutover.EINTERNAL, err, "%s could not be planned from its ranges.", f.Name)
		}
		plan := chunk.Plan{HeaderEnd: pf.Scan.Head.HeaderEnd, HeaderLines: pf.Scan.Head.HeaderLines, Chunks: rs}
		pf.Chunks = pf.Chunks[:0]
		for j, r := range rs {
			c := plannedChunk{FileID: f.ID, FileName: f.Name, Start: r.Start, End: r.End, HeaderEnd: plan.HeaderEnd, LineOffset: plan.LineOffset(r), Delimiter: pf.Scan.Delimiter}
			pf.Chunks = append(pf.Chunks, c)
			parts = append(parts, PlanPart{
				Kind: PlanPartCheck, FileKey: f.Key, FileName: f.Name, Start: c.Start, End: c.End, HeaderEnd: c.HeaderEnd,
				LineOffset: c.LineOffset, Encoding: pf.Scan.Encoding, Delimiter: c.Delimiter, Out: checkKey(in.parts, i, j),
			})
		}
	}
	st.Stitched = true
	run, err := s.putPlanning(ctx, in, st, parts)
	return nil, run, err
}

// checked is the last step: the checks added up, each file's encoding
// decided, and any file they found malformed read whole.
//
// Errors: as planFile; the store's.
func (s *base) checked(ctx context.Context, in extractInput, st *planning, target int64) (*extractPlan, *PlanningRun, error) {
	for i := range st.Files {
		pf, f := &st.Files[i], in.files[i]
		if pf.Scan == nil {
			continue
		}
		results := make([]checkResult, len(pf.Chunks))
		missing, err := s.readParts(ctx, len(results), func(j int) string { return checkKey(in.parts, i, j) }, func(j int) any { return &results[j] })
		if err != nil || missing {
			return s.rerun(ctx, in, st, err)
		}
		enc, rows, ok := decideEncoding(results)
		if !ok {
			if err := firstFailure(results); err != nil {
				return nil, nil, err
			}
		}
		delim := []rune(pf.Scan.Delimiter)
		if ok && (len(delim) != 1 || !chunk.Splittable(tabular.Format{Kind: "csv", Encoding: enc, Delimiter: delim[0]})) {
			ok = false
		}
		if !ok {
			// Read whole, as before: a malformed file whose checks
			// cannot say what the whole-file read says fails with its
			// message; one whose encoding cannot be split is one chunk.
			cs, n, err := s.planFile(ctx, in, f, target, st.Inferred)
			if err != nil {
				return nil, nil, err
			}
			pf.Chunks, pf.Rows = pf.Chunks[:0], n
			for _, c := range cs {
				pf.Chunks = append(pf.Chunks, keepChunk(c))
			}
			continue
		}
		for j := range pf.Chunks {
			pf.Chunks[j].Encoding = enc
		}
		pf.Rows = rows
	}
	return s.assemble(in, st)
}

// decideEncoding decides a file's encoding from its chunks' checks, in
// order, as the whole-file read decides it from its first byte that is
// not ASCII: the first chunk with such a byte decides. It also adds up
// the rows. False when a chunk failed, or when the file is UTF-8 and a
// later chunk's bytes are not (the whole-file read fails there).
func decideEncoding(results []checkResult) (enc string, rows int, ok bool) {
	for _, r := range results {
		if r.Failed {
			return "", 0, false
		}
		rows += r.Rows
		if enc, ok = nextEncoding(enc, r); !ok {
			return "", 0, false
		}
	}
	if enc == "" {
		enc = "utf-8"
	}
	return enc, rows, true
}

// nextEncoding is the encoding decided so far ("" while every chunk was
// ASCII) once the check r of the next chunk is read; false when r
// disagrees (a UTF-8 file whose later bytes are not).
func nextEncoding(enc string, r checkResult) (string, bool) {
	switch {
	case !r.NonASCII:
		return enc, true
	case enc == "":
		return r.Encoding, true
	case enc == "utf-8" && r.Encoding != enc:
		return enc, false
	}
	return enc, true
}

// firstFailure is the error the whole-file read meets, when the checks
// can tell: the first chunk that failed, when every chunk before it read
// and agreed on the encoding (as decideEncoding decides it), and its own
// bytes up to where it failed are ASCII. Read in any encoding the file
// can be split in, ASCII decodes alike, so the whole-file read reads
// those bytes as the check did and meets the same error (a quote never
// closed, a field over its cap) with the same line (the check reads with
// its chunk's line offset). An error about the encoding itself is not
// one the check can tell: its byte offset counts from the check's own
// start, and a guessed encoding's alternatives from what the check read.
// Nil when they cannot tell: the planning step reads the file whole for
// its message (also for a check stored before checks kept their
// message).
func firstFailure(results []checkResult) error {
	enc, ok := "", true
	for _, r := range results {
		if r.Failed {
			if r.Error == "" || r.OwnNonASCII {
				return nil
			}
			return cutover.Errorf(r.Code, "%s", r.Error)
		}
		if enc, ok = nextEncoding(enc, r); !ok {
			return nil
		}
	}
	return nil
}

// rerun answers the parts of st's step again: their results are not all
// there (a retried step, or the Map has not run). err, when not nil and
// not ENOTFOUND, is returned instead.
func (s *base) rerun(ctx context.Context, in extractInput, st *planning, err error) (*extractPlan, *PlanningRun, error) {
	if err != nil && cutover.ErrorCode(err) != cutover.ENOTFOUND {
		return nil, nil, err
	}
	return nil, &PlanningRun{Manifest: manifestKey(in.parts, st.Stitched), ResultsPrefix: in.parts + "planning/chunk-results", Parts: st.parts(in.parts), Concurrency: in.concurrency}, nil
}

// parts counts the parts of st's step.
func (st *planning) parts(prefix string) int {
	n := 0
	for _, pf := range st.Files {
		switch {
		case pf.Scan == nil:
		case st.Stitched:
			n += len(pf.Chunks)
		default:
			n += pf.Scan.Ranges
		}
	}
	return n
}

func manifestKey(prefix string, stitched bool) string {
	if stitched {
		return prefix + "planning/check.jsonl"
	}
	return prefix + "planning/scan.jsonl"
}

// readParts reads the results of n parts, 16 at a time, into into(i);
// missing says a part has not stored its result.
//
// Errors: the store's, other than ENOTFOUND.
func (s *base) readParts(ctx context.Context, n int, key func(int) string, into func(int) any) (missing bool, _ error) {
	errs := make([]error, n)
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = s.readArtifact(ctx, key(i), "A planning part's result", into(i))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		switch {
		case cutover.ErrorCode(err) == cutover.ENOTFOUND:
			missing = true
		case err != nil:
			return false, err
		}
	}
	return missing, nil
}

// putPlanning stores st and its step's manifest of parts (the manifest
// first: st names the step that reads it).
//
// Errors: the store's.
func (s *base) putPlanning(ctx context.Context, in extractInput, st *planning, parts []PlanPart) (*PlanningRun, error) {
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	enc := json.NewEncoder(w)
	for i := range parts {
		parts[i].MigrationID, parts[i].Round, parts[i].Phase = in.item.MigrationID, in.item.Round, in.item.Phase
		if err := enc.Encode(parts[i]); err != nil {
			return nil, cutover.Wrap(cutover.EINTERNAL, err, "The planning manifest could not be encoded.")
		}
	}
	if err := w.Flush(); err != nil {
		return nil, cutover.Wrap(cutover.EINTERNAL, err, "The planning manifest could not be encoded.")
	}
	key := manifestKey(in.parts, st.Stitched)
	if err := s.files.Put(ctx, key, "application/jsonl", b.Bytes()); err != nil {
		return nil, err
	}
	if err := s.putJSON(ctx, planningKey(in.parts), "The plan", st); err != nil {
		return nil, err
	}
	return &PlanningRun{Manifest: key, ResultsPrefix: in.parts + "planning/chunk-results", Parts: len(parts), Concurrency: in.concurrency}, nil
}

// assemble is the extract's plan once every file is planned.
func (s *base) assemble(in extractInput, st *planning) (*extractPlan, *PlanningRun, error) {
	out := &extractPlan{inferred: st.Inferred, now: st.Now, entries: st.Entries}
	for _, pf := range st.Files {
		for _, c := range pf.Chunks {
			out.chunks = append(out.chunks, c.chunk())
		}
		out.rows += pf.Rows
	}
	if err := finishPlan(in, out); err != nil {
		return nil, nil, err
	}
	return out, nil, nil
}

// RunPlanPart runs one part of a plan in parts for migrationID: it scans
// a range of a file, or checks a planned chunk, and stores what it found
// at the part's Out. A chunk that does not read is not an error: its
// check says so, and the planning step reads the file whole.
//
// Errors: EINVALID for an unknown kind, or a part that names a file the
// migration does not have or a place outside its artifacts; as
// GetMigration; the store's.
func (s *base) RunPlanPart(ctx context.Context, migrationID string, p PlanPart) error {
	m, err := s.Store().GetMigration(ctx, migrationID)
	if err != nil {
		return err
	}
	if !hasFileKey(m, p.FileKey) || !strings.HasPrefix(p.Out, "artifacts/"+m.ID+"/") {
		return cutover.Errorf(cutover.EINVALID, "The planning part names another migration's file or place.")
	}
	delim := []byte(p.Delimiter)
	if len(delim) != 1 || p.Start <= 0 || p.End <= p.Start {
		return cutover.Errorf(cutover.EINVALID, "The planning part does not name a range of a file.")
	}
	switch p.Kind {
	case PlanPartScan:
		rc, err := s.files.OpenRange(ctx, p.FileKey, p.Start-1, p.End) // the byte before, for the quote rules
		if err != nil {
			return err
		}
		defer rc.Close()
		var prev [1]byte
		if _, err := io.ReadFull(rc, prev[:]); err != nil {
			return cutover.Wrap(cutover.EUNAVAILABLE, err, "%s could not be read.", p.FileName)
		}
		sc, err := chunk.ScanRange(rc, p.Start, p.End, prev[0], delim[0])
		if err != nil {
			return cutover.Wrap(cutover.EUNAVAILABLE, err, "%s could not be read.", p.FileName)
		}
		return s.putJSON(ctx, p.Out, "A range's scan", sc)
	case PlanPartCheck:
		res, err := s.checkChunk(ctx, p, rune(delim[0]))
		if err != nil {
			return err
		}
		return s.putJSON(ctx, p.Out, "A chunk's check", res)
	}
	return cutover.Errorf(cutover.EINVALID, "Unknown planning part %q.", p.Kind)
}

// hasFileKey reports whether key is one of m's files' stored objects.
func hasFileKey(m *cutover.Migration, key string) bool {
	for _, f := range m.Files {
		if f.Key == key {
			return true
		}
	}
	return false
}

// checkChunk reads a planned chunk as it will be read when it runs.
//
// Errors: the store's (EUNAVAILABLE); what the chunk's rows hold is the
// result, not an error.
func (s *base) checkChunk(ctx context.Context, p PlanPart, delim rune) (checkResult, error) {
	c := cutover.Chunk{FileName: p.FileName, Start: p.Start, End: p.End, HeaderEnd: p.HeaderEnd}
	rc, err := chunkOpener{files: s.files, c: c}.Open(ctx, p.FileKey)
	if err != nil {
		return checkResult{}, err
	}
	defer rc.Close()
	// Every byte read, and the chunk's own (after the header it is read
	// with).
	var seen, own nonASCII
	own.skip = p.HeaderEnd
	tables, err := tabular.Open(io.TeeReader(rc, io.MultiWriter(&seen, &own)), p.FileName, tabular.Options{
		Encoding: p.Encoding, Delimiter: delim, LineOffset: p.LineOffset, MaxXLSX: s.ReadLimits, Chunk: true,
	})
	if err != nil {
		return checkFailed(err, checkResult{Failed: true})
	}
	defer func() {
		for _, t := range tables {
			_ = t.Close()
		}
	}()
	res := checkResult{}
	if len(tables) != 1 {
		return checkResult{Failed: true}, nil
	}
	for {
		_, err := tables[0].Next()
		if err == io.EOF {
			break
		} else if err != nil {
			return checkFailed(err, checkResult{
				Failed: true, NonASCII: seen.seen, OwnNonASCII: own.seen, Encoding: tables[0].Format().Encoding,
				Error: cutover.ErrorMessage(err), Code: cutover.ErrorCode(err),
			})
		}
		res.Rows++
	}
	res.NonASCII, res.Encoding = seen.seen, tables[0].Format().Encoding
	return res, nil
}

// checkFailed is a check that met err: failed (what it found), unless
// the store failed (err).
func checkFailed(err error, failed checkResult) (checkResult, error) {
	if cutover.ErrorCode(err) == cutover.EUNAVAILABLE {
		return checkResult{}, err
	}
	return failed, nil
}

// nonASCII notes whether a byte other than ASCII went past, after the
// first skip bytes.
type nonASCII struct {
	skip int64
	seen bool
}

func (n *nonASCII) Write(p []byte) (int, error) {
	l := len(p)
	if n.skip > 0 {
		k := min(int64(len(p)), n.skip)
		p, n.skip = p[k:], n.skip-k
	}
	if !n.seen {
		for _, b := range p {
			if b >= 0x80 {
				n.seen = true
				break
			}
		}
	}
	return l, nil
}
