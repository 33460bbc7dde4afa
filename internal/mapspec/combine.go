package mapspec

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cutover/cutover/internal/schema"
)

// combineSeparator is the text a concat rule joins with.
func combineSeparator(r CombineRule) string {
	if r.Separator != nil {
		return *r.Separator
	}
	return DefaultSeparator
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
func validateCombine(f *FileSpec, p string, e *schema.Entity) error {
	feeds := map[string]int{}
	for _, m := range f.Fields {
		feeds[m.Target]++
	}
	for _, target := range slices.Sorted(maps.Keys(f.Combine)) {
		r := f.Combine[target]
		rp := p + ".combine" + pathKey(target)
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
		joined := strings.Join(parts, combineSeparator(g.rule))
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
