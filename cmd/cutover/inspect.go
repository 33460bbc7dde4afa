package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/mapspec/presets"
	"github.com/cutover/cutover/internal/tabular"
)

// readerFlags are the detection overrides every command takes.
type readerFlags struct {
	delimiter, encoding, sheet string
}

func (r *readerFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&r.delimiter, "delimiter", "", `field delimiter: "," ";" "|" or "tab" (default: detected)`)
	fs.StringVar(&r.encoding, "encoding", "", "text encoding: "+strings.Join(tabular.SupportedEncodings(), ", ")+" (default: detected)")
	fs.StringVar(&r.sheet, "sheet", "", "XLSX: only this sheet (default: every non-empty sheet)")
}

func (r *readerFlags) options() (tabular.Options, error) {
	o := tabular.Options{Encoding: r.encoding, Sheet: r.sheet}
	switch d := r.delimiter; {
	case d == "":
	case d == "tab" || d == `\t`:
		o.Delimiter = '\t'
	case len(d) == 1:
		o.Delimiter = rune(d[0])
	default:
		return o, usageError{fmt.Sprintf("--delimiter %q: give one character or \"tab\"", d)}
	}
	return o, nil
}

// table is one table of one input file.
type table struct {
	path  string
	label string // file name, plus the sheet for a workbook
	t     tabular.Table
}

// openAll opens every table of every file; the caller closes them.
func openAll(paths []string, o tabular.Options) ([]table, func(), error) {
	var out []table
	var files []*os.File
	closeAll := func() {
		for _, t := range out {
			_ = t.t.Close()
		}
		for _, f := range files {
			_ = f.Close()
		}
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		files = append(files, f)
		ts, err := tabular.Open(f, filepath.Base(p), o)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("%s: %s", p, message(err))
		}
		for _, t := range ts {
			label := filepath.Base(p)
			if s := t.Format().Sheet; s != "" {
				label += " [" + s + "]"
			}
			out = append(out, table{path: p, label: label, t: t})
		}
	}
	return out, closeAll, nil
}

// inspection is what inspect finds out about one table.
type inspection struct {
	File        string               `json:"file"`
	Format      tabular.Format       `json:"format"`
	Delimiter   string               `json:"delimiter,omitempty"`
	Columns     []string             `json:"columns"`
	Rows        int                  `json:"rows"`
	Presets     []presets.Match      `json:"presets"`
	Suggestions []mapspec.Suggestion `json:"suggestions"`
	Inference   *fileInference       `json:"inference"` // see inference.go

	// Proposal is what --write-mapping writes for this table, column by
	// column: the table printed and the spec written both come from it.
	Proposal proposalView `json:"proposal"`

	prop presets.Proposal
}

// proposalView is the JSON form of a table's proposal.
type proposalView struct {
	Preset       string                   `json:"preset,omitempty"`
	Score        float64                  `json:"score,omitempty"`
	Entity       string                   `json:"entity"`
	SourceID     []string                 `json:"sourceId,omitempty"`
	SourceIDFrom string                   `json:"sourceIdFrom,omitempty"`
	Columns      []presets.ColumnProposal `json:"columns"`
	Notes        []string                 `json:"notes,omitempty"`
	Inference    *fileInference           `json:"inference"` // see inference.go
}

const sampleRows = 50

func inspect(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var rf readerFlags
	rf.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	write := fs.String("write-mapping", "", "write a mapping spec built from the best preset or the suggestions to this file")
	market := fs.String("market", "", "the migration's market (ISO 3166-1 alpha-2, e.g. US): phone region and date tie-break when the file says nothing")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() == 0 {
		return usageError{"inspect needs at least one FILE"}
	}
	o, err := rf.options()
	if err != nil {
		return err
	}
	// inspect shows its best guess of an uncertain encoding, with how
	// sure it is; map refuses to act on one.
	o.AllowUncertainEncoding = true
	tables, closeAll, err := openAll(fs.Args(), o)
	if err != nil {
		return err
	}
	defer closeAll()
	var found []inspection
	for _, tb := range tables {
		in := inspection{File: tb.label, Format: tb.t.Format(), Columns: tb.t.Header()}
		if d := in.Format.Delimiter; d != 0 {
			in.Delimiter = delimiterName(d)
		}
		var sample, inferRows [][]string
		for {
			r, err := tb.t.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("%s: %s", tb.label, message(err))
			}
			in.Rows++
			inferRows = keepForInference(inferRows, r.Fields)
			if len(sample) < sampleRows {
				sample = append(sample, append([]string(nil), r.Fields...))
			}
		}
		in.Presets = presets.Detect(in.Columns)
		if len(in.Presets) > 3 {
			in.Presets = in.Presets[:3]
		}
		in.Suggestions = mapspec.Suggest(in.Columns, sample)
		in.prop = presets.Propose(in.File, in.Columns, sample)
		f := in.prop.File
		in.Proposal = proposalView{
			Preset: in.prop.Preset, Score: in.prop.Score, Entity: f.Entity, SourceID: f.SourceID,
			SourceIDFrom: f.SourceIDFrom, Columns: in.prop.Columns, Notes: in.prop.Notes,
		}
		in.Inference = inferFile(in.Columns, inferRows, *market)
		found = append(found, in)
	}
	if *write != "" {
		spec := specFor(found)
		b, _ := json.MarshalIndent(spec, "", "  ") // a Spec always marshals
		if err := os.WriteFile(*write, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(found)
	}
	for _, in := range found {
		printInspection(stdout, in)
	}
	if *write != "" {
		fmt.Fprintf(stdout, "wrote a mapping spec to %s: review it, then run `cutover map --mapping %s FILE...`\n", *write, *write)
	}
	return nil
}

func delimiterName(d rune) string {
	if d == '\t' {
		return "tab"
	}
	return string(d)
}

func printInspection(w io.Writer, in inspection) {
	f := in.Format
	fmt.Fprintf(w, "%s\n  format: %s, encoding %s", in.File, f.Kind, f.Encoding)
	if f.EncodingConfidence < 1 {
		fmt.Fprintf(w, " (confidence %.2f", f.EncodingConfidence)
		for i, a := range f.EncodingAlternatives.List() {
			sep := ", or "
			if i > 0 {
				sep = ", "
			}
			fmt.Fprintf(w, "%s%s %.2f", sep, a.Encoding, a.Confidence)
		}
		fmt.Fprint(w, ")")
	}
	if in.Delimiter != "" {
		fmt.Fprintf(w, ", delimiter %q", in.Delimiter)
	}
	if f.BOM {
		fmt.Fprint(w, ", with BOM")
	}
	fmt.Fprintf(w, "\n  %d columns, %d rows\n", len(in.Columns), in.Rows)
	if f.EncodingConfidence < tabular.LowConfidence {
		fmt.Fprintf(w, "  warning: the encoding is a guess; map refuses the file until you choose one with --encoding\n")
	}
	if len(in.Presets) == 0 {
		fmt.Fprintln(w, "  preset: none recognised; suggestions below")
	}
	for i, m := range in.Presets {
		lead := "  preset:"
		if i > 0 {
			lead = "    or:  "
		}
		fmt.Fprintf(w, "%s %s (%s file %q, entity %s), score %.2f", lead, m.Title, m.Preset, m.File, m.Entity, m.Score)
		if len(m.Missing) > 0 {
			fmt.Fprintf(w, "; missing %s", strings.Join(m.Missing, ", "))
		}
		fmt.Fprintln(w)
	}
	printInference(w, in.Inference)
	fmt.Fprintln(w, "  suggested mapping:")
	for _, c := range in.Proposal.Columns {
		target := "(will not migrate)"
		if c.Target != "" {
			target = in.Proposal.Entity + "." + c.Target
		}
		if c.SourceID {
			target += " [id]"
		}
		fmt.Fprintf(w, "    %-28s -> %-28s %3.0f%%  %s\n", c.Column, target, 100*c.Confidence, c.Reason)
	}
	for _, n := range in.Proposal.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	fmt.Fprintln(w)
}

// specFor builds a mapping spec from the inspected tables' proposals (the
// ones printed): each recognised preset fitted to its file plus the
// suggestions for the columns it does not read, else the suggestions.
func specFor(found []inspection) *mapspec.Spec {
	var props []presets.Proposal
	for _, in := range found {
		props = append(props, in.prop)
	}
	spec := presets.ProposeSpec(props)
	spec.Name = "suggested by cutover inspect"
	return spec
}
