package signoff

import (
	"context"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/lifecycle/schemas"
)

// announced is the lifecycle outbox as a function field.
type announced struct {
	AnnounceFn func(cutover.LifecycleEvent)
}

func (a announced) Announce(_ context.Context, ev cutover.LifecycleEvent) { a.AnnounceFn(ev) }

// The request raises signoff.requested once the migration awaits the
// decision (a reminder raises nothing); the decision raises approved or
// rejected once it is recorded, before the state machine hears of it; no
// event names the coordinator or carries their comment.
func TestSignOffRaisesRequestedAndDecided(t *testing.T) {
	for _, decision := range []string{"approve", "reject"} {
		w := newWorld(t)
		var raised []cutover.LifecycleEvent
		if err := w.svc.AnnounceWith(announced{func(ev cutover.LifecycleEvent) {
			if ev.Type == cutover.EventSignOffRequested && w.mig.Status != cutover.StatusAwaitingSignOff {
				t.Errorf("requested raised while the migration was %s", w.mig.Status)
			}
			if ev.Type != cutover.EventSignOffRequested && w.mig.DecidedLink == "" {
				t.Error("decision raised before it was recorded")
			}
			raised = append(raised, ev)
		}}); err != nil {
			t.Fatal(err)
		}
		w.request(t)
		if err := w.svc.Request(context.Background(), RequestInput{MigrationID: "m-1", Round: 1, TaskToken: "task-token-2", Reminders: 1}); err != nil {
			t.Fatal(err)
		}
		if len(raised) != 1 || raised[0].Type != cutover.EventSignOffRequested || raised[0].TenantID != "acme" || raised[0].Round != 1 ||
			raised[0].ID != "m-1#signoff.requested#r1#"+cutover.HashSecret("task-token-1")[:12] {
			t.Fatalf("after the request and a reminder: %+v", raised)
		}
		tok := w.request(t) // the reminder's link superseded the first; a fresh request of the same task
		if _, err := w.svc.Decide(context.Background(), tok, DecideInput{Decision: decision, Comment: "Ann from accounts says no"}); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"approve": cutover.EventSignOffApproved, "reject": cutover.EventSignOffRejected}[decision]
		last := raised[len(raised)-1]
		if last.Type != want || last.ID != "m-1#"+want+"#r1" || !last.OccurredAt.Equal(t0) {
			t.Fatalf("%s: last event %+v", decision, last)
		}
		for _, ev := range raised {
			if d := string(ev.Detail()); strings.Contains(d, "coord@x.com") || strings.Contains(d, "Ann") {
				t.Fatalf("personal data in %s", d)
			}
			if err := schemas.Validate(ev.Type, ev.Detail()); err != nil {
				t.Error(err)
			}
		}
	}
	if err := (&Service{}).AnnounceWith(nil); cutover.ErrorCode(err) != cutover.EINTERNAL {
		t.Fatalf("nil announcer: %v", err)
	}
}
