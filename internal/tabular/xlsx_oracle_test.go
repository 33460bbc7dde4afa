package tabular

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// The tests in this file use excelize as an oracle: it writes workbooks
// the way a real producer does (its StreamWriter, shared strings, rich
// text, the 1904 date system), and its own reader says what each cell
// holds. Our streaming reader stays in production for its memory and
// zip-bomb limits; excelize is a test dependency only.
//
// Where we deliberately differ from excelize's reader, oracleCompare says
// so and checks the difference is the documented one:
//   - date cells are ISO 8601 (2024-01-01, 2024-01-01T12:00:00, 12:00:00),
//     not the cell's display format (01-01-24); excelize's own
//     ExcelDateToTime of the raw serial must give the same moment;
//   - numbers are the stored value (0.1, 1e-07), not their General
//     display, which excelize renders with 11 significant digits;
//   - rows with no value are not rows (excelize lists them empty), so we
//     compare by row number (Row.Line);
//   - header names are trimmed of surrounding space;
//   - hidden sheets and sheets with no value are not tables (unless
//     Options.Sheet names a hidden one); excelize lists every sheet.

// sheetWant is what excelize reads from one sheet.
type sheetWant struct {
	formatted [][]string
	raw       [][]string
	date1904  bool
	hidden    bool
	kinds     map[string]dateKind // by cell reference, for date cells
}

// oracleRead reads every sheet of a workbook with excelize.
func oracleRead(t *testing.T, data []byte, dateCells map[string]map[string]dateKind) map[string]sheetWant {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("excelize cannot read the workbook: %v", err)
	}
	defer f.Close()
	props, err := f.GetWorkbookProps()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]sheetWant{}
	for _, name := range f.GetSheetList() {
		formatted, err := f.GetRows(name)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := f.GetRows(name, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		visible, err := f.GetSheetVisible(name)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = sheetWant{formatted: formatted, raw: raw, date1904: props.Date1904 != nil && *props.Date1904, hidden: !visible, kinds: dateCells[name]}
	}
	return out
}

// oracleCompare reads data with Open and checks every sheet against
// what excelize read.
func oracleCompare(t *testing.T, data []byte, want map[string]sheetWant) {
	t.Helper()
	res, err := readAll(t, bytes.NewReader(data), "oracle.xlsx", Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	var tables []string
	for name, w := range want {
		if !w.hidden && slices.ContainsFunc(w.formatted, func(row []string) bool { return len(trimEmpty(row)) > 0 }) {
			tables = append(tables, name)
		}
	}
	if len(res) != len(tables) {
		t.Fatalf("we read %d sheets, excelize %d visible ones with values (%q)", len(res), len(tables), tables)
	}
	for _, r := range res {
		w, ok := want[r.format.Sheet]
		if !ok || !slices.Contains(tables, r.format.Sheet) {
			t.Fatalf("we read sheet %q, which excelize does not list as visible with values", r.format.Sheet)
		}
		header := slices.Clone(w.formatted[0])
		for i := range header {
			header[i] = strings.TrimSpace(header[i])
		}
		if !slices.Equal(r.header, trimEmpty(header)) {
			t.Errorf("sheet %q: header %q, excelize %q", r.format.Sheet, r.header, header)
		}
		seen := map[int]bool{}
		for i, fields := range r.rows {
			line := r.lines[i]
			seen[line] = true
			if line > len(w.formatted) {
				t.Errorf("sheet %q: we read row %d, excelize has %d rows", r.format.Sheet, line, len(w.formatted))
				continue
			}
			got := trimEmpty(fields)
			formatted := trimEmpty(w.formatted[line-1])
			raw := w.raw[line-1]
			if len(got) != len(formatted) {
				t.Errorf("sheet %q row %d: we read %q, excelize %q", r.format.Sheet, line, got, formatted)
				continue
			}
			for col, v := range got {
				ref := columnName(col) + strconv.Itoa(line)
				wantV := formatted[col]
				if k, ok := w.kinds[ref]; ok && isFloat(raw[col]) {
					wantV = oracleDate(t, raw[col], k, w.date1904)
				} else if isFloat(raw[col]) && raw[col] != formatted[col] && formatted[col] != "TRUE" && formatted[col] != "FALSE" {
					wantV = raw[col] // a number: the stored value, not its display
				}
				if v != wantV {
					t.Errorf("sheet %q cell %s: we read %q, excelize %q (raw %q)", r.format.Sheet, ref, v, formatted[col], raw[col])
				}
			}
		}
		for i, row := range w.formatted {
			if i > 0 && !seen[i+1] && len(trimEmpty(row)) > 0 {
				t.Errorf("sheet %q: excelize reads row %d as %q, we skipped it", r.format.Sheet, i+1, row)
			}
		}
	}
}

// oracleDate is a date cell as we render it, computed from excelize's
// reading of the serial.
func oracleDate(t *testing.T, raw string, k dateKind, date1904 bool) string {
	t.Helper()
	serial, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		t.Fatalf("date cell holds %q", raw)
	}
	tm, err := excelize.ExcelDateToTime(serial, date1904)
	if err != nil {
		t.Fatal(err)
	}
	tm = tm.Round(time.Second)
	switch k {
	case dateOnly:
		return tm.Format("2006-01-02")
	case timeOnly:
		return tm.Format("15:04:05")
	}
	return tm.Format("2006-01-02T15:04:05")
}

func isFloat(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

func trimEmpty(row []string) []string {
	for len(row) > 0 && row[len(row)-1] == "" {
		row = row[:len(row)-1]
	}
	return row
}

func workbookBytes(t *testing.T, f *excelize.File) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func style(t *testing.T, f *excelize.File, s *excelize.Style) int {
	t.Helper()
	id, err := f.NewStyle(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func ptr[T any](v T) *T { return &v }

// streamedWorkbook writes two sheets with excelize's StreamWriter (inline
// strings, rich text, numbers, booleans, dates in built-in and custom
// formats, times, empty cells and rows) and one with its ordinary API,
// which keeps text in the shared-string table. It returns the workbook
// and which cells are dates, of which kind.
func streamedWorkbook(t *testing.T, date1904 bool) ([]byte, map[string]map[string]dateKind) {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if date1904 {
		if err := f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: ptr(true)}); err != nil {
			t.Fatal(err)
		}
	}
	dateOnlyStyle := style(t, f, &excelize.Style{NumFmt: 14})                         // m/d/yyyy, built in
	dmy := style(t, f, &excelize.Style{CustomNumFmt: ptr("dd/mm/yyyy")})              // custom
	dateTimeStyle := style(t, f, &excelize.Style{NumFmt: 22})                         // m/d/yy h:mm
	isoTime := style(t, f, &excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd hh:mm:ss")}) // custom
	timeOnlyStyle := style(t, f, &excelize.Style{NumFmt: 21})                         // h:mm:ss
	money := style(t, f, &excelize.Style{NumFmt: 4})                                  // #,##0.00: not a date
	dates := map[string]map[string]dateKind{"People": {}, "Calls": {}}

	if err := f.SetSheetName("Sheet1", "People"); err != nil {
		t.Fatal(err)
	}
	sw, err := f.NewStreamWriter("People")
	if err != nil {
		t.Fatal(err)
	}
	header := []any{"Name", " Email ", "Score", "Active", "Joined", "Birthday", "Updated", "Balance", "Note"}
	if err := sw.SetRow("A1", header); err != nil {
		t.Fatal(err)
	}
	joined := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := [][]any{
		{"Ada Lovelace", "ada@example.com", 42, true, joined, time.Date(1815, 12, 10, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 13, 45, 30, 0, time.UTC), 1234.5, "first"},
		{"  Émile Zola ", "", 0.1, false, joined.AddDate(0, 0, 1), nil, time.Date(1900, 3, 1, 6, 0, 0, 0, time.UTC), -3.25, []excelize.RichTextRun{{Text: "bold ", Font: &excelize.Font{Bold: true}}, {Text: "and plain"}}},
		nil, // an empty row: no row for us, an empty one for excelize
		{"日本語 テキスト", "tab\there", 1e-7, nil, nil, nil, nil, 123456789012, "line one\nline two"},
		{nil, nil, nil, nil, nil, nil, nil, nil, "only the last cell"},
		{"ctrl \x01 char", "x", -0.0000001, true, time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), nil, time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC), 0, nil},
	}
	for i, row := range rows {
		line := i + 2
		if row == nil {
			continue
		}
		cells := make([]any, len(row))
		for j, v := range row {
			ref := columnName(j) + strconv.Itoa(line)
			switch j {
			case 4, 5, 6:
				tm, ok := v.(time.Time)
				if !ok {
					continue
				}
				st, k := dateOnlyStyle, dateOnly
				if j == 5 {
					st = dmy
				} else if j == 6 {
					st, k = isoTime, dateTime
				}
				cells[j] = excelize.Cell{StyleID: st, Value: tm}
				dates["People"][ref] = k // unless excelize writes the time as text: before its epoch
			case 7:
				if v != nil {
					cells[j] = excelize.Cell{StyleID: money, Value: v}
				}
			default:
				cells[j] = v
			}
		}
		if err := sw.SetRow(fmt.Sprintf("A%d", line), cells); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}

	if _, err := f.NewSheet("Calls"); err != nil {
		t.Fatal(err)
	}
	sw, err = f.NewStreamWriter("Calls")
	if err != nil {
		t.Fatal(err)
	}
	percent := style(t, f, &excelize.Style{NumFmt: 10}) // 0.00%: not a date
	if err := sw.SetRow("A1", []any{"Contact", "Called at", "Time", "Length", "Share", "Ref", "Total"}); err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct {
		at   time.Time
		tod  float64 // a time alone, as Excel keeps one
		secs int
	}{
		{time.Date(2023, 6, 30, 23, 59, 59, 0, time.UTC), 0.5, 90},
		{time.Date(2000, 2, 29, 0, 0, 1, 0, time.UTC), 0, 3600},
		{time.Date(2024, 12, 31, 8, 0, 0, 0, time.UTC), 0.6041666666666666, 5},
		{time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), 0.999999, 30 * 3600},
	} {
		// Length is a duration. excelize formats one under a day as a
		// time of day (h:mm or h:mm:ss), which we read as a time, with
		// seconds (01:00:00 where excelize shows 01:00); a longer one has
		// an elapsed-time format ([h]:mm:ss), which is no date, so we keep
		// the number of days where excelize shows 30:00:00. Total is a
		// formula with its cached value, which both read.
		line := i + 2
		dates["Calls"]["B"+strconv.Itoa(line)] = dateTime
		dates["Calls"]["C"+strconv.Itoa(line)] = timeOnly
		if c.secs < 86400 {
			dates["Calls"]["D"+strconv.Itoa(line)] = timeOnly
		}
		if err := sw.SetRow(fmt.Sprintf("A%d", line), []any{
			fmt.Sprintf("contact %d", i+1),
			excelize.Cell{StyleID: dateTimeStyle, Value: c.at},
			excelize.Cell{StyleID: timeOnlyStyle, Value: c.tod},
			time.Duration(c.secs) * time.Second,
			excelize.Cell{StyleID: percent, Value: float64(c.secs) / 3695},
			fmt.Sprintf("%05d", c.secs),
			excelize.Cell{Formula: fmt.Sprintf("D%d*2", line), Value: 2 * float64(c.secs) / 86400},
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}

	// Shared strings and shared rich text, written cell by cell.
	if _, err := f.NewSheet("Shared"); err != nil {
		t.Fatal(err)
	}
	for ref, v := range map[string]any{
		"A1": "Company", "B1": "Town", "C1": "Employees",
		"A2": "Acme", "B2": "Leeds", "C2": 12,
		"A3": "Acme", "B3": "Leeds", "C3": 3.5, // the same strings again: one shared entry each
		"A4": "Widgets & Sons <ltd>", "B4": " York ",
		"A6": "after an empty row", "C6": false,
	} {
		if err := f.SetCellValue("Shared", ref, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.SetCellRichText("Shared", "B6", []excelize.RichTextRun{{Text: "Rich ", Font: &excelize.Font{Italic: true}}, {Text: "text"}}); err != nil {
		t.Fatal(err)
	}

	// A hidden sheet of lists and an empty sheet: no tables of ours.
	if _, err := f.NewSheet("Lists"); err != nil {
		t.Fatal(err)
	}
	if err := f.SetSheetRow("Lists", "A1", &[]any{"Status", "active"}); err != nil {
		t.Fatal(err)
	}
	if err := f.SetSheetVisible("Lists", false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.NewSheet("Blank"); err != nil {
		t.Fatal(err)
	}
	return workbookBytes(t, f), dates
}

func TestXLSXAgreesWithExcelize(t *testing.T) {
	for _, date1904 := range []bool{false, true} {
		t.Run(fmt.Sprintf("date1904=%v", date1904), func(t *testing.T) {
			data, dates := streamedWorkbook(t, date1904)
			want := oracleRead(t, data, dates)
			if got := want["People"].date1904; got != date1904 {
				t.Fatalf("excelize reads date1904 %v, the workbook was written with %v", got, date1904)
			}
			oracleCompare(t, data, want)
		})
	}
}

// TestXLSXEarlyDatesAgreeWithExcelize reads the first days of the 1900
// date system, where Excel counts the 29 February 1900 of Lotus 1-2-3.
// The oracle is excelize's ExcelDateToTime, as in
// TestXLSXAgreesWithExcelize: its display of these cells is not one
// (excelize v2.11.1 shows serial 32, 1 February 1900, as "1900-01-01"
// in a yyyy-mm-dd format). The two days that never were differ on
// purpose: excelize shows them as Excel does, 1900-01-00 and 1900-02-29,
// where we show the serial (ExcelSerialTime: no date), so that no made-up
// day reaches a record.
func TestXLSXEarlyDatesAgreeWithExcelize(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	iso := style(t, f, &excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd")})
	isoTime := style(t, f, &excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd hh:mm:ss")})
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.SetRow("A1", []any{"serial", "date", "date-time"}); err != nil {
		t.Fatal(err)
	}
	serials := []float64{0, 0.25, 1, 2, 31, 32, 58, 59, 59.5, 60, 60.5, 61, 61.75, 62, 366, 367}
	for i, v := range serials {
		if err := sw.SetRow(fmt.Sprintf("A%d", i+2), []any{strconv.FormatFloat(v, 'f', -1, 64), excelize.Cell{StyleID: iso, Value: v}, excelize.Cell{StyleID: isoTime, Value: v}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	data := workbookBytes(t, f)
	sheet := oracleRead(t, data, nil)["Sheet1"]
	res, err := readAll(t, bytes.NewReader(data), "early.xlsx", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res[0].rows) != len(serials) {
		t.Fatalf("we read %d rows, want %d", len(res[0].rows), len(serials))
	}
	for i, row := range res[0].rows {
		line := res[0].lines[i]
		serial := row[0]
		for col, k := range []dateKind{dateOnly, dateTime} {
			got, shown, raw := row[col+1], sheet.formatted[line-1][col+1], sheet.raw[line-1][col+1]
			if v, _ := strconv.ParseFloat(raw, 64); v < 1 || v >= 60 && v < 61 {
				if !strings.HasPrefix(shown, "1900-01-00") && !strings.HasPrefix(shown, "1900-02-29") {
					t.Errorf("serial %s: excelize shows %q, not a day that never was", serial, shown)
				}
				if got != serial {
					t.Errorf("serial %s (excelize shows %q): we read %q, want the serial itself", serial, shown, got)
				}
				continue
			}
			if want := oracleDate(t, raw, k, false); got != want {
				t.Errorf("serial %s: we read %q, excelize's ExcelDateToTime %q", serial, got, want)
			}
		}
	}
}
