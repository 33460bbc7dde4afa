package tabular

import (
	"math"
	"testing"
)

// TestExcelSerialTime pins each edge ExcelSerialTime documents. The XLSX
// reader and the mapping step's EXCEL format both read serials through it
// (internal/mapspec's TestExcelSerialsReadAlike holds them together).
func TestExcelSerialTime(t *testing.T) {
	for _, tc := range []struct {
		serial   float64
		date1904 bool
		want     string // "" when the serial names no day
	}{
		{-0.5, false, ""},
		{-1, true, ""},
		{math.NaN(), false, ""},
		{math.Inf(1), false, ""},
		{0, false, ""},    // 0 January 1900
		{0.75, false, ""}, // a time alone
		{1, false, "1900-01-01T00:00:00"},
		{1.25, false, "1900-01-01T06:00:00"},
		{59, false, "1900-02-28T00:00:00"},
		{59.9999999999, false, ""}, // rounds to 29 February 1900
		{60, false, ""},
		{60.75, false, ""},
		{61, false, "1900-03-01T00:00:00"},
		{61.0000000001, false, "1900-03-01T00:00:00"},
		{45292.5, false, "2024-01-01T12:00:00"},
		{45292.9999999, false, "2024-01-02T00:00:00"}, // to the nearest second
		{2958465.9999, false, "9999-12-31T23:59:51"},
		{2958465.99999999, false, ""}, // rounds to 10000-01-01
		{2958466, false, ""},
		{0, true, "1904-01-01T00:00:00"},
		{0.5, true, "1904-01-01T12:00:00"},
		{59, true, "1904-02-29T00:00:00"}, // 1904 is a leap year
		{60, true, "1904-03-01T00:00:00"},
		{43830, true, "2024-01-01T00:00:00"}, // 1462 days fewer than in the 1900 system
		{2957003.5, true, "9999-12-31T12:00:00"},
		{2957004, true, ""},
	} {
		got := ""
		if tm, ok := ExcelSerialTime(tc.serial, tc.date1904); ok {
			got = tm.Format("2006-01-02T15:04:05")
			if tm.Location().String() != "UTC" {
				t.Errorf("ExcelSerialTime(%v, %v) is in %s, want UTC", tc.serial, tc.date1904, tm.Location())
			}
		}
		if got != tc.want {
			t.Errorf("ExcelSerialTime(%v, %v) = %q, want %q", tc.serial, tc.date1904, got, tc.want)
		}
	}
}

// TestExcelTimeCells: a cell formatted to show a time alone shows it for
// a serial below 1 (the usual way a time is stored), which is no day.
func TestExcelTimeCells(t *testing.T) {
	for _, tc := range []struct {
		v    string
		k    dateKind
		want string // "" when the cell keeps its number
	}{
		{"0", timeOnly, "00:00:00"},
		{"0.5", timeOnly, "12:00:00"},
		{"0.6041666666666666", timeOnly, "14:30:00"},
		{"45292.75", timeOnly, "18:00:00"},
		{"60.25", timeOnly, "06:00:00"}, // Excel shows the time of its invented day too
		{"-0.5", timeOnly, ""},
		{"0.5", dateOnly, ""},
		{"0.5", dateTime, ""},
		{"60", dateOnly, ""},
	} {
		got, ok := excelDate(tc.v, tc.k, false)
		if !ok {
			got = ""
		}
		if got != tc.want {
			t.Errorf("excelDate(%s, %d) = %q, want %q", tc.v, tc.k, got, tc.want)
		}
	}
}
