package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/mapspec/presets"
	"github.com/cutover/cutover/internal/pipeline"
	"github.com/cutover/cutover/internal/schema"
	"github.com/cutover/cutover/internal/tabular"
)

// mapReport is report.json: the account of a whole dry run.
type mapReport struct {
	Spec     string             `json:"spec"`
	SpecHash string             `json:"specHash"`
	Tenant   string             `json:"tenant"`
	Files    []*pipeline.Report `json:"files"`
	Merges   int                `json:"mergedRecords"`
	Conflict int                `json:"mergeConflicts"`
	// PossibleDuplicates counts records kept apart although another with a
	// different source id has their dedupe key (listed in
	// possible-duplicates.json for review).
	PossibleDuplicates int              `json:"possibleDuplicates"`
	Orphans            []mapspec.Orphan `json:"orphans"`
	// spilled, when set, holds a shuffled run's orphans instead of Orphans
	// (writeReport lists them).
	spilled *orphanSpill
}

func mapFiles(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("map", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var rf readerFlags
	rf.register(fs)
	presetID := fs.String("preset", "", "map with this preset (see `cutover presets`)")
	mappingPath := fs.String("mapping", "", "map with this mapping spec (JSON)")
	tenant := fs.String("tenant", "dry-run", "tenant id the record ids are derived from")
	outDir := fs.String("out", "cutover-out", "output directory")
	records := fs.Bool("records", true, "write the records (false: only account for them)")
	workers := fs.Int("workers", 0, "mapping goroutines (default: all cores)")
	inMemory := fs.Bool("in-memory", false, "hold the run's ids and records in memory instead of shuffling them through spill files (memory grows with the rows)")
	spillDir := fs.String("spill-dir", "", "where the shuffle's spill files go (default: the system's temp directory); removed at the end")
	partRecords := fs.Int("partition-records", 0, "records the shuffle merges at a time (default 8192): fewer hold less memory and write more spill files")
	market := fs.String("market", "", "the migration's market (ISO 3166-1 alpha-2, e.g. US): phone region when a file says nothing about its country, and the tie-break for dates that read both ways")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() == 0 || (*presetID == "") == (*mappingPath == "") {
		return usageError{"map needs FILE... and exactly one of --preset and --mapping"}
	}
	o, err := rf.options()
	if err != nil {
		return err
	}
	if *partRecords < 0 {
		return usageError{"--partition-records must be a positive number"}
	}
	if err := cutover.CheckMarket(*market); err != nil {
		return usageError{message(err)}
	}
	spec, source, err := loadSpec(*presetID, *mappingPath)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return err
	}
	sch := schema.Default()
	run := &mapRun{
		spec: spec, presetID: *presetID, tenant: *tenant, now: time.Now(), sch: sch, outDir: *outDir,
		opts: pipeline.Options{Workers: *workers, Market: strings.ToUpper(*market)},
	}
	ctx := context.Background()
	if *inMemory {
		return run.inMemory(ctx, fs.Args(), o, *records, source, stdout)
	}
	run.partRecords = *partRecords
	return run.shuffled(ctx, fs.Args(), o, *records, *spillDir, source, stdout)
}

// mapRun is one `cutover map`: what every table is mapped with.
type mapRun struct {
	spec     *mapspec.Spec
	presetID string
	tenant   string
	now      time.Time
	sch      *schema.Schema
	outDir   string
	opts     pipeline.Options
	// partRecords is the shuffle's records per merge partition (0: its
	// default).
	partRecords int
}

// table maps one table with out, writing its rejects and review files
// into the output directory (or nowhere, when discard is set: the
// shuffle's first run, which only emits keys).
func (r *mapRun) table(ctx context.Context, tb table, out pipeline.Outputs, discard bool) (*pipeline.Report, error) {
	fsp, err := chooseFile(r.spec, r.presetID, tb)
	if err != nil {
		return nil, err
	}
	m, err := mapspec.Compile(fsp, r.sch, tb.t.Header(), r.tenant, r.now)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", tb.label, message(err))
	}
	if discard {
		out.Rejects, out.Review = io.Discard, io.Discard
		if _, err := pipeline.Run(ctx, tb.label, tb.t, m, out, r.opts); err != nil {
			return nil, fmt.Errorf("%s: %s", tb.label, message(err))
		}
		return nil, nil
	}
	base := safeName(strings.TrimSuffix(tb.label, filepath.Ext(tb.path)))
	if s := tb.t.Format().Sheet; s != "" {
		base = safeName(strings.TrimSuffix(filepath.Base(tb.path), filepath.Ext(tb.path)) + "-" + s)
	}
	rejects, err := os.Create(filepath.Join(r.outDir, "rejects-"+base+".csv"))
	if err != nil {
		return nil, err
	}
	review, err := os.Create(filepath.Join(r.outDir, "review-"+base+".csv"))
	if err != nil {
		rejects.Close()
		return nil, err
	}
	rw, vw := bufio.NewWriterSize(rejects, 1<<16), bufio.NewWriterSize(review, 1<<16)
	out.Rejects, out.Review = rw, vw
	rep, err := pipeline.Run(ctx, tb.label, tb.t, m, out, r.opts)
	for _, w := range []*bufio.Writer{rw, vw} {
		if ferr := w.Flush(); err == nil && ferr != nil {
			err = ferr
		}
	}
	rejects.Close()
	review.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: %s", tb.label, message(err))
	}
	if r.presetID != "" {
		rep.Preset = r.presetID
	}
	return rep, nil
}

// inMemory maps the files holding the pass's global state in memory: every
// id (pipeline.Seen) and, when the spec merges or links records, every
// record until the last file is read: --in-memory's path.
func (r *mapRun) inMemory(ctx context.Context, paths []string, o tabular.Options, records bool, source string, stdout io.Writer) error {
	spec, sch := r.spec, r.sch
	tables, closeAll, err := openAll(paths, o)
	if err != nil {
		return err
	}
	defer closeAll()
	sinks := newJSONLSinks(r.outDir, records)
	defer sinks.close()
	var merger *mapspec.Merger
	if spec.HoldsRecords(sch) {
		merger = mapspec.NewMergerFor(spec)
	}
	seen := pipeline.NewSeen()       // a source id kept twice in a run is a rejected duplicate, across its files
	derived := pipeline.NewWritten() // a person named inline in several files is derived once
	rep := &mapReport{Spec: source, SpecHash: spec.Hash(), Tenant: r.tenant, Orphans: []mapspec.Orphan{}}
	for _, tb := range tables {
		out := pipeline.Outputs{Merger: merger, Seen: seen, Derived: derived}
		if merger == nil {
			out.Sink = sinks
		}
		fr, err := r.table(ctx, tb, out, false)
		if err != nil {
			return err
		}
		rep.Files = append(rep.Files, fr)
	}
	linked := 0
	if merger != nil {
		recs, links, byEntity := mapspec.LinkInline(merger.Records())
		for _, n := range byEntity {
			linked += n
		}
		res := mapspec.NewResolver()
		for _, rec := range recs {
			res.AddRecord(rec)
		}
		res.AddAliases(merger.Aliases())
		res.AddAliases(links)
		for _, rec := range recs {
			rep.Orphans = append(rep.Orphans, res.Resolve(rec)...)
		}
		for _, mg := range merger.Merges() {
			rep.Merges++
			rep.Conflict += len(mg.Conflicts)
		}
		if _, err := sinks.Write(ctx, recs); err != nil {
			return err
		}
		if err := writeJSON(filepath.Join(r.outDir, "merges.json"), merger.Merges()); err != nil {
			return err
		}
		rep.PossibleDuplicates = merger.PossibleDuplicateRecords()
		pd := merger.PossibleDuplicates()
		if pd == nil {
			pd = []mapspec.PossibleDuplicate{}
		}
		if err := writeJSON(filepath.Join(r.outDir, "possible-duplicates.json"), pd); err != nil {
			return err
		}
	}
	return r.finish(sinks, rep, linked, stdout)
}

// finish closes the records files, checks the distinct records they were
// given against the row accounting, and writes and prints the report.
func (r *mapRun) finish(sinks *jsonlSinks, rep *mapReport, linked int, stdout io.Writer) error {
	if err := sinks.close(); err != nil {
		return err
	}
	migrated := -linked // each migrated row is one record, and each derived person not linked to a listed one
	for _, f := range rep.Files {
		migrated += f.Counts.Migrated
		for _, n := range f.Counts.Derived {
			migrated += n
		}
	}
	written, err := sinks.written.Len()
	if err != nil {
		return err
	}
	if err := pipeline.CheckWritten("The records files", migrated, written); err != nil {
		return err
	}
	if err := writeReport(filepath.Join(r.outDir, "report.json"), rep); err != nil {
		return err
	}
	printReport(stdout, rep, r.outDir)
	return nil
}

func loadSpec(presetID, path string) (*mapspec.Spec, string, error) {
	if presetID != "" {
		p, ok := presets.Lookup(presetID)
		if !ok {
			var ids []string
			for _, p := range presets.All() {
				ids = append(ids, p.ID)
			}
			return nil, "", usageError{fmt.Sprintf("no preset %q; there are: %s", presetID, strings.Join(ids, ", "))}
		}
		return p.Spec, "preset " + presetID, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	spec, err := mapspec.Parse(data)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %s", path, message(err))
	}
	return spec, path, nil
}

// chooseFile picks the spec's entry for a table: the only one; the one
// named like the file or sheet; or, for a preset, the one whose header
// signature the table matches best.
func chooseFile(spec *mapspec.Spec, presetID string, tb table) (mapspec.FileSpec, error) {
	if len(spec.Files) == 1 {
		return spec.Files[0], nil
	}
	stem := strings.TrimSuffix(filepath.Base(tb.path), filepath.Ext(tb.path))
	var names []string
	for _, f := range spec.Files {
		names = append(names, f.Name)
		if strings.EqualFold(f.Name, tb.label) || strings.EqualFold(f.Name, stem) || strings.EqualFold(f.Name, tb.t.Format().Sheet) {
			return f, nil
		}
	}
	if presetID != "" {
		for _, m := range presets.Detect(tb.t.Header()) {
			if m.Preset != presetID {
				continue
			}
			for _, f := range spec.Files {
				if f.Name == m.File {
					return f, nil
				}
			}
		}
	}
	return mapspec.FileSpec{}, fmt.Errorf("%s: the mapping has several files (%s) and none is named like this one or matches its columns", tb.label, strings.Join(names, ", "))
}

func safeName(label string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ' ' || r == '[' || r == ']' {
			return '_'
		}
		return r
	}, label)
}

// jsonlSinks write records as JSON lines, one file per entity, and count
// the distinct records they were given (written, unless records are off),
// so that the run can check them against its row accounting.
type jsonlSinks struct {
	dir     string
	enabled bool
	files   map[string]*os.File
	writers map[string]*bufio.Writer
	buf     []byte
	written idCounter
}

// idCounter counts distinct records: in memory (pipeline.Written), or
// through spill files for the shuffle (shuffle.Distinct).
type idCounter interface {
	Add(entity, id string) error
	Len() (int, error)
}

// inMemoryIDs is pipeline.Written as an idCounter.
type inMemoryIDs struct{ *pipeline.Written }

func (w inMemoryIDs) Add(entity, id string) error { w.Written.Add(entity, id); return nil }
func (w inMemoryIDs) Len() (int, error)           { return w.Written.Len(), nil }

func newJSONLSinks(dir string, enabled bool) *jsonlSinks {
	return &jsonlSinks{dir: dir, enabled: enabled, files: map[string]*os.File{}, writers: map[string]*bufio.Writer{}, written: inMemoryIDs{pipeline.NewWritten()}}
}

// Write implements pipeline.Sink. A local file refuses no record.
func (s *jsonlSinks) Write(_ context.Context, recs []*mapspec.Record) ([]cutover.Refusal, error) {
	if !s.enabled {
		for _, r := range recs {
			if err := s.written.Add(r.Entity, r.ID); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	for _, r := range recs {
		w, ok := s.writers[r.Entity]
		if !ok {
			f, err := os.Create(filepath.Join(s.dir, "records-"+r.Entity+".jsonl"))
			if err != nil {
				return nil, err
			}
			s.files[r.Entity], w = f, bufio.NewWriterSize(f, 1<<20)
			s.writers[r.Entity] = w
		}
		s.buf = append(r.AppendJSON(s.buf[:0]), '\n')
		if _, err := w.Write(s.buf); err != nil {
			return nil, err
		}
		if err := s.written.Add(r.Entity, r.ID); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

func (s *jsonlSinks) close() error {
	var first error
	for e, w := range s.writers {
		if err := w.Flush(); err != nil && first == nil {
			first = err
		}
		if err := s.files[e].Close(); err != nil && first == nil {
			first = err
		}
		delete(s.writers, e)
	}
	return first
}

// discard closes and removes the records files written so far, so that
// writing starts over.
func (s *jsonlSinks) discard() error {
	first := s.close()
	for e, f := range s.files {
		if err := os.Remove(f.Name()); err != nil && first == nil {
			first = err
		}
		delete(s.files, e)
	}
	return first
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func printReport(w io.Writer, rep *mapReport, dir string) {
	fmt.Fprintf(w, "mapping: %s (%s)\n\n", rep.Spec, rep.SpecHash)
	for _, f := range rep.Files {
		c := f.Counts
		fmt.Fprintf(w, "%s -> %s\n", f.File, f.Entity)
		fmt.Fprintf(w, "  read %d = migrated %d + merged %d + rejected %d + skipped %d\n", c.Read, c.Migrated, c.Merged, c.Rejected, c.SkippedTotal())
		rules := make([]string, 0, len(c.Skipped))
		for r := range c.Skipped {
			rules = append(rules, r)
		}
		sort.Strings(rules)
		for _, r := range rules {
			fmt.Fprintf(w, "    skipped by %s: %d\n", r, c.Skipped[r])
		}
		for _, e := range slices.Sorted(maps.Keys(c.Derived)) {
			fmt.Fprintf(w, "  derived from people named inline (not rows): %d %s\n", c.Derived[e], e)
		}
		if c.Warned > 0 {
			fmt.Fprintf(w, "  flagged for review (!): %d rows\n", c.Warned)
		}
		reasons := make([]string, 0, len(f.Reasons))
		for r := range f.Reasons {
			reasons = append(reasons, r)
		}
		sort.Slice(reasons, func(i, j int) bool { return f.Reasons[reasons[i]] > f.Reasons[reasons[j]] })
		for i, r := range reasons {
			if i == 5 {
				fmt.Fprintf(w, "    ... %d more reasons in report.json\n", len(reasons)-5)
				break
			}
			fmt.Fprintf(w, "    rejected %d: %s\n", f.Reasons[r], r)
		}
		if len(f.Unmapped) > 0 {
			fmt.Fprintf(w, "  will not migrate (no mapping): %s\n", strings.Join(f.Unmapped, ", "))
		}
		var fills []string
		for _, fr := range f.FillRates {
			if fr.Filled > 0 {
				fills = append(fills, fmt.Sprintf("%s %.0f%%", fr.Field, 100*fr.Rate))
			}
		}
		fmt.Fprintf(w, "  fill rates: %s\n\n", strings.Join(fills, ", "))
	}
	if rep.Merges > 0 {
		fmt.Fprintf(w, "merged duplicates: %d records (%d conflicting values kept from the first row) - merges.json\n", rep.Merges, rep.Conflict)
	}
	if rep.PossibleDuplicates > 0 {
		fmt.Fprintf(w, "possible duplicates: %d records share a dedupe key with a record of another source id; kept apart (set \"mergeDifferentIds\" to merge them) - possible-duplicates.json\n", rep.PossibleDuplicates)
	}
	if n := rep.orphanCount(); n > 0 {
		fmt.Fprintf(w, "orphaned references: %d (see report.json)\n", n)
	}
	fmt.Fprintf(w, "output in %s: records-<entity>.jsonl, rejects-<file>.csv, review-<file>.csv, report.json\n", dir)
}
