package migration

import (
	"context"
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // Lambda's provided.al2023 image may lack a zone database; go-live times are shown in the customer's zone

	"github.com/cutover/cutover/internal/cutover"
)

// The mails that tell the customer (and, for paused final chunks, ops)
// where their migration stands. Each goes through the outbox: it is sent
// once per cause, and retried when it cannot be sent.

// parkNotice is the mail a callback step owes when the migration parks:
// who gets it, and what it says. ok is false when the kind owes no mail.
func (s *Core) parkNotice(m *cutover.Migration, in ParkInput) (cutover.Mail, bool) {
	mail := cutover.Mail{MigrationID: m.ID, Round: in.Round, To: m.CustomerEmail}
	way := "\n" + s.wayBack(m)
	switch in.Kind {
	case cutover.TaskReview:
		mail.Purpose, mail.Subject = PurposeWorkbookReady, "Your test migration workbook is ready"
		mail.Body = fmt.Sprintf("The test migration of round %d has finished and its workbook is ready.\n\nCheck it on your migration page: the counts against your checklist, the spot checks side by side, the rejected rows with their reasons, and the columns nothing maps. Mark each section reviewed (or waive it with a note), then request sign-off from your coordinator.\n", in.Round) + way
	case cutover.TaskExpired:
		mail.Purpose, mail.Subject = PurposeSignOffExpired, "Your sign-off request expired"
		mail.Body = "Your coordinator did not approve or reject the test migration before the sign-off link expired, so nothing was decided and the link no longer works.\n\nRequest sign-off again from your migration page: your coordinator gets a fresh link.\n" + way
	case cutover.TaskRevision:
		mail.Purpose, mail.Subject = PurposeRevision, "Your migration needs a revision"
		mail.Body = "The coordinator rejected the test migration. Their comment is on your migration page. Revise the mapping or upload a corrected extract, then submit again.\n" + way
	case cutover.TaskFinal:
		mail.Purpose, mail.Subject = PurposeSignedOff, "Your test migration was signed off"
		mail.Body = "Upload the full and final extract (or confirm the test extract is final) and pick the go-live time.\nChanges made in your old CRM after the final extract will not be migrated and must be re-entered by hand.\n" + way
	case cutover.TaskChunks:
		if s.cfg.OpsEmail == "" {
			return cutover.Mail{}, false
		}
		reason := ""
		if m.Failure != nil {
			reason = m.Failure.Reason + "\n\n"
		}
		mail.To, mail.Purpose, mail.Subject = s.cfg.OpsEmail, PurposeOpsChunks, "Final migration paused: chunks failed"
		mail.Body = fmt.Sprintf("The final migration %s for %s is paused.\n\n%sThe failed chunks and their errors are on the migration's ops detail (GET /ops/migrations/%s). Retry them with POST /ops/migrations/%s/retry; the chunks that finished are not run again.\n",
			m.ID, m.CustomerName, reason, m.ID, m.ID)
	default:
		return cutover.Mail{}, false
	}
	cause := ""
	if in.Kind == cutover.TaskExpired || in.Kind == cutover.TaskChunks {
		// One round can expire (or pause) more than once; each callback
		// has its own task token, and a retried step has the same one.
		cause = cutover.HashSecret(in.TaskToken)[:12]
	}
	mail.ID = MailID(m.ID, mail.Purpose, in.Round, cause)
	return mail, true
}

// GoLiveNotice is the mail that confirms a scheduled go-live: when, in the
// customer's time zone and in UTC, and the freeze that starts now.
func (s *Core) GoLiveNotice(m *cutover.Migration) cutover.Mail {
	zone := customerZone(m)
	local := m.GoLiveAt.In(zone).Format("Monday 2 January 2006, 15:04")
	utc := m.GoLiveAt.UTC().Format("Monday 2 January 2006, 15:04")
	what := "the test extract you signed off"
	if len(m.FinalFileIDs) > 0 {
		what = fmt.Sprintf("the final extract you uploaded (%d file(s))", len(m.FinalFileIDs))
	}
	body := fmt.Sprintf(`Your go-live is scheduled.

Go-live: %s (%s)
         %s UTC

At that time we migrate %s into your live account, once.

Freeze your old CRM now. Changes made in your old CRM after the final extract are not migrated and must be re-entered by hand after go-live. If you must keep working in it, note every change you make.

After go-live your migration page shows the final report: what was migrated, what was rejected and why, and what changed since the test migration.
`, local, zone.String(), utc, what)
	return cutover.Mail{
		ID: MailID(m.ID, PurposeGoLiveScheduled, m.Round, ""), MigrationID: m.ID, Purpose: PurposeGoLiveScheduled, Round: m.Round,
		To: m.CustomerEmail, Subject: "Your go-live is scheduled for " + local + " (" + zone.String() + ")", Body: body + "\n" + s.wayBack(m),
	}
}

// HeldNotice tells the customer their go-live is held by its pre-flight:
// what differs from the test migration they signed off, that nothing was
// written, and their two ways on. One mail per extract checked (its
// fingerprint), however often the step runs.
func (s *Core) HeldNotice(m *cutover.Migration) cutover.Mail {
	var b strings.Builder
	b.WriteString("Your go-live is held: the final extract differs from the test migration your coordinator signed off, past the limits set for this service. Nothing has been written to your live account.\n\n")
	if p := m.Preflight; p != nil && len(p.Breaches) > 0 {
		b.WriteString("What differs:\n")
		for _, br := range p.Breaches {
			fmt.Fprintf(&b, "- %s\n", br.Detail)
		}
		b.WriteString("\n")
	}
	b.WriteString("Your coordinator has been asked to approve these differences. If they are a mistake in the extract, withdraw it on your migration page and upload a corrected one; go-live then waits for the new extract.\n")
	cause := ""
	if m.Preflight != nil {
		fp := strings.TrimPrefix(m.Preflight.Fingerprint, "sha256:")
		cause = fp[:min(16, len(fp))]
	}
	return cutover.Mail{
		ID: MailID(m.ID, PurposeGoLiveHeld, m.Round, cause), MigrationID: m.ID, Purpose: PurposeGoLiveHeld, Round: m.Round,
		To: m.CustomerEmail, Subject: "Your go-live is held: the final extract differs from what was signed off", Body: b.String() + "\n" + s.wayBack(m),
	}
}

// failedNotice tells the customer a step failed and what happens next.
func (s *Core) failedNotice(m *cutover.Migration) cutover.Mail {
	step, reason, at := "a step", "", time.Time{}
	if m.Failure != nil {
		step, reason, at = m.Failure.Step, m.Failure.Reason, m.Failure.At
	}
	body := fmt.Sprintf(`Your migration stopped: %s failed.

What went wrong: %s

What happens next: our operations team has been alerted and will look at it. When the cause is on our side they run the step again, and your migration carries on from where it stopped; nothing you uploaded is lost. When the cause is in your export (a broken line, say), your migration contact will tell you what to correct.

You can see the reason and where your migration stands on your migration page. If you have questions, reply to your migration contact.
`, stepName(step), reason)
	return cutover.Mail{
		ID: MailID(m.ID, PurposeStepFailed, m.Round, fmt.Sprint(at.UnixNano())), MigrationID: m.ID, Purpose: PurposeStepFailed, Round: m.Round,
		To: m.CustomerEmail, Subject: "Your migration stopped: a step failed", Body: body + "\n" + s.wayBack(m),
	}
}

// stepName is a step's status as a person would say it.
func stepName(step string) string {
	switch cutover.Status(step) {
	case cutover.StatusMapping:
		return "mapping your files"
	case cutover.StatusTestMigrating:
		return "the test migration"
	case cutover.StatusFinalMigrating, cutover.StatusScheduled:
		return "the final migration"
	case cutover.StatusSignOffRequested, cutover.StatusAwaitingSignOff:
		return "the sign-off request"
	}
	if step == "" {
		return "a step"
	}
	return "the step " + step
}

// Notify sends a notice through the outbox; it never fails the caller.
func (s *Core) Notify(ctx context.Context, m cutover.Mail) { s.deliver(ctx, m) }

// CheckZone validates an IANA time zone name from the browser; "" is
// allowed (times are then shown in UTC).
//
// Errors: EINVALID for a name the zone database does not know.
func CheckZone(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", nil
	}
	if len(name) > cutover.MaxTimeZoneBytes || name == "Local" {
		return "", cutover.Errorf(cutover.EINVALID, "timeZone must be an IANA time zone such as Europe/London.")
	}
	if _, err := time.LoadLocation(name); err != nil {
		return "", cutover.Errorf(cutover.EINVALID, "timeZone %q is not a time zone we know; send an IANA name such as Europe/London.", name)
	}
	return name, nil
}
