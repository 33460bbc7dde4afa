package pipeline

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/benchdata"
	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/schema"
	"github.com/cutover/cutover/internal/tabular"
)

const contactsSpec = `{"version":1,"defaults":{"region":"GB","dateFormats":["DD/MM/YYYY"]},"files":[{"name":"c","entity":"contact","sourceId":["Record ID"],
"fields":[{"target":"first_name","column":"First Name","steps":[{"op":"trim"},{"op":"case","to":"title"}]},
{"target":"emails","column":"Email"},{"target":"phones","column":"Phone Number"},{"target":"created_at","column":"Create Date"},{"target":"notes","column":"Notes"}]}]}`

func compile(t testing.TB, spec, src string) (tabular.Table, *mapspec.Mapper) {
	t.Helper()
	sp, err := mapspec.Parse([]byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	tables, err := tabular.Open(strings.NewReader(src), "contacts.csv", tabular.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapspec.Compile(sp.Files[0], schema.Default(), tables[0].Header(), "acme", time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return tables[0], m
}

// sink is a fake Sink built from a function field.
type sink struct {
	WriteFn func(recs []*mapspec.Record) error
}

func (s sink) Write(_ context.Context, recs []*mapspec.Record) ([]cutover.Refusal, error) {
	return nil, s.WriteFn(recs)
}

func TestRunAccountsForEveryRowInOrder(t *testing.T) {
	src := "Record ID,First Name,Email,Phone Number,Create Date,Notes\n" +
		"1, ann ,ann@x.com,+44 20 7123 4567,01/02/2024,\"hello, \"\"world\"\"\n2nd line\"\n" +
		",,,,,\n" +
		"2,Bo,bo at x.com,,01/02/2024,=SUM(A1)\n" +
		"3,Cy,cy@x.com,020 8123 4567,31/12/2023,\n" +
		"4,Di,di@x.com,,01/02/2024,,surplus\n" +
		"5,Ed,bad\n"
	tb, m := compile(t, contactsSpec, src)
	var rejects, review bytes.Buffer
	var got []string
	rep, err := Run(context.Background(), "contacts.csv", tb, m, Outputs{
		Sink: sink{func(recs []*mapspec.Record) error {
			for _, r := range recs {
				got = append(got, r.SourceID)
			}
			return nil
		}},
		Rejects: &rejects, Review: &review,
	}, Options{Workers: 3, ChunkRows: 1, BatchSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Counts
	// Bo's and Ed's e-mails cannot be read, but their names identify them:
	// they migrate without them, flagged, and the values left out are
	// counted by field.
	if c.Read != 6 || c.Migrated != 4 || c.Rejected != 1 || c.Skipped[mapspec.SkipBlankRow] != 1 || c.Warned != 3 || c.LeftOut != 2 || !c.Balanced() {
		t.Fatalf("counts = %+v", c)
	}
	if rep.LeftOut["emails"] != 2 || len(rep.LeftOut) != 1 {
		t.Fatalf("left out = %v", rep.LeftOut)
	}
	if strings.Join(got, ",") != "1,2,3,5" {
		t.Fatalf("records reached the sink as %v, want file order 1,2,3,5", got)
	}
	if !strings.Contains(review.String(), `emails,Email,bo at x.com,"! left out of the record:`) {
		t.Fatalf("review does not flag Bo's e-mail: %q", review.String())
	}
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(rejects.Bytes(), []byte("\xEF\xBB\xBF"))))
	cr.FieldsPerRecord = -1 // a shifted row keeps its surplus cells
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0][6] != "cutover_line" || rows[1][7] != "7" || !strings.Contains(rows[1][8], "7 cells") {
		t.Fatalf("rejects = %q", rows)
	}
	if !strings.Contains(review.String(), "! ") || !strings.Contains(review.String(), "020 8123 4567") {
		t.Fatalf("review = %q", review.String())
	}
	for _, f := range rep.FillRates {
		if f.Field == "first_name" && (f.Filled != 4 || f.Rate != 1) {
			t.Fatalf("first_name fill = %+v", f)
		}
	}
}

func TestRunStopsOnSinkFailure(t *testing.T) {
	tb, m := compile(t, contactsSpec, "Record ID,First Name,Email,Phone Number,Create Date,Notes\n1,Ann,a@x.com,,01/01/2024,\n")
	boom := cutover.Errorf(cutover.EUNAVAILABLE, "throttled")
	_, err := Run(context.Background(), "f", tb, m, Outputs{Sink: sink{func([]*mapspec.Record) error { return boom }}}, Options{})
	if err != boom {
		t.Fatalf("err = %v", err)
	}
}

func TestRunReportsAReadErrorWithItsLine(t *testing.T) {
	tb, m := compile(t, contactsSpec, "Record ID,First Name,Email,Phone Number,Create Date,Notes\n1,Ann,a@x.com,,01/01/2024,\"open\n")
	_, err := Run(context.Background(), "f", tb, m, Outputs{}, Options{})
	if cutover.ErrorCode(err) != cutover.EINVALID || !strings.Contains(cutover.ErrorMessage(err), "line 2") {
		t.Fatalf("err = %v", err)
	}
}

// Parallel mapping must give exactly what one worker gives.
func TestParallelEqualsSequential(t *testing.T) {
	var src bytes.Buffer
	if err := benchdata.WriteContacts(&src, 5000, 7); err != nil {
		t.Fatal(err)
	}
	run := func(workers int) (string, Counts) {
		tb, m := compile(t, contactsSpec, src.String())
		var mu sync.Mutex
		var b strings.Builder
		rep, err := Run(context.Background(), "f", tb, m, Outputs{Sink: sink{func(recs []*mapspec.Record) error {
			mu.Lock()
			defer mu.Unlock()
			for _, r := range recs {
				v, _ := r.Get("notes")
				fmt.Fprintf(&b, "%s:%d:%s;", r.ID, r.Line, v.Str)
			}
			return nil
		}}}, Options{Workers: workers, ChunkRows: 37})
		if err != nil {
			t.Fatal(err)
		}
		return b.String(), rep.Counts
	}
	one, c1 := run(1)
	many, c4 := run(4)
	if one != many || fmt.Sprint(c1) != fmt.Sprint(c4) || c1.Read != 5000 || !c1.Balanced() {
		t.Fatalf("1 worker: %+v; 4 workers: %+v; same records: %v", c1, c4, one == many)
	}
}

// FuzzPipelineBalances is the property that nothing is lost: whatever rows
// a file holds, every row read is migrated, merged, rejected or skipped.
func FuzzPipelineBalances(f *testing.F) {
	for _, s := range []string{
		"1,Ann,a@x.com,,01/02/2024,\n",
		",,,,,\n2,Bo,bo at x,+44 20 7123 4567,31/02/2024,x\n",
		"3,\"Cy\nCy\",c@x.com,0161 496 0000,01/01/2000,=1+1,extra\n4\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		src := "Record ID,First Name,Email,Phone Number,Create Date,Notes\n" + body
		sp, _ := mapspec.Parse([]byte(contactsSpec))
		tables, err := tabular.Open(strings.NewReader(src), "f.csv", tabular.Options{Delimiter: ','})
		if err != nil {
			return
		}
		m, err := mapspec.Compile(sp.Files[0], schema.Default(), tables[0].Header(), "t", time.Unix(0, 0))
		if err != nil {
			return
		}
		// Count the rows independently of the pipeline, with a second reader.
		again, _ := tabular.Open(strings.NewReader(src), "f.csv", tabular.Options{Delimiter: ','})
		rows := 0
		for {
			if _, err := again[0].Next(); err != nil {
				break
			}
			rows++
		}
		n := 0
		rep, err := Run(context.Background(), "f", tables[0], m, Outputs{Sink: sink{func(recs []*mapspec.Record) error { n += len(recs); return nil }}, Rejects: io.Discard}, Options{ChunkRows: 2})
		if err != nil {
			if cutover.ErrorCode(err) != cutover.EINVALID {
				t.Fatalf("error of class %q: %v", cutover.ErrorCode(err), err)
			}
			return
		}
		if !rep.Counts.Balanced() || rep.Counts.Migrated != n || rep.Counts.Read != rows {
			t.Fatalf("counts %+v, sink got %d, the file has %d rows", rep.Counts, n, rows)
		}
	})
}

// A run that is cancelled says so: it never reports success with rows unread.
func TestRunReportsCancellation(t *testing.T) {
	for i := 0; i < 50; i++ {
		tb, m := compile(t, contactsSpec, "Record ID,First Name,Email,Phone Number,Create Date,Notes\n1,A,a@x.com,,,\n2,B,b@x.com,,,\n3,C,c@x.com,,,\n4,D,d@x.com,,,\n")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		rep, err := Run(ctx, "f", tb, m, Outputs{}, Options{Workers: 8, ChunkRows: 1})
		if err == nil && rep.Counts.Read != 4 {
			t.Fatalf("a cancelled run returned success with %d of 4 rows read", rep.Counts.Read)
		}
	}
}

// slowTable is a Table whose rows come slowly, and which records whether
// Next is running, to catch a reader that outlives Run.
type slowTable struct {
	tabular.Table
	mu      sync.Mutex
	reading bool
}

func (s *slowTable) Next() (tabular.Row, error) {
	s.mu.Lock()
	s.reading = true
	s.mu.Unlock()
	time.Sleep(2 * time.Millisecond)
	r, err := s.Table.Next()
	s.mu.Lock()
	s.reading = false
	s.mu.Unlock()
	return r, err
}

func TestRunStopsReadingBeforeItReturns(t *testing.T) {
	var src bytes.Buffer
	if err := benchdata.WriteContacts(&src, 300, 3); err != nil {
		t.Fatal(err)
	}
	tb, m := compile(t, contactsSpec, src.String())
	slow := &slowTable{Table: tb}
	boom := cutover.Errorf(cutover.EUNAVAILABLE, "throttled")
	_, err := Run(context.Background(), "f", slow, m, Outputs{Sink: sink{func([]*mapspec.Record) error { return boom }}}, Options{ChunkRows: 4, BatchSize: 1})
	if err != boom {
		t.Fatalf("err = %v", err)
	}
	slow.mu.Lock()
	defer slow.mu.Unlock()
	if slow.reading {
		t.Fatal("Run returned while its reader was still inside Next")
	}
}

// A row that repeats a migrated row's source id, in the same file or in
// another file of the pass, is rejected with its reason, not migrated twice.
func TestRunRejectsARepeatedSourceID(t *testing.T) {
	seen := NewSeen()
	run := func(src string) (*Report, []string, string) {
		t.Helper()
		tb, m := compile(t, contactsSpec, src)
		var rejects bytes.Buffer
		var got []string
		rep, err := Run(context.Background(), "contacts.csv", tb, m, Outputs{
			Sink: sink{func(recs []*mapspec.Record) error {
				for _, r := range recs {
					got = append(got, r.SourceID)
				}
				return nil
			}},
			Rejects: &rejects, Seen: seen,
		}, Options{Workers: 2, ChunkRows: 1, BatchSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		return rep, got, rejects.String()
	}
	header := "Record ID,First Name,Email,Phone Number,Create Date,Notes\n"
	rep, got, rejects := run(header + "1,Ann,ann@x.com,,01/02/2024,\n1,Annie,annie@x.com,,01/02/2024,\n2,Bo,bo@x.com,,01/02/2024,\n")
	if rep.Counts.Read != 3 || rep.Counts.Migrated != 2 || rep.Counts.Rejected != 1 || len(got) != 2 {
		t.Fatalf("counts %+v, migrated %v", rep.Counts, got)
	}
	if !strings.Contains(rejects, "Annie") || !strings.Contains(rejects, `source id ""1"": `+duplicate) || !strings.Contains(rejects, ",3,") {
		t.Fatalf("rejects:\n%s", rejects)
	}
	if rep.Reasons["source id: "+duplicate] != 1 {
		t.Fatalf("reasons %v", rep.Reasons)
	}
	// The next file of the pass: id 2 was migrated from the first.
	rep, got, _ = run(header + "2,Bob,bob@x.com,,01/02/2024,\n3,Cy,cy@x.com,,01/02/2024,\n")
	if rep.Counts.Migrated != 1 || rep.Counts.Rejected != 1 || len(got) != 1 || got[0] != "3" {
		t.Fatalf("second file: counts %+v, migrated %v", rep.Counts, got)
	}
}

// With a mapping that merges by a dedupe key, a row repeating a source id
// that is already migrated or merged is still rejected as a duplicate:
// two rows with one id and different e-mails are not two records.
func TestRunRejectsARepeatedSourceIDWhenMerging(t *testing.T) {
	spec := strings.Replace(contactsSpec, `"sourceId":["Record ID"],`, `"sourceId":["Record ID"],"dedupe":["emails"],`, 1)
	header := "Record ID,First Name,Email,Phone Number,Create Date,Notes\n"
	src := header + "1,Ann,ann@x.com,,01/02/2024,\n1,Annie,annie@x.com,,01/02/2024,\n2,Bo,ann@x.com,,01/02/2024,\n2,Bob,bob@x.com,,01/02/2024,\n3,Cy,cy@x.com,,01/02/2024,\n"
	tb, m := compile(t, spec, src)
	merger := mapspec.NewMergerFor(&mapspec.Spec{Files: []mapspec.FileSpec{{Entity: "contact", MergeDifferentIDs: true}}}) // the customer's explicit rule
	var rejects bytes.Buffer
	rep, err := Run(context.Background(), "contacts.csv", tb, m, Outputs{Merger: merger, Rejects: &rejects, Seen: NewSeen()}, Options{Workers: 2, ChunkRows: 1})
	if err != nil {
		t.Fatal(err)
	}
	// 1 Ann migrated; 1 Annie repeats id 1; 2 Bo merges into Ann by e-mail;
	// 2 Bob repeats id 2 (merged, so its id now means Ann); 3 Cy migrated.
	c := rep.Counts
	if c.Read != 5 || c.Migrated != 2 || c.Merged != 1 || c.Rejected != 2 || !c.Balanced() {
		t.Fatalf("counts %+v", c)
	}
	ids := map[string]bool{}
	for _, r := range merger.Records() {
		ids[r.ID] = true
	}
	if len(merger.Records()) != c.Migrated || len(ids) != c.Migrated {
		t.Fatalf("%d records (%d distinct ids) held for writing; the counts claim %d migrated", len(merger.Records()), len(ids), c.Migrated)
	}
	if !strings.Contains(rejects.String(), "Annie") || !strings.Contains(rejects.String(), "Bob") {
		t.Fatalf("rejects:\n%s", rejects.String())
	}
}

// Written counts distinct records, and CheckWritten names both numbers
// when they are not what the counts claim.
func TestCheckWritten(t *testing.T) {
	w := NewWritten()
	w.Add("contact", "a")
	w.Add("contact", "a")
	w.Add("company", "a")
	if w.Len() != 2 {
		t.Fatalf("Len = %d, want 2", w.Len())
	}
	if err := CheckWritten("TEST", 2, w.Len()); err != nil {
		t.Fatal(err)
	}
	err := CheckWritten("TEST", 3, w.Len())
	if cutover.ErrorCode(err) != cutover.EINTERNAL || !strings.Contains(cutover.ErrorMessage(err), "TEST received 2 distinct records") || !strings.Contains(cutover.ErrorMessage(err), "says 3 were migrated") {
		t.Fatalf("mismatch: %v", err)
	}
}

// A row repeating an id is merged, not rejected, when it merges into the
// record that holds the id: the same dedupe key (as every row of a mapping
// without sourceId, whose id is its dedupe key, does).
func TestRunMergesARepeatedIDWithTheSameDedupeKey(t *testing.T) {
	header := "Record ID,First Name,Email,Phone Number,Create Date,Notes\n"
	for name, spec := range map[string]string{
		"no sourceId": strings.Replace(contactsSpec, `"sourceId":["Record ID"],`, `"dedupe":["emails"],`, 1),
		"sourceId":    strings.Replace(contactsSpec, `"sourceId":["Record ID"],`, `"sourceId":["Record ID"],"dedupe":["emails"],`, 1),
	} {
		tb, m := compile(t, spec, header+"1,Ann,ann@x.com,,01/02/2024,\n1,Annie,ANN@x.com,,01/02/2024,\n2,Bo,bo@x.com,,01/02/2024,\n")
		merger := mapspec.NewMerger()
		rep, err := Run(context.Background(), "contacts.csv", tb, m, Outputs{Merger: merger, Seen: NewSeen()}, Options{Workers: 2, ChunkRows: 1})
		if err != nil {
			t.Fatal(err)
		}
		if c := rep.Counts; c.Migrated != 2 || c.Merged != 1 || c.Rejected != 0 || len(merger.Records()) != 2 {
			t.Fatalf("%s: counts %+v, %d records", name, c, len(merger.Records()))
		}
	}
}

// With KeepSource every record carries its own row (file, line, each cell
// under its column, copied: the reader reuses its buffers), even across
// chunks and workers; without it none does.
func TestRunKeepsEachRecordsSourceRow(t *testing.T) {
	src := "Record ID,First Name,Email,Phone Number,Create Date,Notes\n" +
		"1, ann ,ann@x.com,,01/02/2024,\"two\nlines\"\n" +
		"2,Bo,bo@x.com,,01/02/2024,\n" +
		"3,Cy,cy@x.com,,31/12/2023,short\n"
	for _, keep := range []bool{true, false} {
		tb, m := compile(t, contactsSpec, src)
		var got []*mapspec.Record
		_, err := Run(context.Background(), "contacts.csv", tb, m, Outputs{KeepSource: keep, Sink: sink{func(recs []*mapspec.Record) error {
			got = append(got, recs...)
			return nil
		}}}, Options{Workers: 3, ChunkRows: 1, BatchSize: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 {
			t.Fatalf("%d records", len(got))
		}
		if !keep {
			for _, r := range got {
				if r.Source != nil {
					t.Fatalf("record %s kept its row unasked", r.SourceID)
				}
			}
			continue
		}
		header := []string{"Record ID", "First Name", "Email", "Phone Number", "Create Date", "Notes"}
		want := map[string]cutover.SourceRow{
			"1": {File: "contacts.csv", Line: 2, Columns: header, Values: []string{"1", " ann ", "ann@x.com", "", "01/02/2024", "two\nlines"}},
			"2": {File: "contacts.csv", Line: 4, Columns: header, Values: []string{"2", "Bo", "bo@x.com", "", "01/02/2024", ""}},
			"3": {File: "contacts.csv", Line: 5, Columns: header, Values: []string{"3", "Cy", "cy@x.com", "", "31/12/2023", "short"}},
		}
		for _, r := range got {
			if r.Source == nil || fmt.Sprint(*r.Source) != fmt.Sprint(want[r.SourceID]) {
				t.Errorf("record %s: source %+v, want %+v", r.SourceID, r.Source, want[r.SourceID])
			}
		}
	}
}
