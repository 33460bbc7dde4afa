package migration

import (
	"context"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

// InviteSubject is the subject of the mail that carries the invite link.
// Every later mail to the customer names it, since the link (which holds
// the key) is never mailed again.
const InviteSubject = "Your data migration: your invite link"

// mailInvite mails the customer the invite link for key, the n-th one
// issued. The link is in the mail only: the outbox keeps that the mail was
// sent, not its body.
func (s *Core) mailInvite(ctx context.Context, m *cutover.Migration, key string, n int) bool {
	link := s.link("upload.html", m.ID, key)
	body := fmt.Sprintf(`Hello %s,

Your data migration is ready to start. Open this link to reach your migration page:

%s

On that page you fill in the record counts from your old CRM, upload your export, check the test migration and, after sign-off, pick the go-live time.

The link is your key to the migration: keep this mail and do not forward it. Every later mail about your migration points back to it. If you lose it, ask your migration contact to re-issue it: you get a new link by mail and this one stops working.
`, m.CustomerName, link)
	if n > 1 {
		body = "This invite replaces the one sent before: the earlier link no longer opens your migration.\n\n" + body
	}
	return s.deliver(ctx, cutover.Mail{
		ID: MailID(m.ID, PurposeInvite, n, ""), MigrationID: m.ID, Purpose: PurposeInvite, Round: n,
		To: m.CustomerEmail, Subject: InviteSubject, Body: body,
	})
}

// ReissueInvite gives the customer a new invite link and mails it: the
// stored key hash is replaced, so the old link no longer opens the
// migration. The new key is returned once, for ops to copy, and is not
// stored.
//
// Errors: ENOTFOUND for an unknown migration; EUNAVAILABLE (or ECONFLICT
// after repeated concurrent saves) from the Store. A mail that cannot be
// sent does not fail the re-issue: InviteMailed says so, and the outbox shows it.
func (s *Ops) ReissueInvite(ctx context.Context, actor, id string) (*Created, error) {
	key := cutover.NewSecret(32)
	now := s.Now()
	m, err := s.Update(ctx, id, func(m *cutover.Migration) ([]cutover.AuditEvent, error) {
		m.KeyHash, m.Invites, m.InvitedAt = cutover.HashSecret(key), m.Invites+1, now
		return []cutover.AuditEvent{s.Event(actor, "invite.reissued", fmt.Sprintf("invite %d; the previous link no longer opens the migration", m.Invites))}, nil
	})
	if err != nil {
		return nil, err
	}
	mailed := s.mailInvite(ctx, m, key, m.Invites)
	return &Created{Migration: m, CustomerKey: key, InviteURL: s.link("upload.html", m.ID, key), InviteMailed: mailed}, nil
}

// wayBack tells the customer how to reach their page: the invite mail by
// its subject and date, or a re-issue. Mails never carry the key again.
func (s *Core) wayBack(m *cutover.Migration) string {
	when := "when your migration began"
	if !m.InvitedAt.IsZero() {
		when = "on " + m.InvitedAt.In(customerZone(m)).Format("2 January 2006")
	}
	return fmt.Sprintf("To open your migration page, use the invite link in the mail titled %q that we sent you %s (the link carries your key, which we never mail again). If you cannot find it, ask your migration contact to re-issue it: you get a new link by mail and the old one stops working.\n",
		InviteSubject, when)
}

// customerZone is the customer's time zone, or UTC when they have not told us.
func customerZone(m *cutover.Migration) *time.Location {
	if m.TimeZone != "" {
		if loc, err := time.LoadLocation(m.TimeZone); err == nil {
			return loc
		}
	}
	return time.UTC
}
