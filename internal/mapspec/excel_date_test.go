package mapspec

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/cutover/cutover/internal/tabular"
)

// TestExcelSerialsReadAlike holds the two readers of an Excel serial date
// to one table: the XLSX reader rendering a date-time cell, and the date
// step with format EXCEL reading the serial a CSV export kept as a number.
// A serial that names no day (before 1 January 1900, the 29 February 1900
// that never was, year 10000 and later) is no date in either: the reader
// shows the number as it is stored, the step refuses it. The workbook is
// written by excelize, so the cells are as Excel's own files hold them.
func TestExcelSerialsReadAlike(t *testing.T) {
	cases := []struct {
		serial string
		want   string // "" when the serial is no date
	}{
		{"-1", ""},
		{"0", ""},   // 0 January 1900
		{"0.5", ""}, // a time of day on no date
		{"1", "1900-01-01T00:00:00"},
		{"1.5", "1900-01-01T12:00:00"},
		{"59", "1900-02-28T00:00:00"},
		{"59.25", "1900-02-28T06:00:00"},
		{"59.999999999", ""}, // rounds to the next second: 29 February 1900
		{"60", ""},           // 29 February 1900, kept from Lotus 1-2-3
		{"60.5", ""},
		{"61", "1900-03-01T00:00:00"},
		{"45292", "2024-01-01T00:00:00"},
		{"45292.5", "2024-01-01T12:00:00"},
		{"45292.999999999", "2024-01-02T00:00:00"}, // rounded to the second
		{"2958465.5", "9999-12-31T12:00:00"},
		{"2958466", ""}, // 10000-01-01
		{"1e300", ""},
	}

	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	dateTime, err := f.NewStyle(&excelize.Style{NumFmt: 22}) // m/d/yy h:mm
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.SetRow("A1", []any{"serial", "when"}); err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		v, err := strconv.ParseFloat(c.serial, 64)
		if err != nil {
			t.Fatal(err)
		}
		if err := sw.SetRow(fmt.Sprintf("A%d", i+2), []any{c.serial, excelize.Cell{Value: v, StyleID: dateTime}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	tables, err := tabular.Open(bytes.NewReader(buf.Bytes()), "serials.xlsx", tabular.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tables[0].Close()

	for _, c := range cases {
		row, err := tables[0].Next()
		if err == io.EOF {
			t.Fatalf("the workbook ends before serial %s", c.serial)
		}
		if err != nil {
			t.Fatal(err)
		}
		if row.Fields[0] != c.serial {
			t.Fatalf("row %d holds serial %q, want %q", row.Line, row.Fields[0], c.serial)
		}
		cell := row.Fields[1]
		if c.want == "" {
			// No date: the cell shows its number.
			v, _ := strconv.ParseFloat(c.serial, 64)
			if n, err := strconv.ParseFloat(cell, 64); err != nil || n != v {
				t.Errorf("serial %s: the XLSX reader shows %q, want the number itself", c.serial, cell)
			}
		} else if cell != c.want {
			t.Errorf("serial %s: the XLSX reader shows %q, want %q", c.serial, cell, c.want)
		}

		got := ""
		if p, ok := parseExcel(c.serial); ok {
			got = fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d", p.y, p.mo, p.d, p.h, p.mi, p.s)
		}
		if got != c.want {
			t.Errorf("serial %s: the EXCEL date step reads %q, want %q", c.serial, got, c.want)
		}
	}
}
