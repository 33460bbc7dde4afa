package migration

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

// cutover.Mail purposes.
const (
	PurposeInvite          = "invite"
	PurposeWorkbookReady   = "workbook-ready"
	PurposeSignOffExpired  = "signoff-expired"
	PurposeRevision        = "revision"
	PurposeSignedOff       = "signed-off"
	PurposeGoLiveScheduled = "golive-scheduled"
	PurposeGoLiveHeld      = "golive-held"
	PurposeStepFailed      = "step-failed"
	PurposeLive            = "live"
	PurposeLiveCoordinator = "live-coordinator"
	PurposeOpsChunks       = "ops-chunks-paused"
	PurposeOpsStopped      = "ops-stopped"
)

// Retry policy: the n-th failed attempt waits mailBackoff(n) before the
// next one; after MaxMailAttempts the mail is given up and stays visible.
const MaxMailAttempts = 8

func mailBackoff(attempts int) time.Duration {
	d := time.Minute << min(max(attempts-1, 0), 6) // 1, 2, 4, ... 64 minutes
	return min(d, time.Hour)
}

// MailID is a mail's deterministic id. cause tells apart mails of the same
// purpose in one round (a second expired sign-off request, say); "" when
// there is only ever one.
func MailID(migrationID, purpose string, round int, cause string) string {
	id := fmt.Sprintf("%s#%s#r%d", migrationID, purpose, round)
	if cause != "" {
		id += "#" + cause
	}
	return id
}

// deliver queues a mail and tries to send it now. It never fails the
// caller: a mail that cannot be sent stays pending for RetryMail, and what
// went wrong is kept on the mail (and logged without the address). A mail
// that was already sent, or given up, is not sent again. A core built
// without mail (NewCore) sends nothing: only services built on a mailing
// core send mail, which their constructors check; a service that mails on
// a core without mail is a wiring mistake, logged as an error so that it
// is seen rather than lost quietly.
func (s *Core) deliver(ctx context.Context, m cutover.Mail) bool {
	if s.mailer == nil || s.outbox == nil {
		slog.ErrorContext(ctx, "mail not sent: this function's core has no mailer (a wiring mistake)", "migration", m.MigrationID, "purpose", m.Purpose)
		return false
	}
	now := s.Now()
	m.Status, m.CreatedAt, m.NextAt = cutover.MailPending, now, now
	body := m.Body
	if m.Purpose == PurposeInvite {
		m.Body = "" // the invite link carries the key: it is sent, never stored
	}
	stored, _, err := s.outbox.AddMail(ctx, m)
	if err != nil {
		// Without the outbox the mail cannot be retried; sending it now is
		// still better than not at all.
		slog.WarnContext(ctx, "mail not queued", "migration", m.MigrationID, "purpose", m.Purpose, "code", cutover.ErrorCode(err))
		return s.mailer.Send(ctx, m.To, m.Subject, body) == nil
	}
	if stored.Status != cutover.MailPending {
		return stored.Status == cutover.MailSent // queued by an earlier run of the same step
	}
	return s.attempt(ctx, stored, body)
}

// attempt claims one attempt at a pending mail, sends it and records the
// outcome.
func (s *Core) attempt(ctx context.Context, m cutover.Mail, body string) bool {
	prev := m.Attempts
	m.Attempts++
	m.NextAt = s.Now().Add(mailBackoff(m.Attempts))
	if err := s.outbox.UpdateMail(ctx, m, prev); err != nil {
		if cutover.ErrorCode(err) != cutover.ECONFLICT {
			slog.WarnContext(ctx, "mail attempt not recorded", "migration", m.MigrationID, "purpose", m.Purpose, "code", cutover.ErrorCode(err))
		}
		return false // another sender has it
	}
	err := s.mailer.Send(ctx, m.To, m.Subject, body)
	if err == nil {
		m.Status, m.SentAt, m.LastError, m.NextAt = cutover.MailSent, s.Now(), "", time.Time{}
	} else {
		m.LastError = cutover.ErrorMessage(err)
		switch {
		case m.Purpose == PurposeInvite:
			m.Status = cutover.MailFailed
			m.LastError += " The invite link is not kept, so it cannot be sent again: re-issue the invite."
		case m.Attempts >= MaxMailAttempts:
			m.Status = cutover.MailFailed
		}
		slog.WarnContext(ctx, "mail not sent", "migration", m.MigrationID, "purpose", m.Purpose, "attempts", m.Attempts, "status", m.Status, "code", cutover.ErrorCode(err))
	}
	if uerr := s.outbox.UpdateMail(ctx, m, m.Attempts); uerr != nil {
		slog.WarnContext(ctx, "mail outcome not recorded", "migration", m.MigrationID, "purpose", m.Purpose, "code", cutover.ErrorCode(uerr))
	}
	return err == nil
}

// mailSweepBatch bounds how many mails one RetryMail call tries.
const mailSweepBatch = 100

// RetryMail sends again the pending mails that are due, and returns how
// many it sent. It is meant to run on a schedule (every minute or so): a
// mail whose retries run out is marked failed and stays on the ops detail.
//
// Errors: whatever the Outbox returns when listing the due mail; a mail
// that fails again is recorded on the mail, not returned.
func (s *Reconciler) RetryMail(ctx context.Context) (int, error) {
	due, err := s.outbox.DueMail(ctx, s.Now(), mailSweepBatch)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, m := range due {
		if m.Status != cutover.MailPending {
			continue
		}
		if m.Purpose == PurposeInvite {
			// Pending only if a sender stopped between claiming and
			// sending it; its link is not kept, so it cannot be sent now.
			failed := m
			failed.Status, failed.LastError = cutover.MailFailed, "The invite was not sent, and its link is not kept: re-issue the invite."
			if err := s.outbox.UpdateMail(ctx, failed, m.Attempts); err != nil && cutover.ErrorCode(err) != cutover.ECONFLICT {
				slog.WarnContext(ctx, "mail outcome not recorded", "migration", m.MigrationID, "purpose", m.Purpose, "code", cutover.ErrorCode(err))
			}
			continue
		}
		if s.attempt(ctx, m, m.Body) {
			sent++
		}
	}
	return sent, nil
}

// MailView is a mail as ops see it: the recipient masked, no body.
type MailView struct {
	Purpose   string    `json:"purpose"`
	Round     int       `json:"round"`
	To        string    `json:"to"`
	Subject   string    `json:"subject"`
	Status    string    `json:"status"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"lastError,omitempty"`
	NextAt    time.Time `json:"nextAt,omitzero"`
	SentAt    time.Time `json:"sentAt,omitzero"`
	CreatedAt time.Time `json:"createdAt"`
}

// MailFor returns a migration's mail for ops, oldest first.
//
// Errors: whatever the Outbox returns.
func (s *Ops) MailFor(ctx context.Context, migrationID string) ([]MailView, error) {
	out := []MailView{}
	mails, err := s.outbox.ListMail(ctx, migrationID)
	if err != nil {
		return nil, err
	}
	for _, m := range mails {
		next := m.NextAt
		if m.Status != cutover.MailPending {
			next = time.Time{}
		}
		out = append(out, MailView{
			Purpose: m.Purpose, Round: m.Round, To: MaskAddress(m.To), Subject: m.Subject, Status: m.Status,
			Attempts: m.Attempts, LastError: m.LastError, NextAt: next, SentAt: m.SentAt, CreatedAt: m.CreatedAt,
		})
	}
	return out, nil
}

// MaskAddress hides most of an address's local part ("it@acme.test" ->
// "i***@acme.test"): enough for ops to tell recipients apart, without
// putting personal data on every screen.
func MaskAddress(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" {
		return "***"
	}
	return local[:1] + "***@" + domain
}
