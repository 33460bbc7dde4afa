package mapspec

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/schema"
)

// How several mappings of one target field combine (FileSpec.Combine).
// Two columns mapped to one field used to keep only the first non-empty
// value, silently: a customer who mapped "Lifecycle Stage" and "Tags" to
// tags lost the tags. Now the choice is explicit, or the default keeps
// every value of a list and reports every value another column overruled.
const (
	// CombineAll keeps every value of every mapping, in mapping order,
	// each once. Only for list fields; their default.
	CombineAll = "combine"
	// CombineFirst keeps the first non-empty value; the values of later
	// mappings are not migrated and are reported (workbook). The default
	// for fields that are not lists.
	CombineFirst = "first"
	// CombineConcat joins the non-empty values with Separator. Only for
	// string and text fields.
	CombineConcat = "concat"
)

// DefaultSeparator joins concatenated values when the rule names none.
const DefaultSeparator = "; "

// CombineRule says how the mappings of one target field combine.
type CombineRule struct {
	Mode string `json:"mode"`
	// Separator joins the values of a concat rule ("; " when nil).
	Separator *string `json:"separator,omitempty"`
}

// separator is the text a concat rule joins with.
func (r CombineRule) separator() string {
	if r.Separator != nil {
		return *r.Separator
	}
	return DefaultSeparator
}

// DefaultCombine is how several mappings of fd combine when the spec does
// not say: a list keeps every value, any other field the first non-empty.
func DefaultCombine(fd *schema.Field) string {
	if fd.Type == schema.List {
		return CombineAll
	}
	return CombineFirst
}

// combineFits says why mode cannot combine values of fd, or "".
func combineFits(mode string, fd *schema.Field) string {
	switch mode {
	case CombineAll:
		if fd.Type != schema.List {
			return fmt.Sprintf("%q keeps several values, and field %q (%s) holds one: use %q or %q", CombineAll, fd.Name, fd.Type, CombineFirst, CombineConcat)
		}
	case CombineConcat:
		if fd.Type != schema.String && fd.Type != schema.Text {
			return fmt.Sprintf("%q joins text, and field %q is a %s: use %q", CombineConcat, fd.Name, fd.Type, firstOrAll(fd))
		}
	case CombineFirst:
	default:
		return fmt.Sprintf("unknown mode %q (known: %s, %s, %s)", mode, CombineAll, CombineFirst, CombineConcat)
	}
	return ""
}

func firstOrAll(fd *schema.Field) string {
	if fd.Type == schema.List {
		return CombineAll + `" or "` + CombineFirst
	}
	return CombineFirst
}

// validateCombine checks the file's combine rules: each names a field of
// e that several mappings fill, with a mode that fits its type, and a
// separator only for concat.
func (f *FileSpec) validateCombine(p string, e *schema.Entity) error {
	feeds := map[string]int{}
	for _, m := range f.Fields {
		feeds[m.Target]++
	}
	for _, target := range slices.Sorted(maps.Keys(f.Combine)) {
		r := f.Combine[target]
		rp := p + ".combine." + target
		fd, ok := e.Field(target)
		if !ok {
			return invalid(rp, "entity %q has no field %q", e.Name, target)
		}
		if feeds[target] < 2 {
			return invalid(rp, "field %q is filled by %d mapping(s): a choice of how to combine applies to a field that several columns fill", target, feeds[target])
		}
		if why := combineFits(r.Mode, fd); why != "" {
			return invalid(rp+".mode", "%s", why)
		}
		if r.Separator != nil && r.Mode != CombineConcat {
			return invalid(rp+".separator", "a separator only applies to mode %q", CombineConcat)
		}
	}
	return nil
}

// ProposeCombines makes explicit, for every list field of f that several
// mappings fill and that has no rule yet, that their values combine, so
// a proposal says what it does rather than leaving it to the default.
// Fields that are not lists are left to the default (first non-empty,
// with what is dropped reported), and e names f's entity's fields.
func ProposeCombines(f *FileSpec, e *schema.Entity) {
	feeds := map[string]int{}
	for _, m := range f.Fields {
		feeds[m.Target]++
	}
	for _, m := range f.Fields {
		fd, ok := e.Field(m.Target)
		if !ok || feeds[m.Target] < 2 || fd.Type != schema.List {
			continue
		}
		if _, set := f.Combine[m.Target]; set {
			continue
		}
		if f.Combine == nil {
			f.Combine = map[string]CombineRule{}
		}
		f.Combine[m.Target] = CombineRule{Mode: CombineAll}
	}
}

// compiledGroup is a target field several mappings fill.
type compiledGroup struct {
	fd       *schema.Field
	rule     CombineRule
	explicit bool  // the spec chose the rule; else the default applies
	members  []int // indexes into Mapper.fields, in spec order
}

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
		cf := CombinedField{Field: g.fd.Name, Mode: g.rule.Mode, Explicit: g.explicit, DroppedBy: map[string]int{},
			Examples: []CombinedValue{}, DroppedExamples: []CombinedValue{}}
		if g.rule.Mode == CombineConcat {
			cf.Separator = g.rule.separator()
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

// compileGroups finds the target fields several compiled mappings fill
// and how each combines, and marks their mappings.
func (m *Mapper) compileGroups() {
	byTarget := map[string]int{}
	var order []string
	for i := range m.fields {
		m.fields[i].group = -1
		n := m.fields[i].fd.Name
		if byTarget[n] == 0 {
			order = append(order, n)
		}
		byTarget[n]++
	}
	for _, n := range order {
		if byTarget[n] < 2 {
			continue
		}
		g := compiledGroup{}
		for i := range m.fields {
			if m.fields[i].fd.Name == n {
				g.fd = m.fields[i].fd
				g.members = append(g.members, i)
				m.fields[i].group = len(m.groups)
			}
		}
		g.rule, g.explicit = m.fs.Combine[n]
		if !g.explicit {
			g.rule = CombineRule{Mode: DefaultCombine(g.fd)}
		}
		m.groups = append(m.groups, g)
	}
}

// mapGroup fills the field of group g for one row from all its mappings,
// as its rule says, and returns the row's account of it (nil when fewer
// than two columns had a value and none was dropped).
func (m *Mapper) mapGroup(g *compiledGroup, line int, fields []string, vals []Value, errs *[]Issue, bad *[]InvalidValue) *CombinedValue {
	w := &m.w
	idx := g.fd.Index
	var list []string
	var parts, partRaw, partCols []string
	var sources []Source
	var dropped []string
	filled := 0
	winner := ""
	for _, mi := range g.members {
		cf := &m.fields[mi]
		if cf.when != nil && !cf.when.match(fields) {
			continue
		}
		raw := rawValue(cf, fields)
		fed := cf.constant == nil && strings.TrimSpace(strings.ReplaceAll(raw, " | ", "")) != ""
		if cf.constant == nil {
			sources = append(sources, Source{Column: cf.label, Value: raw})
			if fed {
				filled++
			}
		}
		if g.rule.Mode == CombineFirst && vals[idx].Kind != Absent {
			if !fed {
				continue
			}
			// Evaluated only to see whether its value differs: what it
			// would warn about is not this row's concern.
			nw := len(w.warns)
			v, reason, _ := m.eval(cf, fields)
			w.warns = w.warns[:nw]
			if reason != "" || v.Kind != Absent && !v.Equal(vals[idx]) {
				dropped = append(dropped, cf.label)
				if !g.explicit {
					w.field, w.column = g.fd.Name, cf.label
					w.warn(raw, fmt.Sprintf("not migrated: %s already has a value from %s, and the first non-empty of the columns that fill it wins (choose how they combine in the mapping)", g.fd.Name, winner))
				}
			}
			continue
		}
		v, reason, items := m.eval(cf, fields)
		if items != nil && !hasInvalid(*bad, g.fd.Name) {
			*bad = append(*bad, *items)
		}
		if reason != "" {
			if cf.strict {
				*errs = append(*errs, Issue{Field: g.fd.Name, Column: cf.label, Value: raw, Reason: reason})
			} else if !hasInvalid(*bad, g.fd.Name) {
				*bad = append(*bad, InvalidValue{Field: g.fd.Name, Column: cf.label, Value: raw, Reason: reason})
			}
			continue
		}
		if v.Kind == Absent {
			continue
		}
		switch g.rule.Mode {
		case CombineFirst:
			vals[idx], winner = v, cf.label
		case CombineAll:
		next:
			for _, s := range v.List {
				for _, have := range list {
					if have == s {
						continue next
					}
				}
				list = append(list, s)
			}
		case CombineConcat:
			parts, partRaw, partCols = append(parts, v.Str), append(partRaw, raw), append(partCols, cf.label)
		}
	}
	switch {
	case g.rule.Mode == CombineAll && len(list) > 0:
		vals[idx] = Value{Kind: KList, List: list}
	case g.rule.Mode == CombineConcat && len(parts) > 0:
		joined := strings.Join(parts, g.rule.separator())
		if c, reason := checkItem(g.fd, g.fd.Type, joined); reason != "" {
			label, raw := strings.Join(partCols, " + "), strings.Join(partRaw, " | ")
			strict := false
			for _, mi := range g.members {
				strict = strict || m.fields[mi].strict
			}
			if strict {
				*errs = append(*errs, Issue{Field: g.fd.Name, Column: label, Value: raw, Reason: "joined: " + reason})
			} else if !hasInvalid(*bad, g.fd.Name) {
				*bad = append(*bad, InvalidValue{Field: g.fd.Name, Column: label, Value: raw, Reason: "joined: " + reason})
			}
		} else {
			vals[idx] = Value{Kind: KString, Str: c}
		}
	}
	if filled < 2 && len(dropped) == 0 {
		return nil
	}
	return &CombinedValue{Field: g.fd.Name, Line: line, Sources: sources, Result: vals[idx].String(), Dropped: dropped}
}
