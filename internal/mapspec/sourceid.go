package mapspec

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
)

// ContentIDPrefix starts every id derived from a row's content, so a person
// reading a rejects or review file can tell it from a vendor's own id.
const ContentIDPrefix = "content:"

// compileSourceID resolves the file's id columns (sourceId, then each
// sourceIdFallback column) with col, which fails for a column the file lacks.
func (m *Mapper) compileSourceID(fs FileSpec, col func(string) (int, error)) error {
	for _, c := range fs.SourceID {
		i, err := col(c)
		if err != nil {
			return err
		}
		m.idCols = append(m.idCols, i)
	}
	for _, c := range fs.SourceIDFallback {
		i, err := col(c)
		if err != nil {
			return err
		}
		m.idFallback = append(m.idFallback, i)
	}
	m.idContent = fs.SourceIDFrom == SourceIDFromContent
	m.fieldNames = m.ent.FieldNames()
	return nil
}

// sourceID is the row's id in its source system: the sourceId columns
// joined with "|"; when they are blank, the first filled sourceIdFallback
// column; then, with sourceIdFrom "content", an id derived from the row's
// identifying values. Without any of these, the dedupe key, else "line:N".
func (m *Mapper) sourceID(line int, fields []string, key string, vals []Value) (string, *Issue) {
	if id := m.RowSourceID(fields); id != "" {
		return id, nil
	}
	if m.idContent {
		if id := ContentID(m.ent.Identity, m.fieldNames, vals); id != "" {
			return id, nil
		}
		return "", &Issue{Reason: "the row has no id and nothing that identifies it (" + strings.Join(m.ent.Identity, ", ") + " are all empty)"}
	}
	if len(m.idCols) == 0 && len(m.idFallback) == 0 {
		if key != "" {
			return key, nil
		}
		return "line:" + strconv.Itoa(line), nil
	}
	cols := append(append([]string(nil), m.fs.SourceID...), m.fs.SourceIDFallback...)
	return "", &Issue{Column: strings.Join(cols, " + "), Reason: "the source id is empty"}
}

// ContentID derives a record's id from the values of its identifying
// fields (anyOf, the entity's "at least one of" fields, in names' order of
// vals): the first of them that holds a value which is an e-mail list is
// enough on its own; otherwise every identifying value counts. Values are
// trimmed, lower-cased and list items sorted, so the id does not depend on
// the row's position, case or item order. "" when every one is absent.
func ContentID(anyOf, names []string, vals []Value) string {
	pos := map[string]int{}
	for i, n := range names {
		pos[n] = i
	}
	var parts []string
	for _, f := range anyOf {
		i, ok := pos[f]
		if !ok || i >= len(vals) || vals[i].Kind == Absent {
			continue
		}
		v := vals[i]
		var items []string
		if v.Kind == KList {
			for _, it := range v.List {
				items = append(items, strings.ToLower(strings.TrimSpace(it)))
			}
			sort.Strings(items)
		} else {
			items = []string{strings.ToLower(strings.TrimSpace(v.String()))}
		}
		if f == "emails" {
			// An e-mail identifies a person on its own; other values
			// (a phone added later) must not change the id.
			parts = []string{f + "=" + items[0]}
			break
		}
		parts = append(parts, f+"="+strings.Join(items, ","))
	}
	if len(parts) == 0 {
		return ""
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x1f")))
	return ContentIDPrefix + hex.EncodeToString(sum[:10])
}
