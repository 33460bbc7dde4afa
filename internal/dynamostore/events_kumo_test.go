package dynamostore_test

import (
	"context"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/dynamostore"
	"github.com/cutover/cutover/internal/lifecycle"
)

// busFunc is the event bus as a function field.
type busFunc func(cutover.LifecycleEvent) (string, error)

func (f busFunc) Publish(_ context.Context, ev cutover.LifecycleEvent) (string, error) { return f(ev) }

// The lifecycle outbox on the emulator, driven by the real announcer: an
// event is kept once per id, a refused one stays due for the sweep, and a
// published one leaves the sweep and shows on the migration's list.
func TestLifecycleOutboxOnTheEmulator(t *testing.T) {
	ctx := context.Background()
	db, table := migrationsTable(t)
	store := &dynamostore.Migrations{API: db, Table: table}
	now := time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)
	down := true
	published := 0
	a, err := lifecycle.New(busFunc(func(cutover.LifecycleEvent) (string, error) {
		if down {
			return "", cutover.Errorf(cutover.EUNAVAILABLE, "The event could not be published (EventBridge: InternalFailure).")
		}
		published++
		return "eb-1", nil
	}), store, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	m := &cutover.Migration{ID: "m-1", TenantID: "acme"}
	a.Announce(ctx, cutover.NewLifecycleEvent(cutover.EventTestCompleted, m, 1, "", now))
	a.Announce(ctx, cutover.NewLifecycleEvent(cutover.EventTestCompleted, m, 1, "", now)) // a step run again
	evs, err := store.ListEvents(ctx, "m-1")
	if err != nil || len(evs) != 1 || evs[0].Status != cutover.EventPending || evs[0].Attempts != 2 {
		// the second raise finds the pending event and tries it again
		t.Fatalf("after two refused raises: %+v %v", evs, err)
	}
	if due, err := store.DueEvents(ctx, now, 10); err != nil || len(due) != 0 {
		t.Fatalf("due before its backoff: %+v %v", due, err)
	}
	down = false
	now = now.Add(3 * time.Minute)
	if n, err := a.RetryDue(ctx); err != nil || n != 1 || published != 1 {
		t.Fatalf("sweep: %d %v, published %d", n, err, published)
	}
	a.Announce(ctx, cutover.NewLifecycleEvent(cutover.EventTestCompleted, m, 1, "", now))
	evs, _ = store.ListEvents(ctx, "m-1")
	if len(evs) != 1 || evs[0].Status != cutover.EventPublished || evs[0].BusEventID != "eb-1" || published != 1 {
		t.Fatalf("after the sweep and a third raise: %+v, published %d", evs, published)
	}
	if due, _ := store.DueEvents(ctx, now.Add(24*time.Hour), 10); len(due) != 0 {
		t.Fatalf("a published event is still due: %+v", due)
	}
	if audit, err := store.ListAudit(ctx, "m-1"); err != nil || len(audit) != 0 {
		t.Fatalf("the audit trail picked up the events: %+v %v", audit, err)
	}
}
