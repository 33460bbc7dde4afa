package engine

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
)

// expiringTest is a TEST environment fake that records ExpireSegment calls.
type expiringTest struct {
	discardTest
	ExpireFn func(migrationID string, entities []string, prefix string, from time.Time) error
}

func (e expiringTest) ExpireSegment(_ context.Context, id string, entities []string, prefix string, from time.Time) error {
	return e.ExpireFn(id, entities, prefix, from)
}

// Going live sets the migration's TEST records to expire from the go-live
// time, a slice at a time: one slice for a small test extract, 16 for
// millions of records, together every entity and every id; a TEST
// environment that cannot be told does not undo the go-live, but is in
// the audit trail.
func TestCompleteExpiresTheTestRecords(t *testing.T) {
	for _, tc := range []struct {
		read   int
		slices []string
	}{
		{0, []string{""}},
		{3_000_000, strings.Split("0 1 2 3 4 5 6 7 8 9 a b c d e f", " ")},
	} {
		svc, store, _ := finalService(t, 8)
		ctx := context.Background()
		id := signedOff(t, svc, store, "acme")
		if _, err := runFinal(t, svc, id); err != nil {
			t.Fatal(err)
		}
		if tc.read > 0 {
			store.migs[id].Test.Read = tc.read
		}
		var prefixes []string
		svc.Test = expiringTest{ExpireFn: func(mid string, entities []string, prefix string, from time.Time) error {
			if mid != id || !from.Equal(store.migs[id].WentLiveAt) || !slices.Contains(entities, "contact") || !slices.Contains(entities, "company") {
				t.Errorf("expired %s (entities %v) from %s; want %s, every entity, from its go-live", mid, entities, from, id)
			}
			prefixes = append(prefixes, prefix)
			return nil
		}}
		if err := svc.Complete(ctx, migration.StepInput{MigrationID: id, Round: 1}); err != nil {
			t.Fatal(err)
		}
		if m := store.migs[id]; m.Status != cutover.StatusLive || !slices.Equal(prefixes, tc.slices) {
			t.Fatalf("%d test rows: status %s, expired slices %q; want %q", tc.read, m.Status, prefixes, tc.slices)
		}
	}

	svc2, store2, _ := finalService(t, 8)
	ctx := context.Background()
	id2 := signedOff(t, svc2, store2, "globex")
	if _, err := runFinal(t, svc2, id2); err != nil {
		t.Fatal(err)
	}
	svc2.Test = expiringTest{ExpireFn: func(string, []string, string, time.Time) error {
		return cutover.Errorf(cutover.EUNAVAILABLE, "throttled")
	}}
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

// The live mails go out in the Complete step, before any TEST record is
// given its expiry (a slice a step after it): one step expiring every
// record could take its whole time on a large TEST environment
// (2026-12-03: 398,042 records, the step timed out and neither mail was
// sent). The step run again sends no mail twice and names the same
// slices; a slice is expired only once the migration is live.
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
	svc.Test = expiringTest{ExpireFn: func(string, []string, string, time.Time) error {
		expires++
		return nil
	}}
	live := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.DeleteFunc(slices.Clone(sent), func(s string) bool { return !strings.HasSuffix(s, ": Your migration is live") })
	}
	c := svc.completion()
	step := migration.CompleteStep{MigrationID: id, Round: 1}
	slice := migration.CompleteStep{Action: migration.CompleteExpire, MigrationID: id, Round: 1}
	if _, err := c.Run(ctx, slice); cutover.ErrorCode(err) != cutover.ECONFLICT || expires != 0 {
		t.Fatalf("a slice expired before the migration went live: %v, %d expiries", err, expires)
	}
	for range 2 {
		out, err := c.Run(ctx, step)
		if err != nil {
			t.Fatal(err)
		}
		if got := live(); len(got) != 2 || store.migs[id].Status != cutover.StatusLive || expires != 0 || !slices.Equal(out.Expire, []string{""}) {
			t.Fatalf("after Complete: %s, live mails %q, %d expiries, slices %q; want both people told once, nothing expired yet, one slice",
				store.migs[id].Status, got, expires, out.Expire)
		}
	}
	if _, err := c.Run(ctx, slice); err != nil || expires != 1 {
		t.Fatalf("the slice: %v, %d expiries", err, expires)
	}
	if _, err := c.Run(ctx, migration.CompleteStep{Action: "explode", MigrationID: id}); cutover.ErrorCode(err) != cutover.EINVALID {
		t.Fatalf("an unknown action: %v", err)
	}
}
