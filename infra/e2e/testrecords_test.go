package e2e

import (
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// testRecordsPage is the part of GET …/test-records these tests read.
type testRecordsPage struct {
	Round       int
	Destination string
	Examined    int
	Next        string
	Records     []struct {
		ID, Entity, SourceID string
		Round                int
		Fields               map[string]any
		Source               *struct {
			File    string
			Line    int
			Columns []string
			Values  []string
		}
	}
}

func (a api) testRecords(id, key, query, cursor string, limit int) testRecordsPage {
	a.t.Helper()
	var p testRecordsPage
	a.must(http.StatusOK, "GET", testRecordsPath(id, query, cursor, limit), key, nil).decode(a.t, &p)
	return p
}

func testRecordsPath(id, query, cursor string, limit int) string {
	q := url.Values{}
	if query != "" {
		q.Set("q", query)
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit != 0 {
		q.Set("limit", fmt.Sprint(limit))
	}
	return "/migrations/" + id + "/test-records?" + q.Encode()
}

// browseExtract is a contacts export of n rows (and one rejected row), with
// a quoted cell across two lines early on, so a row's line is not its index.
func browseExtract(n int) string {
	var b strings.Builder
	b.WriteString("Contact ID,First Name,Last Name,Email,Notes\n")
	for i := 1; i <= n; i++ {
		notes := ""
		if i == 3 {
			notes = "\"first line\nsecond line\""
		}
		fmt.Fprintf(&b, "B-%03d,Person%03d,Surname%03d,person%03d@browse.test,%s\n", i, i, i, i, notes)
		if i == 10 {
			b.WriteString("B-BAD,,,not-an-email,\n") // rejected: no name, no e-mail
		}
	}
	return b.String()
}

// sourceLine finds the row whose first cell is id in a CSV extract: its
// line (as a reader counts them: a quoted line break counts) and cells.
func sourceLine(t *testing.T, extract, id string) (int, []string, []string) {
	t.Helper()
	r := csv.NewReader(strings.NewReader(extract))
	header, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	for {
		row, err := r.Read()
		if err != nil {
			t.Fatalf("no row %s in the extract: %v", id, err)
		}
		if row[0] == id {
			line, _ := r.FieldPos(0)
			return line, header, row
		}
	}
}

// After a test migration the customer pages through every TEST record of
// the round (as many as the workbook says migrated, and as the TEST table
// holds, counted apart) and finds a record by e-mail and by source id,
// beside its row of the uploaded file. Another migration's key, cursor or
// a forged cursor reach nothing.
func TestCustomerBrowsesTheTestRecords(t *testing.T) {
	a := api{t: t, base: st.APIURL}
	ops := st.MintOpsToken("ana@vendor.test", time.Hour)
	id, key := a.create(ops, "browse", "Browse Lettings", "browse.test", "boss")
	otherID, otherKey := a.create(ops, "browse-other", "Other Lettings", "other-browse.test", "boss")

	a.must(http.StatusNotFound, "GET", testRecordsPath(id, "", "", 0), key, nil) // before the test migration
	extract := browseExtract(57)
	a.upload(id, key, "contacts.csv", "test", []byte(extract))
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
	a.upload(otherID, otherKey, "contacts.csv", "test", []byte("Contact ID,First Name,Email\nX-1,Xena,xena@other-browse.test\n"))
	a.must(http.StatusAccepted, "POST", "/migrations/"+otherID+"/submit", otherKey, nil)
	a.waitStatus(id, key, "awaiting_review", 1)
	a.waitStatus(otherID, otherKey, "awaiting_review", 1)

	var wb struct {
		Reconciliation []struct {
			Entity   string
			Migrated int
		}
	}
	a.must(http.StatusOK, "GET", "/migrations/"+id+"/workbook", key, nil).decode(t, &wb)
	migrated := 0
	for _, r := range wb.Reconciliation {
		migrated += r.Migrated
	}
	held := len(partitionItems(t, dynamodb.NewFromConfig(awsConfig(t)), st.Names["TestRecordsTable"], id))
	if migrated != 57 || held != 57 {
		t.Fatalf("the workbook says %d migrated and the TEST table holds %d; the extract has 57 good rows", migrated, held)
	}

	// Every record, page by page, once.
	seen := map[string]bool{}
	cursor, pages := "", 0
	for {
		p := a.testRecords(id, key, "", cursor, 20)
		pages++
		if p.Round != 1 || p.Destination != "builtin" || len(p.Records) > 20 {
			t.Fatalf("page %d: round %d, destination %q, %d records", pages, p.Round, p.Destination, len(p.Records))
		}
		for _, r := range p.Records {
			if seen[r.ID] {
				t.Fatalf("record %s listed twice", r.ID)
			}
			seen[r.ID] = true
			if r.Source == nil || r.Source.File != "contacts.csv" || r.Round != 1 {
				t.Fatalf("record %s without its source row: %+v", r.SourceID, r)
			}
		}
		if p.Next == "" {
			break
		}
		if pages > 10 {
			t.Fatal("the pages do not end")
		}
		cursor = p.Next
	}
	if len(seen) != migrated || pages != 3 {
		t.Fatalf("paged through %d records in %d pages; the workbook migrated %d", len(seen), pages, migrated)
	}

	// Found by e-mail and by source id, beside its row of the file.
	for _, tc := range []struct{ query, sourceID string }{{"PERSON042@browse.test", "B-042"}, {"b-003", "B-003"}, {"person017 surname017", "B-017"}} {
		p := a.testRecords(id, key, tc.query, "", 0)
		if len(p.Records) != 1 || p.Records[0].SourceID != tc.sourceID || p.Next != "" || p.Examined != 57 {
			t.Fatalf("search %q: %+v", tc.query, p)
		}
		line, header, row := sourceLine(t, extract, tc.sourceID)
		src := p.Records[0].Source
		if src.Line != line || strings.Join(src.Columns, "|") != strings.Join(header, "|") || strings.Join(src.Values, "|") != strings.Join(row, "|") {
			t.Fatalf("search %q: source %+v, want line %d %q", tc.query, src, line, row)
		}
		if emails, _ := p.Records[0].Fields["emails"].([]any); len(emails) != 1 || !strings.EqualFold(fmt.Sprint(emails[0]), row[3]) {
			t.Fatalf("search %q: the record's e-mails %v, its row says %q", tc.query, p.Records[0].Fields["emails"], row[3])
		}
	}
	if p := a.testRecords(id, key, "xena", "", 0); len(p.Records) != 0 {
		t.Fatalf("another migration's record found: %+v", p.Records)
	}
	if p := a.testRecords(id, key, "B-BAD", "", 0); len(p.Records) != 0 {
		t.Fatalf("a rejected row is listed: %+v", p.Records)
	}

	// Isolation: another migration's key, cursor, or a forged cursor.
	first := a.testRecords(id, key, "", "", 5)
	a.must(http.StatusForbidden, "GET", testRecordsPath(id, "", "", 0), otherKey, nil)
	a.must(http.StatusNotFound, "GET", testRecordsPath("m-doesnotexist", "", "", 0), key, nil)
	bad := a.must(http.StatusBadRequest, "GET", testRecordsPath(otherID, "", first.Next, 0), otherKey, nil)
	if !strings.Contains(bad.errorMessage(), "page link") {
		t.Errorf("another migration's cursor: %q", bad.errorMessage())
	}
	forged := base64.RawURLEncoding.EncodeToString([]byte(`{"m":"` + otherID + `","r":1,"q":"","k":"contact#0"}`))
	a.must(http.StatusBadRequest, "GET", testRecordsPath(id, "", forged, 0), key, nil)
	a.must(http.StatusBadRequest, "GET", testRecordsPath(id, "", "not a cursor", 0), key, nil)
	a.must(http.StatusBadRequest, "GET", testRecordsPath(id, "", "", 1000), key, nil)
	a.must(http.StatusBadRequest, "GET", "/migrations/"+id+"/test-records?limit=ten", key, nil)
	if p := a.testRecords(otherID, otherKey, "", "", 0); len(p.Records) != 1 || p.Records[0].SourceID != "X-1" {
		t.Fatalf("the other migration lists %+v", p.Records)
	}
}
