package tabular

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf16"

	"github.com/cutover/cutover/internal/cutover"
)

// result is a table read to the end, with copies of the rows.
type result struct {
	format Format
	header []string
	rows   [][]string
	lines  []int
}

func readAll(t testing.TB, src io.Reader, name string, o Options) ([]result, error) {
	t.Helper()
	tables, err := Open(src, name, o)
	if err != nil {
		return nil, err
	}
	var out []result
	for _, tb := range tables {
		r := result{header: tb.Header()}
		for {
			row, err := tb.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				_ = tb.Close()
				return out, err
			}
			r.rows = append(r.rows, append([]string(nil), row.Fields...))
			r.lines = append(r.lines, row.Line)
		}
		r.format = tb.Format()
		if err := tb.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		out = append(out, r)
	}
	return out, nil
}

func readOne(t testing.TB, data string, o Options) result {
	t.Helper()
	res, err := readAll(t, strings.NewReader(data), "in.csv", o)
	if err != nil {
		t.Fatalf("read %q: %v", clip(data, 80), err)
	}
	if len(res) != 1 {
		t.Fatalf("got %d tables, want 1", len(res))
	}
	return res[0]
}

// wantError checks that reading fails with EINVALID and exactly msg.
func wantError(t *testing.T, src io.Reader, name string, o Options, msg string) {
	t.Helper()
	_, err := readAll(t, src, name, o)
	if err == nil {
		t.Fatalf("no error, want %q", msg)
	}
	var ce *cutover.Error
	if !errors.As(err, &ce) || ce.Code != cutover.EINVALID {
		t.Fatalf("error %v is not an EINVALID *cutover.Error", err)
	}
	if ce.Message != msg {
		t.Fatalf("message\n got %q\nwant %q", ce.Message, msg)
	}
}

func TestDelimiters(t *testing.T) {
	for _, d := range []string{",", ";", "\t", "|"} {
		data := strings.ReplaceAll("Name,Email,Notes\nAda,ada@example.com,\"x,y;z|w\tv\"\nBob,bob@example.com,\n", ",", d)
		// The quoted note keeps its own punctuation.
		data = strings.Replace(data, "x"+d+"y", "x,y", 1)
		for _, forced := range []rune{0, rune(d[0])} {
			r := readOne(t, data, Options{Delimiter: forced})
			if r.format.Delimiter != rune(d[0]) {
				t.Errorf("%q forced %q: delimiter %q", d, forced, r.format.Delimiter)
			}
			want := [][]string{{"Ada", "ada@example.com", "x,y;z|w\tv"}, {"Bob", "bob@example.com", ""}}
			if !reflect.DeepEqual(r.header, []string{"Name", "Email", "Notes"}) || !reflect.DeepEqual(r.rows, want) {
				t.Errorf("%q: header %q rows %q", d, r.header, r.rows)
			}
		}
	}
}

func TestDelimiterDetectionPrefersConsistentSplits(t *testing.T) {
	// One comma in the header, but only semicolons split every line alike.
	r := readOne(t, "Name;Address, City;Zip\nAda;1 Road, Leeds;LS1\nBob;2 Lane, York;YO1\n", Options{})
	if r.format.Delimiter != ';' || len(r.header) != 3 {
		t.Fatalf("delimiter %q header %q", r.format.Delimiter, r.header)
	}
	// Commas inside quotes do not count.
	r = readOne(t, "\"Last, First\"\tEmail\n\"Lovelace, Ada\"\tada@example.com\n", Options{})
	if r.format.Delimiter != '\t' || r.rows[0][0] != "Lovelace, Ada" {
		t.Fatalf("delimiter %q rows %q", r.format.Delimiter, r.rows)
	}
}

func TestQuotedFieldsAndLineEnds(t *testing.T) {
	for name, nl := range map[string]string{"LF": "\n", "CRLF": "\r\n", "CR": "\r"} {
		data := strings.Join([]string{
			`id,note,tail`,
			`1,"two` + nl + `lines",a`,
			`2,"say ""hi""",b`,
			``,
			`3,"a,b` + nl + nl + `c",`,
			`4,plain,"x"`,
		}, nl) + nl
		r := readOne(t, data, Options{})
		want := [][]string{
			{"1", "two" + nl + "lines", "a"},
			{"2", `say "hi"`, "b"},
			{"3", "a,b" + nl + nl + "c", ""},
			{"4", "plain", "x"},
		}
		if !reflect.DeepEqual(r.rows, want) {
			t.Errorf("%s: rows %q", name, r.rows)
		}
		if !reflect.DeepEqual(r.lines, []int{2, 4, 6, 9}) {
			t.Errorf("%s: lines %v, want [2 4 6 9]", name, r.lines)
		}
	}
}

func TestLenientQuotesAndRaggedRows(t *testing.T) {
	r := readOne(t, "a,b,c\n5\" pipe,\"x\"y,z\nonly\n1,2,3,4\n1,2,3,,,\n", Options{})
	want := [][]string{{`5" pipe`, "xy", "z"}, {"only"}, {"1", "2", "3", "4"}, {"1", "2", "3"}}
	if !reflect.DeepEqual(r.rows, want) {
		t.Fatalf("rows %q, want %q", r.rows, want)
	}
}

func TestHeaderTrimmedAndTrailingBlankHeadersDropped(t *testing.T) {
	r := readOne(t, " Name , Email ,,\nAda,a@x,,\n", Options{})
	if !reflect.DeepEqual(r.header, []string{"Name", "Email"}) || !reflect.DeepEqual(r.rows, [][]string{{"Ada", "a@x"}}) {
		t.Fatalf("header %q rows %q", r.header, r.rows)
	}
}

func TestHeaderOnlyAndEmpty(t *testing.T) {
	for _, data := range []string{"email,name", "email,name\n", "email,name\r\n\r\n\n"} {
		r := readOne(t, data, Options{})
		if len(r.rows) != 0 || len(r.header) != 2 {
			t.Errorf("%q: header %q rows %q", data, r.header, r.rows)
		}
	}
	for _, data := range []string{"", "\n\n\r\n", "\xEF\xBB\xBF"} {
		wantError(t, strings.NewReader(data), "in.csv", Options{}, "in.csv is empty: it has no header row.")
	}
	wantError(t, strings.NewReader(""), "", Options{}, "The file is empty: it has no header row.")
}

func TestMalformed(t *testing.T) {
	small := Options{MaxFieldBytes: 10, MaxRecordBytes: 30}
	for _, tc := range []struct {
		name, data string
		o          Options
		msg        string
	}{
		{"blank header", "a,,c\n1,2,3\n", Options{}, "in.csv, line 1: column 2 has a blank header."},
		{"blank header after blank lines", "\n\na, ,c\n", Options{}, "in.csv, line 3: column 2 has a blank header."},
		{"unterminated quote", "a,b\n1,2\n3,\"four\n5,6\n", Options{}, "in.csv, line 3: the quoted field in column 2 that starts on this line is never closed."},
		{"unterminated in header", "a,\"b\n", Options{}, "in.csv, line 1: the quoted field in column 2 that starts on this line is never closed."},
		{"field over cap", "a,b\n1,12345678901\n", small, "in.csv, line 2: the field in column 2 is longer than the limit of 10 bytes."},
		{"quoted field over cap", "a,b\n1,2\n\"x\n\n" + strings.Repeat("y", 20) + "\",2\n", small, "in.csv, line 3: the field in column 1 is longer than the limit of 10 bytes; a closing quote is probably missing."},
		{"record over cap", "a,b\n1,2\n123456789,123456789,123456789,123456789\n", small, "in.csv, line 3: the record that starts on this line is longer than the limit of 30 bytes."},
		{"quoted record over cap", "a,b\n\"123456789\",\"123456789\",\"123456789\",\"123456789\"\n", small, "in.csv, line 2: the record that starts on this line is longer than the limit of 30 bytes."},
		{"invalid utf-8", "name\n\xC3\xA9t\xC3\xA9\n" + strings.Repeat("x", 70000) + "\xC3(\n", Options{Encoding: "utf-8"}, `in.csv is not valid UTF-8 at byte 70011. If Excel saved it as "CSV (Comma delimited)", read it with the windows-1252 encoding.`},
		{"invalid utf-16", "\xFF\xFEa\x00\n\x00\x00\xDC", Options{}, "in.csv is not valid UTF-16LE at byte 6: a character is cut off or an unpaired surrogate."},
		{"odd utf-16", "\xFE\xFF\x00a\x00\n\x00", Options{}, "in.csv is not valid UTF-16BE at byte 6: a character is cut off or an unpaired surrogate."},
		{"unknown encoding", "a\n", Options{Encoding: "latin-0"}, `Unknown encoding "latin-0": use one of ` + strings.Join(SupportedEncodings(), ", ") + `.`},
		{"bad delimiter", "a\n", Options{Delimiter: '"'}, `The delimiter '"' cannot be used: choose a single ASCII character other than a quote or a line end, such as , ; | or tab.`},
		{"xls", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest", Options{}, "in.csv is an old binary Excel (.xls) workbook, which cutover cannot read: save it from Excel as .xlsx or CSV."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, strings.NewReader(tc.data), "in.csv", tc.o, tc.msg)
			// The same error whatever the read sizes.
			wantError(t, iotest.OneByteReader(strings.NewReader(tc.data)), "in.csv", tc.o, tc.msg)
		})
	}
}

func TestErrorIsSticky(t *testing.T) {
	tables, err := Open(strings.NewReader("a\n\"x\n"), "in.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err1 := tables[0].Next()
	_, err2 := tables[0].Next()
	if err1 == nil || err1 != err2 {
		t.Fatalf("errors %v then %v", err1, err2)
	}
}

// conformance finds the shared fixtures, skipping when they are absent.
func conformance(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "conformance", rel))
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("conformance fixture %s is not here", rel)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSalesforceEncodings(t *testing.T) {
	want := [][]string{{"row1-1", "row1-2", "row1-3"}, {"row2-1", "row2-2", "row2-3"}}
	for file, enc := range map[string]string{
		"csvtext_BOM_UTF8.csv":    "utf-8",
		"csvtext_BOM_UTF16LE.csv": "utf-16le",
		"csvtext_BOM_UTF16BE.csv": "utf-16be",
	} {
		data := conformance(t, "salesforce-dataloader/"+file)
		for _, o := range []Options{{}, {Encoding: enc}} {
			res, err := readAll(t, iotest.HalfReader(bytes.NewReader(data)), file, o)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			r := res[0]
			if r.format.Encoding != enc || !r.format.BOM || r.format.Kind != "csv" {
				t.Errorf("%s: format %+v", file, r.format)
			}
			if !reflect.DeepEqual(r.header, []string{"column1", "column2", "column3"}) || !reflect.DeepEqual(r.rows, want) {
				t.Errorf("%s: header %q rows %q", file, r.header, r.rows)
			}
		}
	}
	r := readOne(t, string(conformance(t, "salesforce-dataloader/csvEscapedQuotes.csv")), Options{})
	if want := [][]string{{`"The Best" Account`, "bla"}, {`The "Best" Account`, "bla"}}; !reflect.DeepEqual(r.rows, want) {
		t.Errorf("escaped quotes: %q", r.rows)
	}
}

func TestGhostFixtures(t *testing.T) {
	for file, want := range map[string][][]string{
		"members-headers-only.csv":        nil,
		"members-ragged-row.csv":          {{"ragged-first@example.com"}, {"ragged-full@example.com", "Bob", "a note"}},
		"members-duplicate-emails.csv":    {{"duplicate@example.com"}, {"duplicate@example.com"}},
		"members-formula-like-values.csv": {{"formula@example.com", "-5", "+44 123"}, {"formula2@example.com", "=SUM(A1)", "@handle"}},
		"valid-members-import.csv": {
			{"jbloggs@example.com", "joe", "", "true", "", ""},
			{"test@example.com", "test", "test note", "false", "test-label", "1991-10-02T20:30:31.000Z"},
		},
	} {
		r := readOne(t, string(conformance(t, "ghost/"+file)), Options{})
		if !reflect.DeepEqual(r.rows, want) {
			t.Errorf("%s: rows %q, want %q", file, r.rows, want)
		}
	}
}

func TestWindows1252(t *testing.T) {
	data := "Name;Note\nRen\xE9e;\x80 5 \x96 it\x92s \x93fine\x94\n"
	for _, o := range []Options{{}, {Encoding: "windows-1252"}, {Encoding: "cp1252"}} {
		r := readOne(t, data, o)
		if r.format.Encoding != "windows-1252" {
			t.Errorf("%+v: encoding %q", o, r.format.Encoding)
		}
		if want := []string{"Renée", "€ 5 – it’s “fine”"}; !reflect.DeepEqual(r.rows[0], want) {
			t.Errorf("%+v: %q", o, r.rows[0])
		}
	}
	// The upper half decodes through the table (compared once, byte by
	// byte, with golang.org/x/text's charmap.Windows1252).
	var all []byte
	for c := 0x20; c < 0x100; c++ {
		if c != ',' && c != '"' && c != 0x7F {
			all = append(all, byte(c))
		}
	}
	r := readOne(t, "x\n"+string(all)+"\n", Options{Encoding: "windows-1252"})
	got := []rune(r.rows[0][0])
	if len(got) != len(all) || got[bytes.IndexByte(all, 0x80)] != '€' || got[bytes.IndexByte(all, 0x92)] != '’' || got[bytes.IndexByte(all, 0xE9)] != 'é' || got[len(got)-1] != 'ÿ' {
		t.Errorf("1252 table: %q", r.rows[0][0])
	}
}

func TestEncodingDecidedAtFirstNonASCIIByte(t *testing.T) {
	ascii := "name,city\n" + strings.Repeat("Ada,Leeds\n", 10000) // > 64 KiB
	r := readOne(t, ascii+"Ren\xE9e,Z\xFCrich\n", Options{})
	if r.format.Encoding != "windows-1252" || r.rows[len(r.rows)-1][0] != "Renée" || r.rows[len(r.rows)-1][1] != "Zürich" {
		t.Fatalf("1252 after ASCII prefix: %q %q", r.format.Encoding, r.rows[len(r.rows)-1])
	}
	r = readOne(t, ascii+"Renée,Zürich\n", Options{})
	if r.format.Encoding != "utf-8" || r.rows[len(r.rows)-1][0] != "Renée" {
		t.Fatalf("UTF-8 after ASCII prefix: %q %q", r.format.Encoding, r.rows[len(r.rows)-1])
	}
	// Once UTF-8 is decided, a later invalid byte is an error, not a switch.
	wantError(t, strings.NewReader("name\nRenée\n"+strings.Repeat("x\n", 40000)+"\xE9\n"), "in.csv", Options{},
		`in.csv is not valid UTF-8 at byte 80012. If Excel saved it as "CSV (Comma delimited)", read it with the windows-1252 encoding.`)
}

func utf16Bytes(s string, le bool) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		if le {
			b = append(b, byte(u), byte(u>>8))
		} else {
			b = append(b, byte(u>>8), byte(u))
		}
	}
	return b
}

func TestUTF16(t *testing.T) {
	text := "Name\tNote\r\nRenée\t\"😀 line\r\nbreak\"\r\n"
	for _, le := range []bool{true, false} {
		enc := map[bool]string{true: "utf-16le", false: "utf-16be"}[le]
		for _, bom := range []bool{true, false} {
			data := utf16Bytes(text, le)
			if bom {
				data = append(utf16Bytes("\uFEFF", le), data...)
			}
			res, err := readAll(t, iotest.OneByteReader(bytes.NewReader(data)), "u.txt", Options{})
			if err != nil {
				t.Fatalf("%s bom=%v: %v", enc, bom, err)
			}
			r := res[0]
			if r.format.Encoding != enc || r.format.BOM != bom || r.format.Delimiter != '\t' {
				t.Errorf("%s bom=%v: format %+v", enc, bom, r.format)
			}
			if want := [][]string{{"Renée", "😀 line\r\nbreak"}}; !reflect.DeepEqual(r.rows, want) {
				t.Errorf("%s bom=%v: rows %q", enc, bom, r.rows)
			}
		}
	}
}

func TestBLM(t *testing.T) {
	data := "#HEADER#\r\nVersion : 3\r\nEOF : '^'\r\nEOR : '~'\r\nProperty Count : 2\r\n" +
		"#DEFINITION#\r\nAGENT_REF^ADDRESS_1^POSTCODE1^DESCRIPTION^~\r\n" +
		"#DATA#\r\n" +
		"1234_01^10 High St^LS1^Two bed flat^~\r\n" +
		"1234_02^2 Low Rd^YO1^Line one\r\nline two^~\r\n" +
		"#END#\r\n"
	for _, src := range []io.Reader{strings.NewReader(data), iotest.OneByteReader(strings.NewReader(data))} {
		res, err := readAll(t, src, "feed.blm", Options{})
		if err != nil {
			t.Fatal(err)
		}
		r := res[0]
		if r.format.Kind != "blm" || r.format.Delimiter != '^' {
			t.Errorf("format %+v", r.format)
		}
		if !reflect.DeepEqual(r.header, []string{"AGENT_REF", "ADDRESS_1", "POSTCODE1", "DESCRIPTION"}) {
			t.Errorf("header %q", r.header)
		}
		want := [][]string{{"1234_01", "10 High St", "LS1", "Two bed flat"}, {"1234_02", "2 Low Rd", "YO1", "Line one\r\nline two"}}
		if !reflect.DeepEqual(r.rows, want) || !reflect.DeepEqual(r.lines, []int{9, 10}) {
			t.Errorf("rows %q lines %v", r.rows, r.lines)
		}
	}
	// Other separators, as the header declares them.
	r := readOne(t, "#HEADER#\nEOF : '|'\nEOR : '#'\n#DEFINITION#\nA|B|#\n#DATA#\n1|2|#\n#END#\n", Options{})
	if !reflect.DeepEqual(r.rows, [][]string{{"1", "2"}}) {
		t.Errorf("custom separators: %q", r.rows)
	}
	wantError(t, strings.NewReader("#HEADER#\nEOF : '^'\nEOR : '~'\n#DEFINITION#\nA^B^~\n#DATA#\n1^2^~\n3^4\n"), "feed.blm", Options{},
		"feed.blm, line 8: the record that starts on this line does not end with the end-of-record character '~'; is the file cut short?")
	wantError(t, strings.NewReader("#HEADER#\nEOF : '^'\n#DEFINITION#\nA^^B^~\n#DATA#\n"), "feed.blm", Options{},
		`feed.blm, line 4: column 2 has a blank header.`)
	wantError(t, strings.NewReader("#HEADER#\nEOF : '^'\n"), "feed.blm", Options{},
		"feed.blm is a BLM file without a #DEFINITION# section.")
	wantError(t, strings.NewReader("#HEADER#\nEOF : '^^'\n#DEFINITION#\n"), "feed.blm", Options{},
		`feed.blm, line 2: the BLM EOF character must be one ASCII character, not "^^".`)
}

// TestReadSizesDoNotMatter reads random CSV through readers that return
// every size of chunk, with small caps so the buffer grows and compacts
// often, and compares with encoding/csv.
func TestReadSizesDoNotMatter(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		data := randomCSV(rng, 1+rng.IntN(40))
		want, err := csv.NewReader(strings.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for j, src := range []io.Reader{
			strings.NewReader(data),
			iotest.OneByteReader(strings.NewReader(data)),
			iotest.HalfReader(strings.NewReader(data)),
			iotest.DataErrReader(strings.NewReader(data)),
		} {
			r := readOne(t, data, Options{Delimiter: ','})
			if j > 0 {
				res, err := readAll(t, src, "in.csv", Options{Delimiter: ','})
				if err != nil {
					t.Fatalf("case %d reader %d: %v", i, j, err)
				}
				r = res[0]
			}
			got := append([][]string{r.header}, r.rows...)
			norm := make([][]string, len(want))
			for k, rec := range want {
				norm[k] = trimRagged(append([]string(nil), rec...), len(want[0]))
				for c := range norm[k] {
					norm[k][c] = strings.ReplaceAll(norm[k][c], "\r\n", "\n")
				}
			}
			for k := range got {
				got[k] = append([]string(nil), got[k]...)
				for c := range got[k] {
					got[k][c] = strings.ReplaceAll(got[k][c], "\r\n", "\n")
				}
			}
			if !reflect.DeepEqual(got, norm) {
				t.Fatalf("case %d reader %d:\n%q\n got %q\nwant %q", i, j, data, got, norm)
			}
		}
	}
}

func randomCSV(rng *rand.Rand, rows int) string {
	var b strings.Builder
	cols := 1 + rng.IntN(5)
	for c := range cols {
		if c > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "h%d", c)
	}
	b.WriteString("\r\n")
	pieces := []string{"a", "bc", " ", "é", ",", "\"", "\n", "\r\n", "x y", "😀"}
	for range rows {
		for c := range cols {
			if c > 0 {
				b.WriteByte(',')
			}
			var f strings.Builder
			for range rng.IntN(6) {
				f.WriteString(pieces[rng.IntN(len(pieces))])
			}
			s := f.String()
			if strings.ContainsAny(s, ",\"\r\n") || rng.IntN(4) == 0 {
				s = `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
			}
			if s == "" && cols == 1 {
				s = `""`
			}
			b.WriteString(s)
		}
		if rng.IntN(2) == 0 {
			b.WriteString("\r\n")
		} else {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// endless is a CSV export that never ends: the same rows forever.
type endless struct {
	row []byte
	off int
	n   int64
}

func (e *endless) Read(p []byte) (int, error) {
	if e.n <= 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && e.n > 0 {
		c := copy(p[n:], e.row[e.off:])
		e.off = (e.off + c) % len(e.row)
		n += c
		e.n -= int64(c)
	}
	if e.n < 0 {
		n += int(e.n)
	}
	return n, nil
}

func TestMemoryDoesNotGrowWithFileSize(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 64 MiB")
	}
	row := "\"Lovelace, Ada\",ada@example.com,\"multi\nline note\",+44 113 496 0000\n"
	src := io.MultiReader(strings.NewReader("name,email,note,phone\n"), &endless{row: []byte(row), n: int64(len(row)) * 1_000_000})
	tables, err := Open(src, "big.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	tb := tables[0].(*csvTable)
	n := 0
	for {
		_, err := tb.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 1_000_000 {
		t.Fatalf("read %d rows", n)
	}
	if len(tb.b.buf) > 64<<10 || cap(tb.rec) > 1<<10 {
		t.Fatalf("buffers grew to %d and %d bytes", len(tb.b.buf), cap(tb.rec))
	}
}

func TestIndexByte(t *testing.T) {
	for n := range 80 {
		for at := -1; at < n; at++ {
			b := bytes.Repeat([]byte{'a'}, n)
			if at >= 0 {
				b[at] = ','
				if at+1 < n {
					b[at+1] = ','
				}
			}
			if got, want := indexByte(b, ','), bytes.IndexByte(b, ','); got != want {
				t.Fatalf("indexByte(%q) = %d, want %d", b, got, want)
			}
		}
	}
	for c := range 256 {
		b := []byte{0x80, 0xFF, 0x01, 0x00, 0x2B, 0x2C, 0x2D, 0x7F, 0xFE, byte(c)}
		if got, want := indexByte(b, byte(c)), bytes.IndexByte(b, byte(c)); got != want {
			t.Fatalf("indexByte(%x, %x) = %d, want %d", b, c, got, want)
		}
	}
}

func TestLineOffset(t *testing.T) {
	// The whole file, and a chunk of it: the header (which spans two lines)
	// followed by the records from line 6 on.
	header := "id,\"note\nsecond line\"\r\n"
	whole := header + "1,a\r\n2,b\r\n\r\n3,\"x\r\ny\"\r\n4,d\r\n"
	chunk := header + "3,\"x\r\ny\"\r\n4,d\r\n"
	w := readOne(t, whole, Options{})
	c := readOne(t, chunk, Options{LineOffset: 3})
	if !reflect.DeepEqual(w.lines, []int{3, 4, 6, 8}) || !reflect.DeepEqual(c.lines, w.lines[2:]) {
		t.Fatalf("lines %v and %v, want [3 4 6 8] and [6 8]", w.lines, c.lines)
	}
	if !reflect.DeepEqual(c.header, w.header) || !reflect.DeepEqual(c.rows, w.rows[2:]) {
		t.Fatalf("chunk read header %q rows %q", c.header, c.rows)
	}
	// Errors about records name lines of the whole file, in every line-end
	// mode and whatever the read sizes; errors about the header keep its
	// own lines.
	small := Options{MaxFieldBytes: 10, MaxRecordBytes: 30, LineOffset: 100}
	for _, tc := range []struct{ data, msg string }{
		{"a,b\n1,2\n3,\"four\n5,6\n", "in.csv, line 103: the quoted field in column 2 that starts on this line is never closed."},
		{"a,b\r3,\"four\r5,6\r", "in.csv, line 102: the quoted field in column 2 that starts on this line is never closed."},
		{"a,b\n\n1,12345678901\n", "in.csv, line 103: the field in column 2 is longer than the limit of 10 bytes."},
		{"a,b\n\"x\n\n" + strings.Repeat("y", 20) + "\",2\n", "in.csv, line 102: the field in column 1 is longer than the limit of 10 bytes; a closing quote is probably missing."},
		{"a,b\r\n123456789,123456789,123456789,123456789\r\n", "in.csv, line 102: the record that starts on this line is longer than the limit of 30 bytes."},
		{"\n\"a\n\", ,b\n1,2\n", "in.csv, line 2: column 2 has a blank header."},
	} {
		wantError(t, strings.NewReader(tc.data), "in.csv", small, tc.msg)
		wantError(t, iotest.OneByteReader(strings.NewReader(tc.data)), "in.csv", small, tc.msg)
	}
	wantError(t, strings.NewReader("a\n"), "in.csv", Options{LineOffset: -1}, "The line offset -1 cannot be used: it must not be negative.")
	// BLM ignores it.
	blm := "#HEADER#\nEOF : '^'\nEOR : '~'\n#DEFINITION#\nA^B^~\n#DATA#\n1^2^~\n#END#\n"
	if a, b := readOne(t, blm, Options{}), readOne(t, blm, Options{LineOffset: 5}); !reflect.DeepEqual(a.lines, b.lines) {
		t.Fatalf("BLM lines %v with LineOffset 5, want %v", b.lines, a.lines)
	}
}
