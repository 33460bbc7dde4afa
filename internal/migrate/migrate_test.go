package migrate

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapping"
)

// files is a fake Opener and Putter over in-memory objects.
type files struct {
	objects map[string]string
	put     map[string][]byte
}

func (f *files) Open(_ context.Context, key string) (io.ReadCloser, error) {
	s, ok := f.objects[key]
	if !ok {
		return nil, cutover.Errorf(cutover.ENOTFOUND, "missing %s", key)
	}
	return io.NopCloser(strings.NewReader(s)), nil
}

func (f *files) Put(_ context.Context, key, _ string, body []byte) error {
	if f.put == nil {
		f.put = map[string][]byte{}
	}
	f.put[key] = append([]byte(nil), body...)
	return nil
}

// sink is a fake Sink built from a function field.
type sink struct {
	WriteFn func(recs []cutover.Record) error
}

func (s sink) Write(_ context.Context, recs []cutover.Record) error { return s.WriteFn(recs) }

func pass(t *testing.T, src string) (Pass, *files) {
	t.Helper()
	r, err := mapping.NewReader(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	f := cutover.File{ID: "f1", Name: "contacts.csv", Key: "k1"}
	spec := mapping.Spec{Version: 1, Files: []mapping.FileSpec{mapping.Suggest(f.ID, f.Name, r.Header())}}
	return Pass{TenantID: "acme", Spec: spec, Files: []cutover.File{f}, RejectsPrefix: "artifacts/m/round-1/test/", BatchSize: 2},
		&files{objects: map[string]string{"k1": src}}
}

func TestRunAccountsForEveryRowAndKeepsRejects(t *testing.T) {
	src := "Email,Name,Note\na@x.com,Ann,hi\nbad,\"=HYPERLINK(\"\"x\"\")\",+1\n,,\nb@x.com,Bo,\nc@x.com,Cy,\"two\nlines\"\n"
	p, fs := pass(t, src)
	var written []cutover.Record
	counts, err := Run(context.Background(), p, fs, sink{func(recs []cutover.Record) error {
		if len(recs) > 2 {
			t.Errorf("batch of %d, want at most 2", len(recs))
		}
		written = append(written, recs...)
		return nil
	}}, fs)
	if err != nil {
		t.Fatal(err)
	}
	if counts.Read != 5 || counts.Migrated != 3 || counts.Rejected != 1 || counts.Skipped != 1 || len(written) != 3 {
		t.Fatalf("counts = %+v, written %d", counts, len(written))
	}
	rej, ok := fs.put["artifacts/m/round-1/test/rejects-f1.csv"]
	if !ok {
		t.Fatalf("no rejects file; have %v", fs.put)
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(rej, []byte{0xEF, 0xBB, 0xBF}))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || strings.Join(rows[0], "|") != "Email|Name|Note|cutover_line|cutover_reasons" {
		t.Fatalf("rejects = %q", rows)
	}
	if rows[1][1] != `'=HYPERLINK("x")` || rows[1][2] != "'+1" || rows[1][3] != "3" || !strings.Contains(rows[1][4], `"bad" is not a valid address`) {
		t.Fatalf("reject row = %q", rows[1])
	}
}

func TestRunStopsOnSinkFailure(t *testing.T) {
	p, fs := pass(t, "Email\na@x.com\n")
	boom := cutover.Errorf(cutover.EUNAVAILABLE, "throttled")
	_, err := Run(context.Background(), p, fs, sink{func([]cutover.Record) error { return boom }}, fs)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the sink's error", err)
	}
}

func TestRunNamesTheFileOnMalformedCSV(t *testing.T) {
	p, fs := pass(t, "Email,Name\na@x.com,Ann\n")
	fs.objects["k1"] = "Email,Name\na@x.com,\"Ann\n"
	_, err := Run(context.Background(), p, fs, sink{func([]cutover.Record) error { return nil }}, fs)
	if cutover.ErrorCode(err) != cutover.EINVALID || !strings.HasPrefix(cutover.ErrorMessage(err), "contacts.csv: ") {
		t.Fatalf("err = %v", err)
	}
}

func TestSafeCell(t *testing.T) {
	for in, want := range map[string]string{"=SUM(A1)": "'=SUM(A1)", "@handle": "'@handle", "-5": "'-5", "+44 123": "'+44 123", "plain": "plain", "": ""} {
		if got := SafeCell(in); got != want {
			t.Errorf("SafeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzRunBalances is the property that nothing is lost: for any input that
// parses, read = migrated + rejected + skipped.
func FuzzRunBalances(f *testing.F) {
	for _, s := range []string{
		"Email,Name\na@x.com,Ann\n",
		"Email;Name\n;\nbad;x\n",
		"Email,Name,Phone\n\"a\nb\",c,d\n,,\nx@y.z,,+44 1\n",
		"Email\n\n\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		r, err := mapping.NewReader(strings.NewReader(src))
		if err != nil {
			return
		}
		fl := cutover.File{ID: "f1", Name: "f.csv", Key: "k"}
		p := Pass{TenantID: "t", Spec: mapping.Spec{Files: []mapping.FileSpec{mapping.Suggest("f1", "f.csv", r.Header())}}, Files: []cutover.File{fl}}
		fs := &files{objects: map[string]string{"k": src}}
		n := 0
		c, err := Run(context.Background(), p, fs, sink{func(recs []cutover.Record) error { n += len(recs); return nil }}, fs)
		if err != nil {
			if cutover.ErrorCode(err) != cutover.EINVALID {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		if !c.Balanced() || c.Migrated != n {
			t.Fatalf("counts %+v, sink got %d", c, n)
		}
	})
}
