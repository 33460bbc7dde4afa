package cutover

import (
	"strconv"
	"unicode/utf8"
)

// SourceRow is the row of an uploaded file a record came from: the file's
// name, the row's line and its cells under the file's header, in the
// file's column order. A TEST record keeps it so that the customer sees
// each record beside what they uploaded without the file being read again.
type SourceRow struct {
	File    string   `json:"file"`
	Line    int      `json:"line"`
	Columns []string `json:"columns"`
	Values  []string `json:"values"`
}

// MaxSourceCellBytes bounds one source cell kept with a TEST record, and
// MaxSourceRowBytes the whole row: a record and its row must fit one
// DynamoDB item (400 KB) however wide or long a row the reader allowed.
// What is cut ends with "…"; the uploaded file keeps the row whole.
const (
	MaxSourceCellBytes = 2 << 10
	MaxSourceRowBytes  = 64 << 10
)

// NewSourceRow copies a row's cells (the reader shares them) under their
// columns, cutting each cell to MaxSourceCellBytes and leaving out the
// cells past MaxSourceRowBytes. A short row's missing cells are "", a
// long row's cells past the header are named "(column N)".
func NewSourceRow(file string, line int, header, row []string) *SourceRow {
	n := max(len(header), len(row))
	s := &SourceRow{File: file, Line: line, Columns: make([]string, 0, n), Values: make([]string, 0, n)}
	size := 0
	for i := 0; i < n; i++ {
		col := ""
		if i < len(header) {
			col = header[i]
		} else {
			col = "(column " + strconv.Itoa(i+1) + ")"
		}
		v := ""
		if i < len(row) {
			v = cutText(row[i], MaxSourceCellBytes)
		}
		size += len(col) + len(v)
		if size > MaxSourceRowBytes {
			break
		}
		s.Columns = append(s.Columns, col)
		s.Values = append(s.Values, v)
	}
	return s
}

// cutText returns s cut to at most max bytes at a rune boundary, "…"
// marking a cut.
func cutText(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// TestRecord is one record as the TEST environment holds it, for the
// customer to browse: its typed fields (strings, booleans, numbers as
// their exact text, lists, money as {amount, currency}), the values left
// out, and the source row it came from.
type TestRecord struct {
	// Key is where the record sits in its environment's order (the TEST
	// table's sort key): a page continues after a record's Key.
	Key      string                  `json:"-"`
	ID       string                  `json:"id"`
	Entity   string                  `json:"entity"`
	SourceID string                  `json:"sourceId"`
	Round    int                     `json:"round"`
	Fields   map[string]any          `json:"fields"`
	Invalid  map[string]InvalidValue `json:"invalid,omitempty"`
	Source   *SourceRow              `json:"source,omitempty"`
}

// TestRecordPage is one page of a migration's TEST records in key order:
// the records and, when more follow, the key to continue after.
type TestRecordPage struct {
	Records []TestRecord
	// After is the key of the last record read ("" when the partition
	// ends here): the next page starts after it.
	After string
}
