package tabular

import (
	"archive/zip"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

type zipPart struct{ name, body string }

func makeZip(t testing.TB, parts []zipPart) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range parts {
		w, err := zw.Create(p.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(p.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const (
	xmlHead  = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"
	nsMain   = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"`
	nsRel    = `xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`
	relTypes = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
)

func sheetXML(rows string) string {
	return xmlHead + `<worksheet ` + nsMain + ` ` + nsRel + `><dimension ref="A1:D9"/><sheetData>` + rows + `</sheetData></worksheet>`
}

// workbookParts is a small workbook the way Excel writes one: sheets in
// workbook order that is not file order, a hidden and an empty sheet,
// shared strings with rich text and phonetic runs, and date styles.
func workbookParts(contacts, orders string) []zipPart {
	return []zipPart{
		{"[Content_Types].xml", xmlHead + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`},
		{"_rels/.rels", xmlHead + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="` + relTypes + `officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", xmlHead + `<workbook ` + nsMain + ` ` + nsRel + `><workbookPr/><sheets>` +
			`<sheet name="Contacts" sheetId="1" r:id="rId4"/>` +
			`<sheet name="Empty" sheetId="2" r:id="rId3"/>` +
			`<sheet name="Lists" sheetId="3" state="hidden" r:id="rId2"/>` +
			`<sheet name="Orders" sheetId="4" r:id="rId1"/>` +
			`</sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", xmlHead + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="` + relTypes + `worksheet" Target="worksheets/sheet1.xml"/>` +
			`<Relationship Id="rId2" Type="` + relTypes + `worksheet" Target="worksheets/sheet2.xml"/>` +
			`<Relationship Id="rId3" Type="` + relTypes + `worksheet" Target="/xl/worksheets/sheet3.xml"/>` +
			`<Relationship Id="rId4" Type="` + relTypes + `worksheet" Target="worksheets/sheet4.xml"/>` +
			`<Relationship Id="rId5" Type="` + relTypes + `styles" Target="styles.xml"/>` +
			`<Relationship Id="rId6" Type="` + relTypes + `sharedStrings" Target="sharedStrings.xml"/>` +
			`</Relationships>`},
		{"xl/styles.xml", xmlHead + `<styleSheet ` + nsMain + `><numFmts count="3">` +
			`<numFmt numFmtId="164" formatCode="dd/mm/yyyy"/>` +
			`<numFmt numFmtId="165" formatCode="yyyy\-mm\-dd\ hh:mm"/>` +
			`<numFmt numFmtId="166" formatCode="&quot;Due &quot;0.00;[Red]\-0.00"/>` +
			`</numFmts><cellStyleXfs count="1"><xf numFmtId="14"/></cellStyleXfs><cellXfs count="7">` +
			`<xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="164"/><xf numFmtId="165"/>` +
			`<xf numFmtId="4"/><xf numFmtId="166"/><xf numFmtId="20"/>` +
			`</cellXfs></styleSheet>`},
		{"xl/sharedStrings.xml", xmlHead + `<sst ` + nsMain + ` count="6" uniqueCount="6">` +
			`<si><t>Name</t></si>` +
			`<si><t xml:space="preserve"> Email </t></si>` +
			`<si><r><rPr><b/></rPr><t>Ada </t></r><r><t>Lovelace</t></r><rPh sb="0" eb="1"><t>ignored</t></rPh></si>` +
			`<si><t>line one_x000D_` + "\n" + `line two</t></si>` +
			`<si><t>Joined</t></si>` +
			`<si><t>Item</t></si>` +
			`</sst>`},
		{"xl/worksheets/sheet1.xml", sheetXML(orders)},
		{"xl/worksheets/sheet2.xml", sheetXML(`<row r="1"><c r="A1" t="inlineStr"><is><t>hidden</t></is></c></row><row r="2"><c r="A2"><v>1</v></c></row>`)},
		{"xl/worksheets/sheet3.xml", sheetXML(`<row r="1" spans="1:3"><c r="A1" s="1"/></row>`)},
		{"xl/worksheets/sheet4.xml", sheetXML(contacts)},
	}
}

const contactsRows = `<row r="1"><c r="A1" s="4"/></row>` +
	`<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="s"><v>1</v></c><c r="C2" t="s"><v>4</v></c><c r="D2" t="inlineStr"><is><t>Active</t></is></c><c r="E2" t="inlineStr"><is><t>Score</t></is></c></row>` +
	`<row r="3"><c r="A3" t="s"><v>2</v></c><c r="C3" s="1"><v>45292</v></c><c r="D3" t="b"><v>1</v></c><c r="E3" s="4"><v>1234.5</v></c></row>` +
	`<row r="5"><c r="A5" t="s"><v>3</v></c><c r="B5" t="str"><f>LOWER("X")</f><v>x@example.com</v></c><c r="C5" s="2"><v>45292.75</v></c><c r="D5" t="b"><v>0</v></c><c r="E5" t="e"><v>#N/A</v></c></row>` +
	`<row r="6"><c r="A6" t="inlineStr"><is><t>Bob</t></is></c><c r="C6" s="3"><v>45292.5</v></c><c r="E6" s="5"><v>7</v></c></row>` +
	`<row r="7"><c r="A7"><v>1</v></c><c r="C7" s="6"><v>0.6041666666666666</v></c><c r="G7" t="inlineStr"><is><t>stray</t></is></c></row>` +
	`<row r="8"><c r="A8" s="1"/><c r="B8" t="inlineStr"><is><t></t></is></c></row>`

const ordersRows = `<row><c t="s"><v>5</v></c><c t="inlineStr"><is><t>Qty</t></is></c></row><row><c t="inlineStr"><is><t>Pen</t></is></c><c><v>2</v></c></row>`

func TestXLSXWorkbook(t *testing.T) {
	data := makeZip(t, workbookParts(contactsRows, ordersRows))
	res, err := readAll(t, bytes.NewReader(data), "book.xlsx", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 {
		t.Fatalf("%d tables, want Contacts and Orders", len(res))
	}
	c, o := res[0], res[1]
	if c.format != (Format{Kind: "xlsx", Encoding: "utf-8", EncodingConfidence: 1, Sheet: "Contacts"}) || o.format.Sheet != "Orders" {
		t.Errorf("formats %+v %+v", c.format, o.format)
	}
	if want := []string{"Name", "Email", "Joined", "Active", "Score"}; !reflect.DeepEqual(c.header, want) {
		t.Errorf("header %q", c.header)
	}
	want := [][]string{
		{"Ada Lovelace", "", "2024-01-01", "TRUE", "1234.5"},
		{"line one\r\nline two", "x@example.com", "2024-01-01", "FALSE", "#N/A"},
		{"Bob", "", "2024-01-01T12:00:00", "", "7"},
		{"1", "", "14:30:00", "", "", "", "stray"},
	}
	if !reflect.DeepEqual(c.rows, want) {
		t.Errorf("rows\n got %q\nwant %q", c.rows, want)
	}
	if !reflect.DeepEqual(c.lines, []int{3, 5, 6, 7}) {
		t.Errorf("rows numbered %v, want [3 5 6 7]", c.lines)
	}
	if !reflect.DeepEqual(o.header, []string{"Item", "Qty"}) || !reflect.DeepEqual(o.rows, [][]string{{"Pen", "2"}}) || o.lines[0] != 2 {
		t.Errorf("orders %q %q %v", o.header, o.rows, o.lines)
	}
}

func TestXLSXSheetOption(t *testing.T) {
	data := makeZip(t, workbookParts(contactsRows, ordersRows))
	res, err := readAll(t, bytes.NewReader(data), "book.xlsx", Options{Sheet: "orders"})
	if err != nil || len(res) != 1 || res[0].format.Sheet != "Orders" {
		t.Fatalf("Sheet orders: %v %+v", err, res)
	}
	res, err = readAll(t, bytes.NewReader(data), "book.xlsx", Options{Sheet: "Lists"})
	if err != nil || len(res) != 1 || res[0].header[0] != "hidden" {
		t.Fatalf("a hidden sheet by name: %v %+v", err, res)
	}
	wantError(t, bytes.NewReader(data), "book.xlsx", Options{Sheet: "Nope"},
		`book.xlsx has no sheet named "Nope"; its sheets are "Contacts", "Empty", "Lists", "Orders".`)
	wantError(t, bytes.NewReader(data), "book.xlsx", Options{Sheet: "Empty"},
		`book.xlsx, sheet "Empty" is empty: it has no header row.`)
}

func TestXLSXDate1904AndFormats(t *testing.T) {
	for code, want := range map[string]dateKind{
		"dd/mm/yyyy": dateOnly, "mmm-yy": dateOnly, "[$-409]d-mmm-yyyy;@": dateOnly,
		"h:mm AM/PM": timeOnly, "mm:ss": timeOnly, "yyyy-mm-dd hh:mm:ss": dateTime,
		"[h]:mm:ss": notDate, "0.00": notDate, `"Due "0.00`: notDate, "General": notDate,
		"#,##0.00 [$€-1]": notDate, `[Red]0.0`: notDate, "0.00E+00": notDate,
	} {
		if got := classifyFormat(code); got != want {
			t.Errorf("classifyFormat(%q) = %d, want %d", code, got, want)
		}
	}
	for _, tc := range []struct {
		v    string
		k    dateKind
		d    bool
		want string
	}{
		{"1", dateOnly, false, "1900-01-01"},
		{"59", dateOnly, false, "1900-02-28"},
		{"61", dateOnly, false, "1900-03-01"},
		{"45292", dateOnly, false, "2024-01-01"},
		{"0", dateOnly, true, "1904-01-01"},
		{"43830.999999", dateTime, false, "2020-01-01T00:00:00"},
	} {
		if got, ok := excelDate(tc.v, tc.k, tc.d); !ok || got != tc.want {
			t.Errorf("excelDate(%s) = %q, want %q", tc.v, got, tc.want)
		}
	}
	if _, ok := excelDate("-1", dateOnly, false); ok {
		t.Error("a negative serial is a date")
	}
}

func TestXLSXErrors(t *testing.T) {
	good := makeZip(t, workbookParts(contactsRows, ordersRows))
	for _, tc := range []struct {
		name string
		data []byte
		o    Options
		msg  string
	}{
		{"not a zip", []byte("PK\x03\x04 this is not a zip at all"), Options{}, "book.xlsx is not a readable XLSX workbook: it is not a valid zip archive."},
		{"zip without workbook", makeZip(t, []zipPart{{"hello.txt", "hi"}}), Options{}, "book.xlsx is not a readable XLSX workbook: it is a zip archive of other files (it has no xl/workbook.xml); unzip it and upload the CSV or XLSX files inside."},
		{"malformed xml", makeZip(t, []zipPart{{"xl/workbook.xml", "<workbook><sheets><sheet"}}), Options{}, "book.xlsx is not a readable XLSX workbook: xl/workbook.xml is not well-formed XML."},
		{"no sheets", makeZip(t, []zipPart{{"xl/workbook.xml", "<workbook/>"}}), Options{}, "book.xlsx is empty: no sheet has a header row."},
		{"entries", good, Options{MaxXLSX: XLSXLimits{Entries: 3}}, "book.xlsx is not readable as an XLSX workbook within the limits: it holds 10 files, over the limit of 3."},
		{"compressed", good, Options{MaxXLSX: XLSXLimits{CompressedBytes: 100}}, fmt.Sprintf("book.xlsx is not readable as an XLSX workbook within the limits: the workbook is %d bytes, over the limit of 100.", len(good))},
		{"cells", good, Options{MaxXLSX: XLSXLimits{Cells: 12}}, "book.xlsx is not readable as an XLSX workbook within the limits: it has more than 12 cells."},
		{"shared strings", good, Options{MaxXLSX: XLSXLimits{SharedStrings: 2}}, "book.xlsx is too large to read as an XLSX workbook here: its text is more than 2 different values (Excel's shared strings, which are read into memory). Save each sheet as CSV (UTF-8) and upload those files instead."},
		{"shared string bytes", good, Options{MaxXLSX: XLSXLimits{SharedStringBytes: 20}}, "book.xlsx is too large to read as an XLSX workbook here: its text is more than 20 bytes (Excel's shared strings, which are read into memory). Save each sheet as CSV (UTF-8) and upload those files instead."},
		{"shared string megabytes", makeZip(t, bigSharedStrings(3<<20)), Options{MaxXLSX: XLSXLimits{SharedStringBytes: 2 << 20}}, "book.xlsx is too large to read as an XLSX workbook here: its text is more than 2 MB (Excel's shared strings, which are read into memory). Save each sheet as CSV (UTF-8) and upload those files instead."},
		{"uncompressed total", good, Options{MaxXLSX: XLSXLimits{UncompressedBytes: 3000}}, "book.xlsx is not readable as an XLSX workbook within the limits: its parts expand to more than 3000 bytes."},
		{"declared size", good, Options{MaxXLSX: XLSXLimits{UncompressedBytes: 200}}, fmt.Sprintf("book.xlsx is not readable as an XLSX workbook within the limits: _rels/.rels declares %d bytes uncompressed, over the limit of 200.", len(workbookParts("", "")[1].body))},
		{"cell over cap", good, Options{MaxFieldBytes: 10}, `book.xlsx, sheet "Contacts", row 3: the cell in column A is longer than the limit of 10 bytes.`},
		{"row over cap", good, Options{MaxFieldBytes: 20, MaxRecordBytes: 30}, `book.xlsx, sheet "Contacts", row 3: the row is longer than the limit of 30 bytes.`},
		{
			"blank header", makeZip(t, workbookParts(`<row r="4"><c r="B4" t="inlineStr"><is><t>a</t></is></c></row>`, ordersRows)),
			Options{},
			`book.xlsx, sheet "Contacts", row 4: column A has a blank header.`,
		},
		{
			"bad shared string", makeZip(t, workbookParts(`<row r="1"><c r="A1" t="s"><v>99</v></c></row>`, ordersRows)),
			Options{},
			`book.xlsx is not a readable XLSX workbook: sheet "Contacts" cell A1 points at shared string "99", which does not exist.`,
		},
		{
			"column past XFD", makeZip(t, workbookParts(`<row r="1"><c r="XFE1"><v>1</v></c></row>`, ordersRows)),
			Options{},
			`book.xlsx is not a readable XLSX workbook: sheet "Contacts" row 1 has a cell beyond column XFD.`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, bytes.NewReader(tc.data), "book.xlsx", tc.o, tc.msg)
		})
	}
}

// TestXLSXBomb is a sheet of 40 MB of empty rows that zips to a few tens
// of kilobytes: it must be refused after about a megabyte, not inflated.
func TestXLSXBomb(t *testing.T) {
	rows := strings.Repeat(`<row><c><v>0</v></c></row>`, 40<<20/26)
	data := makeZip(t, workbookParts(`<row><c t="inlineStr"><is><t>h</t></is></c></row>`+rows, ordersRows))
	if len(data) > 1<<20 {
		t.Fatalf("the bomb is %d bytes", len(data))
	}
	tables, err := Open(bytes.NewReader(data), "bomb.xlsx", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, tb := range tables {
			_ = tb.Close()
		}
	}()
	n := 0
	for {
		_, err = tables[0].Next()
		if err != nil {
			break
		}
		n++
	}
	want := "bomb.xlsx is not readable as an XLSX workbook within the limits: xl/worksheets/sheet4.xml expands more than 100 times its compressed size."
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("after %d rows: %v", n, err)
	}
	if n > 40<<20/26/4 {
		t.Fatalf("read %d rows before refusing", n)
	}
}

// TestXLSXSpooled reads a workbook from a plain stream (no ReaderAt), which
// is spooled to a temporary file that the last Close removes.
func TestXLSXSpooled(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	rng := rand.New(rand.NewPCG(3, 4))
	var rows strings.Builder
	rows.WriteString(`<row><c t="inlineStr"><is><t>id</t></is></c><c t="inlineStr"><is><t>token</t></is></c></row>`)
	for i := range 10000 {
		fmt.Fprintf(&rows, `<row><c><v>%d</v></c><c t="inlineStr"><is><t>%x</t></is></c></row>`, i, rng.Uint64())
	}
	data := makeZip(t, workbookParts(rows.String(), ordersRows))
	if len(data) <= sniffBytes {
		t.Fatalf("the workbook (%d bytes) fits in the sniffed prefix", len(data))
	}
	tables, err := Open(iotest.HalfReader(bytes.NewReader(data)), "s.xlsx", Options{})
	if err != nil {
		t.Fatal(err)
	}
	spooled, _ := filepath.Glob(filepath.Join(dir, "cutover-xlsx-*"))
	if len(spooled) != 1 {
		t.Fatalf("spool files %q", spooled)
	}
	n := 0
	for {
		if _, err := tables[0].Next(); err != nil {
			break
		}
		n++
	}
	if n != 10000 {
		t.Fatalf("read %d rows", n)
	}
	_ = tables[0].Close()
	if _, err := os.Stat(spooled[0]); err != nil {
		t.Fatalf("the spool file went before the last table closed: %v", err)
	}
	_ = tables[1].Close()
	if _, err := os.Stat(spooled[0]); !os.IsNotExist(err) {
		t.Fatalf("the spool file outlived the tables: %v", err)
	}
	wantError(t, iotest.HalfReader(bytes.NewReader(data)), "s.xlsx", Options{MaxXLSX: XLSXLimits{CompressedBytes: 70000}},
		"s.xlsx is not readable as an XLSX workbook within the limits: it is larger than 70000 bytes.")
	if left, _ := filepath.Glob(filepath.Join(dir, "cutover-xlsx-*")); len(left) != 0 {
		t.Fatalf("a refused workbook left %q", left)
	}
}

// bigSharedStrings is the small workbook with n more bytes of shared
// strings, in entries of 1 KiB that no cell uses: random letters, which
// compress about as well as text (repeated ones would trip the ratio limit).
func bigSharedStrings(n int) []zipPart {
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for range n / 1024 {
		b.WriteString("<si><t>")
		for range 1024 {
			b.WriteByte(byte('a' + rng.IntN(26)))
		}
		b.WriteString("</t></si>")
	}
	parts := workbookParts(contactsRows, ordersRows)
	for i, p := range parts {
		if p.name == "xl/sharedStrings.xml" {
			extra := b.String()
			parts[i].body = strings.Replace(p.body, "</sst>", extra+"</sst>", 1)
		}
	}
	return parts
}

// TestXLSXLimitsForMemory: a Lambda's limits keep the shared-string table
// (held in memory while the workbook is read) well below its memory, so a
// workbook too large for the function is refused with a message that
// says what to do instead of running the function out of memory.
func TestXLSXLimitsForMemory(t *testing.T) {
	for _, mb := range []int64{128, 256, 1024, 2048, 10240} {
		l := XLSXLimitsForMemory(mb << 20)
		if l.SharedStringBytes <= 0 || l.SharedStringBytes > (mb<<20)/4 {
			t.Errorf("%d MB: shared-string text limit %d, want at most a quarter of the memory", mb, l.SharedStringBytes)
		}
		if l.SharedStrings <= 0 || int64(l.SharedStrings)*4 > (mb<<20)/16 {
			t.Errorf("%d MB: %d shared strings, whose offsets (4 bytes each) take more than a sixteenth of the memory", mb, l.SharedStrings)
		}
	}
	if l := XLSXLimitsForMemory(0); l != (XLSXLimits{}) {
		t.Errorf("unknown memory: %+v, want the defaults (the zero value)", l)
	}

	// A workbook with 3 MB of text: refused by a function of 8 MB (2 MB
	// of text), read by one of 16 MB (4 MB).
	data := makeZip(t, bigSharedStrings(3<<20))
	wantError(t, bytes.NewReader(data), "book.xlsx", Options{MaxXLSX: XLSXLimitsForMemory(8 << 20)},
		"book.xlsx is too large to read as an XLSX workbook here: its text is more than 2 MB (Excel's shared strings, which are read into memory). Save each sheet as CSV (UTF-8) and upload those files instead.")
	if _, err := readAll(t, bytes.NewReader(data), "book.xlsx", Options{MaxXLSX: XLSXLimitsForMemory(16 << 20)}); err != nil {
		t.Fatalf("under the limit: %v", err)
	}
}
