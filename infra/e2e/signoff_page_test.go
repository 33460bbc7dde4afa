package e2e

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// signoffExtract has a date column read day-first, British phone numbers, a row
// that is rejected (no valid e-mail) and ids the customer names for spot
// checks: 2 (migrated) and 3 (rejected, which the customer waives).
const signoffExtract = "Contact ID,First Name,Last Name,Email,Phone,Created\n" +
	"1,Ann,Lee,ann@signoff.test,+44 20 7946 0001,25/01/2024\n" +
	"2,Bo,Ng,bo@signoff.test,+44 20 7946 0002,13/02/2024\n" +
	"3,,,not-an-email,,\n" +
	"4,Di,Gone,di@signoff.test,+44 20 7946 0004,28/03/2024\n"

// signOffPage is the part of GET /signoff this test reads.
type signOffPage struct {
	Kind    string
	State   string
	Mapping []struct {
		File, Entity string
		Fields       []struct {
			Columns []string
			Field   string
			How     []string
		}
	}
	Inference []struct {
		File   string
		Region struct{ Region, Source string }
		Dates  []struct {
			Column     string
			DateFormat string `json:"dateFormat"`
		}
	}
	SpotChecks []struct {
		Section, SourceID, Why string
		Found                  bool
		Mark                   *struct{ State, Note string }
	}
	Downloads []struct{ Kind, File, URL string }
	Summary   struct{ Read, Migrated, Merged, Rejected, Skipped int }
}

// The coordinator's page shows, for a real test migration, the mapping as
// it will run, what was inferred from the file, the rejects download and
// every spot check with the customer's mark, the waived one with its note.
func TestSignOffPageShowsTheMappingInferenceAndWaivedSpotChecks(t *testing.T) {
	a := api{t: t, base: st.APIURL}
	box := mailbox{t: t, endpoint: st.Endpoint}
	ops := st.MintOpsToken("ana@vendor.test", time.Hour)
	coordinator := "coord@signoff-page.test"
	id, key := a.create(ops, "signoff-page", "Page Lettings", "signoff-page.test", "coord")
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/checklist", key,
		map[string]any{"counts": map[string]int{"contact": 4}, "spotCheckIds": map[string][]string{"contact": {"2", "3"}}})
	a.upload(id, key, "contacts.csv", "test", []byte(signoffExtract))
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
	a.waitStatus(id, key, "awaiting_review", 1)

	var wb struct {
		SpotChecks []struct {
			SourceID string
			Found    bool
		}
	}
	a.must(http.StatusOK, "GET", "/migrations/"+id+"/workbook", key, nil).decode(t, &wb)
	items := []map[string]string{}
	for _, s := range []string{"reconciliation", "issues", "fillRates", "unmapped"} {
		items = append(items, map[string]string{"section": s, "state": "reviewed"})
	}
	waived := -1
	for i, sc := range wb.SpotChecks {
		mark := map[string]string{"section": fmt.Sprintf("spot:%d", i), "state": "reviewed"}
		if sc.SourceID == "3" {
			waived = i
			mark["state"], mark["note"] = "waived", "Contact 3 has no e-mail in the old CRM either"
		}
		items = append(items, mark)
	}
	if waived < 0 {
		t.Fatalf("no spot check for the named id 3: %+v", wb.SpotChecks)
	}
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/review", key, map[string]any{"items": items})
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/request-signoff", key, nil)
	a.waitStatus(id, key, "awaiting_signoff", 1)

	// The mail's counts add up.
	link := box.signOffLink(coordinator, 1)
	var body string
	for _, m := range box.all() {
		if len(m.To) == 1 && m.To[0] == coordinator && strings.HasPrefix(m.Subject, "Sign-off requested") {
			body = m.Body
		}
	}
	if !strings.Contains(body, "Rows read 4 = migrated 3 + merged 0 + rejected 1 + skipped 0.") {
		t.Fatalf("sign-off mail: %q", body)
	}

	var page signOffPage
	a.must(http.StatusOK, "GET", "/signoff", link, nil).decode(t, &page)
	if page.Kind != "signoff" || page.State != "pending" {
		t.Fatalf("kind %q state %q", page.Kind, page.State)
	}
	// The mapping: every column the customer's file maps, to its field.
	mapped := map[string]string{}
	for _, f := range page.Mapping {
		if f.Entity != "contact" || f.File != "contacts.csv" {
			t.Fatalf("mapping file %+v", f)
		}
		for _, fm := range f.Fields {
			mapped[strings.Join(fm.Columns, "+")] = fm.Field + " " + strings.Join(fm.How, "; ")
		}
	}
	if !strings.HasPrefix(mapped["Email"], "emails") || !strings.HasPrefix(mapped["Phone"], "phones") || !strings.Contains(mapped["Phone"], "phone") {
		t.Fatalf("mapping = %v", mapped)
	}
	// What was inferred from the file: the phone region and the date format.
	if len(page.Inference) != 1 || page.Inference[0].Region.Region != "GB" {
		t.Fatalf("inference = %+v", page.Inference)
	}
	dates := map[string]string{}
	for _, d := range page.Inference[0].Dates {
		dates[d.Column] = d.DateFormat
	}
	if !strings.HasPrefix(dates["Created"], "DD") {
		t.Fatalf("the Created column's inferred format = %v", dates)
	}
	// Every spot check with its mark; the waived one with its note.
	if len(page.SpotChecks) != len(wb.SpotChecks) {
		t.Fatalf("%d spot checks on the page, %d in the workbook", len(page.SpotChecks), len(wb.SpotChecks))
	}
	for i, sc := range page.SpotChecks {
		if sc.Mark == nil || sc.Section != fmt.Sprintf("spot:%d", i) {
			t.Fatalf("spot check %d = %+v", i, sc)
		}
		if i == waived && (sc.SourceID != "3" || sc.Mark.State != "waived" || sc.Mark.Note != "Contact 3 has no e-mail in the old CRM either") {
			t.Fatalf("the waived spot check = %+v", sc)
		}
		if i != waived && sc.Mark.State != "reviewed" {
			t.Fatalf("spot check %d = %+v", i, sc)
		}
	}
	// The rejects file downloads through the page's short-lived link.
	var rejects string
	for _, d := range page.Downloads {
		if d.Kind == "rejects" {
			rejects = d.URL
		}
	}
	if rejects == "" {
		t.Fatalf("downloads = %+v", page.Downloads)
	}
	resp, err := http.Get(rejects)
	if err != nil {
		t.Fatal(err)
	}
	csv, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(csv), "not-an-email") {
		t.Fatalf("rejects download: %d %q", resp.StatusCode, csv)
	}
}
