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
	tables, closeAll, err := openAll(fs.Args(), o)
	if err != nil {
		return err
	}
	defer closeAll()

	sch := schema.Default()
	sinks := newJSONLSinks(*outDir, *records)
	defer sinks.close()
	var merger *mapspec.Merger
	if spec.HoldsRecords(sch) {
		merger = mapspec.NewMergerFor(spec)
	}
	seen := pipeline.NewSeen()       // a source id kept twice in a run is a rejected duplicate, across its files
	derived := pipeline.NewWritten() // a person named inline in several files is derived once
	rep := &mapReport{Spec: source, SpecHash: spec.Hash(), Tenant: *tenant, Orphans: []mapspec.Orphan{}}
	ctx := context.Background()
	now := time.Now()
	for _, tb := range tables {
		fsp, err := chooseFile(spec, *presetID, tb)
		if err != nil {
			return err
		}
		m, err := mapspec.Compile(fsp, sch, tb.t.Header(), *tenant, now)
		if err != nil {
			return fmt.Errorf("%s: %s", tb.label, message(err))
		}
		base := safeName(strings.TrimSuffix(tb.label, filepath.Ext(tb.path)))
		if s := tb.t.Format().Sheet; s != "" {
			base = safeName(strings.TrimSuffix(filepath.Base(tb.path), filepath.Ext(tb.path)) + "-" + s)
		}
		rejects, err := os.Create(filepath.Join(*outDir, "rejects-"+base+".csv"))
		if err != nil {
			return err
		}
		review, err := os.Create(filepath.Join(*outDir, "review-"+base+".csv"))
		if err != nil {
			rejects.Close()
			return err
		}
		rw, vw := bufio.NewWriterSize(rejects, 1<<16), bufio.NewWriterSize(review, 1<<16)
		out := pipeline.Outputs{Rejects: rw, Review: vw, Merger: merger, Seen: seen, Derived: derived}
		if merger == nil {
			out.Sink = sinks
		}
		r, err := pipeline.Run(ctx, tb.label, tb.t, m, out, pipeline.Options{Workers: *workers, Market: strings.ToUpper(*market)})
		for _, w := range []*bufio.Writer{rw, vw} {
			if ferr := w.Flush(); err == nil && ferr != nil {
				err = ferr
			}
		}
		rejects.Close()
		review.Close()
		if err != nil {
			return fmt.Errorf("%s: %s", tb.label, message(err))
		}
		if *presetID != "" {
			r.Preset = *presetID
		}
		rep.Files = append(rep.Files, r)
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
		if err := writeJSON(filepath.Join(*outDir, "merges.json"), merger.Merges()); err != nil {
			return err
		}
		rep.PossibleDuplicates = merger.PossibleDuplicateRecords()
		pd := merger.PossibleDuplicates()
		if pd == nil {
			pd = []mapspec.PossibleDuplicate{}
		}
		if err := writeJSON(filepath.Join(*outDir, "possible-duplicates.json"), pd); err != nil {
			return err
		}
	}
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
	if err := pipeline.CheckWritten("The records files", migrated, sinks.written.Len()); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(*outDir, "report.json"), rep); err != nil {
		return err
	}
	printReport(stdout, rep, *outDir)
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
	written *pipeline.Written
}

func newJSONLSinks(dir string, enabled bool) *jsonlSinks {
	return &jsonlSinks{dir: dir, enabled: enabled, files: map[string]*os.File{}, writers: map[string]*bufio.Writer{}, written: pipeline.NewWritten()}
}

// Write implements pipeline.Sink. A local file refuses no record.
func (s *jsonlSinks) Write(_ context.Context, recs []*mapspec.Record) ([]cutover.Refusal, error) {
	if !s.enabled {
		for _, r := range recs {
			s.written.Add(r.Entity, r.ID)
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
		s.written.Add(r.Entity, r.ID)
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
	if len(rep.Orphans) > 0 {
		fmt.Fprintf(w, "orphaned references: %d (see report.json)\n", len(rep.Orphans))
	}
	fmt.Fprintf(w, "output in %s: records-<entity>.jsonl, rejects-<file>.csv, review-<file>.csv, report.json\n", dir)
}
