package mapping

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
)

func readAll(t *testing.T, src string) (*Reader, [][]string, error) {
	t.Helper()
	r, err := NewReader(strings.NewReader(src))
	if err != nil {
		return nil, nil, err
	}
	var rows [][]string
	for {
		row, _, err := r.Next()
		if errors.Is(err, io.EOF) {
			return r, rows, nil
		}
		if err != nil {
			return r, rows, err
		}
		rows = append(rows, append([]string(nil), row...))
	}
}

func TestReaderDelimitersAndBOM(t *testing.T) {
	for name, src := range map[string]string{
		"comma":     "Email,First Name\na@x.com,Ann\n",
		"semicolon": "Email;First Name\na@x.com;Ann\n",
		"tab":       "Email\tFirst Name\na@x.com\tAnn\n",
		"pipe":      "Email|First Name\na@x.com|Ann\n",
		"bom":       "\xEF\xBB\xBFEmail,First Name\na@x.com,Ann\n",
		"crlf":      "Email,First Name\r\na@x.com,Ann\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			r, rows, err := readAll(t, src)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(r.Header(), "|"); got != "Email|First Name" {
				t.Fatalf("header = %q", got)
			}
			if len(rows) != 1 || rows[0][1] != "Ann" {
				t.Fatalf("rows = %q", rows)
			}
		})
	}
}

func TestReaderErrors(t *testing.T) {
	for name, tc := range map[string]struct{ src, want string }{
		"empty":        {"", "The file is empty: it has no header row."},
		"blank header": {"Email,,Phone\n", "Column 2 has a blank header."},
		"duplicate":    {"Email,Phone,email\n", `Columns 1 and 3 have the same header "email".`},
		"open quote":   {"Email,Name\na@x.com,\"Ann\n", "line 2"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := readAll(t, tc.src)
			if cutover.ErrorCode(err) != cutover.EINVALID {
				t.Fatalf("code = %q (%v), want invalid", cutover.ErrorCode(err), err)
			}
			if !strings.Contains(cutover.ErrorMessage(err), tc.want) {
				t.Fatalf("message %q does not contain %q", cutover.ErrorMessage(err), tc.want)
			}
		})
	}
}

func TestQuotedNewlinesStayInOneRecord(t *testing.T) {
	_, rows, err := readAll(t, "Email,Note\na@x.com,\"line one\nline two\"\nb@x.com,plain\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0][1] != "line one\nline two" {
		t.Fatalf("rows = %q", rows)
	}
}

func mapper(t *testing.T, header ...string) *Mapper {
	t.Helper()
	m, err := Suggest("f1", "contacts.csv", header).Compile("acme", header)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSuggestAndMap(t *testing.T) {
	header := []string{"Contact ID", "First Name", "Last Name", "E-mail", "Mobile", "Favourite colour"}
	fs := Suggest("f1", "contacts.csv", header)
	if fs.IDColumn != "Contact ID" || len(fs.Columns) != 4 || strings.Join(fs.Unmapped, ",") != "Favourite colour" {
		t.Fatalf("suggestion = %+v", fs)
	}
	m := mapper(t, header...)

	ok := m.Map(2, []string{"17", " Ann ", "Lee", "Ann@Example.COM", "+44 20 7946 0000", "red"})
	if len(ok.Reasons) != 0 || ok.Record.Fields["firstName"] != "Ann" || ok.Record.Fields["email"] != "ann@example.com" {
		t.Fatalf("outcome = %+v", ok)
	}
	if ok.Record.ID != cutover.RecordID("acme", "contact", "17") || ok.Record.SourceRow != 2 {
		t.Fatalf("record id/row = %s/%d", ok.Record.ID, ok.Record.SourceRow)
	}

	bad := m.Map(3, []string{"18", "Bo", "", "not-an-email", "call me", ""})
	if len(bad.Reasons) != 2 || !strings.Contains(bad.Reasons[0], `"not-an-email"`) || !strings.Contains(bad.Reasons[1], "phone") {
		t.Fatalf("reasons = %q", bad.Reasons)
	}
	if r := m.Map(4, []string{"", "", "", "", "", ""}); r.SkipRule != SkipBlankRow {
		t.Fatalf("blank row outcome = %+v", r)
	}
	if r := m.Map(5, []string{"19", "Cy"}); len(r.Reasons) != 1 || r.Reasons[0] != "row has 2 fields but the header has 6" {
		t.Fatalf("ragged outcome = %+v", r)
	}
	if r := m.Map(6, []string{"20", "", "", "", "", "blue"}); len(r.Reasons) != 1 {
		t.Fatalf("nameless outcome = %+v", r)
	}
}

func TestSourceIDFallsBackToEmail(t *testing.T) {
	m := mapper(t, "Email", "Name")
	a := m.Map(2, []string{"A@x.com", "Ann"})
	b := m.Map(9, []string{"a@x.com", "Ann again"})
	if a.Record.ID == "" || a.Record.ID != b.Record.ID {
		t.Fatalf("same email should give the same record id: %q vs %q", a.Record.ID, b.Record.ID)
	}
}

func TestCompileRefusesMissingColumns(t *testing.T) {
	fs := Suggest("f1", "contacts.csv", []string{"Email", "Name"})
	if _, err := fs.Compile("acme", []string{"Email"}); cutover.ErrorCode(err) != cutover.EINVALID {
		t.Fatalf("err = %v, want invalid", err)
	}
}

func TestSpecHashChangesWithContent(t *testing.T) {
	a := Spec{Version: 1, Files: []FileSpec{Suggest("f1", "c.csv", []string{"Email"})}}
	b := a
	b.Files = []FileSpec{Suggest("f1", "c.csv", []string{"Email", "Name"})}
	if a.Hash() == b.Hash() || a.Hash() != (Spec{Version: 1, Files: []FileSpec{Suggest("f1", "c.csv", []string{"Email"})}}).Hash() {
		t.Fatal("hash must be stable for equal specs and differ for different ones")
	}
}

// The conformance fixtures come from other importers' test suites.
func TestConformanceFixtures(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "conformance")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("../shared/conformance is not beside this checkout")
	}
	type want struct {
		header           string
		rows             int
		rejected, mapped int
		errContains      string
	}
	for file, w := range map[string]want{
		"ghost/valid-members-import.csv":             {header: "email|name|note|subscribed_to_emails|labels|created_at", rows: 2, mapped: 2},
		"ghost/members-ragged-row.csv":               {header: "email|name|note", rows: 2, rejected: 1, mapped: 1},
		"ghost/members-headers-only.csv":             {header: "email|name", rows: 0},
		"ghost/members-duplicate-emails.csv":         {header: "email", rows: 2, mapped: 2},
		"ghost/members-formula-like-values.csv":      {header: "email|name|note", rows: 2, mapped: 2},
		"salesforce-dataloader/csvtext_BOM_UTF8.csv": {header: "column1|column2|column3", rows: 2, rejected: 2},
		"salesforce-dataloader/csvEscapedQuotes.csv": {header: "column1|column2", rows: 2, rejected: 2},
	} {
		t.Run(file, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join(dir, file))
			if err != nil {
				t.Fatal(err)
			}
			r, rows, err := readAll(t, string(src))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(r.Header(), "|"); got != w.header {
				t.Fatalf("header = %q, want %q", got, w.header)
			}
			if len(rows) != w.rows {
				t.Fatalf("rows = %d, want %d", len(rows), w.rows)
			}
			m := mapper(t, r.Header()...)
			var rejected, mapped int
			for i, row := range rows {
				out := m.Map(i+2, row)
				switch {
				case len(out.Reasons) > 0:
					rejected++
				case out.SkipRule == "":
					mapped++
				}
			}
			if rejected != w.rejected || mapped != w.mapped {
				t.Fatalf("rejected %d mapped %d, want %d and %d", rejected, mapped, w.rejected, w.mapped)
			}
		})
	}
	// Doubled quotes inside quoted fields come out as one quote.
	_, rows, err := readAll(t, string(must(os.ReadFile(filepath.Join(dir, "salesforce-dataloader/csvEscapedQuotes.csv")))))
	if err != nil || rows[0][0] != `"The Best" Account` || rows[1][0] != `The "Best" Account` {
		t.Fatalf("escaped quotes: %q, %v", rows, err)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// FuzzReader: any bytes either read as records or fail with a clear
// EINVALID error; the reader never panics and never returns a record wider
// than the field cap allows.
func FuzzReader(f *testing.F) {
	for _, s := range []string{"Email,Name\na@x.com,Ann\n", "\xEF\xBB\xBFa;b\n1;2\n", "a\tb\n\"x\ny\"\tz\n", "a,a\n", ",\n", "a,b\n\"open\n", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		r, err := NewReader(strings.NewReader(string(src)))
		if err != nil {
			if cutover.ErrorCode(err) != cutover.EINVALID {
				t.Fatalf("header error of class %q: %v", cutover.ErrorCode(err), err)
			}
			return
		}
		for {
			row, line, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				if cutover.ErrorCode(err) != cutover.EINVALID {
					t.Fatalf("row error of class %q: %v", cutover.ErrorCode(err), err)
				}
				return
			}
			if line < 2 {
				t.Fatalf("record on line %d, before the header ended", line)
			}
			for _, f := range row {
				if len(f) > MaxFieldBytes {
					t.Fatalf("field of %d bytes passed the cap", len(f))
				}
			}
		}
	})
}
