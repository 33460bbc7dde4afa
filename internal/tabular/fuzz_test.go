package tabular

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/cutover/cutover/internal/cutover"
)

// fuzzOptions turns a byte into a forced encoding and delimiter, with caps
// small enough that fuzzed inputs reach them.
func fuzzOptions(mode byte) Options {
	return Options{
		Encoding:       []string{"", "", "utf-8", "utf-16le", "utf-16be", "windows-1252"}[int(mode)%6],
		Delimiter:      []rune{0, 0, ',', ';', '\t', '|'}[int(mode/6)%6],
		MaxFieldBytes:  64,
		MaxRecordBytes: 256,
		MaxXLSX: XLSXLimits{
			UncompressedBytes: 1 << 20, Cells: 10000, SharedStrings: 1000, SharedStringBytes: 1 << 16,
		},
	}
}

// drain reads every table, checking the invariants, and returns what it
// read as text for comparison.
func drain(t *testing.T, src io.Reader, o Options) []any {
	t.Helper()
	tables, err := Open(src, "fuzz", o)
	if err != nil {
		checkInvalid(t, err)
		return []any{"error", cutover.ErrorMessage(err)}
	}
	var out []any
	for _, tb := range tables {
		out = append(out, tb.Format().Kind, tb.Header())
		for _, h := range tb.Header() {
			if h == "" || !utf8.ValidString(h) {
				t.Fatalf("header %q", tb.Header())
			}
		}
		last := 0
		for {
			row, err := tb.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				checkInvalid(t, err)
				out = append(out, "error", cutover.ErrorMessage(err))
				break
			}
			// BLM records end at a character, not a line end, so two
			// may start on one line; nothing else shares a line.
			if row.Line < last || row.Line == last && tb.Format().Kind != "blm" {
				t.Fatalf("row at line %d after line %d", row.Line, last)
			}
			last = row.Line
			size := 0
			for _, f := range row.Fields {
				if len(f) > o.MaxFieldBytes {
					t.Fatalf("line %d: a field of %d bytes passed the cap of %d", row.Line, len(f), o.MaxFieldBytes)
				}
				if !utf8.ValidString(f) {
					t.Fatalf("line %d: field %q is not UTF-8", row.Line, f)
				}
				size += len(f)
			}
			if size > o.MaxRecordBytes {
				t.Fatalf("line %d: a record of %d bytes passed the cap of %d", row.Line, size, o.MaxRecordBytes)
			}
			out = append(out, row.Line, append([]string(nil), row.Fields...))
		}
		out = append(out, tb.Format())
		if err := tb.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func checkInvalid(t *testing.T, err error) {
	t.Helper()
	var ce *cutover.Error
	if !errors.As(err, &ce) || ce.Code != cutover.EINVALID || ce.Message == "" {
		t.Fatalf("error %v is not an EINVALID *cutover.Error", err)
	}
}

func FuzzOpen(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n",
		"a;b\r\n\"x;\r\ny\";\"say \"\"hi\"\"\"\r\n",
		"a\tb\n1\t2\t3\n\n",
		"a|b\r1|\"2\r3\"\r",
		"\xEF\xBB\xBFname\nRen\xC3\xA9e\n",
		"name\nRen\xE9e \x80\x92\n",
		"a,b\n\"open\n",
		"a,,b\n",
		"a,A\n",
		"#HEADER#\nEOF : '^'\nEOR : '~'\n#DEFINITION#\nA^B^~\n#DATA#\n1^2^~\n#END#\n",
	} {
		f.Add([]byte(s), byte(0))
	}
	f.Add(append([]byte{0xFF, 0xFE}, utf16Bytes("a\tb\r\n1\t2\r\n", true)...), byte(0))
	f.Add(utf16Bytes("a,b\n\"x\ny\",2\n", false), byte(0))
	f.Add(makeZip(f, workbookParts(contactsRows, ordersRows)), byte(0))
	f.Add(makeZip(f, workbookParts(`<row><c t="inlineStr"><is><t>h</t></is></c></row><row><c s="1"><v>45000</v></c></row>`, ordersRows)), byte(0))
	f.Fuzz(func(t *testing.T, data []byte, mode byte) {
		o := fuzzOptions(mode)
		whole := drain(t, bytes.NewReader(data), o)
		// Read sizes must not change the result.
		bytewise := drain(t, iotest.OneByteReader(bytes.NewReader(data)), o)
		if !reflect.DeepEqual(whole, bytewise) {
			t.Fatalf("whole and byte-by-byte reads differ:\n%v\n%v", whole, bytewise)
		}
	})
}
