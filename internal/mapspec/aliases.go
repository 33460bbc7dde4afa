package mapspec

// Column aliases. One agency CRM writes "Tenancy ID", another "Tenancy
// Ref", a third "Agreement No": the same column under other words. A file
// spec's "aliases" lists, per column it reads, the other headers that mean
// the same, so one preset maps every layout whose columns mean the same
// things instead of one exact header list. The column's own name wins;
// otherwise the first alias the header has.

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// lookupColumn finds the column called name in a header index (normalised
// header -> position), directly or by one of its aliases, and returns its
// position and normalised header.
func lookupColumn(f *FileSpec, idx map[string]int, name string) (int, string, bool) {
	k := normCol(name)
	if i, ok := idx[k]; ok {
		return i, k, true
	}
	for col, alts := range f.Aliases {
		if normCol(col) != k {
			continue
		}
		for _, a := range alts {
			if i, ok := idx[normCol(a)]; ok {
				return i, normCol(a), true
			}
		}
	}
	return 0, k, false
}

func validateAliases(f *FileSpec, p string) error {
	seen, keys := map[string]string{}, map[string]string{}
	for _, col := range slices.Sorted(maps.Keys(f.Aliases)) {
		alts := f.Aliases[col]
		if strings.TrimSpace(col) == "" {
			return invalid(p+".aliases", "a column name cannot be empty")
		}
		if other, dup := keys[normCol(col)]; dup {
			return invalid(p+".aliases", "%q and %q are the same column", other, col)
		}
		keys[normCol(col)] = col
		for i, a := range alts {
			ap := fmt.Sprintf("%s.aliases%s[%d]", p, pathKey(col), i)
			if strings.TrimSpace(a) == "" {
				return invalid(ap, "an alias cannot be empty")
			}
			if other, dup := seen[normCol(a)]; dup && other != col {
				return invalid(ap, "%q is an alias of both %q and %q", a, other, col)
			}
			seen[normCol(a)] = col
		}
	}
	return nil
}

// headerIndex indexes header by normalised name, each name at its first
// column, as Compile binds the columns.
func headerIndex(header []string) map[string]int {
	idx := make(map[string]int, len(header))
	for i, h := range header {
		if _, ok := idx[normCol(h)]; !ok {
			idx[normCol(h)] = i
		}
	}
	return idx
}

// ColumnIndex returns the column of header that f reads as name: the
// column of that name or, failing that, of one of its aliases, as Compile
// finds it; false when the header has neither.
func ColumnIndex(f FileSpec, header []string, name string) (int, bool) {
	i, _, ok := lookupColumn(&f, headerIndex(header), name)
	return i, ok
}

// ColumnTargets returns, for each column of header, the field f fills from
// it as Compile binds it: the first mapping that reads the column under
// its own name or an alias, else the reference an inline entry fills from
// it (the column naming the people, or their e-mail or phone); "" when
// nothing reads it. It is what a person is shown of a mapping, column by
// column, so it must agree with what the mapping does.
func ColumnTargets(f FileSpec, header []string) []string {
	idx := headerIndex(header)
	out := make([]string, len(header))
	set := func(column, target string) {
		if i, _, ok := lookupColumn(&f, idx, column); ok && out[i] == "" {
			out[i] = target
		}
	}
	for _, fm := range f.Fields {
		for _, c := range fm.SourceColumns() {
			set(c, fm.Target)
		}
	}
	for _, in := range f.Inline {
		for _, c := range []string{in.Name, in.Email, in.Phone} {
			if c != "" {
				set(c, in.Target)
			}
		}
	}
	return out
}
