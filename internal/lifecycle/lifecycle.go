// Package lifecycle tells a vendor's product where each migration stands:
// it publishes the lifecycle events (cutover.LifecycleEvent: test migration
// done, sign-off requested, approved or rejected, final scheduled, final
// starting, live, failed) on the deployment's event bus, through an outbox.
//
// # Why an outbox
//
// The step that makes a transition stores it first (the migration's status
// and audit event), then announces it. A bus that cannot be reached must
// not leave that step half done (the transition stored but never told) nor
// fail a step whose work is done. So, as with mail (internal/migration's
// outbox), every event is first kept beside its migration as pending, then
// published at once; one that cannot be published stays pending with its
// attempts and error and is published again by the reconcile sweep
// (Retry) with backoff, and given up (visible to ops) after MaxAttempts. A
// step that runs again raises the same event (a deterministic id): one
// already published is not published again by us, and a receiver drops
// any redelivery by its id.
//
// Order: published at once, events reach the bus in the order the
// transitions happen. An event published late by the sweep can arrive
// after a later one; receivers order by occurredAt (the time of the
// transition), which the README's vendor contract says.
//
// The package has no AWS types: the bus (internal/eventbus) and the store
// (internal/dynamostore) sit behind Bus and Log.
package lifecycle

import (
	"context"
	"log/slog"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

// Bus publishes one event.
type Bus interface {
	// Publish puts ev on the bus and returns the bus's id for it.
	// Errors: EUNAVAILABLE when the bus cannot be reached or refused the
	// event (the caller retries later).
	Publish(ctx context.Context, ev cutover.LifecycleEvent) (string, error)
}

// Log keeps the events owed, beside their migration.
type Log interface {
	// AddEvent stores ev unless an event with its id exists, and returns
	// the stored event (the existing one when there was one).
	// Errors: EUNAVAILABLE.
	AddEvent(ctx context.Context, ev cutover.LifecycleEvent) (cutover.LifecycleEvent, error)
	// UpdateEvent saves ev if the stored event is still pending after
	// prevAttempts attempts, so two publishers never both claim one.
	// Errors: ECONFLICT when another claimed or finished it first;
	// EUNAVAILABLE.
	UpdateEvent(ctx context.Context, ev cutover.LifecycleEvent, prevAttempts int) error
	// ListEvents returns a migration's events, oldest first.
	// Errors: EUNAVAILABLE.
	ListEvents(ctx context.Context, migrationID string) ([]cutover.LifecycleEvent, error)
	// DueEvents returns up to limit pending events whose NextAt is not
	// after now, across migrations. Errors: EUNAVAILABLE.
	DueEvents(ctx context.Context, now time.Time, limit int) ([]cutover.LifecycleEvent, error)
}

// MaxAttempts is how often an event is tried before it is given up.
const MaxAttempts = 8

// backoff is the wait after the n-th failed attempt: 1, 2, 4 … 60 minutes.
func backoff(attempts int) time.Duration {
	return min(time.Minute<<min(max(attempts-1, 0), 6), time.Hour)
}

// sweepBatch bounds how many events one Retry publishes.
const sweepBatch = 100

// Announcer raises lifecycle events through the outbox.
type Announcer struct {
	bus Bus
	log Log
	now func() time.Time
}

// New returns an announcer; now nil is the wall clock.
//
// Errors: EINTERNAL when bus or log is nil (a wiring mistake main reports
// at start).
func New(bus Bus, log Log, now func() time.Time) (*Announcer, error) {
	if bus == nil || log == nil {
		return nil, cutover.Errorf(cutover.EINTERNAL, "The lifecycle announcer needs a Bus and a Log; it was wired without one.")
	}
	if now == nil {
		now = time.Now
	}
	return &Announcer{bus: bus, log: log, now: now}, nil
}

// Announce keeps ev in the outbox and publishes it now. It never fails the
// caller: the transition it announces is already stored, and an event that
// cannot be published now stays pending for Retry. An event already
// published (a step that ran again) is not published again.
func (a *Announcer) Announce(ctx context.Context, ev cutover.LifecycleEvent) {
	now := a.now().UTC()
	ev.Status, ev.CreatedAt, ev.NextAt, ev.Attempts = cutover.EventPending, now, now, 0
	stored, err := a.log.AddEvent(ctx, ev)
	if err != nil {
		// Without the outbox it could not be retried: publishing it now
		// is still better than not at all.
		slog.WarnContext(ctx, "lifecycle event not kept", "migration", ev.MigrationID, "event", ev.Type, "code", cutover.ErrorCode(err))
		if _, perr := a.bus.Publish(ctx, ev); perr != nil {
			slog.ErrorContext(ctx, "lifecycle event lost: neither kept nor published", "migration", ev.MigrationID, "event", ev.Type, "code", cutover.ErrorCode(perr))
		}
		return
	}
	if stored.Status != cutover.EventPending {
		return
	}
	a.attempt(ctx, stored)
}

// attempt claims one attempt at a pending event, publishes it and records
// the outcome; it reports whether the event was published.
func (a *Announcer) attempt(ctx context.Context, ev cutover.LifecycleEvent) bool {
	prev := ev.Attempts
	ev.Attempts++
	ev.NextAt = a.now().UTC().Add(backoff(ev.Attempts))
	if err := a.log.UpdateEvent(ctx, ev, prev); err != nil {
		if cutover.ErrorCode(err) != cutover.ECONFLICT {
			slog.WarnContext(ctx, "lifecycle event attempt not recorded", "migration", ev.MigrationID, "event", ev.Type, "code", cutover.ErrorCode(err))
		}
		return false // another publisher has it
	}
	busID, err := a.bus.Publish(ctx, ev)
	if err == nil {
		ev.Status, ev.PublishedAt, ev.BusEventID, ev.LastError, ev.NextAt = cutover.EventPublished, a.now().UTC(), busID, "", time.Time{}
	} else {
		ev.LastError = cutover.ErrorMessage(err)
		if ev.Attempts >= MaxAttempts {
			ev.Status = cutover.EventGivenUp
		}
		slog.WarnContext(ctx, "lifecycle event not published", "migration", ev.MigrationID, "event", ev.Type, "attempts", ev.Attempts, "status", ev.Status, "code", cutover.ErrorCode(err))
	}
	if uerr := a.log.UpdateEvent(ctx, ev, ev.Attempts); uerr != nil {
		slog.WarnContext(ctx, "lifecycle event outcome not recorded", "migration", ev.MigrationID, "event", ev.Type, "code", cutover.ErrorCode(uerr))
	}
	return err == nil
}

// RetryDue publishes the pending events that are due, and returns how many
// it published. The reconcile sweep runs it every minute.
//
// Errors: whatever the Log returns when listing the due events; an event
// that fails again is recorded on the event, not returned.
func (a *Announcer) RetryDue(ctx context.Context) (int, error) {
	due, err := a.log.DueEvents(ctx, a.now().UTC(), sweepBatch)
	if err != nil {
		return 0, err
	}
	published := 0
	for _, ev := range due {
		if ev.Status == cutover.EventPending && a.attempt(ctx, ev) {
			published++
		}
	}
	return published, nil
}
