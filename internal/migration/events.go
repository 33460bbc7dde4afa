package migration

import (
	"context"
	"log/slog"
	"strconv"
	"strings"

	"github.com/cutover/cutover/internal/cutover"
)

// AnnounceWith makes the core raise lifecycle events through a: the
// functions whose steps make a transition a vendor hears of (testmigrate,
// requestsignoff, signoffapi, customerapi, finalmigrate, complete,
// markfailed, reconcile) wire it.
//
// Errors: EINTERNAL when a is nil.
func (s *Core) AnnounceWith(a Announcer) error {
	if a == nil {
		return errNilPort("the migration core", "Announcer")
	}
	s.announcer = a
	return nil
}

// Announce raises ev, after the transition it tells of is stored; it never
// fails the caller (see package lifecycle). A core wired without an
// announcer raises nothing and logs the wiring mistake, so that it is
// seen rather than lost quietly.
func (s *Core) Announce(ctx context.Context, ev cutover.LifecycleEvent) {
	if s.announcer == nil {
		slog.ErrorContext(ctx, "lifecycle event not raised: this function's core has no announcer (a wiring mistake)", "migration", ev.MigrationID, "event", ev.Type)
		return
	}
	s.announcer.Announce(ctx, ev)
}

// LifecycleEvent is the event typ of m's round at the core's time.
func (s *Core) LifecycleEvent(typ string, m *cutover.Migration, cause string) cutover.LifecycleEvent {
	return cutover.NewLifecycleEvent(typ, m, m.Round, cause, s.Now())
}

// WorkbookURL is the customer's workbook page on the site: the migration
// page, which opens with the customer's own invite link (this link carries
// no key, so it can travel in an event).
func (s *Core) WorkbookURL(migrationID string) string {
	return strings.TrimRight(s.cfg.SiteURL, "/") + "/index.html#m=" + migrationID + "&view=workbook"
}

// failedEvent is migration.failed for m's failure: one per failure (its
// time), so a migration resumed and failing again in the same round is
// told again.
func (s *Core) failedEvent(m *cutover.Migration) cutover.LifecycleEvent {
	cause, step := "", ""
	if m.Failure != nil {
		cause, step = strconv.FormatInt(m.Failure.At.UnixNano(), 10), m.Failure.Step
	}
	ev := s.LifecycleEvent(cutover.EventFailed, m, cause)
	ev.FailedStep = step
	return ev
}

// RetryEvents publishes the lifecycle events that could not be published
// when they were raised; the reconcile sweep calls it beside RetryMail.
//
// Errors: EINTERNAL when the reconciler was wired without an announcer;
// whatever the Announcer returns.
func (s *Reconciler) RetryEvents(ctx context.Context) (int, error) {
	if s.announcer == nil {
		return 0, errNilPort("the reconciler", "Announcer")
	}
	return s.announcer.RetryDue(ctx)
}

// EventsFor returns the lifecycle events raised for a migration, oldest
// first, with how their publishing went.
//
// Errors: whatever the EventLog returns.
func (s *Ops) EventsFor(ctx context.Context, migrationID string) ([]cutover.LifecycleEvent, error) {
	evs, err := s.events.ListEvents(ctx, migrationID)
	if err != nil {
		return nil, err
	}
	if evs == nil {
		evs = []cutover.LifecycleEvent{}
	}
	return evs, nil
}
