package mapspec

import "strings"

// RowSourceID reads a row's source id from the mapping's id columns
// (sourceId, then the first filled sourceIdFallback column) without
// mapping the row, so the workbook can name a row that was rejected or
// skipped by the id the customer knows it by. It is "" when the row's id
// columns are blank, or when the mapping has none (an id derived from the
// row's content or its dedupe key cannot be read from a row that did not
// map): such a row cannot be named. It is safe to call on a Mapper shared
// by goroutines, as it only reads the compiled columns.
func (m *Mapper) RowSourceID(fields []string) string {
	cell := func(i int) string {
		if i < len(fields) {
			return strings.TrimSpace(fields[i])
		}
		return ""
	}
	parts := make([]string, len(m.idCols))
	empty := true
	for i, c := range m.idCols {
		parts[i] = cell(c)
		empty = empty && parts[i] == ""
	}
	if !empty {
		return strings.Join(parts, "|")
	}
	for _, c := range m.idFallback {
		if v := cell(c); v != "" {
			return v
		}
	}
	return ""
}

// Survivor is the record that rec, added under dedupe key key, was merged
// into (Add returned true), so the workbook can say into which record a
// row went; nil when rec's group is unknown to m.
func (m *Merger) Survivor(rec *Record, key string) *Record {
	if key == "" {
		return nil
	}
	k := rec.Entity + "\x00" + key
	if !m.allow[rec.Entity] {
		k += "\x00" + rec.SourceID
	}
	if g, ok := m.groups[k]; ok {
		return g.rec
	}
	return nil
}
