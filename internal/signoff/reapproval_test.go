package signoff

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

const reportKey = "artifacts/m-1/round-1/final/preflight.json"

var breaches = []cutover.PreflightBreach{
	{Rule: cutover.RuleColumnMissing, Entity: "contact", Field: "postcode", Detail: "The mapped column Postcode is missing from the final extract."},
	{Rule: cutover.RuleFillDrop, Entity: "contact", Field: "notes", Detail: "Notes are filled for 4% of contacts, down from 61% in the test."},
}

// heldWorld is a world whose go-live its pre-flight held: signed off, the
// final extract checked, two breaches, the full report stored.
func heldWorld(t *testing.T) (w *world, subjects *[]string) {
	w = newWorld(t)
	w.mig.Status = cutover.StatusFinalHeld
	w.mig.SignOff = &cutover.SignOffRecord{Round: 1, MappingVersion: 3, MappingHash: "h3"}
	w.mig.Preflight = &cutover.PreflightSummary{Fingerprint: "fp-1", BreachKey: "bk-1", Phase: cutover.PreflightAtSubmit, Breaches: breaches, Held: true, ReportKey: reportKey, CheckedAt: t0}
	report := cutover.PreflightReport{
		Fingerprint: "fp-1", Phase: cutover.PreflightAtSubmit,
		Entities: []cutover.PreflightEntity{{Entity: "contact", TestRows: 100, Rows: 102, Migrated: 101, Status: "match", Added: 2}},
		Missing:  []cutover.MissingColumn{{Entry: "contacts.csv", Column: "Postcode", Field: "postcode"}},
		Fill:     []cutover.FieldFill{{Entity: "contact", Field: "notes", TestPct: 61, Pct: 4, Changed: 57}},
		Breaches: append(append([]cutover.PreflightBreach{}, breaches...), cutover.PreflightBreach{Rule: cutover.RuleDelta, Detail: "a third difference, kept only in the report"}),
	}
	w.svc.Artifacts = artifacts{func(key string) ([]byte, error) {
		if key != reportKey {
			return nil, cutover.Errorf(cutover.ENOTFOUND, "no such artifact")
		}
		return json.Marshal(report)
	}}
	subjects = new([]string)
	w.svc.Mailer = mailer{func(to, subject, body string) error {
		*subjects = append(*subjects, subject)
		w.mails = append(w.mails, to+"\n"+body)
		return nil
	}}
	return w, subjects
}

// reapproval runs the AwaitReapproval step and returns the link token from the mail.
func (w *world) reapproval(t *testing.T) string {
	t.Helper()
	if _, err := w.svc.Step(context.Background(), StepRequest{Action: "reapproval", RequestInput: RequestInput{MigrationID: "m-1", Round: w.mig.Round, TaskToken: "task-token-1"}}); err != nil {
		t.Fatal(err)
	}
	mail := w.mails[len(w.mails)-1]
	_, tok, ok := strings.Cut(mail, "signoff.html#t=")
	if !ok || strings.Contains(mail, "task-token-1") {
		t.Fatalf("mail = %q", mail)
	}
	return strings.Fields(tok)[0]
}

// count counts the audit events with that action.
func (w *world) count(action string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, ev := range w.audit {
		if ev.Action == action {
			n++
		}
	}
	return n
}

func TestReapprovalRequestParksTheHeldGoLiveAndMailsTheDifferences(t *testing.T) {
	w, subjects := heldWorld(t)
	tok := w.reapproval(t)
	hash := HashToken(tok)
	r, err := w.reqs.GetRequest(context.Background(), hash)
	if err != nil || r.Kind != KindReapproval || r.TaskToken != "task-token-1" || r.State != StatePending || r.Round != 1 {
		t.Fatalf("stored request = %+v, %v", r, err)
	}
	if w.mig.CurrentLink != hash || w.mig.Status != cutover.StatusFinalHeld {
		t.Fatalf("migration: link %q status %s", w.mig.CurrentLink, w.mig.Status)
	}
	if p := w.mig.Pending; p == nil || p.Kind != cutover.TaskReapproval || p.Token != "task-token-1" || p.Round != 1 {
		t.Fatalf("pending = %+v", w.mig.Pending)
	}
	if len(*subjects) != 1 || (*subjects)[0] != "Go-live for Acme is held: the final extract differs from what you signed off" {
		t.Fatalf("subjects = %q", *subjects)
	}
	mail := w.mails[0]
	if !strings.HasPrefix(mail, "coord@x.com\n") {
		t.Fatalf("mailed to %q", strings.SplitN(mail, "\n", 2)[0])
	}
	for _, b := range breaches {
		if !strings.Contains(mail, b.Detail) {
			t.Errorf("the mail does not list %q:\n%s", b.Detail, mail)
		}
	}
	if w.count("golive.reapproval_requested") != 1 {
		t.Fatalf("audit = %+v", w.audit)
	}
}

func TestReapprovalIsRequestedOnlyForAHeldGoLive(t *testing.T) {
	for name, change := range map[string]func(m *cutover.Migration){
		"scheduled":    func(m *cutover.Migration) { m.Status = cutover.StatusScheduled },
		"not held":     func(m *cutover.Migration) { m.Preflight.Held = false },
		"no preflight": func(m *cutover.Migration) { m.Preflight = nil },
		"other round":  func(m *cutover.Migration) { m.Round = 2 },
	} {
		t.Run(name, func(t *testing.T) {
			w, _ := heldWorld(t)
			change(&w.mig)
			err := w.svc.RequestReapproval(context.Background(), RequestInput{MigrationID: "m-1", Round: 1, TaskToken: "task-token-1"})
			if cutover.ErrorCode(err) != cutover.ECONFLICT || len(w.mails) != 0 || w.mig.Pending != nil {
				t.Fatalf("err %v, %d mails, pending %+v", err, len(w.mails), w.mig.Pending)
			}
		})
	}
	w, _ := heldWorld(t)
	if err := w.svc.RequestReapproval(context.Background(), RequestInput{MigrationID: "m-1", Round: 1}); cutover.ErrorCode(err) != cutover.EINVALID {
		t.Fatalf("no task token: %v", err)
	}
}

func TestReapprovalLinkShowsTheDifferences(t *testing.T) {
	w, _ := heldWorld(t)
	v, err := w.svc.Show(context.Background(), w.reapproval(t))
	if err != nil {
		t.Fatal(err)
	}
	if v.Kind != KindReapproval || v.State != StatePending || v.Preflight == nil {
		t.Fatalf("view = %+v", v)
	}
	p := v.Preflight
	if len(p.Breaches) != 3 || p.Breaches[0].Detail != breaches[0].Detail || p.Phase != cutover.PreflightAtSubmit {
		t.Fatalf("breaches = %+v", p.Breaches)
	}
	if p.Report == nil || len(p.Report.Entities) != 1 || p.Report.Entities[0].Added != 2 || len(p.Report.Missing) != 1 || p.Report.Missing[0].Column != "Postcode" ||
		len(p.Report.Fill) != 1 || p.Report.Fill[0].Pct != 4 {
		t.Fatalf("report = %+v", p.Report)
	}
	if len(w.flow) != 0 || w.mig.Pending == nil {
		t.Fatal("showing a re-approval link changed something")
	}
	// A report no longer stored: the breaches on the migration still show.
	w.mig.Preflight.ReportKey = "artifacts/gone.json"
	tok := w.reapproval(t)
	if v, err := w.svc.Show(context.Background(), tok); err != nil || v.Preflight.Report != nil || len(v.Preflight.Breaches) != 2 || len(v.Missing) != 1 {
		t.Fatalf("without the report: %+v, %v", v, err)
	}
}

func TestReapprovalApproveSchedulesTheGoLiveOnce(t *testing.T) {
	w, _ := heldWorld(t)
	tok := w.reapproval(t)
	v, err := w.svc.Decide(context.Background(), tok, DecideInput{Decision: "approve", Comment: "Postcodes are gone from the old CRM on purpose"})
	if err != nil || v.State != StateApproved || v.Kind != KindReapproval {
		t.Fatalf("Decide = %+v, %v", v, err)
	}
	p := w.mig.Preflight
	if a := p.Reapproval; a == nil || a.Fingerprint != "fp-1" || a.BreachKey != "bk-1" || !a.Approves(p) || a.DecidedBy != "coordinator:coord@x.com" || !a.DecidedAt.Equal(t0) || a.Comment != "Postcodes are gone from the old CRM on purpose" {
		t.Fatalf("re-approval = %+v", p.Reapproval)
	}
	if p.Held || w.mig.Status != cutover.StatusScheduled || w.mig.Pending != nil {
		t.Fatalf("held %v, status %s, pending %+v", p.Held, w.mig.Status, w.mig.Pending)
	}
	if w.mig.SignOff.Round != 1 || w.mig.SignOff.MappingHash != "h3" {
		t.Fatalf("the round's sign-off changed: %+v", w.mig.SignOff)
	}
	if w.count("golive.reapproved") != 1 || w.count("golive.refused") != 0 || w.decisions() != 0 {
		t.Fatalf("audit = %+v", w.audit)
	}
	if len(w.flow) != 1 || len(w.flow[0].(map[string]any)) != 1 || w.flow[0].(map[string]any)["approved"] != true {
		t.Fatalf("flow = %v", w.flow)
	}
	for _, d := range []string{"approve", "reject"} {
		_, err = w.svc.Decide(context.Background(), tok, DecideInput{Decision: d})
		if cutover.ErrorCode(err) != cutover.ECONFLICT || !strings.Contains(cutover.ErrorMessage(err), "already approved") {
			t.Fatalf("reuse (%s): %v", d, err)
		}
	}
	if v, err := w.svc.Show(context.Background(), tok); err != nil || v.State != StateApproved {
		t.Fatalf("the decided link shows %+v, %v", v, err)
	}
	if len(w.flow) != 1 || w.count("golive.reapproved") != 1 {
		t.Fatal("a reused link decided again")
	}
}

func TestReapprovalRejectLeavesTheGoLiveHeld(t *testing.T) {
	w, _ := heldWorld(t)
	tok := w.reapproval(t)
	if _, err := w.svc.Decide(context.Background(), tok, DecideInput{Decision: "reject", Comment: "Send the extract with postcodes"}); err != nil {
		t.Fatal(err)
	}
	if w.mig.Preflight.Reapproval != nil || !w.mig.Preflight.Held || w.mig.Status != cutover.StatusFinalHeld || w.mig.Pending != nil {
		t.Fatalf("after a refusal: preflight %+v, status %s, pending %+v", w.mig.Preflight, w.mig.Status, w.mig.Pending)
	}
	if w.count("golive.refused") != 1 || w.count("golive.reapproved") != 0 {
		t.Fatalf("audit = %+v", w.audit)
	}
	if len(w.flow) != 1 || w.flow[0].(map[string]any)["approved"] != false {
		t.Fatalf("flow = %v", w.flow)
	}
}

func TestRacingReapprovalsRecordExactlyOne(t *testing.T) {
	w, _ := heldWorld(t)
	tok := w.reapproval(t)
	ok := raceDecisions(t, w.svc, tok)
	if ok != 1 || len(w.flow) != 1 || w.count("golive.reapproved")+w.count("golive.refused") != 1 {
		t.Fatalf("%d decisions succeeded, %d reached the state machine, audit %+v; want exactly one", ok, len(w.flow), w.audit)
	}
}

// A sign-off link cannot decide a held go-live, a re-approval link cannot
// decide a round's sign-off, and a link the customer's correction
// superseded decides nothing.
func TestReapprovalAndSignOffLinksDoNotCross(t *testing.T) {
	t.Run("a sign-off link while the go-live is held", func(t *testing.T) {
		w, _ := heldWorld(t)
		w.mig.Status = cutover.StatusSignOffRequested
		tok := w.request(t)
		w.mig.Status = cutover.StatusFinalHeld // the migration moved on, the link still current
		for _, d := range []string{"approve", "reject"} {
			if _, err := w.svc.Decide(context.Background(), tok, DecideInput{Decision: d}); cutover.ErrorCode(err) != cutover.EGONE {
				t.Fatalf("%s: %v", d, err)
			}
		}
		if _, err := w.svc.Show(context.Background(), tok); cutover.ErrorCode(err) != cutover.EGONE {
			t.Fatalf("show: %v", err)
		}
		if len(w.flow) != 0 || w.mig.Preflight.Reapproval != nil {
			t.Fatal("a sign-off link decided a held go-live")
		}
	})
	t.Run("a re-approval link once a round sign-off is asked", func(t *testing.T) {
		w, _ := heldWorld(t)
		tok := w.reapproval(t)
		w.mig.Status, w.mig.Preflight.Held = cutover.StatusAwaitingSignOff, false
		if _, err := w.svc.Decide(context.Background(), tok, DecideInput{Decision: "approve"}); cutover.ErrorCode(err) != cutover.EGONE {
			t.Fatalf("decide: %v", err)
		}
		if len(w.flow) != 0 || w.mig.SignOff.Round != 1 || w.mig.Preflight.Reapproval != nil || w.decisions() != 0 {
			t.Fatal("a re-approval link decided a round's sign-off")
		}
	})
	t.Run("the earlier sign-off link after re-approval is asked", func(t *testing.T) {
		w, _ := heldWorld(t)
		w.mig.Status = cutover.StatusSignOffRequested
		old := w.request(t)
		w.mig.Status = cutover.StatusFinalHeld
		fresh := w.reapproval(t)
		if _, err := w.svc.Show(context.Background(), old); cutover.ErrorCode(err) != cutover.EGONE {
			t.Fatalf("old link: %v", err)
		}
		if _, err := w.svc.Show(context.Background(), fresh); err != nil {
			t.Fatalf("fresh link: %v", err)
		}
	})
	t.Run("the customer withdrew first", func(t *testing.T) {
		w, _ := heldWorld(t)
		tok := w.reapproval(t)
		w.mig.CurrentLink, w.mig.Pending = "", nil // the customer's withdrawal
		if _, err := w.svc.Decide(context.Background(), tok, DecideInput{Decision: "approve"}); cutover.ErrorCode(err) != cutover.EGONE {
			t.Fatalf("after withdrawal: %v", err)
		}
		if len(w.flow) != 0 || w.mig.Status != cutover.StatusFinalHeld || w.mig.Preflight.Reapproval != nil {
			t.Fatal("a superseded re-approval link decided")
		}
	})
	t.Run("the pending task was taken between showing and deciding", func(t *testing.T) {
		w, _ := heldWorld(t)
		tok := w.reapproval(t)
		w.mig.Pending = nil // a withdrawal that has cleared the task but not yet the link
		if _, err := w.svc.Decide(context.Background(), tok, DecideInput{Decision: "approve"}); cutover.ErrorCode(err) != cutover.EGONE {
			t.Fatalf("decide: %v", err)
		}
		if len(w.flow) != 0 || w.mig.Status != cutover.StatusFinalHeld || w.count("golive.reapproved") != 0 {
			t.Fatal("a decision won against the customer's withdrawal")
		}
	})
	t.Run("forged and expired", func(t *testing.T) {
		w, _ := heldWorld(t)
		tok := w.reapproval(t)
		if _, err := w.svc.Show(context.Background(), tok[:len(tok)-3]+"AAA"); cutover.ErrorCode(err) != cutover.ENOTFOUND {
			t.Fatalf("forged: %v", err)
		}
		w.svc.Now = func() time.Time { return t0.Add(2 * time.Hour) }
		if _, err := w.svc.Decide(context.Background(), tok, DecideInput{Decision: "approve"}); cutover.ErrorCode(err) != cutover.EGONE {
			t.Fatalf("expired: %v", err)
		}
		if len(w.flow) != 0 {
			t.Fatal("a refused link resumed the state machine")
		}
	})
}

// An approval the state machine never heard of is delivered by the same
// POST 30 seconds later, although the go-live has moved on to scheduled,
// and recorded no second time.
func TestUndeliveredReapprovalIsRedelivered(t *testing.T) {
	w, _ := heldWorld(t)
	tok := w.reapproval(t)
	resume := w.svc.Flow
	w.svc.Flow = flow{func(string, any) error { return cutover.Errorf(cutover.EUNAVAILABLE, "down") }}
	if _, err := w.svc.Decide(context.Background(), tok, DecideInput{Decision: "approve"}); cutover.ErrorCode(err) != cutover.EUNAVAILABLE {
		t.Fatalf("first delivery: %v", err)
	}
	if w.mig.Status != cutover.StatusScheduled {
		t.Fatalf("status = %s", w.mig.Status)
	}
	w.svc.Flow = resume
	w.svc.Now = func() time.Time { return t0.Add(redeliverAfter) }
	if v, err := w.svc.Decide(context.Background(), tok, DecideInput{Decision: "approve"}); err != nil || v.State != StateApproved {
		t.Fatalf("redelivery: %+v %v", v, err)
	}
	if len(w.flow) != 1 || w.count("golive.reapproved") != 1 {
		t.Fatalf("flow %v, audit %+v", w.flow, w.audit)
	}
}
