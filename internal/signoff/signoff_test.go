package signoff

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func TestLinks(t *testing.T) {
	l := Links{Key: []byte("k1")}
	tok, hash := l.Mint(t0.Add(time.Hour))
	if got, err := l.Verify(tok, t0); err != nil || got != hash {
		t.Fatalf("Verify = %q, %v; want %q", got, err, hash)
	}
	if strings.Contains(tok, hash) || HashToken(tok) != hash {
		t.Fatal("the stored hash must be the token's hash, not part of it")
	}
	if _, err := l.Verify(tok, t0.Add(time.Hour)); cutover.ErrorCode(err) != cutover.EGONE {
		t.Fatalf("expired: %v", err)
	}
	p, s, _ := strings.Cut(tok, ".")
	tampered := p[:len(p)-2] + "AA." + s
	for name, bad := range map[string]string{"tampered": tampered, "garbage": "hello", "empty": "", "two dots": tok + ".x"} {
		if _, err := l.Verify(bad, t0); cutover.ErrorCode(err) != cutover.ENOTFOUND {
			t.Errorf("%s: %v, want not_found", name, err)
		}
	}
	if _, err := (Links{Key: []byte("other")}).Verify(tok, t0); cutover.ErrorCode(err) != cutover.ENOTFOUND {
		t.Errorf("another key: %v", err)
	}
}

// memRequests is a fake Store with the conditional-write semantics of the
// real one.
type memRequests struct {
	mu   sync.Mutex
	reqs map[string]Request
}

func (m *memRequests) PutRequest(_ context.Context, r Request) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reqs[r.LinkHash] = r
	return nil
}

func (m *memRequests) GetRequest(_ context.Context, h string) (*Request, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.reqs[h]
	if !ok {
		return nil, cutover.Errorf(cutover.ENOTFOUND, "no")
	}
	return &r, nil
}

func (m *memRequests) Decide(_ context.Context, h, state, by, comment string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.reqs[h]
	if r.State != StatePending {
		return cutover.Errorf(cutover.ECONFLICT, "taken")
	}
	r.State, r.DecidedBy, r.Comment, r.DecidedAt = state, by, comment, at
	m.reqs[h] = r
	return nil
}

func (m *memRequests) MarkDelivered(_ context.Context, h string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.reqs[h]
	r.Delivered = true
	m.reqs[h] = r
	return nil
}

// migrations is a fake Migrations built from function fields.
type migrations struct {
	GetFn  func(id string) (*cutover.Migration, error)
	SaveFn func(m *cutover.Migration, events ...cutover.AuditEvent) error
}

func (f migrations) GetMigration(_ context.Context, id string) (*cutover.Migration, error) {
	return f.GetFn(id)
}

func (f migrations) SaveMigration(_ context.Context, m *cutover.Migration, ev ...cutover.AuditEvent) error {
	return f.SaveFn(m, ev...)
}

type flow struct {
	ResumeFn func(token string, out any) error
}

func (f flow) Resume(_ context.Context, token string, out any) error { return f.ResumeFn(token, out) }

type mailer struct {
	SendFn func(to, subject, body string) error
}

func (f mailer) Send(_ context.Context, to, subject, body string) error {
	return f.SendFn(to, subject, body)
}

type world struct {
	svc   *Service
	reqs  *memRequests
	mu    sync.Mutex
	mig   cutover.Migration
	mails []string
	audit []cutover.AuditEvent
	flow  []any
}

func newWorld(t *testing.T) *world {
	w := &world{reqs: &memRequests{reqs: map[string]Request{}}}
	w.mig = cutover.Migration{
		ID: "m-1", TenantID: "acme", CustomerName: "Acme", CoordinatorEmail: "coord@x.com",
		Status: cutover.StatusSignOffRequested, Round: 1, MappingVersion: 3, MappingHash: "h3", Test: &cutover.Counts{Read: 2, Migrated: 2},
	}
	w.svc = &Service{
		Links: Links{Key: []byte("secret")}, Store: w.reqs, SiteURL: "https://site", TTL: time.Hour,
		Now: func() time.Time { return t0 },
		Migrations: migrations{
			GetFn: func(string) (*cutover.Migration, error) {
				w.mu.Lock()
				defer w.mu.Unlock()
				cp := w.mig
				return &cp, nil
			},
			SaveFn: func(m *cutover.Migration, ev ...cutover.AuditEvent) error {
				w.mu.Lock()
				defer w.mu.Unlock()
				if m.Version != w.mig.Version {
					return cutover.Errorf(cutover.ECONFLICT, "moved")
				}
				w.mig = *m
				w.mig.Version++
				w.audit = append(w.audit, ev...)
				return nil
			},
		},
		Flow: flow{func(token string, out any) error {
			w.mu.Lock()
			defer w.mu.Unlock()
			reapproved := w.mig.Preflight != nil && w.mig.Preflight.Reapproval != nil
			if w.mig.SignOff == nil && !reapproved && out.(map[string]any)["approved"] == true {
				t.Error("the state machine heard of an approval before it was recorded")
			}
			if token != "task-token-1" {
				t.Errorf("resumed with token %q", token)
			}
			w.flow = append(w.flow, out)
			return nil
		}},
		Mailer: mailer{func(to, subject, body string) error {
			w.mails = append(w.mails, to+"\n"+body)
			return nil
		}},
	}
	return w
}

// request runs the RequestSignOff step and returns the link token from the mail.
func (w *world) request(t *testing.T) string {
	t.Helper()
	if err := w.svc.Request(context.Background(), RequestInput{MigrationID: "m-1", Round: w.mig.Round, TaskToken: "task-token-1"}); err != nil {
		t.Fatal(err)
	}
	mail := w.mails[len(w.mails)-1]
	_, tok, ok := strings.Cut(mail, "signoff.html#t=")
	if !ok || strings.Contains(mail, "task-token-1") {
		t.Fatalf("mail = %q", mail)
	}
	return strings.Fields(tok)[0]
}

func TestShowChangesNothingAndDecideRecordsBeforeResuming(t *testing.T) {
	w := newWorld(t)
	tok := w.request(t)
	if w.mig.Status != cutover.StatusAwaitingSignOff {
		t.Fatalf("status = %s", w.mig.Status)
	}
	for i := 0; i < 2; i++ {
		v, err := w.svc.Show(context.Background(), tok)
		if err != nil || v.State != StatePending || v.Summary.Migrated != 2 {
			t.Fatalf("Show = %+v, %v", v, err)
		}
	}
	if len(w.flow) != 0 {
		t.Fatal("showing a link resumed the state machine")
	}
	v, err := w.svc.Decide(context.Background(), tok, DecideInput{Decision: "approve", Comment: "looks right"})
	if err != nil || v.State != StateApproved {
		t.Fatalf("Decide = %+v, %v", v, err)
	}
	if w.mig.SignOff == nil || w.mig.SignOff.MappingHash != "h3" || w.mig.SignOff.MappingVersion != 3 {
		t.Fatalf("sign-off record = %+v", w.mig.SignOff)
	}
	if len(w.flow) != 1 || w.flow[0].(map[string]any)["approved"] != true {
		t.Fatalf("flow = %v", w.flow)
	}
	_, err = w.svc.Decide(context.Background(), tok, DecideInput{Decision: "approve"})
	if cutover.ErrorCode(err) != cutover.ECONFLICT || !strings.Contains(cutover.ErrorMessage(err), "already approved") {
		t.Fatalf("reuse: %v", err)
	}
	if len(w.flow) != 1 {
		t.Fatal("a reused link resumed the state machine again")
	}
}

func TestRacingDecisionsRecordExactlyOne(t *testing.T) {
	w := newWorld(t)
	tok := w.request(t)
	ok := raceDecisions(t, w.svc, tok)
	if ok != 1 || len(w.flow) != 1 {
		t.Fatalf("%d decisions succeeded and %d reached the state machine; want exactly one", ok, len(w.flow))
	}
}

func TestSupersededAndInvalidLinks(t *testing.T) {
	w := newWorld(t)
	old := w.request(t)
	w.mig.Status = cutover.StatusSignOffRequested
	w.mig.Round = 2
	fresh := w.request(t)
	if _, err := w.svc.Show(context.Background(), old); cutover.ErrorCode(err) != cutover.EGONE {
		t.Fatalf("old round's link: %v", err)
	}
	if _, err := w.svc.Decide(context.Background(), old, DecideInput{Decision: "approve"}); cutover.ErrorCode(err) != cutover.EGONE {
		t.Fatalf("deciding with an old round's link: %v", err)
	}
	if _, err := w.svc.Show(context.Background(), fresh); err != nil {
		t.Fatalf("fresh link: %v", err)
	}
	if _, err := w.svc.Decide(context.Background(), fresh, DecideInput{Decision: "maybe"}); cutover.ErrorCode(err) != cutover.EINVALID {
		t.Fatalf("bad decision: %v", err)
	}
	w.svc.Now = func() time.Time { return t0.Add(2 * time.Hour) }
	if _, err := w.svc.Decide(context.Background(), fresh, DecideInput{Decision: "approve"}); cutover.ErrorCode(err) != cutover.EGONE {
		t.Fatalf("expired link: %v", err)
	}
	if len(w.flow) != 0 {
		t.Fatal("a refused link resumed the state machine")
	}
}

func TestClockRemindsThenExpires(t *testing.T) {
	now := t0
	svc := &Service{Now: func() time.Time { return now }}
	in := TickInput{TimeoutSeconds: 100, ReminderSeconds: 40}
	c, err := svc.Tick(context.Background(), in)
	if err != nil || c.Deadline != t0.Add(100*time.Second) || c.WaitSeconds != 40 || c.Expired || c.Reminders != 0 {
		t.Fatalf("start: %+v %v", c, err)
	}
	for _, step := range []struct {
		after     time.Duration
		wait      int
		expired   bool
		reminders int
	}{{40 * time.Second, 40, false, 1}, {80 * time.Second, 20, false, 2}, {100 * time.Second, 0, true, 3}} {
		now = t0.Add(step.after)
		in.Clock = *c
		c, _ = svc.Tick(context.Background(), in)
		if c.WaitSeconds != step.wait || c.Expired != step.expired || c.Reminders != step.reminders {
			t.Fatalf("after %s: %+v", step.after, c)
		}
	}
	if _, err := svc.Tick(context.Background(), TickInput{TimeoutSeconds: 0, ReminderSeconds: 1}); cutover.ErrorCode(err) != cutover.EINVALID {
		t.Fatalf("zero timeout: %v", err)
	}
}

// A decision the state machine never heard of is delivered again by the
// same POST, but only once the first attempt has surely ended.
func TestUndeliveredDecisionIsRedelivered(t *testing.T) {
	w := newWorld(t)
	tok := w.request(t)
	resume := w.svc.Flow
	w.svc.Flow = flow{func(string, any) error { return cutover.Errorf(cutover.EUNAVAILABLE, "down") }}
	if _, err := w.svc.Decide(context.Background(), tok, DecideInput{Decision: "approve"}); cutover.ErrorCode(err) != cutover.EUNAVAILABLE {
		t.Fatalf("first delivery: %v", err)
	}
	w.svc.Flow = resume
	if _, err := w.svc.Decide(context.Background(), tok, DecideInput{Decision: "approve"}); cutover.ErrorCode(err) != cutover.ECONFLICT {
		t.Fatalf("an immediate repeat must not race the first attempt: %v", err)
	}
	w.svc.Now = func() time.Time { return t0.Add(redeliverAfter) }
	if _, err := w.svc.Decide(context.Background(), tok, DecideInput{Decision: "reject"}); cutover.ErrorCode(err) != cutover.ECONFLICT {
		t.Fatalf("another decision than the recorded one: %v", err)
	}
	if v, err := w.svc.Decide(context.Background(), tok, DecideInput{Decision: "approve"}); err != nil || v.State != StateApproved || len(w.flow) != 1 {
		t.Fatalf("redelivery: %+v %v, flow %v", v, err, w.flow)
	}
}

// decisions counts the audit events that record a sign-off decision.
func (w *world) decisions() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, ev := range w.audit {
		if ev.Action == "signoff.approved" || ev.Action == "signoff.rejected" {
			n++
		}
	}
	return n
}

// A decision whose recording failed is recorded (once) by the repeated
// POST before the state machine hears of it, for either decision.
func TestUnrecordedDecisionIsRecordedBeforeRedelivery(t *testing.T) {
	for _, decision := range []string{"approve", "reject"} {
		t.Run(decision, func(t *testing.T) {
			w := newWorld(t)
			tok := w.request(t)
			save := w.svc.Migrations.(migrations)
			failed := 0
			w.svc.Migrations = migrations{GetFn: save.GetFn, SaveFn: func(m *cutover.Migration, ev ...cutover.AuditEvent) error {
				if failed == 0 {
					failed++
					return cutover.Errorf(cutover.EUNAVAILABLE, "storage is down")
				}
				return save.SaveFn(m, ev...)
			}}
			if _, err := w.svc.Decide(context.Background(), tok, DecideInput{Decision: decision, Comment: "ok"}); cutover.ErrorCode(err) != cutover.EUNAVAILABLE {
				t.Fatalf("first attempt: %v", err)
			}
			if len(w.flow) != 0 || w.decisions() != 0 {
				t.Fatalf("an unrecorded decision reached the state machine: flow %v, %d recorded", w.flow, w.decisions())
			}
			w.svc.Now = func() time.Time { return t0.Add(redeliverAfter) }
			if _, err := w.svc.Decide(context.Background(), tok, DecideInput{Decision: decision, Comment: "ok"}); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if w.decisions() != 1 || len(w.flow) != 1 {
				t.Fatalf("after the retry: %d decisions recorded, %d delivered; want 1 and 1", w.decisions(), len(w.flow))
			}
			if approved := decision == "approve"; (w.mig.SignOff != nil) != approved {
				t.Fatalf("sign-off record = %+v for %s", w.mig.SignOff, decision)
			}
		})
	}
}

// Redelivering a decision that was recorded but not delivered records it
// no second time.
func TestRedeliveryRecordsOnce(t *testing.T) {
	w := newWorld(t)
	tok := w.request(t)
	resume := w.svc.Flow
	w.svc.Flow = flow{func(string, any) error { return cutover.Errorf(cutover.EUNAVAILABLE, "down") }}
	if _, err := w.svc.Decide(context.Background(), tok, DecideInput{Decision: "reject", Comment: "no"}); cutover.ErrorCode(err) != cutover.EUNAVAILABLE {
		t.Fatalf("first delivery: %v", err)
	}
	w.svc.Flow = resume
	w.svc.Now = func() time.Time { return t0.Add(redeliverAfter) }
	if _, err := w.svc.Decide(context.Background(), tok, DecideInput{Decision: "reject", Comment: "no"}); err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	if w.decisions() != 1 || len(w.flow) != 1 {
		t.Fatalf("%d decisions recorded, %d delivered; want 1 and 1", w.decisions(), len(w.flow))
	}
}

// raceDecisions posts 8 decisions on one link at once, half approving,
// half rejecting, and returns how many were accepted; every other one must
// be refused as a conflict.
func raceDecisions(t *testing.T, svc *Service, tok string) int {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := "approve"
			if i%2 == 1 {
				d = "reject"
			}
			_, errs[i] = svc.Decide(context.Background(), tok, DecideInput{Decision: d})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch cutover.ErrorCode(err) {
		case "":
			ok++
		case cutover.ECONFLICT:
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	return ok
}
