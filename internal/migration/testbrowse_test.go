package migration

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
)

// fakeTestRecords is a TEST environment of one migration's records in key
// order, read a page at a time as DynamoDB would: it counts the records
// each call returned, so a test sees how much a request read.
type fakeTestRecords struct {
	migrationID string
	recs        []cutover.TestRecord
	read        int // records returned over every call
	calls       int
	fail        error
}

func (f *fakeTestRecords) TestRecords(_ context.Context, migrationID, after string, limit int) (cutover.TestRecordPage, error) {
	f.calls++
	if f.fail != nil {
		return cutover.TestRecordPage{}, f.fail
	}
	if migrationID != f.migrationID {
		return cutover.TestRecordPage{}, nil // another migration's partition: empty
	}
	i := sort.Search(len(f.recs), func(i int) bool { return f.recs[i].Key > after })
	end := min(i+limit, len(f.recs))
	page := cutover.TestRecordPage{Records: append([]cutover.TestRecord(nil), f.recs[i:end]...)}
	f.read += end - i
	if end > i && end < len(f.recs) {
		page.After = f.recs[end-1].Key
	}
	return page, nil
}

// contacts makes n contacts of round 1, keyed in order, with names and
// e-mail addresses; every 7th is named "Ada Lovelace".
func contacts(n int) []cutover.TestRecord {
	out := make([]cutover.TestRecord, n)
	for i := range out {
		first, last := fmt.Sprintf("First%04d", i), fmt.Sprintf("Last%04d", i)
		if i%7 == 3 {
			first, last = "Ada", "Lovelace"
		}
		out[i] = cutover.TestRecord{
			Key: fmt.Sprintf("contact#%06d", i), ID: fmt.Sprintf("%06d", i), Entity: "contact", SourceID: fmt.Sprintf("C-%d", i), Round: 1,
			Fields: map[string]any{"first_name": first, "last_name": last, "emails": []any{fmt.Sprintf("p%d@example.test", i)}, "notes": "ada in the notes"},
			Source: &cutover.SourceRow{File: "contacts.csv", Line: i + 2, Columns: []string{"id"}, Values: []string{fmt.Sprintf("C-%d", i)}},
		}
	}
	return out
}

func browseMigration() *cutover.Migration {
	return &cutover.Migration{ID: "m1", TenantID: "acme", Workbook: &cutover.WorkbookSummary{Round: 1}}
}

func newBrowser(t *testing.T, f *fakeTestRecords) *TestBrowser {
	t.Helper()
	b, err := NewTestBrowser(f, BrowseConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Paging through every record with the cursors gives each record exactly
// once, in pages of the size asked for, and the last page has no cursor.
func TestBrowsePagesThroughEveryRecordOnce(t *testing.T) {
	f := &fakeTestRecords{migrationID: "m1", recs: contacts(103)}
	b, m := newBrowser(t, f), browseMigration()
	seen := map[string]int{}
	cur, pages := "", 0
	for {
		res, err := b.Browse(context.Background(), m, BrowseInput{Cursor: cur, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if res.Next != "" && len(res.Records) != 10 {
			t.Fatalf("page %d has %d records and a next page", pages, len(res.Records))
		}
		for _, r := range res.Records {
			seen[r.ID]++
			if r.Source == nil || r.Source.File != "contacts.csv" {
				t.Fatalf("record %s without its source row", r.ID)
			}
		}
		if res.Next == "" {
			break
		}
		cur = res.Next
		if pages > 20 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 103 || pages != 11 {
		t.Fatalf("%d distinct records in %d pages, want 103 in 11", len(seen), pages)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("record %s listed %d times", id, n)
		}
	}
}

// A search matches source ids, names (several words across fields) and
// e-mail addresses, case-insensitively, and not the other fields.
func TestBrowseSearchesNamesEmailsAndSourceIDs(t *testing.T) {
	f := &fakeTestRecords{migrationID: "m1", recs: contacts(60)}
	b, m := newBrowser(t, f), browseMigration()
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"C-42", []string{"000042"}},
		{"P17@EXAMPLE.test", []string{"000017"}},
		{"ada lovelace", []string{"000003", "000010", "000017", "000024", "000031", "000038", "000045", "000052", "000059"}},
		{"first0005 last0005", []string{"000005"}},
		{"in the notes", nil},
		{"nobody", nil},
	} {
		res, err := b.Browse(context.Background(), m, BrowseInput{Query: "  " + tc.q + " ", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range res.Records {
			got = append(got, r.ID)
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") || res.Next != "" || res.Examined != 60 {
			t.Errorf("search %q: %v (next %q, examined %d), want %v of 60 examined", tc.q, got, res.Next, res.Examined, tc.want)
		}
	}
}

// A search reads at most MaxBrowseExamined records per request: a rare
// match in a large migration is found over several requests, each saying
// how many it examined, and the cursors cover every record once.
func TestBrowseSearchIsBoundedPerRequest(t *testing.T) {
	recs := contacts(2500)
	recs[2400].Fields["first_name"] = "Zebedee"
	f := &fakeTestRecords{migrationID: "m1", recs: recs}
	b, m := newBrowser(t, f), browseMigration()
	cur, total, found := "", 0, []string(nil)
	for i := 0; ; i++ {
		before := f.read
		res, err := b.Browse(context.Background(), m, BrowseInput{Query: "zebedee", Cursor: cur})
		if err != nil {
			t.Fatal(err)
		}
		if n := f.read - before; n > MaxBrowseExamined || n != res.Examined {
			t.Fatalf("request %d read %d records and says it examined %d (bound %d)", i, n, res.Examined, MaxBrowseExamined)
		}
		total += res.Examined
		for _, r := range res.Records {
			found = append(found, r.ID)
		}
		if res.Next == "" {
			break
		}
		cur = res.Next
	}
	if total != 2500 || strings.Join(found, ",") != "002400" {
		t.Fatalf("examined %d in all and found %v, want 2500 and [002400]", total, found)
	}
}

// Records another round left behind (a rerun in progress) are not listed.
func TestBrowseListsOnlyTheWorkbooksRound(t *testing.T) {
	recs := contacts(10)
	for i := 0; i < 4; i++ {
		recs[i].Round = 2
	}
	b := newBrowser(t, &fakeTestRecords{migrationID: "m1", recs: recs})
	res, err := b.Browse(context.Background(), browseMigration(), BrowseInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 6 || res.Round != 1 {
		t.Fatalf("%d records of round %d, want 6 of round 1", len(res.Records), res.Round)
	}
}

// A cursor that is not one of this migration's, round's and search's is
// refused with EINVALID and a message, and reads nothing.
func TestBrowseRefusesForgedCursors(t *testing.T) {
	f := &fakeTestRecords{migrationID: "m1", recs: contacts(30)}
	b, m := newBrowser(t, f), browseMigration()
	first, err := b.Browse(context.Background(), m, BrowseInput{Limit: 5})
	if err != nil || first.Next == "" {
		t.Fatalf("first page: %v %+v", err, first)
	}
	other := &cutover.Migration{ID: "m2", TenantID: "other", Workbook: &cutover.WorkbookSummary{Round: 1}}
	forge := func(c cursor) string { return writeCursor(c) }
	for name, tc := range map[string]struct {
		m  *cutover.Migration
		in BrowseInput
	}{
		"another migration's cursor":        {other, BrowseInput{Cursor: first.Next}},
		"a cursor naming another migration": {m, BrowseInput{Cursor: forge(cursor{Migration: "m2", Round: 1, After: "contact#000001"})}},
		"another round's":                   {m, BrowseInput{Cursor: forge(cursor{Migration: "m1", Round: 0, After: "contact#000001"})}},
		"another search's":                  {m, BrowseInput{Query: "ada", Cursor: first.Next}},
		"no key":                            {m, BrowseInput{Cursor: forge(cursor{Migration: "m1", Round: 1})}},
		"not base64":                        {m, BrowseInput{Cursor: "%%%"}},
		"not JSON":                          {m, BrowseInput{Cursor: base64.RawURLEncoding.EncodeToString([]byte("contact#1"))}},
		"unknown fields":                    {m, BrowseInput{Cursor: base64.RawURLEncoding.EncodeToString([]byte(`{"m":"m1","r":1,"k":"contact#1","pk":"m2"}`))}},
		"a page too large":                  {m, BrowseInput{Limit: MaxBrowseLimit + 1}},
		"a negative page":                   {m, BrowseInput{Limit: -1}},
		"a search too long":                 {m, BrowseInput{Query: strings.Repeat("a", MaxBrowseQuery+1)}},
	} {
		calls := f.calls
		res, err := b.Browse(context.Background(), tc.m, tc.in)
		if cutover.ErrorCode(err) != cutover.EINVALID || cutover.ErrorMessage(err) == "" || res != nil {
			t.Errorf("%s: %v %+v, want EINVALID", name, err, res)
		}
		if f.calls != calls {
			t.Errorf("%s: read the TEST environment", name)
		}
	}
}

// Before the first test migration there is nothing to browse (404), and
// a storage failure is passed on as it is.
func TestBrowseBeforeAWorkbookAndOnFailure(t *testing.T) {
	f := &fakeTestRecords{migrationID: "m1"}
	b := newBrowser(t, f)
	if _, err := b.Browse(context.Background(), &cutover.Migration{ID: "m1"}, BrowseInput{}); cutover.ErrorCode(err) != cutover.ENOTFOUND {
		t.Errorf("before a workbook: %v, want ENOTFOUND", err)
	}
	f.fail = cutover.Errorf(cutover.EUNAVAILABLE, "down")
	if _, err := b.Browse(context.Background(), browseMigration(), BrowseInput{}); cutover.ErrorCode(err) != cutover.EUNAVAILABLE {
		t.Errorf("storage down: %v, want EUNAVAILABLE", err)
	}
}

// With an HTTPS or S3 TEST destination nothing is read here: the answer
// says the records are in the vendor's staging environment and links to
// its UI, with the migration's tenant and id filled in (escaped).
func TestBrowseElsewhereLinksToTheStagingUI(t *testing.T) {
	f := &fakeTestRecords{migrationID: "m1", recs: contacts(3)}
	b, err := NewTestBrowser(nil, BrowseConfig{Destination: DestinationHTTPS, StagingURL: "https://staging.vendor.test/t/{tenantId}/imports/{migrationId}"})
	if err != nil {
		t.Fatal(err)
	}
	m := browseMigration()
	m.TenantID = "acme/uk"
	res, err := b.Browse(context.Background(), m, BrowseInput{})
	if err != nil {
		t.Fatal(err)
	}
	if res.StagingURL != "https://staging.vendor.test/t/acme%2Fuk/imports/m1" || !strings.Contains(res.Message, "vendor's staging environment") || len(res.Records) != 0 || res.Destination != "https" {
		t.Errorf("got %+v", res)
	}
	b, _ = NewTestBrowser(f, BrowseConfig{Destination: DestinationS3})
	res, err = b.Browse(context.Background(), m, BrowseInput{})
	if err != nil || res.StagingURL != "" || !strings.Contains(res.Message, "ask your contact") || f.calls != 0 {
		t.Errorf("no staging UI: %v %+v (reads %d)", err, res, f.calls)
	}
	for _, cfg := range []BrowseConfig{{Destination: "ftp"}, {Destination: DestinationHTTPS, StagingURL: "staging.vendor.test/{tenantId}"}, {Destination: DestinationHTTPS, StagingURL: "javascript:alert(1)"}} {
		if _, err := NewTestBrowser(f, cfg); cutover.ErrorCode(err) != cutover.EINVALID {
			t.Errorf("%+v: %v, want EINVALID", cfg, err)
		}
	}
	if _, err := NewTestBrowser(nil, BrowseConfig{}); cutover.ErrorCode(err) != cutover.EINTERNAL {
		t.Errorf("built-in without records: %v", err)
	}
}
