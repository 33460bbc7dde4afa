package engine

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
)

// memOutbox is an in-memory migration.Outbox with the DynamoDB one's conditions:
// add-if-absent, and updates only while pending after the named attempts.
type memOutbox struct {
	mu    sync.Mutex
	mails map[string]cutover.Mail
	order []string
}

func newMemOutbox() *memOutbox { return &memOutbox{mails: map[string]cutover.Mail{}} }

func (o *memOutbox) AddMail(_ context.Context, m cutover.Mail) (cutover.Mail, bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if cur, ok := o.mails[m.ID]; ok {
		return cur, false, nil
	}
	o.mails[m.ID] = m
	o.order = append(o.order, m.ID)
	return m, true, nil
}

func (o *memOutbox) UpdateMail(_ context.Context, m cutover.Mail, prev int) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	cur, ok := o.mails[m.ID]
	if !ok || cur.Attempts != prev || cur.Status != cutover.MailPending {
		return cutover.Errorf(cutover.ECONFLICT, "moved")
	}
	o.mails[m.ID] = m
	return nil
}

func (o *memOutbox) ListMail(_ context.Context, id string) ([]cutover.Mail, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []cutover.Mail
	for _, k := range o.order {
		if o.mails[k].MigrationID == id {
			out = append(out, o.mails[k])
		}
	}
	return out, nil
}

func (o *memOutbox) DueMail(_ context.Context, now time.Time, limit int) ([]cutover.Mail, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []cutover.Mail
	for _, k := range o.order {
		if m := o.mails[k]; m.Status == cutover.MailPending && !m.NextAt.After(now) && len(out) < limit {
			out = append(out, m)
		}
	}
	return out, nil
}

// sentMail is what a fake mailer was asked to send.
type sentMail struct{ To, Subject, Body string }

// mailService is a service with an outbox and a mailer that fails while
// *failing is true, recording what it did send.
func mailService(t *testing.T) (svc *Service, store *memStore, box *memOutbox, sent *[]sentMail, failing *bool, clock *time.Time) {
	t.Helper()
	store, box = newMemStore(), newMemOutbox()
	svc, _ = newService(store)
	var out []sentMail
	fail := false
	now := now0
	svc.Now = func() time.Time { return now }
	svc.Outbox = box
	svc.Mailer = mailer{SendFn: func(to, subject, body string) error {
		if fail {
			return cutover.Wrap(cutover.EUNAVAILABLE, errors.New("ses: throttled"), "The email could not be sent (SES: Throttling).")
		}
		out = append(out, sentMail{to, subject, body})
		return nil
	}}
	return svc, store, box, &out, &fail, &now
}

func mailsWith(sent []sentMail, subject string) []sentMail {
	var out []sentMail
	for _, m := range sent {
		if strings.HasPrefix(m.Subject, subject) {
			out = append(out, m)
		}
	}
	return out
}

func TestCreateMailsTheInviteAndReissueRevokesTheOldLink(t *testing.T) {
	svc, _, box, sent, _, _ := mailService(t)
	ctx := context.Background()
	c := create(t, svc, "acme")
	invites := mailsWith(*sent, migration.InviteSubject)
	if len(invites) != 1 || invites[0].To != "c@acme.test" || !strings.Contains(invites[0].Body, c.InviteURL) || !c.InviteMailed {
		t.Fatalf("invite mail %+v (mailed %v), want one to the customer with %s", invites, c.InviteMailed, c.InviteURL)
	}

	again, err := svc.ReissueInvite(ctx, "ops:ana", c.Migration.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again.CustomerKey == c.CustomerKey || !again.InviteMailed {
		t.Fatalf("re-issue gave the same key or mailed nothing: %+v", again)
	}
	if _, err := svc.Authorize(ctx, c.Migration.ID, c.CustomerKey); cutover.ErrorCode(err) != cutover.EFORBIDDEN {
		t.Fatalf("the old key still opens the migration: %v", err)
	}
	if _, err := svc.Authorize(ctx, c.Migration.ID, again.CustomerKey); err != nil {
		t.Fatalf("the new key does not open the migration: %v", err)
	}
	invites = mailsWith(*sent, migration.InviteSubject)
	if len(invites) != 2 || !strings.Contains(invites[1].Body, again.InviteURL) || strings.Contains(invites[1].Body, c.CustomerKey) {
		t.Fatalf("second invite %+v", invites)
	}
	audit, _ := svc.Audit(ctx, c.Migration.ID)
	if last := audit[len(audit)-1]; last.Action != "invite.reissued" || last.Actor != "ops:ana" {
		t.Fatalf("audit ends with %+v", last)
	}
	// The outbox records both invites as sent, and keeps neither key.
	mails, _ := box.ListMail(ctx, c.Migration.ID)
	if len(mails) != 2 {
		t.Fatalf("outbox %+v", mails)
	}
	for _, m := range mails {
		if m.Status != cutover.MailSent || m.Body != "" || strings.Contains(m.Subject, c.CustomerKey) {
			t.Fatalf("outbox invite %+v: want sent with no body kept", m)
		}
	}
	if _, err := svc.ReissueInvite(ctx, "ops:ana", "m-nope"); cutover.ErrorCode(err) != cutover.ENOTFOUND {
		t.Fatalf("re-issue of an unknown migration: %v", err)
	}
}

func TestAnInviteThatCannotBeSentIsShownAsFailedAndNeverRetried(t *testing.T) {
	svc, _, _, sent, failing, clock := mailService(t)
	*failing = true
	c := create(t, svc, "acme")
	if c.InviteMailed {
		t.Fatal("the invite reads as mailed although the mailer failed")
	}
	views, err := svc.MailFor(context.Background(), c.Migration.ID)
	if err != nil || len(views) != 1 || views[0].Status != cutover.MailFailed || !strings.Contains(views[0].LastError, "re-issue") || views[0].To != "c***@acme.test" {
		t.Fatalf("ops see %+v, %v", views, err)
	}
	*failing, *clock = false, clock.Add(24*time.Hour)
	if n, err := svc.RetryMail(context.Background()); n != 0 || err != nil || len(*sent) != 0 {
		t.Fatalf("the sweep resent an invite it cannot have: %d %v %+v", n, err, *sent)
	}
}

func TestAMailThatFailsIsPendingThenRetriedOnceWithoutDuplicates(t *testing.T) {
	svc, _, _, sent, failing, clock := mailService(t)
	ctx := context.Background()
	id := create(t, svc, "acme").Migration.ID
	park := migration.ParkInput{StepInput: migration.StepInput{MigrationID: id, Round: 1}, Kind: cutover.TaskReview, TaskToken: "tok-1"}

	*failing = true
	if err := svc.Park(ctx, park); err != nil {
		t.Fatalf("a mail that cannot be sent failed the step: %v", err)
	}
	views, _ := svc.MailFor(ctx, id)
	ready := views[len(views)-1]
	if ready.Purpose != migration.PurposeWorkbookReady || ready.Status != cutover.MailPending || ready.Attempts != 1 || !strings.Contains(ready.LastError, "Throttling") || ready.NextAt.IsZero() {
		t.Fatalf("after a failed send ops see %+v", ready)
	}
	if strings.Contains(ready.LastError, "c@acme.test") || ready.To != "c***@acme.test" {
		t.Fatalf("the ops view shows the address: %+v", ready)
	}

	// Not due yet: the sweep leaves it; once due, it is sent once.
	*failing = false
	if n, _ := svc.RetryMail(ctx); n != 0 {
		t.Fatalf("sent %d mails before they were due", n)
	}
	*clock = clock.Add(2 * time.Minute)
	if n, err := svc.RetryMail(ctx); n != 1 || err != nil {
		t.Fatalf("the sweep sent %d, %v; want 1", n, err)
	}
	// A retried step and further sweeps send nothing again.
	if err := svc.Park(ctx, park); err != nil {
		t.Fatal(err)
	}
	*clock = clock.Add(time.Hour)
	if n, _ := svc.RetryMail(ctx); n != 0 {
		t.Fatalf("the sweep sent %d again", n)
	}
	got := mailsWith(*sent, "Your test migration workbook is ready")
	if len(got) != 1 || got[0].To != "c@acme.test" {
		t.Fatalf("workbook-ready mails %+v, want exactly one", got)
	}
	views, _ = svc.MailFor(ctx, id)
	if v := views[len(views)-1]; v.Status != cutover.MailSent || v.Attempts != 2 || v.SentAt.IsZero() || v.LastError != "" {
		t.Fatalf("after the retry ops see %+v", v)
	}
}

func TestAMailIsGivenUpAfterItsAttemptsAndStaysVisible(t *testing.T) {
	svc, _, _, _, failing, clock := mailService(t)
	ctx := context.Background()
	id := create(t, svc, "acme").Migration.ID
	*failing = true
	if err := svc.Park(ctx, migration.ParkInput{StepInput: migration.StepInput{MigrationID: id, Round: 1}, Kind: cutover.TaskFinal, TaskToken: "tok"}); err != nil {
		t.Fatal(err)
	}
	for range 3 * migration.MaxMailAttempts {
		*clock = clock.Add(2 * time.Hour)
		if _, err := svc.RetryMail(ctx); err != nil {
			t.Fatal(err)
		}
	}
	views, _ := svc.MailFor(ctx, id)
	v := views[len(views)-1]
	if v.Status != cutover.MailFailed || v.Attempts != migration.MaxMailAttempts || !v.NextAt.IsZero() {
		t.Fatalf("after every attempt failed ops see %+v", v)
	}
}

func TestCustomerMailsSayWhatHappenedAndHowToGetBack(t *testing.T) {
	svc, store, _, sent, _, _ := mailService(t)
	ctx := context.Background()
	c := create(t, svc, "acme")
	id := c.Migration.ID
	for _, in := range []migration.ParkInput{
		{StepInput: migration.StepInput{MigrationID: id, Round: 1}, Kind: cutover.TaskReview, TaskToken: "a"},
		{StepInput: migration.StepInput{MigrationID: id, Round: 1}, Kind: cutover.TaskExpired, TaskToken: "b"},
		{StepInput: migration.StepInput{MigrationID: id, Round: 1}, Kind: cutover.TaskExpired, TaskToken: "b"}, // the same step again
		{StepInput: migration.StepInput{MigrationID: id, Round: 1}, Kind: cutover.TaskExpired, TaskToken: "c"}, // a second expiry
	} {
		if err := svc.Park(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(mailsWith(*sent, "Your sign-off request expired")); n != 2 {
		t.Fatalf("%d expiry mails, want 2 (one per expired request)", n)
	}
	ready := mailsWith(*sent, "Your test migration workbook is ready")
	if len(ready) != 1 {
		t.Fatalf("workbook-ready mails: %+v", *sent)
	}
	for _, m := range (*sent)[1:] {
		if strings.Contains(m.Body, c.CustomerKey) || !strings.Contains(m.Body, `"`+migration.InviteSubject+`"`) || !strings.Contains(m.Body, "25 November 2026") || !strings.Contains(m.Body, "re-issue") {
			t.Fatalf("mail %q does not name the invite mail and its date, or carries the key:\n%s", m.Subject, m.Body)
		}
	}

	// A failed step: the customer hears what failed and what happens next.
	m := store.migs[id]
	m.Status, m.Failure = cutover.StatusTestMigrating, &cutover.Failure{Step: "test_migrating", Reason: "contacts.csv line 7: unterminated quote.", At: now0}
	store.migs[id] = m
	fail := migration.FailInput{StepInput: migration.StepInput{MigrationID: id, Round: 1}, Error: migration.StepError{Error: "States.TaskFailed"}}
	for range 2 { // MarkFailed retried by the state machine mails once
		if err := svc.MarkFailed(ctx, fail); err != nil {
			t.Fatal(err)
		}
	}
	failed := mailsWith(*sent, "Your migration stopped")
	if len(failed) != 1 || !strings.Contains(failed[0].Body, "contacts.csv line 7: unterminated quote.") ||
		!strings.Contains(failed[0].Body, "operations team has been alerted") || !strings.Contains(failed[0].Body, "the test migration failed") {
		t.Fatalf("failure mails %+v", failed)
	}
}

func TestGoLiveScheduledMailShowsTheCustomersTimeAndUTC(t *testing.T) {
	svc, store, _, sent, _, _ := mailService(t)
	svc.Files = objects{}
	ctx := context.Background()
	id := signedOff(t, svc, store, "acme") // POST final reads the signed-off mapping to match the final files
	awaitFinal := func() *cutover.Migration {
		m := store.migs[id]
		m.Status, m.Round, m.Pending = cutover.StatusAwaitingFinal, 1, &cutover.PendingTask{Kind: cutover.TaskFinal, Token: "tok", Round: 1}
		store.migs[id] = m
		return &m
	}
	goLive := time.Date(2026, 11, 26, 8, 30, 0, 0, time.UTC)
	for _, bad := range []string{"Mars/Olympus", "Local", "../../etc/passwd", strings.Repeat("A", 80)} {
		_, err := svc.SubmitFinal(ctx, awaitFinal(), FinalInput{GoLiveAt: goLive.Format(time.RFC3339), TimeZone: bad})
		if cutover.ErrorCode(err) != cutover.EINVALID || !strings.Contains(cutover.ErrorMessage(err), "time zone") {
			t.Fatalf("time zone %q: %v", bad, err)
		}
	}
	if _, err := svc.SubmitFinal(ctx, awaitFinal(), FinalInput{GoLiveAt: goLive.Format(time.RFC3339), TimeZone: "America/New_York"}); err != nil {
		t.Fatal(err)
	}
	if tz := store.migs[id].TimeZone; tz != "America/New_York" {
		t.Fatalf("stored zone %q", tz)
	}
	got := mailsWith(*sent, "Your go-live is scheduled")
	if len(got) != 1 {
		t.Fatalf("go-live mails %+v", *sent)
	}
	body := got[0].Body
	for _, want := range []string{"Thursday 26 November 2026, 03:30 (America/New_York)", "Thursday 26 November 2026, 08:30 UTC", "Freeze your old CRM now", "must be re-entered by hand"} {
		if !strings.Contains(body, want) {
			t.Fatalf("go-live mail lacks %q:\n%s", want, body)
		}
	}
}

func TestUploadedPartsAreWhatStorageHolds(t *testing.T) {
	store := newMemStore()
	svc, _ := newService(store)
	var asked []string
	svc.Uploads = uploadsFake{ListFn: func(key, uploadID string) ([]migration.StoredPart, error) {
		asked = append(asked, key+"/"+uploadID)
		return []migration.StoredPart{{PartNumber: 1, Size: 8 << 20, ETag: `"e1"`}, {PartNumber: 3, Size: 4 << 20, ETag: `"e3"`}}, nil
	}}
	ctx := context.Background()
	id := create(t, svc, "acme").Migration.ID
	uploaded(t, store, id, cutover.File{ID: "f1", Name: "big.csv", Key: "k1", UploadID: "up-1", Size: 20 << 20, Purpose: cutover.PurposeTest, Round: 1})
	uploaded(t, store, id, cutover.File{ID: "f2", Name: "done.csv", Key: "k2", Size: 10, Purpose: cutover.PurposeTest, Round: 1, Complete: true})
	m, _ := store.GetMigration(ctx, id)
	parts, err := svc.UploadedParts(ctx, m, "f1")
	if err != nil || len(parts) != 2 || parts[1].PartNumber != 3 || parts[1].ETag != `"e3"` || asked[0] != "k1/up-1" {
		t.Fatalf("parts %+v, %v (asked %v)", parts, err, asked)
	}
	if _, err := svc.UploadedParts(ctx, m, "f2"); cutover.ErrorCode(err) != cutover.ECONFLICT {
		t.Fatalf("a complete upload: %v", err)
	}
	if _, err := svc.UploadedParts(ctx, m, "f9"); cutover.ErrorCode(err) != cutover.ENOTFOUND {
		t.Fatalf("an unknown upload: %v", err)
	}
}

func TestAnInviteLeftPendingByACrashIsMarkedFailedNotResent(t *testing.T) {
	svc, _, box, sent, _, clock := mailService(t)
	ctx := context.Background()
	// A sender claimed the invite and stopped before sending it.
	id := migration.MailID("m-9", migration.PurposeInvite, 1, "")
	if _, _, err := box.AddMail(ctx, cutover.Mail{ID: id, MigrationID: "m-9", Purpose: migration.PurposeInvite, Round: 1, To: "c@acme.test", Subject: migration.InviteSubject, Status: cutover.MailPending, NextAt: now0}); err != nil {
		t.Fatal(err)
	}
	claimed := box.mails[id]
	claimed.Attempts = 1
	box.mails[id] = claimed
	*clock = clock.Add(time.Hour)
	if n, err := svc.RetryMail(ctx); n != 0 || err != nil || len(*sent) != 0 {
		t.Fatalf("the sweep sent %d (%v): %+v", n, err, *sent)
	}
	if m := box.mails[id]; m.Status != cutover.MailFailed || !strings.Contains(m.LastError, "re-issue") {
		t.Fatalf("the stranded invite is %+v", m)
	}
}

// The reconcile Lambda's one-minute sweep is what re-sends mail: a mail
// that failed to send goes out on the first sweep after it is due.
func TestTheSweepSendsDueMail(t *testing.T) {
	svc, _, _, sent, failing, clock := mailService(t)
	svc.Watch = statuses{StatusFn: func(string) (string, error) { return "RUNNING", nil }}
	ctx := context.Background()
	id := create(t, svc, "acme").Migration.ID
	*failing = true
	if err := svc.Park(ctx, migration.ParkInput{StepInput: migration.StepInput{MigrationID: id, Round: 1}, Kind: cutover.TaskReview, TaskToken: "tok-1"}); err != nil {
		t.Fatal(err)
	}
	*failing = false
	*clock = clock.Add(2 * time.Minute)
	res, err := svc.Sweep(ctx)
	if err != nil || res.MailSent != 1 {
		t.Fatalf("sweep %+v, %v; want the pending mail sent", res, err)
	}
	if got := mailsWith(*sent, "Your test migration workbook is ready"); len(got) != 1 {
		t.Fatalf("workbook-ready mails %+v, want one", got)
	}
}
