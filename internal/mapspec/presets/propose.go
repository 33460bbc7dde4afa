package presets

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/schema"
)

// Proposal is the mapping proposed for one file: a recognised preset's
// file spec fitted to the file's columns plus the suggestions for the
// columns the preset does not read, or one built from the suggestions
// alone. Columns describes File column by column; both come from one
// place (Propose), so what a person is shown is what the spec does.
type Proposal struct {
	File     mapspec.FileSpec
	Defaults mapspec.Defaults
	Preset   string  // the preset's id; "" when built from suggestions
	Score    float64 // the preset's match score
	Columns  []ColumnProposal
	Notes    []string // what a person should know about the proposal (e.g. how records are identified)
}

// ColumnProposal is what a proposal does with one source column.
type ColumnProposal struct {
	Column     string  `json:"column"`
	Target     string  `json:"target"` // the field File maps it to; "" when it will not migrate
	Confidence float64 `json:"confidence"`
	Reason     string  `json:"reason"`
	By         string  `json:"by,omitempty"` // "preset" or "suggestion": who placed it
	SourceID   bool    `json:"sourceId,omitempty"`
	// Suggested is the suggestion's target when it was not sure enough to map.
	Suggested string `json:"suggested,omitempty"`
}

// MinPresetScore is the match score from which a preset is trusted over
// the column-by-column suggestions.
const MinPresetScore = 0.5

// namedConfidence is a suggestion's confidence when the column's header is
// a name of its field (mapspec.Suggest), not merely contains one.
const namedConfidence = 0.9

// MinConfidence is the confidence a suggestion needs to be put in a
// proposed mapping; the rest are shown for a person to decide.
const MinConfidence = 0.5

// SuggestedDefaults are the defaults of a mapping built from suggestions:
// the phone region is inferred from the file (then the migration's
// market), never assumed; ISO and day-first dates are listed, and date
// inference picks among them or adds the format the file really uses.
var SuggestedDefaults = mapspec.Defaults{Region: mapspec.RegionAuto, DateFormats: []string{"ISO", "DD/MM/YYYY"}}

// Propose proposes a mapping for a file named name (the name the file spec
// gets) from its header and a sample of its rows. Propose never fails, and
// what it proposes always compiles on that header: a preset is fitted to
// the columns the file has (its columns beyond the signature are optional,
// in fields, joins, skip rules and the source id), and when even that does
// not fit, the suggestions alone are proposed. When no column can be
// placed at all, the proposal has no fields (a spec needs one): callers
// refuse such a file, saying so.
func Propose(name string, header []string, sample [][]string) Proposal {
	sugg := mapspec.Suggest(header, sample)
	if ms := Detect(header); len(ms) > 0 && ms[0].Score >= MinPresetScore {
		m := ms[0]
		if p, ok := Lookup(m.Preset); ok {
			if f, ok := p.Spec.File(m.File); ok {
				f.Name = name
				prop := Proposal{File: fit(f, header), Defaults: p.Spec.Defaults, Preset: p.ID, Score: m.Score}
				addSuggestions(&prop.File, header, sugg, p.Signatures[m.File].Ignore...)
				prop.Notes = chooseSourceID(&prop.File, header, sample)
				if compiles(prop, header) {
					prop.Columns = describe(prop, header, sugg)
					return prop
				}
			}
		}
	}
	prop := fromSuggestions(name, header, sample, sugg)
	if !compiles(prop, header) { // cannot happen for well-formed suggestions; keep the promise anyway
		prop.File.Fields = nil
		prop.File.SourceID, prop.File.SourceIDFallback = nil, nil
		prop.File.SourceIDFrom = mapspec.SourceIDFromContent
	}
	prop.Columns = describe(prop, header, sugg)
	return prop
}

// fromSuggestions builds a proposal from the confident suggestions.
func fromSuggestions(name string, header []string, sample [][]string, sugg []mapspec.Suggestion) Proposal {
	votes := map[string]int{}
	for _, s := range sugg {
		if s.Target != "" && s.Confidence >= MinConfidence {
			votes[s.Entity]++
		}
	}
	entities := make([]string, 0, len(votes))
	for e := range votes {
		entities = append(entities, e)
	}
	sort.Slice(entities, func(i, j int) bool {
		return votes[entities[i]] > votes[entities[j]] || votes[entities[i]] == votes[entities[j]] && entities[i] < entities[j]
	})
	fs := mapspec.FileSpec{Name: name, Entity: "contact"}
	if len(entities) > 0 {
		fs.Entity = entities[0]
	}
	addSuggestions(&fs, header, sugg)
	notes := chooseSourceID(&fs, header, sample)
	return Proposal{File: fs, Defaults: SuggestedDefaults, Notes: notes}
}

// headerCounts counts each normalised header name, so a repeated column
// (which a spec cannot name unambiguously) is never proposed.
func headerCounts(header []string) map[string]int {
	n := map[string]int{}
	for _, h := range header {
		n[norm(h)]++
	}
	return n
}

// usable says whether a spec may name column c of header: it is there
// exactly once, is not blank and is not longer than a spec allows.
func usable(have map[string]int, c string) bool {
	return strings.TrimSpace(c) != "" && utf8.RuneCountInString(c) <= maxColumnName && have[norm(c)] == 1
}

// maxColumnName is the longest column name the spec format takes.
const maxColumnName = 500

// fit keeps of a preset's file spec only what the header can feed: fields
// whose columns (or, for a multi-column field, whose remaining columns) are
// there, skip rules and conditions whose column is there, and a source id
// whose columns are all there. A required field that loses its column
// makes the spec invalid, which Propose notices.
func fit(f mapspec.FileSpec, header []string) mapspec.FileSpec {
	have := headerCounts(header)
	// A column is there when its own name or one of its aliases is.
	present := func(c string) bool {
		for _, n := range f.ColumnNames(c) {
			if usable(have, n) {
				return true
			}
		}
		return false
	}
	out := f
	out.SourceID = nil
	all := true
	for _, c := range f.SourceID {
		all = all && present(c)
	}
	if all {
		out.SourceID = f.SourceID
	}
	out.SourceIDFallback = nil
	for _, c := range f.SourceIDFallback {
		if present(c) {
			out.SourceIDFallback = append(out.SourceIDFallback, c)
		}
	}
	out.Skip = nil
	for _, r := range f.Skip {
		if r.When == nil || present(r.When.Column) {
			out.Skip = append(out.Skip, r)
		}
	}
	out.Fields = nil
	for _, fm := range f.Fields {
		if fm.When != nil && !present(fm.When.Column) {
			continue
		}
		switch {
		case fm.Column != "":
			if !present(fm.Column) {
				continue
			}
		case len(fm.Columns) > 0:
			var cols []string
			for _, c := range fm.Columns {
				if present(c) {
					cols = append(cols, c)
				}
			}
			if len(cols) == 0 {
				continue
			}
			fm.Columns = cols
		}
		out.Fields = append(out.Fields, fm)
	}
	return out
}

// addSuggestions maps each column fs does not read yet to its confident
// suggestion, for fs's entity, when fs does not fill that field already
// (a list field it may, when the column's header names the field: a
// "Tags" column beside the one a preset reads into tags adds its values
// rather than being dropped; "E-mail 1 - Label" only contains a name of
// emails, and stays out) and the column is not one to ignore. A list field
// that the result fills from several columns is proposed combined.
func addSuggestions(fs *mapspec.FileSpec, header []string, sugg []mapspec.Suggestion, ignore ...string) {
	ent, _ := schema.Default().Entity(fs.Entity)
	defer func() {
		if ent != nil {
			mapspec.ProposeCombines(fs, ent)
		}
	}()
	another := func(s mapspec.Suggestion) bool { // another column may fill the field too
		if ent == nil || s.Confidence < namedConfidence {
			return false
		}
		fd, ok := ent.Field(s.Target)
		return ok && fd.Type == schema.List
	}
	have := headerCounts(header)
	read := map[string]bool{}
	for _, c := range ignore {
		read[norm(c)] = true
	}
	for c, name := range columnsOf(*fs) {
		read[c] = true
		if i, ok := mapspec.ColumnIndex(*fs, header, name); ok {
			read[norm(header[i])] = true // read under an alias
		}
	}
	filled := map[string]bool{}
	for _, fm := range fs.Fields {
		filled[fm.Target] = true
	}
	for _, s := range sugg {
		if s.Entity != fs.Entity || s.Target == "" || s.Confidence < MinConfidence || filled[s.Target] && !another(s) || read[norm(s.Column)] || !usable(have, s.Column) {
			continue
		}
		filled[s.Target] = true
		fs.Fields = append(fs.Fields, mapspec.FieldMapping{Target: s.Target, Column: s.Column})
	}
}

// filledShare is the share of sample rows whose column c of fs (by its
// name or an alias, as the mapping reads it) is not blank.
func filledShare(fs *mapspec.FileSpec, header []string, sample [][]string, c string) (filled float64, unique bool) {
	i, ok := mapspec.ColumnIndex(*fs, header, c)
	if !ok || len(sample) == 0 {
		return 0, false
	}
	seen := map[string]bool{}
	n := 0
	unique = true
	for _, r := range sample {
		if i < len(r) {
			if v := strings.TrimSpace(r[i]); v != "" {
				n++
				unique = unique && !seen[v]
				seen[v] = true
			}
		}
	}
	return float64(n) / float64(len(sample)), unique
}

// chooseSourceID picks how fs identifies its rows from what the sample
// shows: an id column blank in most rows is no id (Mailchimp's LEID), so
// the e-mail column takes its place; a row whose id is blank falls back to
// its e-mail, then to an id derived from its content. It returns notes
// for a person about the choice.
func chooseSourceID(fs *mapspec.FileSpec, header []string, sample [][]string) []string {
	var notes []string
	have := headerCounts(header)
	mostlyFilled := func(cols []string) bool {
		for _, c := range cols {
			if f, _ := filledShare(fs, header, sample, c); len(sample) > 0 && f < 0.5 {
				return false
			}
		}
		return true
	}
	if len(fs.SourceID) > 0 && !mostlyFilled(fs.SourceID) {
		notes = append(notes, fmt.Sprintf("%s is blank in most rows, so it is not used as the records' id.", strings.Join(fs.SourceID, " + ")))
		fs.SourceID = nil
	}
	if len(fs.SourceID) == 0 {
		for _, s := range mapspec.Suggest(header, sample) {
			if !s.SourceID || !usable(have, s.Column) {
				continue
			}
			if f, uniq := filledShare(fs, header, sample, s.Column); len(sample) == 0 || f >= 0.5 && uniq {
				fs.SourceID = []string{s.Column}
				break
			}
		}
	}
	email := ""
	if ent, ok := schema.Default().Entity(fs.Entity); ok && contains(ent.Identity, "emails") {
		for _, fm := range fs.Fields {
			if fm.Target == "emails" && fm.Column != "" && fm.When == nil {
				if i, ok := mapspec.ColumnIndex(*fs, header, fm.Column); ok && usable(have, header[i]) {
					email = fm.Column
					break
				}
			}
		}
	}
	switch {
	case len(fs.SourceID) > 0:
		if email != "" && !contains(fs.SourceID, email) && !contains(fs.SourceIDFallback, email) {
			fs.SourceIDFallback = append(fs.SourceIDFallback, email)
		}
	case email != "" && mostlyFilled([]string{email}):
		fs.SourceID = []string{email}
		notes = append(notes, fmt.Sprintf("No id column is filled, so each record is identified by its e-mail (%s).", email))
	default:
		notes = append(notes, "No column identifies the records, so each record's id is derived from its e-mail, else its name and phone: keep these the same in the final extract.")
	}
	if ent, ok := schema.Default().Entity(fs.Entity); ok && len(ent.Identity) > 0 {
		fs.SourceIDFrom = mapspec.SourceIDFromContent
	}
	return notes
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

// compiles says whether p's spec parses and compiles on header.
func compiles(p Proposal, header []string) bool {
	raw := ProposeSpec([]Proposal{p}).JSON()
	sp, err := mapspec.Parse(raw)
	if err != nil {
		return false
	}
	_, err = mapspec.Compile(sp.Files[0], schema.Default(), header, "propose", time.Now())
	return err == nil
}

// describe lays out what p.File does with each column of header.
func describe(p Proposal, header []string, sugg []mapspec.Suggestion) []ColumnProposal {
	// The columns a preset's own files read, under their names or aliases.
	byPreset := make([]bool, len(header))
	if p.Preset != "" {
		if pr, ok := Lookup(p.Preset); ok {
			for _, f := range pr.Spec.Files {
				for i, t := range mapspec.ColumnTargets(f, header) {
					byPreset[i] = byPreset[i] || t != ""
				}
			}
		}
	}
	target := mapspec.ColumnTargets(p.File, header) // as the mapping reads them: aliases and inline people too
	ids := make([]bool, len(header))
	for _, c := range p.File.SourceID {
		if i, ok := mapspec.ColumnIndex(p.File, header, c); ok {
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
	have := headerCounts(header)
	out := make([]ColumnProposal, 0, len(header))
	for i, h := range header {
		var s mapspec.Suggestion
		if i < len(sugg) {
			s = sugg[i]
		}
		c := ColumnProposal{Column: h, Confidence: s.Confidence, Reason: s.Reason, SourceID: ids[i]}
		if have[norm(h)] == 1 {
			c.Target = target[i]
		}
		switch {
		case c.Target != "" && p.Preset != "" && byPreset[i]:
			c.By = "preset"
			if c.Target != s.Target {
				c.Confidence, c.Reason = p.Score, "The "+p.Preset+" layout maps it."
			}
		case c.Target != "":
			c.By = "suggestion"
		case c.SourceID:
			c.Confidence, c.Reason = max(s.Confidence, 0.9), "The record's id in the old CRM: it becomes the record's source id, so re-runs and the final migration find the same records."
		case s.Target != "":
			c.Suggested = s.Target
			c.Reason = UnmappedReason(s, filledBy[s.Target])
		default:
			c.Confidence, c.Reason = 0, "Nothing fits: the column will not migrate unless you choose a field."
		}
		out = append(out, c)
	}
	return out
}

// UnmappedReason says why a proposal leaves out a column whose suggestion
// is s: another column (filledBy, "" for none) fills s's field already, or
// s is not sure enough.
func UnmappedReason(s mapspec.Suggestion, filledBy string) string {
	if filledBy != "" && s.Confidence >= MinConfidence {
		return fmt.Sprintf("Suggested %s (%s), but the column %q fills it already: choose a field to migrate it.", s.Target, s.Reason, filledBy)
	}
	return "Suggested " + s.Target + " (" + s.Reason + "), but not sure enough to map it: choose a field to migrate it."
}

// ProposeSpec proposes a whole mapping for several files: each file's
// proposal, with the suggested defaults for the spec and each preset's own
// defaults on its files, so files from different systems keep their own
// date formats, timezone and phone region.
func ProposeSpec(props []Proposal) *mapspec.Spec {
	spec := &mapspec.Spec{Version: mapspec.Version, Defaults: SuggestedDefaults}
	for _, p := range props {
		f := p.File
		if p.Preset != "" {
			d := p.Defaults
			f.Defaults = &d
		}
		spec.Files = append(spec.Files, f)
	}
	return spec
}
