package signoff

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapdoc"
	"github.com/cutover/cutover/internal/schema"
)

// MappedFile is one file entry of the mapping the coordinator approves:
// which column fills which field, so approving means approving exactly
// what the final migration will run.
type MappedFile struct {
	File   string        `json:"file"`  // the uploaded file's name (" [Sheet]" for a workbook's sheet)
	Entry  string        `json:"entry"` // the mapping's entry: the file's id, and "#Sheet" for a sheet
	Entity string        `json:"entity"`
	Fields []MappedField `json:"fields"`
}

// MappedField is one mapping of columns to a field. How reads only the
// choices that change what lands (a date's format, a phone's region, a
// money field's currency and period, how several columns combine), in
// words; cosmetic steps (trim, case) are left out.
type MappedField struct {
	Columns []string `json:"columns"` // empty for a constant
	Field   string   `json:"field"`
	How     []string `json:"how,omitempty"`
}

// combineChoice is how the mappings of a field several columns fill
// combine: the file's rule for it, else the engine's default for its type.
// Combine is "" for a field one mapping fills.
type combineChoice struct {
	Combine   string
	Separator string
}

// combineChoices returns each target's combine choice in fs.
func combineChoices(fs mapdoc.FileSpec, ent *schema.Entity) map[string]combineChoice {
	n := map[string]int{}
	for _, fm := range fs.Fields {
		n[fm.Target]++
	}
	out := map[string]combineChoice{}
	for target, k := range n {
		if k < 2 {
			continue
		}
		var fd *schema.Field
		if ent != nil {
			fd, _ = ent.Field(target)
		}
		cc := combineChoice{Separator: mapdoc.DefaultSeparator}
		if r, ok := fs.Combine[target]; ok {
			cc.Combine = r.Mode
			if r.Separator != nil {
				cc.Separator = *r.Separator
			}
		} else if fd != nil {
			cc.Combine = mapdoc.DefaultCombine(fd)
		}
		out[target] = cc
	}
	return out
}

// describeMapping turns the approved mapping (JSON, as stored on the
// migration) into MappedFiles, reading the target schema for the
// conversion a field's type implies when its steps name none; label names
// an entry for people (its entries are named by file id).
//
// Errors: EINTERNAL when the stored mapping is not a mapping (it was
// validated when saved, so this is a bug).
func describeMapping(specJSON string, sch *schema.Schema, label func(entry string) string) ([]MappedFile, error) {
	if strings.TrimSpace(specJSON) == "" {
		return nil, nil
	}
	var spec mapdoc.Spec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil {
		return nil, cutover.Wrap(cutover.EINTERNAL, err, "The approved mapping could not be read.")
	}
	out := make([]MappedFile, 0, len(spec.Files))
	for _, fs := range spec.Files {
		defs := spec.Defaults
		if fs.Defaults != nil {
			defs = fs.Defaults.Over(spec.Defaults)
		}
		ent, _ := sch.Entity(fs.Entity)
		mf := MappedFile{File: label(fs.Name), Entry: fs.Name, Entity: fs.Entity, Fields: make([]MappedField, 0, len(fs.Fields))}
		choices := combineChoices(fs, ent)
		for _, fm := range fs.Fields {
			var fd *schema.Field
			if ent != nil {
				fd, _ = ent.Field(fm.Target)
			}
			mf.Fields = append(mf.Fields, MappedField{Columns: append([]string{}, fm.SourceColumns()...), Field: fm.Target, How: howWords(fm, fd, defs, choices[fm.Target])})
		}
		out = append(out, mf)
	}
	return out, nil
}

// entryLabel names a mapping entry by its file's name, as the workbook
// does ("name [Sheet]" for a workbook's sheet); an entry whose file is not
// on the migration keeps its own name.
func entryLabel(m *cutover.Migration) func(string) string {
	return func(entry string) string {
		id, sheet, _ := strings.Cut(entry, "#")
		f := m.FileByID(id)
		if f == nil {
			return entry
		}
		if sheet != "" {
			return f.Name + " [" + sheet + "]"
		}
		return f.Name
	}
}

// howWords says, in words, the choices of one field mapping that change
// what lands.
func howWords(fm mapdoc.FieldMapping, fd *schema.Field, defs mapdoc.Defaults, cc combineChoice) []string {
	var out []string
	if fm.Constant != nil {
		out = append(out, fmt.Sprintf("always %q", *fm.Constant))
	}
	if fm.Default != nil {
		out = append(out, fmt.Sprintf("%q when empty", *fm.Default))
	}
	if fm.When != nil {
		out = append(out, "only when "+conditionWords(*fm.When))
	}
	steps := fm.Steps
	if fd != nil && !hasConversion(steps) {
		switch fd.ItemType() {
		case schema.Date, schema.DateTime:
			steps = append(steps, mapdoc.Step{Op: "date"})
		case schema.Phone:
			steps = append(steps, mapdoc.Step{Op: "phone"})
		case schema.Money:
			steps = append(steps, mapdoc.Step{Op: "money"})
		}
	}
	for _, st := range steps {
		if w := stepWords(st, defs); w != "" {
			out = append(out, w)
		}
	}
	switch cc.Combine {
	case "":
	case "combine":
		out = append(out, "combined with the other columns mapped to this field (every value kept)")
	case "first":
		out = append(out, "the first non-empty of the columns mapped to this field")
	case "concat":
		out = append(out, fmt.Sprintf("joined with the other columns mapped to this field, separated by %q", cc.Separator))
	default:
		out = append(out, "several columns: "+cc.Combine)
	}
	if fm.Strict {
		out = append(out, "a value that cannot be read rejects the row")
	}
	return out
}

func hasConversion(steps []mapdoc.Step) bool {
	for _, st := range steps {
		switch st.Op {
		case "date", "phone", "money", "amount":
			return true
		}
	}
	return false
}

// stepWords is one step's choice in words, or "" for a step whose choice
// does not need approving.
func stepWords(st mapdoc.Step, defs mapdoc.Defaults) string {
	switch st.Op {
	case "date":
		formats := st.Formats
		if len(formats) == 0 {
			formats = defs.DateFormats
		}
		if len(formats) == 0 {
			return "date format inferred from the file (see the inferred formats)"
		}
		return "dates read as " + strings.Join(formats, " or ")
	case "phone":
		region := st.Region
		if region == "" {
			region = defs.Region
		}
		if region == "" || region == mapdoc.RegionAuto {
			return "phone region inferred per row and file, else the market (see the inferred regions)"
		}
		return "phone numbers without a country code read as " + region
	case "money", "amount":
		cur := st.Currency
		if cur == "" {
			cur = defs.Currency
		}
		if cur == "" {
			cur = "GBP"
		}
		w := "amounts in " + cur
		if st.Per != "" {
			w += ", converted to a " + strings.ReplaceAll(st.Per, "_", "-") + " amount"
		}
		return w
	case "lookup":
		return fmt.Sprintf("values translated by a table of %d entries", len(st.Table))
	case "constant":
		if st.Value != nil {
			return fmt.Sprintf("always %q", *st.Value)
		}
	}
	return ""
}

func conditionWords(c mapdoc.Condition) string {
	switch {
	case c.Empty != nil && *c.Empty:
		return c.Column + " is empty"
	case c.Empty != nil:
		return c.Column + " is not empty"
	case len(c.In) > 0:
		return fmt.Sprintf("%s is one of %s", c.Column, strings.Join(c.In, ", "))
	case len(c.NotIn) > 0:
		return fmt.Sprintf("%s is none of %s", c.Column, strings.Join(c.NotIn, ", "))
	}
	return c.Column
}
