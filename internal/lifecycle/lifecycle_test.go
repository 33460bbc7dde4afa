package lifecycle

import (
	"context"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

// memLog is the outbox kept in memory, with the store's conditions: an id
// is added once, an update needs the attempts it was claimed with.
type memLog struct {
	evs map[string]cutover.LifecycleEvent
}

func (l *memLog) AddEvent(_ context.Context, ev cutover.LifecycleEvent) (cutover.LifecycleEvent, error) {
	if cur, ok := l.evs[ev.ID]; ok {
		return cur, nil
	}
	l.evs[ev.ID] = ev
	return ev, nil
}

func (l *memLog) UpdateEvent(_ context.Context, ev cutover.LifecycleEvent, prev int) error {
	if cur := l.evs[ev.ID]; cur.Status != cutover.EventPending || cur.Attempts != prev {
		return cutover.Errorf(cutover.ECONFLICT, "claimed")
	}
	l.evs[ev.ID] = ev
	return nil
}

func (l *memLog) ListEvents(context.Context, string) ([]cutover.LifecycleEvent, error) {
	return nil, nil
}

func (l *memLog) DueEvents(_ context.Context, now time.Time, _ int) ([]cutover.LifecycleEvent, error) {
	var out []cutover.LifecycleEvent
	for _, ev := range l.evs {
		if ev.Status == cutover.EventPending && !ev.NextAt.After(now) {
			out = append(out, ev)
		}
	}
	return out, nil
}

// funcBus is the bus as a function field.
type funcBus struct {
	PublishFn func(cutover.LifecycleEvent) (string, error)
}

func (b funcBus) Publish(_ context.Context, ev cutover.LifecycleEvent) (string, error) {
	return b.PublishFn(ev)
}

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func event() cutover.LifecycleEvent {
	return cutover.NewLifecycleEvent(cutover.EventLive, &cutover.Migration{ID: "m1", TenantID: "acme"}, 1, "", t0)
}

func TestAnnounceKeepsThenPublishesOnce(t *testing.T) {
	log := &memLog{evs: map[string]cutover.LifecycleEvent{}}
	var published []string
	a, err := New(funcBus{func(ev cutover.LifecycleEvent) (string, error) {
		published = append(published, ev.ID)
		return "eb-1", nil
	}}, log, func() time.Time { return t0 })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a.Announce(ctx, event())
	a.Announce(ctx, event()) // the step ran again
	got := log.evs["m1#migration.live#r1"]
	if len(published) != 1 || got.Status != cutover.EventPublished || got.BusEventID != "eb-1" || got.Attempts != 1 || !got.PublishedAt.Equal(t0) {
		t.Fatalf("published %v, stored %+v", published, got)
	}
}

// A bus that cannot be reached leaves the event pending (the step goes on);
// the sweep publishes it once it is due, and gives up after MaxAttempts.
func TestAnEventTheBusRefusedIsRetriedThenGivenUp(t *testing.T) {
	log := &memLog{evs: map[string]cutover.LifecycleEvent{}}
	now, down := t0, true
	calls := 0
	bus := funcBus{func(cutover.LifecycleEvent) (string, error) {
		calls++
		if down {
			return "", cutover.Errorf(cutover.EUNAVAILABLE, "The event bus could not be reached.")
		}
		return "eb-2", nil
	}}
	a, _ := New(bus, log, func() time.Time { return now })
	ctx := context.Background()
	a.Announce(ctx, event())
	ev := log.evs["m1#migration.live#r1"]
	if ev.Status != cutover.EventPending || ev.Attempts != 1 || ev.LastError == "" || !ev.NextAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("after a failed publish: %+v", ev)
	}
	if n, err := a.RetryDue(ctx); err != nil || n != 0 || calls != 1 {
		t.Fatalf("not due yet: published %d (%v), bus called %d times", n, err, calls)
	}
	now = now.Add(time.Minute)
	down = false
	if n, err := a.RetryDue(ctx); err != nil || n != 1 || log.evs[ev.ID].Status != cutover.EventPublished {
		t.Fatalf("due: published %d (%v), stored %+v", n, err, log.evs[ev.ID])
	}

	down = true
	other := event()
	other.ID = "m1#migration.live#r2"
	a.Announce(ctx, other)
	for i := 0; i < MaxAttempts+2; i++ {
		now = now.Add(2 * time.Hour)
		if _, err := a.RetryDue(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := log.evs[other.ID]; got.Status != cutover.EventGivenUp || got.Attempts != MaxAttempts {
		t.Fatalf("after the attempts ran out: %+v", got)
	}
}

func TestNewRefusesMissingPorts(t *testing.T) {
	if _, err := New(nil, &memLog{}, nil); cutover.ErrorCode(err) != cutover.EINTERNAL {
		t.Fatalf("no bus: %v", err)
	}
	if _, err := New(funcBus{}, nil, nil); cutover.ErrorCode(err) != cutover.EINTERNAL {
		t.Fatalf("no log: %v", err)
	}
}
