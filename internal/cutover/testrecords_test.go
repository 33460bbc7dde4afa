package cutover

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// A source row keeps each cell under its column; a short row's missing
// cells are empty, a long row's extra cells are named by position; a
// cell is cut (at a rune boundary, marked) and the row bounded, so a
// record and its row fit one item however wide a row the reader allowed.
func TestNewSourceRowCopiesAndBounds(t *testing.T) {
	row := []string{"1", "Ann"}
	s := NewSourceRow("c.csv", 7, []string{"id", "name", "email"}, row)
	row[1] = "changed" // the reader reuses its buffers
	if s.File != "c.csv" || s.Line != 7 || strings.Join(s.Columns, ",") != "id,name,email" || strings.Join(s.Values, ",") != "1,Ann," {
		t.Fatalf("short row: %+v", s)
	}
	s = NewSourceRow("c.csv", 2, []string{"id"}, []string{"1", "extra"})
	if strings.Join(s.Columns, ",") != "id,(column 2)" {
		t.Fatalf("long row: %+v", s)
	}
	long := strings.Repeat("é", MaxSourceCellBytes)
	s = NewSourceRow("c.csv", 2, []string{"a"}, []string{long})
	if v := s.Values[0]; len(v) > MaxSourceCellBytes || !utf8.ValidString(v) || !strings.HasSuffix(v, "…") {
		t.Fatalf("cell cut to %d bytes, valid %v", len(v), utf8.ValidString(v))
	}
	wide := make([]string, 200)
	for i := range wide {
		wide[i] = strings.Repeat("x", MaxSourceCellBytes)
	}
	s = NewSourceRow("c.csv", 2, nil, wide)
	size := 0
	for i := range s.Values {
		size += len(s.Columns[i]) + len(s.Values[i])
	}
	if size > MaxSourceRowBytes || len(s.Values) == 0 || len(s.Values) == 200 {
		t.Fatalf("a wide row kept %d cells, %d bytes", len(s.Values), size)
	}
}
