package engine

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/mapspec/presets"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/schema"
	"github.com/cutover/cutover/internal/tabular"
)

// Proposal is the mapping the next round would use, laid out for a person
// to review column by column before submitting: each column with sample
// values, the field it goes to and how sure the suggestion is.
type Proposal struct {
	Files   []ProposedFile           `json:"files"`
	Refused []RefusedFile            `json:"refused"` // files the round cannot migrate, and why
	Mapping json.RawMessage          `json:"mapping"`
	Targets map[string][]TargetField `json:"targets"` // every entity's fields, for choosing a target
}

// ProposedFile is one uploaded table and how its columns map.
type ProposedFile struct {
	FileID   string           `json:"fileId"`
	FileName string           `json:"fileName"`
	Table    string           `json:"table"` // its name in the mapping
	Entity   string           `json:"entity"`
	Preset   string           `json:"preset,omitempty"` // the recognised export layout, if any
	Score    float64          `json:"score,omitempty"`
	Format   FileFormat       `json:"format"`
	Columns  []ProposedColumn `json:"columns"`
	// Notes say what a person should know about the file's mapping, e.g.
	// that its records have no id column and are identified by content.
	Notes []string `json:"notes,omitempty"`
}

// FileFormat is how a file was read: the encoding and how sure detection
// was of it (1 when certain or chosen), the next likeliest encodings when
// it was a guess, the delimiter, and whether the customer chose each
// (SetFileFormat). The site shows it beside the mapping so that a file
// read in the wrong code page can be corrected before anything migrates.
type FileFormat struct {
	Kind            string                  `json:"kind"`
	Encoding        string                  `json:"encoding"`
	Confidence      float64                 `json:"confidence"`
	Alternatives    []tabular.EncodingGuess `json:"alternatives,omitempty"`
	Delimiter       string                  `json:"delimiter,omitempty"` // "tab" for a tab
	EncodingChosen  bool                    `json:"encodingChosen,omitempty"`
	DelimiterChosen bool                    `json:"delimiterChosen,omitempty"`
}

// fileFormat describes what the reader found for f.
func fileFormat(f cutover.File, tf tabular.Format) FileFormat {
	out := FileFormat{
		Kind: tf.Kind, Encoding: tf.Encoding, Confidence: tf.EncodingConfidence, Alternatives: tf.EncodingAlternatives.List(),
		EncodingChosen: f.Encoding != "", DelimiterChosen: f.Delimiter != "",
	}
	if tf.Delimiter != 0 {
		out.Delimiter = delimiterLabel(string(tf.Delimiter))
	}
	return out
}

// RefusedFile is an uploaded file the next round would leave out, and why
// (it is not a spreadsheet export, or none of its columns maps to a field).
type RefusedFile struct {
	FileID   string `json:"fileId"`
	FileName string `json:"fileName"`
	Reason   string `json:"reason"`
	// Format is the reader's best guess when the file was refused because
	// its encoding is uncertain, so the site can offer the candidates.
	Format *FileFormat `json:"format,omitempty"`
}

// ProposedColumn is one source column.
type ProposedColumn struct {
	Column     string   `json:"column"`
	Samples    []string `json:"samples"`
	Target     string   `json:"target"` // "" when the column will not migrate
	Confidence float64  `json:"confidence"`
	Reason     string   `json:"reason"`
	SourceID   bool     `json:"sourceId,omitempty"` // the column is the record's id in the old CRM
}

// TargetField is a field a column can go to.
type TargetField struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Required bool   `json:"required,omitempty"`
}

// samplesShown is how many distinct values of a column the proposal shows.
const samplesShown = 3

// Propose lays out the mapping the next round would use for the test
// files uploaded for it: the customer's saved revision where it fits a
// file, else the recognised preset or the column-by-column suggestions.
//
// A file that cannot be migrated is listed in Refused with why, and left
// out of the mapping, so the mapping shown always parses.
//
// Errors: ENOTFOUND when no test file is uploaded yet, or none can be
// migrated (the message says why for each); EINVALID when the
// saved revision does not parse; EUNAVAILABLE when storage cannot be read, or an uploaded file
// is missing from it.
func (s *Customer) Propose(ctx context.Context, m *cutover.Migration) (*Proposal, error) {
	round := m.Round // after the last submit: the round that ran
	if next, err := migration.UploadRound(m, cutover.PurposeTest); err == nil {
		round = next // before a submit: the round the uploads are for
	}
	files := m.TestFiles(round)
	if len(files) == 0 {
		return nil, cutover.Errorf(cutover.ENOTFOUND, "Upload a test extract first: the suggested mapping is made from its columns.")
	}
	var (
		tables  []tableSample
		refused []refusal
		names   = map[string]cutover.File{}
	)
	for _, f := range files {
		ts, err := s.sample(ctx, f)
		switch cutover.ErrorCode(err) {
		case "":
		case cutover.ENOTFOUND:
			return nil, cutover.Wrap(cutover.EUNAVAILABLE, err, "%s is missing from storage; upload it again.", f.Name)
		case cutover.EINVALID:
			refused = append(refused, refusal{f, cutover.ErrorMessage(err)})
			continue
		default:
			return nil, err
		}
		for _, t := range ts {
			names[t.name] = f
		}
		tables = append(tables, ts...)
	}
	var props []presets.Proposal
	draft := m.DraftMapping != ""
	if draft {
		draft, err := mapspec.Parse([]byte(m.DraftMapping))
		if err != nil {
			return nil, err
		}
		props = draftProposals(draft, tables)
	} else {
		for _, t := range tables {
			props = append(props, presets.Propose(t.name, t.header, t.sample))
		}
	}
	tables, props, unmapped := dropUnmappable(files, tables, props)
	refused = append(refused, unmapped...)
	spec := presets.ProposeSpec(props)
	raw, _ := json.Marshal(spec) // a Spec always marshals
	if len(props) == 0 {
		return nil, cutover.Errorf(cutover.ENOTFOUND, "No uploaded file can be migrated, so there is no mapping to suggest. %s", refusalList(refused))
	}
	out := &Proposal{Files: []ProposedFile{}, Refused: []RefusedFile{}, Mapping: raw, Targets: targets(schema.Default())}
	for _, r := range refused {
		rf := RefusedFile{FileID: r.file.ID, FileName: r.file.Name, Reason: r.reason}
		if r.file.Encoding == "" {
			if tf, err := s.guessFormat(ctx, r.file); err == nil && tf.EncodingConfidence < tabular.LowConfidence {
				ff := fileFormat(r.file, tf)
				rf.Format = &ff
			}
		}
		out.Refused = append(out.Refused, rf)
	}
	for i, t := range tables {
		f := names[t.name]
		p := props[i]
		pf := ProposedFile{FileID: f.ID, FileName: f.Name, Table: t.name, Entity: p.File.Entity, Preset: p.Preset, Score: p.Score, Notes: p.Notes, Format: fileFormat(f, t.format)}
		pf.Columns = columns(t, p, draft)
		out.Files = append(out.Files, pf)
	}
	return out, nil
}

// columns lays out a table's columns under a proposal: the target is what
// the proposal maps the column to; the confidence and reason are the
// suggestion's, the preset's when the preset placed the column, or the
// customer's own when their saved mapping (draft) did.
func columns(t tableSample, p presets.Proposal, draft bool) []ProposedColumn {
	if !draft && len(p.Columns) == len(t.header) {
		// The proposal describes its own spec column by column: show that,
		// so the page and the mapping it submits cannot disagree.
		out := make([]ProposedColumn, 0, len(t.header))
		for i, c := range p.Columns {
			out = append(out, ProposedColumn{
				Column: c.Column, Samples: samples(t.sample, i), Target: c.Target, Confidence: c.Confidence,
				Reason: c.Reason, SourceID: c.SourceID,
			})
		}
		return out
	}
	mapped := mapspec.ColumnTargets(p.File, t.header) // as the mapping reads them: aliases and inline people too
	ids := make([]bool, len(t.header))
	for _, c := range p.File.SourceID {
		if i, ok := mapspec.ColumnIndex(p.File, t.header, c); ok {
			ids[i] = true
		}
	}
	filledBy := map[string]string{} // field -> the first column that fills it
	for _, fm := range p.File.Fields {
		for _, c := range fm.SourceColumns() {
			if _, ok := filledBy[fm.Target]; !ok {
				filledBy[fm.Target] = c
			}
		}
	}
	sugg := map[string]mapspec.Suggestion{}
	for _, sg := range mapspec.Suggest(t.header, t.sample) {
		sugg[sg.Column] = sg
	}
	out := make([]ProposedColumn, 0, len(t.header))
	for i, col := range t.header {
		sg := sugg[col]
		c := ProposedColumn{
			Column: col, Samples: samples(t.sample, i), Target: mapped[i], Confidence: sg.Confidence, Reason: sg.Reason,
			SourceID: ids[i],
		}
		switch {
		case draft && c.Target != "" && c.Target != sg.Target:
			c.Reason, c.Confidence = "Your saved mapping.", 1
		case c.Target == "" && sg.Target != "":
			c.Reason = presets.UnmappedReason(sg, filledBy[sg.Target])
		case c.Target == "":
			c.Reason, c.Confidence = "Nothing fits: the column will not migrate unless you choose a field.", 0
		case p.Preset != "" && c.Target != sg.Target:
			c.Reason, c.Confidence = "The "+p.Preset+" layout maps it.", p.Score
		}
		out = append(out, c)
	}
	return out
}

// samples returns up to samplesShown distinct non-empty values of column i.
func samples(rows [][]string, i int) []string {
	out := []string{}
	for _, r := range rows {
		if i < len(r) && r[i] != "" && !slices.Contains(out, r[i]) {
			out = append(out, r[i])
			if len(out) == samplesShown {
				break
			}
		}
	}
	return out
}

// targets lists every entity's fields.
func targets(sch *schema.Schema) map[string][]TargetField {
	out := make(map[string][]TargetField, len(sch.Entities))
	for _, e := range sch.Entities {
		fs := make([]TargetField, 0, len(e.Fields))
		for _, f := range e.Fields {
			fs = append(fs, TargetField{Name: f.Name, Type: string(f.Type), Required: f.Required})
		}
		out[e.Name] = fs
	}
	return out
}
