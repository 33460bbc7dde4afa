package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/lifecycle/schemas"
	"github.com/cutover/cutover/internal/migration"
)

// recordingAnnouncer is the lifecycle outbox as the services see it: it
// keeps every event raised, in order (a second raise of one id included,
// so a test sees what a step raised again).
type recordingAnnouncer struct {
	raised  []cutover.LifecycleEvent
	retries int // RetryDue calls
}

func (a *recordingAnnouncer) Announce(_ context.Context, ev cutover.LifecycleEvent) {
	a.raised = append(a.raised, ev)
}

// checkSchemas validates every raised event's detail against its schema.
func (a *recordingAnnouncer) checkSchemas(t *testing.T) {
	t.Helper()
	for _, ev := range a.raised {
		if err := schemas.Validate(ev.Type, ev.Detail()); err != nil {
			t.Error(err)
		}
	}
}

func (a *recordingAnnouncer) RetryDue(context.Context) (int, error) {
	a.retries++
	return 0, nil
}

func (a *recordingAnnouncer) ListEvents(_ context.Context, id string) ([]cutover.LifecycleEvent, error) {
	var out []cutover.LifecycleEvent
	for _, ev := range a.raised {
		if ev.MigrationID == id {
			out = append(out, ev)
		}
	}
	return out, nil
}

// distinct is the raised events' types, each id once, in first-raised order.
func (a *recordingAnnouncer) distinct() []string {
	seen := map[string]bool{}
	var out []string
	for _, ev := range a.raised {
		if !seen[ev.ID] {
			seen[ev.ID] = true
			out = append(out, ev.Type)
		}
	}
	return out
}

// Each transition a vendor hears of raises its event once it is stored:
// the test round's end (with the workbook link), the go-live scheduled,
// the final migration starting (the freeze), live; a step run again
// raises the same id.
func TestTransitionsRaiseTheirLifecycleEvents(t *testing.T) {
	svc, store, _ := finalService(t, 1<<20)
	events := &recordingAnnouncer{}
	svc.Events = events
	ctx := context.Background()
	id := signedOff(t, svc, store, "acme")
	m := store.migs[id]
	m.Status = cutover.StatusMapping
	store.migs[id] = m
	if _, err := svc.TestMigrate(ctx, migration.StepInput{MigrationID: id, Round: 1}); err != nil {
		t.Fatal(err)
	}
	if got := events.distinct(); len(got) != 1 || got[0] != cutover.EventTestCompleted {
		t.Fatalf("after TestMigrate: %v", got)
	}
	done := events.raised[0]
	if done.ID != id+"#test.completed#r1" || done.TenantID != "acme" || done.Round != 1 || !done.OccurredAt.Equal(now0) ||
		done.WorkbookURL != "https://site/index.html#m="+id+"&view=workbook" {
		t.Fatalf("test.completed = %+v", done)
	}
	if store.migs[id].Test == nil {
		t.Fatal("the event was raised before the test migration was stored")
	}

	// The go-live, scheduled by the customer.
	m = store.migs[id]
	m.Status, m.Pending = cutover.StatusAwaitingFinal, &cutover.PendingTask{Kind: cutover.TaskFinal, Token: "tok"}
	store.migs[id] = m
	goLive := now0.Add(time.Hour)
	cur, _ := store.GetMigration(ctx, id)
	if _, err := svc.SubmitFinal(ctx, cur, FinalInput{GoLiveAt: goLive.Format(time.RFC3339)}); err != nil {
		t.Fatal(err)
	}
	sched := events.raised[len(events.raised)-1]
	if sched.Type != cutover.EventFinalScheduled || !sched.GoLiveAt.Equal(goLive) || store.migs[id].Status != cutover.StatusScheduled {
		t.Fatalf("final.scheduled = %+v (migration %s)", sched, store.migs[id].Status)
	}

	withFinalExtract(t, svc, store, id, "Id,Email,Name\n1,a@x.com,Ann\n2,b@x.com,Bo\n")
	if _, err := runFinal(t, svc, id); err != nil {
		t.Fatal(err)
	}
	if err := svc.Complete(ctx, migration.StepInput{MigrationID: id, Round: 1}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Complete(ctx, migration.StepInput{MigrationID: id, Round: 1}); err != nil { // run again after a crash
		t.Fatal(err)
	}
	want := []string{cutover.EventTestCompleted, cutover.EventFinalScheduled, cutover.EventFinalStarting, cutover.EventLive}
	if got := events.distinct(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("events = %v, want %v", got, want)
	}
	lives := 0
	for _, ev := range events.raised {
		if ev.Type == cutover.EventLive {
			lives++
			if ev.ID != id+"#migration.live#r1" {
				t.Fatalf("live id = %q", ev.ID)
			}
		}
		if ev.Type == cutover.EventFinalStarting && !ev.GoLiveAt.Equal(now0) {
			t.Fatalf("final.starting without its go-live: %+v", ev)
		}
	}
	if lives != 2 {
		t.Fatalf("Complete run twice raised live %d times, want it raised again with the same id", lives)
	}
	events.checkSchemas(t)
	// Ops see what was raised.
	shown, err := svc.ops().EventsFor(ctx, id)
	if err != nil || len(shown) != len(events.raised) {
		t.Fatalf("ops see %d events (%v), want %d", len(shown), err, len(events.raised))
	}
}

// A failed step raises migration.failed with the step, never the failure
// text (it can quote a customer's row), one per failure.
func TestMarkFailedRaisesFailedWithoutTheReason(t *testing.T) {
	store := newMemStore()
	svc, _ := newService(store)
	events := &recordingAnnouncer{}
	svc.Events = events
	c := create(t, svc, "acme")
	ctx := context.Background()
	id := c.Migration.ID
	m := store.migs[id]
	m.Status, m.ExecutionName, m.Round = cutover.StatusTestMigrating, "x-r1", 1
	store.migs[id] = m
	svc.RecordStepFailure(ctx, id, string(cutover.StatusTestMigrating), "row 3 of contacts.csv: ann@acme.test is taken")
	if err := svc.MarkFailed(ctx, migration.FailInput{StepInput: migration.StepInput{MigrationID: id, Round: 1}, ExecutionName: "x-r1"}); err != nil {
		t.Fatal(err)
	}
	if len(events.raised) != 1 {
		t.Fatalf("raised %v", events.raised)
	}
	ev := events.raised[0]
	if ev.Type != cutover.EventFailed || ev.FailedStep != string(cutover.StatusTestMigrating) || ev.Round != 1 ||
		!strings.HasPrefix(ev.ID, id+"#migration.failed#r1#") || strings.Contains(string(ev.Detail()), "acme.test") {
		t.Fatalf("failed event = %+v, detail %s", ev, ev.Detail())
	}
	events.checkSchemas(t)
	// A stray execution's failure changes nothing and raises nothing.
	if err := svc.MarkFailed(ctx, migration.FailInput{StepInput: migration.StepInput{MigrationID: id, Round: 1}, ExecutionName: "other"}); err != nil || len(events.raised) != 1 {
		t.Fatalf("stray failure: %v, raised %d", err, len(events.raised))
	}
}

// The reconcile sweep tells the product of each migration it marks failed
// (a dead execution), and publishes the events that wait for a retry.
func TestSweepRaisesFailedAndRetriesDueEvents(t *testing.T) {
	svc, store, _ := finalService(t, 0)
	events := &recordingAnnouncer{}
	svc.Events = events
	ctx := context.Background()
	dead := signedOff(t, svc, store, "t1")
	m := store.migs[dead]
	m.Status, m.ExecutionName = cutover.StatusAwaitingSignOff, "ex-aborted"
	store.migs[dead] = m
	svc.Watch = statuses{StatusFn: func(string) (string, error) { return "ABORTED", nil }}
	if _, err := svc.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if len(events.raised) != 1 || events.raised[0].Type != cutover.EventFailed || events.raised[0].MigrationID != dead ||
		events.raised[0].FailedStep != string(cutover.StatusAwaitingSignOff) || events.retries != 1 {
		t.Fatalf("raised %+v, RetryDue called %d times", events.raised, events.retries)
	}
	events.checkSchemas(t)
}
