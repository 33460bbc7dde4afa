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
