package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Issue 12, items 1, 2 and 7: the final extract is read with the signed-off
// entry it has the identity of, and a pre-flight holds go-live before LIVE
// is written when the final extract differs from what was signed off.

const (
	// Mapped first: a companies entry whose columns a "first entry that
	// fits" guess would take for the contacts' final extract.
	pfCompanies = "Record ID,Company name,Company Domain Name,Industry\nc1,Acme Ltd,acme.test,Retail\nc2,Globex,globex.test,Energy\n"
	// Mailing Line, PC and Remarks are not suggested: the customer maps
	// them by editing the mapping before the first round.
	pfContacts = "Record ID,First Name,Last Name,Email,Company Name,Mailing Line,PC,Remarks\n" +
		"1,Ann,Lee,ann@final.test,Acme Ltd,1 High St,AB1 2CD,VIP customer\n" +
		"2,Bo,Ray,bo@final.test,Globex,2 Low Rd,EF3 4GH,call back\n" +
		"3,Cy,Fox,cy@final.test,Acme Ltd,3 Mill Ln,IJ5 6KL,prefers post\n"
	// The final extract: the same columns, another file name.
	pfFinal = pfContacts
	// A final extract that lost the mapped PC column.
	pfLostPC = "Record ID,First Name,Last Name,Email,Company Name,Mailing Line,Remarks\n" +
		"1,Ann,Lee,ann@final.test,Acme Ltd,1 High St,VIP customer\n" +
		"2,Bo,Ray,bo@final.test,Globex,2 Low Rd,call back\n" +
		"3,Cy,Fox,cy@final.test,Acme Ltd,3 Mill Ln,prefers post\n"
)

// pfView is the part of the customer's view these journeys read.
type pfView struct {
	Migration struct {
		Status    string `json:"status"`
		Round     int    `json:"round"`
		Preflight *struct {
			Phase    string `json:"phase"`
			Held     bool   `json:"held"`
			Breaches []struct {
				Rule, Entity, Field, Detail string
			} `json:"breaches"`
		} `json:"preflight"`
		Pending *struct {
			Kind string `json:"kind"`
		} `json:"pending"`
		FinalMatches []struct {
			FileName, Entry, Entity string
			Confirmed               bool
		} `json:"finalMatches"`
		Failure *struct{ Step, Reason string } `json:"failure"`
	} `json:"migration"`
	Audit []struct{ Actor, Action, Detail string } `json:"audit"`
}

func pfView2(a api, id, key string) pfView {
	a.t.Helper()
	var v pfView
	a.must(http.StatusOK, "GET", "/migrations/"+id, key, nil).decode(a.t, &v)
	return v
}

// pfSignedOff runs a migration for tenant through its test round with the
// customer's mapping edits (Street, Postcode and Notes from columns the
// proposal leaves unmapped) and the coordinator's approval, and returns it
// awaiting its final extract.
func pfSignedOff(t *testing.T, a api, box mailbox, tenant string) (id, key, coordinator string) {
	t.Helper()
	ops := st.MintOpsToken("ana@vendor.test", time.Hour)
	id, key = a.create(ops, tenant, "Final "+tenant, tenant+".test", "boss")
	coordinator = "boss@" + tenant + ".test"
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/checklist", key, map[string]any{"counts": map[string]int{"contact": 3, "company": 2}})
	a.upload(id, key, "companies.csv", "test", []byte(pfCompanies))
	a.upload(id, key, "contacts.csv", "test", []byte(pfContacts))

	var proposal struct {
		Files []struct {
			FileID, Entity string
		}
		Mapping json.RawMessage
	}
	a.must(http.StatusOK, "GET", "/migrations/"+id+"/proposal", key, nil).decode(t, &proposal)
	var spec map[string]any
	if err := json.Unmarshal(proposal.Mapping, &spec); err != nil {
		t.Fatal(err)
	}
	edited := false
	for _, f := range spec["files"].([]any) {
		fs := f.(map[string]any)
		if fs["entity"] != "contact" {
			continue
		}
		var keep []any
		for _, fm := range fs["fields"].([]any) {
			switch fm.(map[string]any)["target"] {
			case "address_line1", "postcode", "notes":
			default:
				keep = append(keep, fm)
			}
		}
		fs["fields"] = append(keep,
			map[string]any{"target": "address_line1", "column": "Mailing Line"},
			map[string]any{"target": "postcode", "column": "PC"},
			map[string]any{"target": "notes", "column": "Remarks"})
		edited = true
	}
	if !edited {
		t.Fatalf("the proposal has no contacts entry: %s", proposal.Mapping)
	}
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/mapping", key, map[string]any{"mapping": spec})
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
	a.reviewAll(id, key, 1)
	a.waitStatus(id, key, "awaiting_signoff", 1)
	a.must(http.StatusOK, "POST", "/signoff", box.signOffLink(coordinator, 1), map[string]any{"decision": "approve"})
	a.waitStatus(id, key, "awaiting_final", 1)
	return id, key, coordinator
}

// pfMatches asks for the final files' matches and returns them confirmed,
// checking how each was matched.
func pfMatches(t *testing.T, a api, id, key string, fileIDs []string, want map[string]string) []map[string]string {
	t.Helper()
	var view struct {
		Tables []struct {
			FileID, FileName, Table, Entry, Entity, How, Note string
		}
	}
	a.must(http.StatusOK, "GET", "/migrations/"+id+"/final/matches?fileIds="+strings.Join(fileIDs, ","), key, nil).decode(t, &view)
	var out []map[string]string
	for _, tm := range view.Tables {
		if got := tm.Entity + "/" + tm.How; got != want[tm.FileName] {
			t.Fatalf("%s matched as %s (%s), want %s", tm.FileName, got, tm.Note, want[tm.FileName])
		}
		out = append(out, map[string]string{"fileId": tm.FileID, "table": tm.Table, "entry": tm.Entry})
	}
	if len(out) != len(want) {
		t.Fatalf("matches for %d tables, want %d: %+v", len(out), len(want), view.Tables)
	}
	return out
}

// liveOf reads a tenant's LIVE records with the SDK.
func liveOf(t *testing.T, tenant string) map[string]map[string]string {
	t.Helper()
	return records(t, dynamodb.NewFromConfig(awsConfig(t)), st.Names["LiveRecordsTable"], tenant)
}

// (a) The test extract contacts.csv, mapped with the customer's edits; the
// final extract comes under another name with the same columns (and a
// companies file, mapped first, whose entry the old "first entry that
// fits" guess took for it): LIVE records carry the edited fields.
func TestFinalRenamedFinalExtractGoesLiveWithTheEditedFields(t *testing.T) {
	t.Parallel()
	a := api{t: t, base: st.APIURL}
	box := mailbox{t: t, endpoint: st.Endpoint}
	id, key, _ := pfSignedOff(t, a, box, "pf-renamed")

	coID := a.upload(id, key, "companies-final.csv", "final", []byte(pfCompanies))
	ctID := a.upload(id, key, "crm-export-final.csv", "final", []byte(pfFinal))
	matches := pfMatches(t, a, id, key, []string{coID, ctID}, map[string]string{"companies-final.csv": "company/exact", "crm-export-final.csv": "contact/exact"})
	goLive := time.Now().Add(5 * time.Second).UTC()
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/final", key, map[string]any{"goLiveAt": goLive.Format(time.RFC3339), "fileIds": []string{coID, ctID}, "matches": matches})
	a.waitStatus(id, key, "live", 1)

	v := pfView2(a, id, key)
	if p := v.Migration.Preflight; p == nil || p.Held || len(p.Breaches) != 0 || p.Phase != "go-live" {
		t.Fatalf("pre-flight %+v", p)
	}
	entities := map[string]bool{}
	for _, fm := range v.Migration.FinalMatches {
		entities[fm.Entity] = fm.Confirmed
	}
	if len(v.Migration.FinalMatches) != 2 || !entities["contact"] || !entities["company"] {
		t.Fatalf("stored matches %+v", v.Migration.FinalMatches)
	}
	var preview struct {
		Entities []struct {
			Entity             string
			TestRows, Rows     int
			Added, Removed     int
			Status             string
			RejectPct, WarnPct float64
		}
		Missing []any
	}
	a.must(http.StatusOK, "GET", "/migrations/"+id+"/final/preflight", key, nil).decode(t, &preview)
	if len(preview.Entities) != 2 || len(preview.Missing) != 0 {
		t.Fatalf("preview %+v", preview)
	}

	live := liveOf(t, "pf-renamed")
	contacts := map[string]string{}
	companies := 0
	for _, f := range live {
		if f["emails"] != "" {
			contacts[f["emails"]] = f["address_line1"] + "|" + f["postcode"] + "|" + f["notes"]
		} else if f["name"] != "" {
			companies++
		}
	}
	want := map[string]string{"ann@final.test": "1 High St|AB1 2CD|VIP customer", "bo@final.test": "2 Low Rd|EF3 4GH|call back", "cy@final.test": "3 Mill Ln|IJ5 6KL|prefers post"}
	if len(live) != 5 || companies != 2 || fmt.Sprint(contacts) != fmt.Sprint(want) {
		t.Fatalf("LIVE has %d records (%d companies); contacts %v, want %v", len(live), companies, contacts, want)
	}
}

// pfHeld submits a final extract that lost the mapped PC column and waits
// until the pre-flight holds go-live and the hold is parked on the
// coordinator's re-approval.
func pfHeld(t *testing.T, a api, id, key string) {
	t.Helper()
	coID := a.upload(id, key, "companies-final.csv", "final", []byte(pfCompanies))
	ctID := a.upload(id, key, "crm-export-final.csv", "final", []byte(pfLostPC))
	matches := pfMatches(t, a, id, key, []string{coID, ctID}, map[string]string{"companies-final.csv": "company/exact", "crm-export-final.csv": "contact/overlap"})
	goLive := time.Now().Add(5 * time.Second).UTC()
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/final", key, map[string]any{"goLiveAt": goLive.Format(time.RFC3339), "fileIds": []string{coID, ctID}, "matches": matches})

	deadline := time.Now().Add(90 * time.Second)
	for {
		v := pfView2(a, id, key)
		p := v.Migration.Preflight
		if p != nil && p.Held {
			named := false
			for _, b := range p.Breaches {
				named = named || (b.Rule == "column_missing" && strings.Contains(b.Detail, `"PC"`) && b.Field == "postcode")
			}
			if !named {
				t.Fatalf("the hold does not name the PC column: %+v", p.Breaches)
			}
			held := false
			for _, e := range v.Audit {
				held = held || (e.Action == "golive.held" && strings.Contains(e.Detail, "PC"))
			}
			if !held {
				t.Fatalf("no golive.held in the audit trail: %+v", v.Audit)
			}
			if v.Migration.Status == "final_held" && v.Migration.Pending != nil && v.Migration.Pending.Kind == "reapproval" {
				break
			}
		}
		if v.Migration.Status == "failed" || v.Migration.Status == "live" || time.Now().After(deadline) {
			t.Fatalf("waiting for a held go-live parked on re-approval: %s, pending %+v, failure %+v, pre-flight %+v",
				v.Migration.Status, v.Migration.Pending, v.Migration.Failure, p)
		}
		time.Sleep(250 * time.Millisecond)
	}
	var preview struct {
		Missing []struct{ Column, Field string }
		Fill    []struct {
			Entity, Field string
			TestPct, Pct  float64
		}
	}
	a.must(http.StatusOK, "GET", "/migrations/"+id+"/final/preflight", key, nil).decode(t, &preview)
	if len(preview.Missing) != 1 || preview.Missing[0].Column != "PC" || preview.Missing[0].Field != "postcode" {
		t.Fatalf("preview's missing columns %+v", preview.Missing)
	}
}

// pfWaitPending waits until the migration is parked on a callback of kind.
func pfWaitPending(t *testing.T, a api, id, key, kind string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		v := pfView2(a, id, key)
		if v.Migration.Pending != nil && v.Migration.Pending.Kind == kind {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not parked on %s: %s, pending %+v", kind, v.Migration.Status, v.Migration.Pending)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// pfNewLink waits for a sign-off link mailed to to after the one it had.
func pfNewLink(t *testing.T, box mailbox, to, old string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if l := box.latestLink(to); l != old {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("no fresh link mailed to %s", to)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// (b) A final extract that lost a mapped column holds go-live; the
// customer withdraws it (nothing is written, the final extract is awaited
// again) and a corrected one goes live.
func TestFinalLostColumnHoldsGoLiveAndTheCustomerCorrects(t *testing.T) {
	t.Parallel()
	a := api{t: t, base: st.APIURL}
	box := mailbox{t: t, endpoint: st.Endpoint}
	id, key, _ := pfSignedOff(t, a, box, "pf-withdraw")
	pfHeld(t, a, id, key)
	if m := pfMail(t, box, "it@pf-withdraw.test", "Your go-live is held"); !strings.Contains(m.Body, `"PC"`) || !strings.Contains(m.Body, "withdraw") {
		t.Fatalf("the customer's held mail does not say what differs and what to do:\n%s", m.Body)
	}
	if n := len(liveOf(t, "pf-withdraw")); n != 0 {
		t.Fatalf("a held go-live wrote %d LIVE records", n)
	}
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/final/withdraw", key, nil)
	a.must(http.StatusConflict, "POST", "/migrations/"+id+"/final/withdraw", key, nil)
	a.waitStatus(id, key, "awaiting_final", 1)
	if n := len(liveOf(t, "pf-withdraw")); n != 0 {
		t.Fatalf("a withdrawn go-live wrote %d LIVE records", n)
	}
	pfWaitPending(t, a, id, key, "final") // the state machine is back at AwaitFinalExtract
	coID := a.upload(id, key, "companies-final.csv", "final", []byte(pfCompanies))
	ctID := a.upload(id, key, "crm-export-corrected.csv", "final", []byte(pfFinal))
	matches := pfMatches(t, a, id, key, []string{coID, ctID}, map[string]string{"companies-final.csv": "company/exact", "crm-export-corrected.csv": "contact/exact"})
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/final", key, map[string]any{"goLiveAt": time.Now().Add(5 * time.Second).UTC().Format(time.RFC3339), "fileIds": []string{coID, ctID}, "matches": matches})
	a.waitStatus(id, key, "live", 1)
	if n := len(liveOf(t, "pf-withdraw")); n != 5 {
		t.Fatalf("LIVE has %d records after the corrected extract", n)
	}
}

// (b) After the coordinator's re-approval (the fresh link mailed to them)
// the held extract goes live as approved; after a refusal nothing is
// written and the final extract is awaited again.
func TestFinalLostColumnHoldsGoLiveUntilTheCoordinatorDecides(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		tenant, decision string
	}{{"pf-reapproved", "approve"}, {"pf-refused", "reject"}} {
		t.Run(c.decision, func(t *testing.T) {
			a := api{t: t, base: st.APIURL}
			box := mailbox{t: t, endpoint: st.Endpoint}
			id, key, coordinator := pfSignedOff(t, a, box, c.tenant)
			pfHeld(t, a, id, key)
			link := pfNewLink(t, box, coordinator, box.signOffLink(coordinator, 1)) // the re-approval's fresh link
			a.must(http.StatusOK, "POST", "/signoff", link, map[string]any{"decision": c.decision, "comment": "checked the differences"})
			if c.decision == "reject" {
				a.waitStatus(id, key, "awaiting_final", 1)
				if n := len(liveOf(t, c.tenant)); n != 0 {
					t.Fatalf("a refused go-live wrote %d LIVE records", n)
				}
				return
			}
			a.waitStatus(id, key, "live", 1)
			live := liveOf(t, c.tenant)
			if len(live) != 5 {
				t.Fatalf("LIVE has %d records after the re-approval", len(live))
			}
			for _, f := range live {
				if f["emails"] != "" && (f["postcode"] != "" || f["address_line1"] == "") {
					t.Fatalf("a re-approved contact: %v", f)
				}
			}
		})
	}
}

// pfMail waits for a mail to to whose subject starts with subject.
func pfMail(t *testing.T, box mailbox, to, subject string) mail {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, m := range box.all() {
			if len(m.To) == 1 && m.To[0] == to && strings.HasPrefix(m.Subject, subject) {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no mail %q to %s", subject, to)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
