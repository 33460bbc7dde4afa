package engine

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/workbook"
)

// lostColumns is the contacts' final extract without the Street and
// Postcode columns the signed-off mapping reads.
const lostColumns = "Record ID,First Name,Last Name,Email,Company Name,Website,Notes\n" +
	"1,Ann,Lee,ann@x.com,Acme Ltd,acme.test,VIP\n2,Bo,Ray,bo@x.com,Globex,globex.test,call back\n3,Cy,Fox,cy@x.com,Acme Ltd,acme.test,new\n"

func submitFinal(t *testing.T, svc *Service, store *memStore, id string, in FinalInput) {
	t.Helper()
	m, _ := store.GetMigration(context.Background(), id)
	if in.GoLiveAt == "" {
		in.GoLiveAt = now0.Add(time.Hour).Format(time.RFC3339)
	}
	if _, err := svc.SubmitFinal(context.Background(), m, in); err != nil {
		t.Fatal(err)
	}
}

func hasBreach(p *cutover.PreflightSummary, rule, text string) bool {
	return p != nil && slices.ContainsFunc(p.Breaches, func(b cutover.PreflightBreach) bool { return b.Rule == rule && strings.Contains(b.Detail, text) })
}

// A final extract that lost mapped columns holds go-live: the pre-flight
// names each column, the migration is final_held with golive.held in its
// audit trail, PlanFinal refuses (no lock, nothing in LIVE), and only the
// coordinator's re-approval of exactly this extract lets it go live.
func TestAFinalExtractThatLostAMappedColumnHoldsGoLive(t *testing.T) {
	svc, store, live := finalService(t, 0)
	ctx := context.Background()
	id := twoEntitySignedOff(t, svc, store, "acme")
	finalUpload(t, svc, store, id, "fcof", "companies-final.csv", matchCompanies)
	finalUpload(t, svc, store, id, "ffin", "crm-export-final.csv", lostColumns)
	submitFinal(t, svc, store, id, FinalInput{FileIDs: []string{"fcof", "ffin"}})

	out, err := svc.Final(ctx, FinalStep{Action: FinalPreflight, Phase: cutover.PreflightAtSubmit, MigrationID: id, Round: 1})
	if err != nil || !out.Held {
		t.Fatalf("pre-flight %+v: %v", out, err)
	}
	m, _ := store.GetMigration(ctx, id)
	if m.Status != cutover.StatusFinalHeld || !m.Preflight.Held || !hasBreach(m.Preflight, cutover.RuleColumnMissing, `"Street"`) ||
		!hasBreach(m.Preflight, cutover.RuleColumnMissing, `"Postcode"`) || !hasBreach(m.Preflight, cutover.RuleColumnMissing, "contact.postcode") {
		t.Fatalf("held? %s %+v", m.Status, m.Preflight)
	}
	audit, _ := store.ListAudit(ctx, id)
	if !slices.ContainsFunc(audit, func(e cutover.AuditEvent) bool {
		return e.Action == "golive.held" && strings.Contains(e.Detail, "Postcode")
	}) {
		t.Fatalf("no golive.held in %+v", audit)
	}
	rep, err := svc.PreflightFor(ctx, m)
	if err != nil || len(rep.Missing) != 2 || len(rep.Entities) != 2 || rep.Entities[1].Entity != "contact" || rep.Entities[1].Rows != 3 || rep.Entities[1].TestRows != 2 || rep.Counts.Read != 5 {
		t.Fatalf("report %+v: %v", rep, err)
	}
	if i := slices.IndexFunc(rep.Fill, func(f cutover.FieldFill) bool { return f.Field == "postcode" }); i < 0 || rep.Fill[i].TestPct != 100 || rep.Fill[i].Pct != 0 {
		t.Fatalf("postcode fill %+v", rep.Fill)
	}
	// The state machine moves on only through re-approval; PlanFinal
	// refuses on its own too.
	if _, err := svc.PlanFinal(ctx, FinalStep{MigrationID: id, Round: 1}); cutover.ErrorCode(err) != cutover.ECONFLICT {
		t.Fatalf("plan while held: %v", err)
	}
	if len(store.locks) != 0 || live.writes != 0 {
		t.Fatalf("a held go-live took %d locks, wrote LIVE %d times", len(store.locks), live.writes)
	}

	// A re-approval of another fingerprint does not clear it.
	m, _ = store.GetMigration(ctx, id)
	m.Status, m.Preflight.Held = cutover.StatusScheduled, false
	m.Preflight.Reapproval = &cutover.PreflightApproval{Fingerprint: "something else", DecidedBy: "k@acme.test", DecidedAt: now0}
	_ = store.SaveMigration(ctx, m)
	if _, err := runFinal(t, svc, id); cutover.ErrorCode(err) != cutover.ECONFLICT || live.writes != 0 {
		t.Fatalf("run after a re-approval of something else: %v, %d writes", err, live.writes)
	}

	// The coordinator re-approves this extract (as the sign-off side
	// records it): the go-live pre-flight finds the same differences,
	// approved, and the final migration runs.
	m, _ = store.GetMigration(ctx, id)
	m.Status, m.Preflight.Held = cutover.StatusScheduled, false
	m.Preflight.Reapproval = &cutover.PreflightApproval{Fingerprint: m.Preflight.Fingerprint, BreachKey: m.Preflight.BreachKey, DecidedBy: "k@acme.test", DecidedAt: now0}
	_ = store.SaveMigration(ctx, m)
	if _, err := runFinal(t, svc, id); err != nil {
		t.Fatal(err)
	}
	if len(live.records) != 5 {
		t.Fatalf("LIVE has %d records after the re-approval", len(live.records))
	}
	// The final report keeps the columns it went live without on the
	// customer's follow-up list, by the final file's name.
	done, _ := store.GetMigration(ctx, id)
	var report FinalReport
	if err := json.Unmarshal([]byte(files(svc)[done.FinalReport.ReportKey]), &report); err != nil {
		t.Fatal(err)
	}
	var missing []string
	for _, mc := range report.Missing {
		missing = append(missing, mc.File+"/"+mc.Column+"/"+mc.Field)
	}
	slices.Sort(missing)
	if strings.Join(missing, " ") != "crm-export-final.csv/Postcode/postcode crm-export-final.csv/Street/address_line1" {
		t.Fatalf("the final report's missing columns = %v", missing)
	}
}

// Fill rates that fall and rejections that rise past the thresholds hold
// go-live; within them (the vendor's settings) it proceeds.
func TestFillDropAndRejectRiseHoldPastTheThresholds(t *testing.T) {
	emptied := "Record ID,First Name,Last Name,Email,Company Name,Website,Street,Postcode,Notes\n" +
		"1,Ann,Lee,ann@x.com,Acme Ltd,acme.test,1 High St,AB1 2CD,\n2,Bo,Ray,bo@x.com,Globex,globex.test,2 Low Rd,EF3 4GH,\n" +
		",,,,Acme Ltd,acme.test,,,\n4,Di,Ray,di@x.com,Globex,globex.test,4 Low Rd,EF3 4GH,\n"
	for _, c := range []struct {
		name       string
		thresholds *cutover.Thresholds
		held       bool
	}{
		{"defaults", nil, true},
		{"lenient", &cutover.Thresholds{FillDropPoints: 100, RejectRisePoints: 100, HoldUnexplained: true}, false},
	} {
		svc, store, _ := finalService(t, 0)
		svc.Thresholds = c.thresholds
		ctx := context.Background()
		id := twoEntitySignedOff(t, svc, store, "acme")
		finalUpload(t, svc, store, id, "fcof", "companies-final.csv", matchCompanies)
		finalUpload(t, svc, store, id, "ffin", "final.csv", emptied)
		submitFinal(t, svc, store, id, FinalInput{FileIDs: []string{"fcof", "ffin"}})
		out, err := svc.Preflight(ctx, FinalStep{Phase: cutover.PreflightAtSubmit, MigrationID: id, Round: 1})
		if err != nil || out.Held != c.held {
			t.Fatalf("%s: %+v %v", c.name, out, err)
		}
		m, _ := store.GetMigration(ctx, id)
		if c.held && (!hasBreach(m.Preflight, cutover.RuleFillDrop, "contact.notes") || !hasBreach(m.Preflight, cutover.RuleRejectRise, "25.0%")) {
			t.Fatalf("%s: breaches %+v", c.name, m.Preflight.Breaches)
		}
		if !c.held && (m.Status != cutover.StatusScheduled || len(m.Preflight.Breaches) != 0) {
			t.Fatalf("%s: %s %+v", c.name, m.Status, m.Preflight)
		}
		// The report says how many records each field changes in: contacts
		// 1 and 2 lose their notes (3 is rejected, 4 is new).
		var rep cutover.PreflightReport
		if err := json.Unmarshal([]byte(files(svc)[m.Preflight.ReportKey]), &rep); err != nil {
			t.Fatal(err)
		}
		// The rows behind the rejection rates, beside them: row 3 of 4.
		e := slices.IndexFunc(rep.Entities, func(e cutover.PreflightEntity) bool { return e.Entity == "contact" })
		if e < 0 || rep.Entities[e].Rejected != 1 || rep.Entities[e].TestRejected != 0 || rep.Entities[e].RejectPct != 25 {
			t.Fatalf("%s: the report's contacts %+v; want 1 rejected row (25%%), none in the test", c.name, rep.Entities)
		}
		i := slices.IndexFunc(rep.Fill, func(f cutover.FieldFill) bool { return f.Entity == "contact" && f.Field == "notes" })
		if i < 0 || rep.Fill[i].Changed != 2 {
			t.Fatalf("%s: the report's fill %+v; want contact.notes changed in 2 records", c.name, rep.Fill)
		}
	}
}

// The customer's correction of a held go-live resumes the parked
// re-approval with a withdrawal, kills the coordinator's link and goes back
// to waiting for a final extract; outside a hold it is refused.
func TestWithdrawingAHeldGoLive(t *testing.T) {
	svc, store, _ := finalService(t, 0)
	ctx := context.Background()
	var resumed []any
	svc.Flow = fakeFlow{StartFn: func(string, any) error { return nil }, ResumeFn: func(tok string, out any) error { resumed = append(resumed, tok, out); return nil }}
	id := twoEntitySignedOff(t, svc, store, "acme")
	finalUpload(t, svc, store, id, "fcof", "companies-final.csv", matchCompanies)
	finalUpload(t, svc, store, id, "ffin", "crm-export-final.csv", lostColumns)
	submitFinal(t, svc, store, id, FinalInput{FileIDs: []string{"fcof", "ffin"}})
	m, _ := store.GetMigration(ctx, id)
	if _, err := svc.WithdrawFinal(ctx, m); cutover.ErrorCode(err) != cutover.ECONFLICT {
		t.Fatalf("withdraw of a go-live not held: %v", err)
	}
	if _, err := svc.Preflight(ctx, FinalStep{Phase: cutover.PreflightAtSubmit, MigrationID: id, Round: 1}); err != nil {
		t.Fatal(err)
	}
	m, _ = store.GetMigration(ctx, id)
	m.Pending, m.CurrentLink = &cutover.PendingTask{Kind: cutover.TaskReapproval, Token: "reapproval-token", Round: 1}, "link-hash"
	_ = store.SaveMigration(ctx, m)
	resumed = nil
	m, _ = store.GetMigration(ctx, id)
	if _, err := svc.WithdrawFinal(ctx, m); err != nil {
		t.Fatal(err)
	}
	m, _ = store.GetMigration(ctx, id)
	out, _ := resumed[1].(map[string]any)
	if len(resumed) != 2 || resumed[0] != "reapproval-token" || out["approved"] != false || out["withdrawn"] != true {
		t.Fatalf("resumed %+v", resumed)
	}
	if m.Status != cutover.StatusAwaitingFinal || m.Pending != nil || m.CurrentLink != "" {
		t.Fatalf("after withdrawing: %s pending %+v link %q", m.Status, m.Pending, m.CurrentLink)
	}
	if _, err := svc.WithdrawFinal(ctx, m); cutover.ErrorCode(err) != cutover.ECONFLICT {
		t.Fatalf("second withdraw: %v", err)
	}
}

// A reconciliation that turns unexplained because records are missing from
// the final extract holds go-live; one the CRM's growth since the test
// explains does not (the delta threshold bounds that).
func TestANewlyUnexplainedReconciliationHolds(t *testing.T) {
	for _, c := range []struct {
		name  string
		count int
		held  bool
	}{{"records missing", 4, true}, {"records added since the count", 2, false}} {
		svc, store, _ := finalService(t, 0)
		ctx := context.Background()
		id := twoEntitySignedOff(t, svc, store, "acme")
		m, _ := store.GetMigration(ctx, id)
		m.Checklist = map[string]int{"contact": c.count, "company": 2}
		_ = store.SaveMigration(ctx, m)
		finalUpload(t, svc, store, id, "fcof", "companies-final.csv", matchCompanies)
		finalUpload(t, svc, store, id, "ffin", "final.csv", matchFinal) // three contacts
		submitFinal(t, svc, store, id, FinalInput{FileIDs: []string{"fcof", "ffin"}})
		// The signed-off test reconciled: the baseline is what it was.
		testWorkbookStatus(t, svc, store, id, "contact", "match")
		out, err := svc.Preflight(ctx, FinalStep{Phase: cutover.PreflightAtSubmit, MigrationID: id, Round: 1})
		if err != nil || out.Held != c.held {
			t.Fatalf("%s: %+v %v", c.name, out, err)
		}
		m, _ = store.GetMigration(ctx, id)
		if c.held != hasBreach(m.Preflight, cutover.RuleUnexplained, "contact") {
			t.Fatalf("%s: breaches %+v", c.name, m.Preflight.Breaches)
		}
	}
}

// testWorkbookStatus sets an entity's reconciliation status in the signed-off
// test's stored workbook.
func testWorkbookStatus(t *testing.T, svc *Service, store *memStore, id, entity, status string) {
	t.Helper()
	m, _ := store.GetMigration(context.Background(), id)
	var wb workbook.Workbook
	if err := json.Unmarshal([]byte(files(svc)[m.Workbook.Key]), &wb); err != nil {
		t.Fatal(err)
	}
	for i := range wb.Reconciliation {
		if wb.Reconciliation[i].Entity == entity {
			wb.Reconciliation[i].Status = status
		}
	}
	body, _ := json.Marshal(wb)
	files(svc)[m.Workbook.Key] = string(body)
}

// The customer is told when their go-live is held, with what differs and
// what they can do, once per extract checked however often the step runs.
func TestTheCustomerIsMailedWhenGoLiveIsHeld(t *testing.T) {
	svc, store, _ := finalService(t, 0)
	var sent []sentMail
	svc.Outbox = newMemOutbox()
	svc.Mailer = mailer{SendFn: func(to, subject, body string) error {
		sent = append(sent, sentMail{to, subject, body})
		return nil
	}}
	ctx := context.Background()
	id := twoEntitySignedOff(t, svc, store, "acme")
	finalUpload(t, svc, store, id, "fcof", "companies-final.csv", matchCompanies)
	finalUpload(t, svc, store, id, "ffin", "crm-export-final.csv", lostColumns)
	submitFinal(t, svc, store, id, FinalInput{FileIDs: []string{"fcof", "ffin"}})
	for range 2 {
		if out, err := svc.Final(ctx, FinalStep{Action: FinalPreflight, Phase: cutover.PreflightAtSubmit, MigrationID: id, Round: 1}); err != nil || !out.Held {
			t.Fatalf("pre-flight %+v: %v", out, err)
		}
	}
	held := mailsWith(sent, "Your go-live is held")
	if len(held) != 1 || held[0].To != "c@acme.test" {
		t.Fatalf("held mails %+v", sent)
	}
	for _, want := range []string{`"Postcode"`, "Nothing has been written", "withdraw it on your migration page"} {
		if !strings.Contains(held[0].Body, want) {
			t.Fatalf("the held mail lacks %q:\n%s", want, held[0].Body)
		}
	}
}

// A final extract that leaves out a whole signed-off file holds go-live,
// naming the file: its records would not reach LIVE, whatever the rates
// of the files that are there.
func TestAFinalExtractWithoutASignedOffFileHoldsGoLive(t *testing.T) {
	svc, store, _ := finalService(t, 0)
	ctx := context.Background()
	id := twoEntitySignedOff(t, svc, store, "acme")
	finalUpload(t, svc, store, id, "ffin", "crm-export-final.csv", matchFinal)
	submitFinal(t, svc, store, id, FinalInput{FileIDs: []string{"ffin"}})
	out, err := svc.Final(ctx, FinalStep{Action: FinalPreflight, Phase: cutover.PreflightAtSubmit, MigrationID: id, Round: 1})
	if err != nil || !out.Held {
		t.Fatalf("pre-flight %+v: %v", out, err)
	}
	m, _ := store.GetMigration(ctx, id)
	if !hasBreach(m.Preflight, cutover.RuleFileMissing, "companies.csv") {
		t.Fatalf("breaches %+v, want companies.csv named as missing", m.Preflight.Breaches)
	}
}

// A re-approval covers the differences the coordinator saw: one that
// appears later for the same extract (here the vendor tightened the delta
// threshold before go-live) holds go-live again.
func TestAReapprovalCoversOnlyTheDifferencesItSaw(t *testing.T) {
	svc, store, live := finalService(t, 0)
	ctx := context.Background()
	id := twoEntitySignedOff(t, svc, store, "acme")
	finalUpload(t, svc, store, id, "fcof", "companies-final.csv", matchCompanies)
	finalUpload(t, svc, store, id, "ffin", "crm-export-final.csv", lostColumns)
	submitFinal(t, svc, store, id, FinalInput{FileIDs: []string{"fcof", "ffin"}})
	if out, err := svc.Final(ctx, FinalStep{Action: FinalPreflight, Phase: cutover.PreflightAtSubmit, MigrationID: id, Round: 1}); err != nil || !out.Held {
		t.Fatalf("pre-flight %+v: %v", out, err)
	}
	m, _ := store.GetMigration(ctx, id)
	m.Status, m.Preflight.Held = cutover.StatusScheduled, false
	m.Preflight.Reapproval = &cutover.PreflightApproval{Fingerprint: m.Preflight.Fingerprint, BreachKey: m.Preflight.BreachKey, DecidedBy: "k@acme.test", DecidedAt: now0}
	_ = store.SaveMigration(ctx, m)
	th := cutover.DefaultThresholds
	th.DeltaPct = 1 // a contact added since the test is now past the limit
	svc.Thresholds = &th
	out, err := svc.Final(ctx, FinalStep{Action: FinalPreflight, Phase: cutover.PreflightAtGoLive, MigrationID: id, Round: 1})
	if err != nil || !out.Held {
		t.Fatalf("go-live pre-flight after a new difference: %+v, %v", out, err)
	}
	if m, _ := store.GetMigration(ctx, id); !hasBreach(m.Preflight, cutover.RuleDelta, "contact") || m.Status != cutover.StatusFinalHeld {
		t.Fatalf("held? %s %+v", m.Status, m.Preflight.Breaches)
	}
	if _, err := svc.PlanFinal(ctx, FinalStep{MigrationID: id, Round: 1}); cutover.ErrorCode(err) != cutover.ECONFLICT || live.writes != 0 {
		t.Fatalf("plan: %v, %d writes", err, live.writes)
	}
}

// The pre-flight's dry run in many chunks (each a few rows, with its id
// shuffle) means what it means in one chunk a file: its report (the counts,
// the delta per entity, the records each field changes in, the breaches)
// is the same, and it finds the differences from the test. It keeps no
// rejects or review file: nobody reads them.
func TestThePreflightInChunksMeansTheSameAsInOne(t *testing.T) {
	emptied := "Record ID,First Name,Last Name,Email,Company Name,Website,Street,Postcode,Notes\n" +
		"1,Ann,Lee,ann@x.com,Acme Ltd,acme.test,1 High St,AB1 2CD,\n2,Bo,Ray,bo@x.com,Globex,globex.test,2 Low Rd,EF3 4GH,\n" +
		",,,,Acme Ltd,acme.test,,,\n4,Di,Ray,di@x.com,Globex,globex.test,4 Low Rd,EF3 4GH,\n2,Bo,Ray,bo@x.com,Globex,globex.test,2 Low Rd,EF3 4GH,\n"
	reports := map[int64]cutover.PreflightReport{}
	for _, chunkBytes := range []int64{0, 1} {
		svc, store, _ := finalService(t, chunkBytes)
		ctx := context.Background()
		id := twoEntitySignedOff(t, svc, store, "acme")
		finalUpload(t, svc, store, id, "fcof", "companies-final.csv", matchCompanies)
		finalUpload(t, svc, store, id, "ffin", "final.csv", emptied)
		submitFinal(t, svc, store, id, FinalInput{FileIDs: []string{"fcof", "ffin"}})
		if _, err := svc.Preflight(ctx, FinalStep{Phase: cutover.PreflightAtSubmit, MigrationID: id, Round: 1}); err != nil {
			t.Fatal(err)
		}
		m, _ := store.GetMigration(ctx, id)
		var rep cutover.PreflightReport
		if err := json.Unmarshal([]byte(files(svc)[m.Preflight.ReportKey]), &rep); err != nil {
			t.Fatal(err)
		}
		parts := 0
		for k := range files(svc) {
			if strings.Contains(k, "/preflight/submitted-") && strings.Contains(k, "/chunks/c-") {
				parts++
			}
			if strings.Contains(k, "/preflight/") && (strings.Contains(k, "rejects") || strings.Contains(k, "review")) {
				t.Errorf("the dry run stored %s: a copy of rows nobody reads", k)
			}
		}
		if want := map[int64]int{0: 2, 1: rep.Counts.Read}[chunkBytes]; parts != want || rep.Counts.Rejected == 0 {
			t.Fatalf("chunks of %d bytes: the dry run ran in %d parts for %d rows (%d rejected); want %d", chunkBytes, parts, rep.Counts.Read, rep.Counts.Rejected, want)
		}
		reports[chunkBytes] = rep
	}
	pick := func(r cutover.PreflightReport) string {
		return mustJSON(t, []any{r.Counts, r.Entities, r.Fill, r.Breaches})
	}
	if a, b := pick(reports[0]), pick(reports[1]); a != b {
		t.Fatalf("a chunk a file:\n%s\na chunk a row:\n%s", a, b)
	}
	if e := reports[1].Entities; len(e) == 0 || e[0].Added+e[0].Removed+e[0].Changed+e[len(e)-1].Added+e[len(e)-1].Removed+e[len(e)-1].Changed == 0 {
		t.Fatalf("the chunked pre-flight found no difference from the test: %+v", e)
	}
}

// A part of the pre-flight's dry run that cannot be read, after its
// retries, fails the pre-flight, naming the part and why: go-live is
// neither cleared nor held, and nothing is written. Run again once the
// part can be read, the pre-flight clears go-live.
func TestAPreflightPartThatFailsFailsThePreflight(t *testing.T) {
	svc, store, live := finalService(t, 8)
	broken := &failingRanges{objects: objects{}, broken: map[int64]bool{}}
	svc.Files = broken
	ctx := context.Background()
	id := signedOff(t, svc, store, "acme")
	cleared(t, svc, id) // the go-live pre-flight, with a test migration to compare with
	var second storedChunk
	for k, body := range broken.objects {
		if strings.Contains(k, "/preflight/go-live-") && strings.HasSuffix(k, "/chunks/c-000001.json") {
			if err := json.Unmarshal([]byte(body), &second); err != nil {
				t.Fatal(err)
			}
		}
	}
	if second.End == 0 {
		t.Fatal("the pre-flight ran no second part")
	}
	// Its id shuffle's keys step reads it once; the part itself cannot.
	broken.broken[second.Start], broken.healthy, broken.reads = true, 1, nil
	_, err := svc.Preflight(ctx, FinalStep{Phase: cutover.PreflightAtSubmit, MigrationID: id, Round: 1})
	if cutover.ErrorCode(err) != cutover.EINTERNAL || !strings.Contains(cutover.ErrorMessage(err), "1 of 3 parts") || !strings.Contains(cutover.ErrorMessage(err), "part 2 (c.csv): storage is having a bad day") {
		t.Fatalf("a part that cannot be read: %v; want the pre-flight to fail naming part 2 and why", err)
	}
	m, _ := store.GetMigration(ctx, id)
	if m.Status != cutover.StatusScheduled || m.Preflight.Phase != cutover.PreflightAtGoLive || live.writes != 0 {
		t.Fatalf("after the failed pre-flight: %s, pre-flight %s, %d writes; want it scheduled, the go-live check kept, nothing written", m.Status, m.Preflight.Phase, live.writes)
	}
	broken.broken = map[int64]bool{}
	if out, err := svc.Preflight(ctx, FinalStep{Phase: cutover.PreflightAtSubmit, MigrationID: id, Round: 1}); err != nil || out.Held {
		t.Fatalf("the pre-flight again: %+v, %v", out, err)
	}
	if m, _ := store.GetMigration(ctx, id); m.Preflight.Phase != cutover.PreflightAtSubmit || m.Status != cutover.StatusScheduled {
		t.Fatalf("the pre-flight again left %s, %+v", m.Status, m.Preflight)
	}
}
