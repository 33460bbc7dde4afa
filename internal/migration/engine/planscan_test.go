package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pass"
	"github.com/cutover/cutover/internal/tabular"
)

// plannedTwice is one file planned twice: read whole by the planning step (the
// planner before planning in parts), and in parts as the state machine
// runs them; with the rows each plan's chunks read.
type plannedTwice struct {
	whole, parts       *extractPlan
	wholeErr, partsErr error
	wholeRows          []string // the file read whole
	chunkRows          []string // the parts plan's chunks, each read as a chunk runs
	steps              int      // planning steps the parts plan took
}

// planBothWays plans body (one test file, contacts.csv, read as encoding
// says: "" detects) with chunks of chunkBytes whole and in parts. With
// headOnly, planning in parts may read no more than two fifths of the
// file through a whole read (its head, not to its end nor its middle);
// its byte ranges still read.
func planBothWays(t *testing.T, body, encoding string, chunkBytes int64, headOnly bool) plannedTwice {
	t.Helper()
	ctx := context.Background()
	svc, tr, in := oneTestFile(t, body, encoding, chunkBytes)
	f, id := in.files[0], in.item.MigrationID
	in.infer = &inferAt{tenant: "acme", market: "GB", now: time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)}
	parts := in.parts
	in.parts = "" // read whole first
	var out plannedTwice
	out.whole, _, out.wholeErr = tr.planExtract(ctx, in)
	out.wholeRows = readRows(t, strings.NewReader(body), tabular.Options{Encoding: encoding})
	in.parts = parts
	if headOnly {
		whole := svc.Files
		svc.Files = capReads{objects: files(svc), key: f.Key, limit: int64(len(body)) * 2 / 5}
		tr = svc.testRun()
		defer func() { svc.Files = whole }()
	}
	for {
		out.steps++
		ex, run, err := tr.planExtract(ctx, in)
		if err != nil || run == nil {
			out.parts, out.partsErr = ex, err
			break
		}
		if err := svc.planParts(ctx, run, func(p PlanPart) error { return tr.RunPlanPart(ctx, id, p) }); err != nil {
			t.Fatalf("a planning part: %v", err)
		}
		if out.steps > 3 {
			t.Fatal("planning did not end after three steps")
		}
	}
	if out.parts == nil {
		return out
	}
	for _, c := range out.parts.chunks {
		src, err := chunkOpener{files: files(svc), c: c}.Open(ctx, f.Key)
		if err != nil {
			t.Fatal(err)
		}
		_, read, err := chunkFiles([]cutover.File{f}, &cutover.Migration{Files: []cutover.File{f}}, c, tabular.Options{})
		if err != nil {
			t.Fatal(err)
		}
		out.chunkRows = append(out.chunkRows, readRows(t, src, read)...)
	}
	return out
}

// oneTestFile is a migration whose test extract is body (contacts.csv,
// read as encoding says), its test Lambda, and what plans it in parts, in
// chunks of chunkBytes.
func oneTestFile(t testing.TB, body, encoding string, chunkBytes int64) (*Service, *TestRun, extractInput) {
	t.Helper()
	svc, store, _ := finalService(t, 0)
	id := create(t, svc, "acme").Migration.ID
	f := cutover.File{ID: "f1", Name: "contacts.csv", Key: "k-" + id, Purpose: cutover.PurposeTest, Round: 1, Complete: true, Size: int64(len(body)), Encoding: encoding}
	uploaded(t, store, id, f)
	files(svc)[f.Key] = body
	spec, err := mapspec.Parse([]byte(noDedupe))
	if err != nil {
		t.Fatal(err)
	}
	return svc, svc.testRun(), extractInput{
		spec: spec, choose: pass.ByName, files: []cutover.File{f}, chunkBytes: chunkBytes, whole: "every test file",
		parts: testPrefix(id, 1), item: PlanPart{MigrationID: id, Round: 1},
	}
}

// readRows reads the one table in src as lines "line: fields".
func readRows(t *testing.T, src io.Reader, o tabular.Options) []string {
	t.Helper()
	tables, err := tabular.Open(src, "contacts.csv", o)
	if err != nil {
		return []string{"open: " + err.Error()}
	}
	defer tables[0].Close()
	var out []string
	for {
		r, err := tables[0].Next()
		if errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			return append(out, "error: "+err.Error())
		}
		out = append(out, fmt.Sprintf("%d: %q", r.Line, r.Fields))
	}
}

// partsContacts is contacts whose notes hold quotes, delimiters and line
// ends, so that ranges start inside quoted fields; late, when late is
// not "", the notes of the last rows hold it.
func partsContacts(rows int, late string) string {
	var b strings.Builder
	b.WriteString("Id,Email,Name,Phone,Consent Date,Notes\n")
	for i := 1; i <= rows; i++ {
		note := fmt.Sprintf("\"said \"\"call me\"\",\nthen, %d\n\"", i)
		switch {
		case i%5 == 0:
			note = "plain"
		case i > rows-3 && late != "":
			note = late
		}
		fmt.Fprintf(&b, "%d,p%d@x.com,Person %d,07700 900%03d,%02d/%02d/2024,%s\n", i, i, i, i%1000, 13+i%15, 1+i%12, note)
	}
	return b.String()
}

// A file planned in parts reads as when it was read whole: the same rows,
// with the same lines, in order; the same inference; the same encoding.
func TestAFilePlannedInPartsReadsAsWhenReadWhole(t *testing.T) {
	for name, body := range map[string]string{
		"quoted line ends":         partsContacts(300, ""),
		"windows-1252 chosen":      "1252:" + strings.Replace(partsContacts(300, "na\xefve d\xe9j\xe0"), "Notes", "Remarques (r\xe9dig\xe9es)", 1),
		"windows-1252 late":        partsContacts(900, "Ren\xe9e's \"caf\xe9\""), // the first byte that is not ASCII after 64 KiB
		"utf-8 header":             strings.Replace(partsContacts(300, ""), "Notes", "Notizen \u00fcber", 1),
		"a record longer than two": partsContacts(40, "\""+strings.Repeat("long, \"\"quoted\"\"\n", 300)+"\""),
	} {
		t.Run(name, func(t *testing.T) {
			enc := ""
			if b, ok := strings.CutPrefix(body, "1252:"); ok {
				body, enc = b, "windows-1252"
			}
			p := planBothWays(t, body, enc, 512, false)
			if p.wholeErr != nil || p.partsErr != nil {
				t.Fatalf("planned whole: %v; in parts: %v", p.wholeErr, p.partsErr)
			}
			if p.steps != 3 {
				t.Fatalf("planned in %d steps, want 3 (heads, scans, checks)", p.steps)
			}
			if p.parts.rows != p.whole.rows || p.parts.rows != len(p.wholeRows) {
				t.Fatalf("rows: in parts %d, whole %d, read %d", p.parts.rows, p.whole.rows, len(p.wholeRows))
			}
			if !reflect.DeepEqual(p.chunkRows, p.wholeRows) {
				t.Fatalf("the chunks read\n%q\nthe whole file\n%q", p.chunkRows, p.wholeRows)
			}
			if a, b := mustJSON(t, p.parts.inferred), mustJSON(t, p.whole.inferred); a != b {
				t.Fatalf("inferred in parts %s, whole %s", a, b)
			}
			if len(p.parts.chunks) < 4 {
				t.Fatalf("%d chunks in parts", len(p.parts.chunks))
			}
			for _, c := range p.parts.chunks {
				if c.Encoding != p.whole.chunks[0].Encoding {
					t.Fatalf("chunk %d reads as %q; the file read whole as %q", c.Index, c.Encoding, p.whole.chunks[0].Encoding)
				}
			}
		})
	}
}

// A file that does not read fails planning in parts with the whole-file
// read's own message: the first error in the file, its line and byte.
// The first failed check says it without reading the file whole when the
// checks before it read the file as a whole read does (firstFailure);
// where the encoding changes along the file, the planning step reads it
// whole for the message.
func TestAMalformedFilePlannedInPartsFailsAsWhenReadWhole(t *testing.T) {
	middle := partsContacts(20000, "")
	middle = strings.Replace(middle, "\n10000,", "\n10000,\"a@x.com,never closed\n10000,", 1)
	capped := strings.Repeat("x", tabular.DefaultMaxFieldBytes+1)
	// A byte that is not UTF-8 deep in a chunk after the first: the
	// check's message counts its byte from the check's own start.
	deep := strings.Replace(strings.Replace(partsContacts(20000, ""), "Notes", "Notizen \u00fcber", 1), "then, 10003\n", "then, bad \xff 10003\n", 1)
	for name, c := range map[string]struct {
		body  string
		whole bool  // read whole for the message
		chunk int64 // the chunks' size; 0 means 64 KiB
	}{
		// Past the rows the head reads (mapspec.InferSample: about
		// 320 KB of these), and past two fifths of the file.
		"an unterminated quote at the end":                       {partsContacts(20000, "") + "20001,a@x.com,A,,,\"never closed\n", false, 0},
		"an unterminated quote in the middle":                    {middle, false, 0},
		"bytes not UTF-8 in a UTF-8 file":                        {strings.Replace(partsContacts(5000, "bad \xff byte"), "Notes", "Notizen \u00fcber", 1), true, 0},
		"a field over its cap":                                   {partsContacts(10000, capped), false, 0},
		"a field over its cap, windows-1252 earlier":             {strings.Replace(partsContacts(10000, capped), "then, 6001\n", "then, caf\xe9 6001\n", 1), false, 0},
		"a field over its cap, UTF-8 in its chunk":               {strings.Replace(partsContacts(10000, "M\u00fcller "+capped), "Notes", "Notizen \u00fcber", 1), true, 0},
		"a byte not UTF-8 deep in a later chunk":                 {deep, true, 512 << 10},
		"windows-1252, then UTF-8 where a field is over its cap": {strings.Replace(partsContacts(20000, "M\u00fcller "+capped), "then, 6001\n", "then, caf\xe9 6001\n", 1), true, 0},
		"UTF-8, then windows-1252 where a field is over its cap": {strings.Replace(partsContacts(20000, "caf\xe9 "+capped), "then, 6001\n", "then, M\u00fcller 6001\n", 1), true, 0},
		"UTF-8, then windows-1252":                               {strings.Replace(partsContacts(5000, "caf\xe9"), "then, 4501\n", "then, M\u00fcller 4501\n", 1), true, 0},
	} {
		t.Run(name, func(t *testing.T) {
			body, chunk := c.body, c.chunk
			if chunk == 0 {
				chunk = 64 << 10
			}
			p := planBothWays(t, body, "", chunk, !c.whole)
			if p.wholeErr == nil || cutover.ErrorCode(p.wholeErr) != cutover.EINVALID {
				t.Fatalf("planned whole: %v, want it refused", p.wholeErr)
			}
			if p.steps != 3 {
				t.Fatalf("failed after %d planning steps, want 3 (heads, scans, checks): %v", p.steps, p.partsErr)
			}
			if p.partsErr == nil || p.partsErr.Error() != p.wholeErr.Error() {
				t.Fatalf("planned in parts: %v\nwhole: %v", p.partsErr, p.wholeErr)
			}
		})
	}
}

// A planning step run again before its parts all ran (a retried step, or
// the state machine resumed) answers the same parts again; it never
// stitches what was not scanned.
func TestAPlanningStepRunAgainRunsItsPartsAgain(t *testing.T) {
	ctx := context.Background()
	svc, tr, in := oneTestFile(t, partsContacts(300, ""), "", 512)
	id := in.item.MigrationID
	_, first, err := tr.planExtract(ctx, in)
	if err != nil || first == nil || first.Parts < 4 {
		t.Fatalf("first step: %+v, %v", first, err)
	}
	ran := 0
	if err := svc.planParts(ctx, first, func(p PlanPart) error {
		if ran++; ran%2 == 0 {
			return nil // this part's child has not run yet
		}
		return tr.RunPlanPart(ctx, id, p)
	}); err != nil {
		t.Fatal(err)
	}
	_, again, err := tr.planExtract(ctx, in)
	if err != nil || again == nil || *again != *first {
		t.Fatalf("run again with half the scans: %+v, %v; want the scans again, %+v", again, err, first)
	}
	var st planning
	if err := tr.readArtifact(ctx, planningKey(in.parts), "the plan", &st); err != nil || st.Stitched {
		t.Fatalf("the plan after the step ran again: stitched %v, %v", st.Stitched, err)
	}
	// A plan kept for another file is not taken for this one's.
	other := in
	other.files = []cutover.File{in.files[0]}
	other.files[0].Size -= 100
	if _, run, err := tr.planExtract(ctx, other); err != nil || run == nil {
		t.Fatalf("another file: %+v, %v", run, err)
	}
	if err := tr.readArtifact(ctx, planningKey(in.parts), "the plan", &st); err != nil || st.Stitched || st.Files[0].Size != other.files[0].Size {
		t.Fatalf("the plan for another file: %+v, %v; want it planned afresh", st.Files, err)
	}
}

// A part names its migration's own files and artifacts, or is refused.
func TestAPlanningPartNamesItsMigrationsOwnFiles(t *testing.T) {
	ctx := context.Background()
	svc, store, _ := finalService(t, 0)
	mine := create(t, svc, "acme").Migration.ID
	theirs := create(t, svc, "other").Migration.ID
	uploaded(t, store, theirs, cutover.File{ID: "f1", Name: "c.csv", Key: "k-" + theirs, Purpose: cutover.PurposeTest, Round: 1, Complete: true, Size: 10})
	files(svc)["k-"+theirs] = "a,b\n1,2\n3,4\n"
	for _, p := range []PlanPart{
		{Kind: PlanPartScan, FileKey: "k-" + theirs, Start: 4, End: 8, Delimiter: ",", Out: testPrefix(mine, 1) + "planning/x.json"},
		{Kind: PlanPartScan, FileKey: "k-" + theirs, Start: 4, End: 8, Delimiter: ",", Out: testPrefix(theirs, 1) + "planning/x.json"},
	} {
		if err := svc.testRun().RunPlanPart(ctx, mine, p); cutover.ErrorCode(err) != cutover.EINVALID {
			t.Fatalf("%+v for %s: %v, want it refused", p, mine, err)
		}
	}
	if _, ok := files(svc)[testPrefix(mine, 1)+"planning/x.json"]; ok {
		t.Fatal("a refused part stored a result")
	}
	var scan json.RawMessage
	p := PlanPart{Kind: PlanPartScan, FileKey: "k-" + theirs, Start: 4, End: 8, Delimiter: ",", Out: testPrefix(theirs, 1) + "planning/x.json"}
	if err := svc.testRun().RunPlanPart(ctx, theirs, p); err != nil {
		t.Fatalf("its own part: %v", err)
	}
	if err := json.Unmarshal([]byte(files(svc)[p.Out]), &scan); err != nil {
		t.Fatal(err)
	}
}

// countingOpens counts the whole-object reads (Open) of each key.
type countingOpens struct {
	objects
	opens map[string]int
}

func (c *countingOpens) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	c.opens[key]++
	return c.objects.Open(ctx, key)
}

// A workbook larger than two chunks is one chunk, and opening it reads all
// of it: planning reads it once, whole, not once for its head and again.
func TestALargeWorkbookIsReadOnceToPlan(t *testing.T) {
	ctx := context.Background()
	book := xlsxOf(t, [2]string{"f1", chunkyContacts(300)})
	svc, _, in := oneTestFile(t, book, "", 1024)
	if int64(len(book)) <= 2*in.chunkBytes {
		t.Fatalf("the workbook is %d bytes: not more than two chunks", len(book))
	}
	spec, err := mapspec.Parse([]byte(strings.Replace(noDedupe, `"name":"f1"`, `"name":"f1#f1"`, 1))) // the workbook's sheet
	if err != nil {
		t.Fatal(err)
	}
	in.spec = spec
	count := &countingOpens{objects: files(svc), opens: map[string]int{}}
	svc.Files = count
	ex, run, err := svc.testRun().planExtract(ctx, in)
	if err != nil || run != nil || ex == nil || ex.rows != 300 || len(ex.chunks) != 1 {
		t.Fatalf("planned %+v (parts %+v), %v; want one chunk of 300 rows at once", ex, run, err)
	}
	if n := count.opens[in.files[0].Key]; n != 1 {
		t.Fatalf("the workbook was read whole %d times to plan it", n)
	}
}
