package engine

import (
	"context"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
)

// expiringTest is a TEST environment fake that records Expire calls.
type expiringTest struct {
	discardTest
	ExpireFn func(migrationID string, from time.Time) error
}

func (e expiringTest) Expire(_ context.Context, id string, from time.Time) error {
	return e.ExpireFn(id, from)
}

// Going live sets the migration's TEST records to expire from the go-live
// time; a TEST environment that cannot be told does not undo the go-live,
// but is in the audit trail.
func TestCompleteExpiresTheTestRecords(t *testing.T) {
	svc, store, _ := finalService(t, 8)
	ctx := context.Background()
	id := signedOff(t, svc, store, "acme")
	if _, err := runFinal(t, svc, id); err != nil {
		t.Fatal(err)
	}
	type call struct {
		id   string
		from time.Time
	}
	var calls []call
	svc.Test = expiringTest{ExpireFn: func(mid string, from time.Time) error {
		calls = append(calls, call{mid, from})
		return nil
	}}
	if err := svc.Complete(ctx, migration.StepInput{MigrationID: id, Round: 1}); err != nil {
		t.Fatal(err)
	}
	m := store.migs[id]
	if m.Status != cutover.StatusLive || len(calls) != 1 || calls[0].id != id || !calls[0].from.Equal(m.WentLiveAt) {
		t.Fatalf("status %s, went live %s, expire calls %+v; want one, from the go-live time", m.Status, m.WentLiveAt, calls)
	}

	svc2, store2, _ := finalService(t, 8)
	id2 := signedOff(t, svc2, store2, "globex")
	if _, err := runFinal(t, svc2, id2); err != nil {
		t.Fatal(err)
	}
	svc2.Test = expiringTest{ExpireFn: func(string, time.Time) error { return cutover.Errorf(cutover.EUNAVAILABLE, "throttled") }}
	if err := svc2.Complete(ctx, migration.StepInput{MigrationID: id2, Round: 1}); err != nil {
		t.Fatalf("a failed expiry must not fail a migration that is live: %v", err)
	}
	if store2.migs[id2].Status != cutover.StatusLive {
		t.Fatalf("status %s", store2.migs[id2].Status)
	}
	found := false
	for _, ev := range store2.audit[id2] {
		found = found || ev.Action == "retention.deferred" && strings.Contains(ev.Detail, "TEST records")
	}
	if !found {
		t.Fatalf("the audit trail does not say the TEST records kept their earlier expiry: %+v", store2.audit[id2])
	}
}

// The live mails go out before the TEST records are given their expiry,
// which can take a Complete step's whole time on a large TEST environment
// (2026-12-03: 398,042 records, the step timed out and neither mail was
// sent, and the retried step, seeing the migration live, sent none). A
// step that dies while expiring has already told both people; the retried
// step expires again and sends no mail twice.
func TestGoingLiveIsToldBeforeTheTestRecordsExpire(t *testing.T) {
	svc, store, _ := finalService(t, 8)
	ctx := context.Background()
	id := signedOff(t, svc, store, "acme")
	if _, err := runFinal(t, svc, id); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var sent []string
	svc.Mailer = mailer{SendFn: func(to, subject, _ string) error {
		mu.Lock()
		defer mu.Unlock()
		sent = append(sent, to+": "+subject)
		return nil
	}}
	expires := 0
	svc.Test = expiringTest{ExpireFn: func(string, time.Time) error {
		expires++
		if expires == 1 {
			runtime.Goexit() // the step's process dies here, at its time-out
		}
		return nil
	}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = svc.Complete(ctx, migration.StepInput{MigrationID: id, Round: 1})
	}()
	<-done
	live := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.DeleteFunc(slices.Clone(sent), func(s string) bool { return !strings.HasSuffix(s, ": Your migration is live") })
	}
	if got := live(); len(got) != 2 || store.migs[id].Status != cutover.StatusLive {
		t.Fatalf("after a step that died expiring TEST: %s, live mails %q; want both people told", store.migs[id].Status, got)
	}
	if err := svc.Complete(ctx, migration.StepInput{MigrationID: id, Round: 1}); err != nil {
		t.Fatal(err)
	}
	if got := live(); len(got) != 2 || expires != 2 {
		t.Fatalf("the retried step: live mails %q, %d expiries; want the same two mails and the expiry run again", got, expires)
	}
}
