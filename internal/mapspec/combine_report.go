package mapspec

import (
	"strings"

	"github.com/cutover/cutover/internal/cutover"
)

// CombinedValue is one row's account of a field several columns fill:
// each column's value, what the record got, and the columns whose values
// did not make it into the record.
type CombinedValue struct {
	Field    string   `json:"field"`
	Line     int      `json:"line"`
	SourceID string   `json:"sourceId,omitempty"`
	Sources  []Source `json:"sources"`
	Result   string   `json:"result"`
	Dropped  []string `json:"dropped,omitempty"` // columns whose non-empty values were not migrated
}

// Source is one mapping's column(s) and raw value in a row.
type Source struct {
	Column string `json:"column"`
	Value  string `json:"value"`
}

// CombinedField is, for one file, the account of one field several
// columns fill: how they combine, in how many migrated rows more than one
// of them had a value, and every value that was not migrated, counted by
// column, with examples.
type CombinedField struct {
	Field     string   `json:"field"`
	Mode      string   `json:"mode"`
	Separator string   `json:"separator,omitempty"`
	Explicit  bool     `json:"explicit"` // the spec chose the mode; else it is the default
	Columns   []string `json:"columns"`
	Rows      int      `json:"rows"`        // migrated rows where several of the columns had a value
	Dropped   int      `json:"droppedRows"` // migrated rows where a value was not migrated
	// DroppedBy counts, per column, the values not migrated.
	DroppedBy map[string]int `json:"droppedBy"`
	// Examples are the first rows where several columns had a value
	// (the spot check); DroppedExamples the first rows that lost one.
	Examples        []CombinedValue `json:"examples"`
	DroppedExamples []CombinedValue `json:"droppedExamples"`
}

// CombinedExamples is how many example rows CombinedField keeps of each kind.
const CombinedExamples = 5

// CombinedValueBytes bounds each value an example keeps (cut at a rune
// boundary, marked "…"): a report with its examples is stored with each
// final chunk, and a long notes column must not make it too big to keep.
const CombinedValueBytes = 200

// example is v with its values cut to CombinedValueBytes, sharing nothing
// with the row.
func example(v CombinedValue) CombinedValue {
	out := v
	out.Sources = make([]Source, len(v.Sources))
	for i, s := range v.Sources {
		out.Sources[i] = Source{Column: s.Column, Value: cutover.Clip(s.Value, CombinedValueBytes)}
	}
	out.Result = cutover.Clip(v.Result, CombinedValueBytes)
	out.Dropped = append([]string(nil), v.Dropped...)
	return out
}

// Combined lists, in the file's field order, the fields several of the
// file's mappings fill, with empty counts: TallyCombined fills them in.
func (m *Mapper) Combined() []CombinedField {
	out := make([]CombinedField, 0, len(m.groups))
	for _, g := range m.groups {
		cf := CombinedField{
			Field: g.fd.Name, Mode: g.rule.Mode, Explicit: g.explicit, DroppedBy: map[string]int{},
			Examples: []CombinedValue{}, DroppedExamples: []CombinedValue{},
		}
		if g.rule.Mode == CombineConcat {
			cf.Separator = combineSeparator(g.rule)
		}
		for _, i := range g.members {
			cf.Columns = append(cf.Columns, m.fields[i].label)
		}
		out = append(out, cf)
	}
	return out
}

// TallyCombined counts one migrated row's combined values into fields.
func TallyCombined(fields []CombinedField, vs []CombinedValue) {
	for _, v := range vs {
		for i := range fields {
			f := &fields[i]
			if f.Field != v.Field {
				continue
			}
			filled := 0
			for _, s := range v.Sources {
				if strings.TrimSpace(s.Value) != "" {
					filled++
				}
			}
			if filled >= 2 {
				f.Rows++
				if len(f.Examples) < CombinedExamples {
					f.Examples = append(f.Examples, example(v))
				}
			}
			if len(v.Dropped) > 0 {
				f.Dropped++
				for _, c := range v.Dropped {
					f.DroppedBy[c]++
				}
				if len(f.DroppedExamples) < CombinedExamples {
					f.DroppedExamples = append(f.DroppedExamples, example(v))
				}
			}
		}
	}
}
