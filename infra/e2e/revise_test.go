package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/cutover/cutover/infra/stack"
)

// reviseWorkbook is the part of a workbook this journey reads.
type reviseWorkbook struct {
	Round     int
	FillRates []struct {
		Entity, File string
		Fields       []struct {
			Field  string
			Filled int
		}
	}
	Unmapped []struct {
		File    string
		Columns []string
	}
}

// filled returns how many migrated records of file have field filled, and
// whether the workbook lists the field at all.
func (wb reviseWorkbook) filled(file, field string) (int, bool) {
	for _, e := range wb.FillRates {
		if e.File != file {
			continue
		}
		for _, f := range e.Fields {
			if f.Field == field {
				return f.Filled, true
			}
		}
	}
	return 0, false
}

// reviseAudit returns the details of the audit events named action.
func reviseAudit(v migrationView, action string) []string {
	var out []string
	for _, e := range v.Audit {
		if e.Action == action {
			out = append(out, e.Detail)
		}
	}
	return out
}

// Issue 12, item 4: after seeing the first workbook, without any rejection,
// the customer revises the mapping (maps a column the first round left
// unmapped) and runs the test migration again; then uploads a corrected
// extract during that round's review and runs it again. Each new round
// supersedes the workbook before it, in TEST, in the workbook and in the
// audit trail; once sign-off is requested, nothing can be revised.
func TestReviseMappingAndExtractDuringReview(t *testing.T) {
	db := dynamodb.NewFromConfig(awsConfig(t))
	a := api{t: t, base: st.APIURL}
	id, key := a.create(st.MintOpsToken("ana@vendor.test", time.Hour), "revise", "Revise Ltd", "revise.test", "boss")
	testTable := st.Names["TestRecordsTable"]

	// Round 1: "Shoe Size" is not mapped; the workbook says so.
	a.upload(id, key, "contacts.csv", "test", []byte(round1))
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
	a.waitStatus(id, key, "awaiting_review", 1)
	var wb1 reviseWorkbook
	a.must(http.StatusOK, "GET", "/migrations/"+id+"/workbook", key, nil).decode(t, &wb1)
	if len(wb1.Unmapped) != 1 || strings.Join(wb1.Unmapped[0].Columns, ",") != "Shoe Size" {
		t.Fatalf("round 1 unmapped = %+v", wb1.Unmapped)
	}
	if n, ok := wb1.filled("contacts.csv", "notes"); ok && n != 0 {
		t.Fatalf("round 1 already fills notes: %d", n)
	}
	// Some marks on round 1's workbook: they are about that workbook only.
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/review", key, map[string]any{"items": []map[string]string{
		{"section": "reconciliation", "state": "reviewed"}, {"section": "unmapped", "state": "reviewed"},
	}})

	// The customer maps Shoe Size to notes, in review, without a rejection.
	spec := a.mapping(id, key)
	file := spec["files"].([]any)[0].(map[string]any)
	file["fields"] = append(file["fields"].([]any), map[string]any{"target": "notes", "column": "Shoe Size"})
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/mapping", key, map[string]any{"mapping": spec})
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)

	// Round 2 runs in the same execution and supersedes round 1's workbook.
	v := a.waitStatus(id, key, "awaiting_review", 2)
	var wb2 reviseWorkbook
	a.must(http.StatusOK, "GET", "/migrations/"+id+"/workbook", key, nil).decode(t, &wb2)
	if wb2.Round != 2 || len(wb2.Unmapped) != 0 {
		t.Fatalf("round 2 workbook: round %d, unmapped %+v", wb2.Round, wb2.Unmapped)
	}
	// Three rows migrate (the fourth is rejected); two of them have a size.
	if n, ok := wb2.filled("contacts.csv", "notes"); !ok || n != 2 {
		t.Fatalf("round 2 fills notes in %d records (listed %v); want 2: %+v", n, ok, wb2.FillRates)
	}
	notes := map[string]string{}
	for _, f := range records(t, db, testTable, id) {
		notes[f["emails"]] = f["notes"]
	}
	if len(notes) != 3 || notes["ann@acme.test"] != "5" || notes["bo@acme.test"] != "9" || notes["di@acme.test"] != "" {
		t.Fatalf("TEST after round 2: notes by email %v", notes)
	}
	if got := reviseAudit(v, "round.rerun"); len(got) != 1 || !strings.Contains(got[0], "round 2 replaces round 1's workbook: mapping revised") {
		t.Fatalf("audit round.rerun = %q", got)
	}
	// Round 1's marks did not carry over to round 2's workbook.
	if r := a.do("POST", "/migrations/"+id+"/request-signoff", key, nil); r.Status != http.StatusConflict || !strings.Contains(r.errorMessage(), "still open: reconciliation") ||
		!strings.Contains(r.errorMessage(), "unmapped") {
		t.Fatalf("request-signoff with round 1's marks: %d %s", r.Status, r.Body)
	}

	// Nothing new: a second submit is refused, and says what to do.
	if r := a.do("POST", "/migrations/"+id+"/submit", key, nil); r.Status != http.StatusConflict || !strings.Contains(r.errorMessage(), "upload a corrected extract") {
		t.Fatalf("rerun with nothing new: %d %s", r.Status, r.Body)
	}

	// A corrected extract during round 2's review runs in round 3, with the
	// revised mapping the round before used.
	a.upload(id, key, "contacts-fixed.csv", "test", []byte(round2))
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
	v = a.waitStatus(id, key, "awaiting_review", 3)
	if c := v.Migration.Test; c == nil || c.Read != 4 || c.Migrated != 3 || c.Rejected != 0 || c.Skipped != 1 {
		t.Fatalf("round 3 counts = %+v", v.Migration.Test)
	}
	if got := emails(records(t, db, testTable, id)); got != "ann@acme.test,bo@acme.test,cy@acme.test" {
		t.Fatalf("TEST after round 3 = %s (the corrected extract, and nothing of round 2)", got)
	}
	if got := reviseAudit(v, "round.rerun"); len(got) != 2 || !strings.Contains(got[1], "round 3 replaces round 2's workbook: corrected extract") {
		t.Fatalf("audit round.rerun = %q", got)
	}
	var wb3 reviseWorkbook
	a.must(http.StatusOK, "GET", "/migrations/"+id+"/workbook", key, nil).decode(t, &wb3)
	if wb3.Round != 3 || len(wb3.FillRates) != 1 || wb3.FillRates[0].File != "contacts-fixed.csv" {
		t.Fatalf("round 3 workbook: round %d, fill rates %+v", wb3.Round, wb3.FillRates)
	}

	// Once sign-off is requested, the current rules stand: 409, saying why.
	a.reviewAll(id, key, 3)
	a.waitStatus(id, key, "awaiting_signoff", 3)
	for _, r := range []reply{
		a.do("PUT", "/migrations/"+id+"/mapping", key, map[string]any{"mapping": spec}),
		a.do("POST", "/migrations/"+id+"/uploads", key, map[string]any{"fileName": "late.csv", "size": 10, "contentType": "text/csv", "purpose": "test"}),
		a.do("POST", "/migrations/"+id+"/submit", key, nil),
	} {
		if r.Status != http.StatusConflict || !strings.Contains(r.errorMessage(), "sign-off was requested for round 3") {
			t.Errorf("a revision while awaiting sign-off: %d %s", r.Status, r.Body)
		}
	}
}

// After a sign-off request expired the migration is back with the
// customer: they may revise the mapping and run the test migration again
// from there (the SignOffExpired callback goes through the same Rerun?
// choice), and the expired link stays dead in the new round.
func TestReviseAfterSignOffExpired(t *testing.T) {
	quick := ownStack(t, "reviseexpiry", 5*time.Minute, stack.Options{
		Parameters: map[string]string{"SignOffTimeoutSeconds": "10", "SignOffReminderSeconds": "30"},
	})
	a := api{t: t, base: quick.APIURL}
	box := mailbox{t: t, endpoint: quick.Endpoint}
	id, key := a.create(quick.MintOpsToken("ops@vendor.test", time.Hour), "revise-expired", "Expired Ltd", "expired.test", "gavin")
	a.upload(id, key, "contacts.csv", "test", []byte(round1))
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
	a.reviewAll(id, key, 1)
	link := box.signOffLink("gavin@expired.test", 1)
	a.waitStatus(id, key, "signoff_expired", 1)

	spec := a.mapping(id, key)
	file := spec["files"].([]any)[0].(map[string]any)
	file["fields"] = append(file["fields"].([]any), map[string]any{"target": "notes", "column": "Shoe Size"})
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/mapping", key, map[string]any{"mapping": spec})
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
	v := a.waitStatus(id, key, "awaiting_review", 2)
	var wb reviseWorkbook
	a.must(http.StatusOK, "GET", "/migrations/"+id+"/workbook", key, nil).decode(t, &wb)
	if n, ok := wb.filled("contacts.csv", "notes"); wb.Round != 2 || !ok || n != 2 {
		t.Fatalf("round 2 workbook: round %d, notes filled %d (%v)", wb.Round, n, ok)
	}
	if got := reviseAudit(v, "round.rerun"); len(got) != 1 || !strings.Contains(got[0], "round 2 replaces round 1's workbook: mapping revised") {
		t.Fatalf("audit round.rerun = %q", got)
	}
	a.must(http.StatusGone, "GET", "/signoff", link, nil)
	if r := a.do("POST", "/signoff", link, map[string]any{"decision": "approve"}); r.Status != http.StatusGone {
		t.Fatalf("round 1's expired link in round 2: %d %s", r.Status, r.Body)
	}
	// Round 2 goes to sign-off as usual, with a fresh link of its own.
	a.reviewAll(id, key, 2)
	a.waitStatus(id, key, "awaiting_signoff", 2)
	if fresh := box.signOffLink("gavin@expired.test", 2); fresh == link {
		t.Fatal("round 2's sign-off mail carries round 1's link")
	}
}
