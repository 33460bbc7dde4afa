package chunk

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/tabular"
)

// table is a table read to the end, with copies of the rows.
type table struct {
	opened tabular.Format // as Open reported it
	format tabular.Format // after the last row
	header []string
	rows   []row
}

type row struct {
	Line   int
	Fields []string
}

// read reads the one table in src, telling s (if any) the format as soon
// as Open returns, the way the planner does.
func read(src io.Reader, o tabular.Options, s *Scanner) (table, error) {
	tables, err := tabular.Open(src, "in.csv", o)
	if err != nil {
		return table{}, err
	}
	defer func() {
		for _, tb := range tables {
			_ = tb.Close()
		}
	}()
	if len(tables) != 1 {
		return table{}, fmt.Errorf("%d tables", len(tables))
	}
	tb := tables[0]
	out := table{opened: tb.Format(), header: tb.Header()}
	if s != nil {
		s.SetFormat(out.opened)
	}
	for {
		r, err := tb.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return table{}, err
		}
		out.rows = append(out.rows, row{r.Line, append([]string(nil), r.Fields...)})
	}
	out.format = tb.Format()
	return out, nil
}

// check reads data as a whole through a Scanner and then chunk by chunk as
// the plan says, and fails unless the chunks give the same rows with the
// same lines. It returns false, and checks nothing, when tabular cannot
// read data as a whole.
func check(t testing.TB, data []byte, target int64, o tabular.Options) (Plan, bool) {
	t.Helper()
	s := NewScanner(target)
	whole, err := read(io.TeeReader(bytes.NewReader(data), s), o, s)
	if err != nil {
		return Plan{}, false
	}
	plan, err := s.Plan()
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	checkPlan(t, data, target, plan)

	// The plan does not depend on how the bytes are written, nor on
	// whether they were written before SetFormat.
	for _, late := range []bool{false, true} {
		for _, size := range []int{1, 7, 4096} {
			s := NewScanner(target)
			if !late {
				s.SetFormat(whole.opened)
			}
			for b := data; len(b) > 0; b = b[min(size, len(b)):] {
				if n, err := s.Write(b[:min(size, len(b))]); err != nil || n != min(size, len(b)) {
					t.Fatalf("Write: %d, %v", n, err)
				}
			}
			if late {
				s.SetFormat(whole.opened)
			}
			if p, err := s.Plan(); err != nil || !reflect.DeepEqual(p, plan) {
				t.Fatalf("written %d bytes at a time (SetFormat last: %v): plan %+v, %v; want %+v", size, late, p, err, plan)
			}
		}
	}

	if whole.format.Kind != "csv" {
		if !reflect.DeepEqual(plan, Whole(int64(len(data)))) {
			t.Fatalf("a %s file has plan %+v", whole.format.Kind, plan)
		}
		return plan, true
	}
	checkRows(t, data, plan, whole, o)
	checkStitched(t, data, plan, whole, o, s, target)
	return plan, true
}

// checkRows fails unless the chunks of plan, read as planned, give the
// rows of the whole-file read.
func checkRows(t testing.TB, data []byte, plan Plan, whole table, o tabular.Options) {
	t.Helper()
	var rows []row
	for _, r := range plan.Chunks {
		src := io.MultiReader(bytes.NewReader(data[:plan.HeaderEnd]), bytes.NewReader(data[r.Start:r.End]))
		c, err := read(src, plan.Options(r, whole.format, o), nil)
		if err != nil {
			t.Fatalf("%q: plan %+v: chunk %+v: %v", clip(data), plan, r, err)
		}
		if !reflect.DeepEqual(c.header, whole.header) || reading(c.format) != reading(whole.format) {
			t.Fatalf("%q: chunk %+v: header %q format %+v, want %q %+v", clip(data), r, c.header, c.format, whole.header, whole.format)
		}
		rows = append(rows, c.rows...)
	}
	if len(rows) != len(whole.rows) || len(rows) > 0 && !reflect.DeepEqual(rows, whole.rows) {
		t.Fatalf("%q: plan %+v:\nchunks read %v\nwhole file %v", clip(data), plan, rows, whole.rows)
	}
}

// checkStitched plans data again in parallel, as the service does (Head,
// ScanRange over ranges of several sizes, Stitch), and fails unless the
// head is the whole-file plan's and the stitched chunks follow on, start
// where records do, and read as the whole file. s has seen every byte.
func checkStitched(t testing.TB, data []byte, plan Plan, whole table, o tabular.Options, s *Scanner, target int64) {
	t.Helper()
	size := int64(len(data))
	h, ok := s.Head(size)
	switch {
	case reflect.DeepEqual(plan, Whole(size)):
		if ok {
			t.Fatalf("%q: Head %+v for a file read whole", clip(data), h)
		}
		return
	case len(plan.Chunks) == 0:
		return // nothing after the header: nothing to scan
	case !ok || h.HeaderEnd != plan.HeaderEnd || h.HeaderLines != plan.HeaderLines:
		t.Fatalf("%q: head %+v (%v), plan %+v", clip(data), h, ok, plan)
	}
	// Seen in part, as the service's planner sees a file (the bytes
	// tabular read to open it and to give its first rows), the head is
	// either not known yet or the same.
	for _, k := range []int64{h.HeaderEnd, size / 2} {
		p := NewScanner(target)
		p.SetFormat(whole.opened)
		_, _ = p.Write(data[:k])
		if ph, ok := p.Head(size); ok && ph != h {
			t.Fatalf("%q: after %d bytes, head %+v; after all, %+v", clip(data), k, ph, h)
		}
	}
	sizes := []int64{target, max(size/7, 1)}
	if size < 4096 {
		sizes = append(sizes, 1, 2, 3, 7)
	}
	for _, rs := range sizes {
		var scans []RangeScan
		for _, r := range Ranges(h, size, rs) {
			sc, err := ScanRange(bytes.NewReader(data[r[0]:r[1]]), r[0], r[1], data[r[0]-1], byte(whole.opened.Delimiter))
			if err != nil {
				t.Fatalf("ScanRange %v: %v", r, err)
			}
			scans = append(scans, sc)
		}
		chunks, err := Stitch(h, size, scans)
		if err != nil {
			t.Fatalf("%q: ranges of %d: Stitch: %v", clip(data), rs, err)
		}
		stitched := Plan{HeaderEnd: h.HeaderEnd, HeaderLines: h.HeaderLines, Chunks: chunks}
		checkPlan(t, data, 1, stitched)
		checkRows(t, data, stitched, whole, o)
	}
}

// checkPlan checks what every plan promises.
func checkPlan(t testing.TB, data []byte, target int64, p Plan) {
	t.Helper()
	size := int64(len(data))
	if reflect.DeepEqual(p, Whole(size)) {
		return
	}
	if p.HeaderEnd <= 0 || p.HeaderEnd > size || p.HeaderEnd < size && data[p.HeaderEnd-1] != '\n' {
		t.Fatalf("plan %+v: the header does not end at a line end", p)
	}
	if n := bytes.Count(data[:p.HeaderEnd], lf); p.HeaderLines != n {
		t.Fatalf("plan %+v: HeaderLines, want %d", p, n)
	}
	at := p.HeaderEnd
	for i, r := range p.Chunks {
		last := i == len(p.Chunks)-1
		switch {
		case r.Start != at || r.End <= r.Start:
			t.Fatalf("plan %+v: chunk %d does not follow on", p, i)
		case r.FirstLine != 1+bytes.Count(data[:r.Start], lf):
			t.Fatalf("plan %+v: chunk %d: FirstLine, want %d", p, i, 1+bytes.Count(data[:r.Start], lf))
		case !last && (data[r.End-1] != '\n' || r.End-r.Start < target):
			t.Fatalf("plan %+v: chunk %d ends early or not at a line end", p, i)
		}
		at = r.End
	}
	if at != size {
		t.Fatalf("plan %+v: the chunks end at %d, not at %d", p, at, size)
	}
}

func clip(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

func utf16LE(s string) []byte {
	b := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func TestPlans(t *testing.T) {
	comma := tabular.Options{Delimiter: ','}
	for _, tc := range []struct {
		name   string
		data   string
		target int64
		o      tabular.Options
		want   Plan
	}{
		{
			"one record a chunk", "h\n1\n2\n3\n", 1, comma,
			Plan{2, 1, []Range{{2, 4, 2}, {4, 6, 3}, {6, 8, 4}}},
		},
		{
			"target smaller than a record", "h\nabc\nde\n", 2, comma,
			Plan{2, 1, []Range{{2, 6, 2}, {6, 9, 3}}},
		},
		{
			"target larger than the file", "h\nabc\nde\n", 100, comma,
			Plan{2, 1, []Range{{2, 9, 2}}},
		},
		{
			"cut at the first record end at or after the target", "h\n1\n2\n3\n4\n", 3, comma,
			Plan{2, 1, []Range{{2, 6, 2}, {6, 10, 4}}},
		},
		{
			"quoted line end across the target", "id,n\n1,\"a\nb\"\n2,c\n", 3,
			tabular.Options{},
			Plan{5, 1, []Range{{5, 13, 2}, {13, 17, 4}}},
		},
		{
			"quoted line end right at the target", "id,n\n\"\n\",\n2,c\n", 1,
			tabular.Options{},
			Plan{5, 1, []Range{{5, 10, 2}, {10, 14, 4}}},
		},
		{
			"escaped quotes", "h\n\"a\"\"\nb\",x\n\"\"\"\",y\n\"\"\n", 1, comma,
			Plan{2, 1, []Range{{2, 12, 2}, {12, 19, 4}, {19, 22, 5}}},
		},
		{
			"CRLF", "h\r\n1\r\n2\r\n", 1, comma,
			Plan{3, 1, []Range{{3, 6, 2}, {6, 9, 3}}},
		},
		{
			"BOM then a quoted header", "\xEF\xBB\xBF\"h\nx\"\n1\n", 1,
			tabular.Options{},
			Plan{9, 2, []Range{{9, 11, 3}}},
		},
		{
			"header with quoted line ends", "\"a\r\nb\",\"c\n\nd\"\r\n1,2\r\n", 1,
			tabular.Options{},
			Plan{15, 4, []Range{{15, 20, 5}}},
		},
		{
			"no trailing line end", "h\n1\n2", 1, comma,
			Plan{2, 1, []Range{{2, 4, 2}, {4, 5, 3}}},
		},
		{
			"blank lines", "\n\r\nh\n\n1\n\r\n2\n", 1, comma,
			Plan{5, 3, []Range{{5, 6, 4}, {6, 8, 5}, {8, 10, 6}, {10, 12, 7}}},
		},
		{
			"a line of one CR is blank, a CR and more is not", "\r\n\rh\n1\n", 1, comma,
			Plan{5, 2, []Range{{5, 7, 3}}},
		},
		{
			"bare quotes are data", "h,i\na\"b,c\nd,e\"f\n\"g\"h\"i,j\n", 1,
			tabular.Options{},
			Plan{4, 1, []Range{{4, 10, 2}, {10, 16, 3}, {16, 25, 4}}},
		},
		{
			"a quote opens only after the delimiter", "a,b\n1;\"x\n2,y\"\n", 1, comma,
			Plan{4, 1, []Range{{4, 9, 2}, {9, 14, 3}}},
		},
		{
			"the same file split by semicolons", "a,b\n1;\"x\n2,y\"\n", 1,
			tabular.Options{Delimiter: ';'},
			Plan{4, 1, []Range{{4, 14, 2}}},
		},
		{
			"tab", "a\tb\n1\t\"x\ny\"\n2\t3\n", 1,
			tabular.Options{},
			Plan{4, 1, []Range{{4, 12, 2}, {12, 16, 4}}},
		},
		{
			"windows-1252", "Name;Note\nRen\xE9e;x\n\x93q\x94;y\n", 1,
			tabular.Options{},
			Plan{10, 1, []Range{{10, 18, 2}, {18, 24, 3}}},
		},
		{
			"a CR in a file of LFs", "h\n1\r2\n3\n", 1, comma,
			Plan{2, 1, []Range{{2, 6, 2}, {6, 8, 3}}},
		},
		{"header only", "a,b\n", 1, tabular.Options{}, Plan{4, 1, nil}},
		{"header only, no line end", "a,b", 1, tabular.Options{}, Plan{3, 0, nil}},
		{"CR line ends", "h\r1\r\"2\r3\"\r", 1, comma, Whole(10)},
		{"a header of spaces", " \n1\n#HEADER#\n", 1, comma, Whole(13)},
		{"a header of CRs", "\r\r\nh\n1\n", 1, comma, Whole(7)},
		{"UTF-16", string(utf16LE("a,b\n1,2\n3,4\n")), 1, tabular.Options{}, Whole(26)},
		{"BLM", "#HEADER#\nEOF : '^'\nEOR : '~'\n#DEFINITION#\nA^B^~\n#DATA#\n1^2^~\n3^4^~\n#END#\n", 1, tabular.Options{}, Whole(73)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := check(t, []byte(tc.data), tc.target, tc.o)
			if !ok {
				t.Fatalf("tabular cannot read %q", tc.data)
			}
			if !reflect.DeepEqual(p, tc.want) {
				t.Fatalf("plan %+v, want %+v", p, tc.want)
			}
		})
	}
}

// A file that is pure ASCII for its first 64 KiB reads as "utf-8" until a
// later byte decides on windows-1252: a chunk must be read with the
// encoding the whole file ended with.
func TestEncodingDecidedLate(t *testing.T) {
	var b strings.Builder
	b.WriteString("id;name\n")
	for i := 0; b.Len() < 80<<10; i++ {
		fmt.Fprintf(&b, "%d;Ada\n", i)
	}
	b.WriteString("x;Ren\xE9e\ny;\x93quoted\x94\n")
	data := []byte(b.String())

	s := NewScanner(16 << 10)
	whole, err := read(io.TeeReader(bytes.NewReader(data), s), tabular.Options{}, s)
	if err != nil {
		t.Fatal(err)
	}
	if whole.opened.Encoding != "utf-8" || whole.format.Encoding != "windows-1252" {
		t.Fatalf("encoding %q, then %q: the test needs utf-8, then windows-1252", whole.opened.Encoding, whole.format.Encoding)
	}
	if got := whole.rows[len(whole.rows)-2].Fields[1]; got != "Renée" {
		t.Fatalf("whole file: %q", got)
	}
	p, ok := check(t, data, 16<<10, tabular.Options{})
	if !ok || len(p.Chunks) < 5 {
		t.Fatalf("plan %+v", p)
	}
	// The provisional encoding would fail on the last chunk.
	last := p.Chunks[len(p.Chunks)-1]
	src := io.MultiReader(bytes.NewReader(data[:p.HeaderEnd]), bytes.NewReader(data[last.Start:last.End]))
	if _, err := read(src, p.Options(last, whole.opened, tabular.Options{}), nil); cutover.ErrorCode(err) != cutover.EINVALID {
		t.Fatalf("read with the provisional encoding: %v", err)
	}
}

// tabular reads CR line ends when its first 64 KiB of text have a CR and
// no LF. The scanner splits only files it is sure tabular reads with LF.
func TestLineEndsDecidedLikeTabular(t *testing.T) {
	long := strings.Repeat("x", 20<<10)
	for _, tc := range []struct {
		name  string
		data  string
		whole bool
		enc   string // given where the bytes alone leave the code page open
	}{
		// The header is one long record and holds a CR: the first LF
		// is at 20 KiB, so tabular may not see it in a Windows-1252 file.
		{"first LF after 16 KiB and a CR", "\"h\r" + long + "\"\n1\n2\n", true, ""},
		{"first LF after 64 KiB", "\"h\r" + long + long + long + long + "\"\n1\n2\n", true, ""},
		{"first LF after 16 KiB, no CR", "h" + long + "\n1\n2\n", false, ""},
		{"first LF before 16 KiB", "\"h\r" + long[:10<<10] + "\"\n1\n2\n", false, ""},
		{"CR after 64 KiB", "h" + long + long + long + long + "\r\n1\n2\n", false, ""},
		// Windows-1252 decodes 0x80 to the three bytes of a euro sign:
		// 22 KiB of them push the first LF out of tabular's 64 KiB of
		// text, and it reads CR line ends. (0x80 alone is as much a
		// Serbian Ђ in windows-1251, so the encoding is given.)
		{"Windows-1252 pushes the first LF out", "\"h\r" + strings.Repeat("\x80", 22<<10) + "\"\n1\n2\n", true, "windows-1252"},
		{"Windows-1252, first LF before 16 KiB", "\"h\r" + strings.Repeat("\x80", 16<<10-5) + "\"\n1\n2\n", false, "windows-1252"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := check(t, []byte(tc.data), 1, tabular.Options{Delimiter: ',', Encoding: tc.enc})
			if !ok {
				t.Fatal("tabular cannot read it")
			}
			if whole := reflect.DeepEqual(p, Whole(int64(len(tc.data)))); whole != tc.whole {
				t.Fatalf("plan %+v: whole %v, want %v", p, whole, tc.whole)
			}
		})
	}
}

func TestPlanBeforeSetFormat(t *testing.T) {
	s := NewScanner(10)
	_, _ = s.Write([]byte("a,b\n1,2\n"))
	if _, err := s.Plan(); cutover.ErrorCode(err) != cutover.EINTERNAL {
		t.Fatalf("error %v, want EINTERNAL", err)
	}
}

func TestSplittable(t *testing.T) {
	for f, want := range map[tabular.Format]bool{
		{Kind: "csv", Encoding: "utf-8", Delimiter: ','}:               true,
		{Kind: "csv", Encoding: "windows-1252", Delimiter: '\t'}:       true,
		{Kind: "csv", Encoding: "utf-8", Delimiter: ',', BOM: true}:    true,
		{Kind: "csv", Encoding: "utf-16le", Delimiter: ',', BOM: true}: false,
		{Kind: "csv", Encoding: "utf-16be", Delimiter: ','}:            false,
		{Kind: "blm", Encoding: "utf-8", Delimiter: '^'}:               false,
		{Kind: "xlsx", Encoding: "utf-8", Sheet: "Contacts"}:           false,
	} {
		if Splittable(f) != want {
			t.Errorf("Splittable(%+v) = %v", f, !want)
		}
	}
}

func TestLineOffsetAndOptions(t *testing.T) {
	p := Plan{HeaderEnd: 10, HeaderLines: 2, Chunks: []Range{{10, 50, 3}, {50, 90, 9}}}
	if p.LineOffset(p.Chunks[0]) != 0 || p.LineOffset(p.Chunks[1]) != 6 {
		t.Fatalf("offsets %d, %d", p.LineOffset(p.Chunks[0]), p.LineOffset(p.Chunks[1]))
	}
	w := Whole(90)
	if w.LineOffset(w.Chunks[0]) != 0 {
		t.Fatalf("whole: offset %d", w.LineOffset(w.Chunks[0]))
	}
	o := p.Options(p.Chunks[1], tabular.Format{Kind: "csv", Encoding: "windows-1252", Delimiter: ';'}, tabular.Options{MaxFieldBytes: 7, Encoding: "utf-8"})
	if want := (tabular.Options{MaxFieldBytes: 7, Encoding: "windows-1252", Delimiter: ';', LineOffset: 6, Chunk: true}); !reflect.DeepEqual(o, want) {
		t.Fatalf("options %+v", o)
	}
	if !reflect.DeepEqual(Whole(0), Plan{}) {
		t.Fatalf("Whole(0) = %+v", Whole(0))
	}
}

// TestConformance splits the shared fixtures from other importers' test
// suites at every target up to their size.
func TestConformance(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "conformance")
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.csv"))
	if len(files) == 0 {
		t.Skipf("no conformance fixtures in %s", dir)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		name, _ := filepath.Rel(dir, file)
		t.Run(name, func(t *testing.T) {
			for target := int64(1); target <= int64(len(data))+1; target++ {
				if _, ok := check(t, data, target, tabular.Options{}); !ok {
					t.Skip("tabular rejects it")
				}
			}
		})
	}
}

func TestNewScannerPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	NewScanner(0)
}

// reading is how a format reads bytes: a chunk is read with the encoding
// the whole file was detected in, given, so it is certain of it (confidence
// 1, no alternatives) where the whole file's detection may have weighed
// others.
func reading(f tabular.Format) tabular.Format {
	f.EncodingConfidence, f.EncodingAlternatives = 0, tabular.Alternatives{}
	return f
}
