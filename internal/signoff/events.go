package signoff

import (
	"context"
	"log/slog"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

// AnnounceWith makes the service raise the sign-off's lifecycle events
// (sign-off requested, approved, rejected) through a.
//
// Errors: EINTERNAL when a is nil.
func (s *Service) AnnounceWith(a Announcer) error {
	if a == nil {
		return cutover.Errorf(cutover.EINTERNAL, "the sign-off service needs an Announcer; it was wired without one.")
	}
	s.events = a
	return nil
}

// announce raises ev; a service wired without an announcer logs the
// wiring mistake instead, so that it is seen rather than lost quietly.
func (s *Service) announce(ctx context.Context, ev cutover.LifecycleEvent) {
	if s.events == nil {
		slog.ErrorContext(ctx, "lifecycle event not raised: the sign-off service has no announcer (a wiring mistake)", "migration", ev.MigrationID, "event", ev.Type)
		return
	}
	s.events.Announce(ctx, ev)
}

// requestedEvent is signoff.requested for the request of round parked
// under taskToken: a retried step (the same task token) raises the same
// event, a request made again after one expired (a new token) a new one.
func requestedEvent(m *cutover.Migration, round int, taskToken string, at time.Time) cutover.LifecycleEvent {
	return cutover.NewLifecycleEvent(cutover.EventSignOffRequested, m, round, cutover.HashSecret(taskToken)[:12], at)
}

// decidedEvent is signoff.approved or signoff.rejected for r's round: a
// round is decided once (its link decides once, and the round then moves
// on), so the round names it.
func decidedEvent(m *cutover.Migration, r *Request, approved bool) cutover.LifecycleEvent {
	typ := cutover.EventSignOffRejected
	if approved {
		typ = cutover.EventSignOffApproved
	}
	return cutover.NewLifecycleEvent(typ, m, r.Round, "", r.DecidedAt)
}
