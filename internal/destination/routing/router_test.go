package routing

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
)

// fakeDest is a destination built from function fields.
type fakeDest struct {
	name     string
	holdings func(cutover.Target) (map[string]cutover.Holding, error)
	deliver  func(cutover.Target, []cutover.Record) ([]cutover.DeliveryResult, error)
}

func (f *fakeDest) Deliverer(t cutover.Target) cutover.Deliverer { return fakeDeliverer{f, t} }

func (f *fakeDest) Holdings(_ context.Context, t cutover.Target) (map[string]cutover.Holding, error) {
	return f.holdings(t)
}

type fakeDeliverer struct {
	f *fakeDest
	t cutover.Target
}

func (d fakeDeliverer) Deliver(_ context.Context, recs []cutover.Record) ([]cutover.DeliveryResult, error) {
	return d.f.deliver(d.t, recs)
}

// fakeSealer is a fakeDest that also seals.
type fakeSealer struct {
	*fakeDest
	seal func(cutover.Target, map[string]cutover.Holding, int) error
}

func (f fakeSealer) Seal(_ context.Context, t cutover.Target, h map[string]cutover.Holding, parts int) error {
	return f.seal(t, h, parts)
}

func named(name string, calls *[]string) *fakeDest {
	return &fakeDest{
		name: name,
		holdings: func(t cutover.Target) (map[string]cutover.Holding, error) {
			*calls = append(*calls, name+" holdings "+t.Env)
			return map[string]cutover.Holding{"contact": {Count: 1}}, nil
		},
		deliver: func(t cutover.Target, recs []cutover.Record) ([]cutover.DeliveryResult, error) {
			*calls = append(*calls, name+" deliver "+t.Env)
			return []cutover.DeliveryResult{{ID: recs[0].ID, Outcome: cutover.Created}}, nil
		},
	}
}

func TestRouterSendsEachEnvironmentToItsDestination(t *testing.T) {
	var calls []string
	r := &Router{Test: named("staging", &calls), Live: named("production", &calls)}
	ctx := context.Background()
	test := cutover.Target{Env: cutover.EnvTest, TenantID: "acme", MigrationID: "m", Round: 1}
	live := cutover.Target{Env: cutover.EnvLive, TenantID: "acme", MigrationID: "m"}
	recs := []cutover.Record{{ID: "r1", Entity: "contact"}}
	if _, err := r.Deliverer(test).Deliver(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Deliverer(live).Deliver(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Holdings(ctx, live); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Holdings(ctx, test); err != nil {
		t.Fatal(err)
	}
	want := []string{"staging deliver test", "production deliver live", "production holdings live", "staging holdings test"}
	if len(calls) != len(want) {
		t.Fatalf("calls %v, want %v", calls, want)
	}
	for i := range want {
		if calls[i] != want[i] {
			t.Errorf("call %d = %q, want %q", i, calls[i], want[i])
		}
	}
}

func TestRouterRefusesAnEnvironmentItWasNotGiven(t *testing.T) {
	var calls []string
	r := &Router{Test: named("staging", &calls)}
	ctx := context.Background()
	live := cutover.Target{Env: cutover.EnvLive, TenantID: "acme", MigrationID: "m"}
	if _, err := r.Deliverer(live).Deliver(ctx, []cutover.Record{{ID: "r"}}); cutover.ErrorCode(err) != cutover.EINTERNAL {
		t.Errorf("deliver to LIVE: %v, want EINTERNAL", err)
	}
	if _, err := r.Holdings(ctx, live); cutover.ErrorCode(err) != cutover.EINTERNAL {
		t.Errorf("holdings of LIVE: %v, want EINTERNAL", err)
	}
	if err := r.Seal(ctx, live, nil, 0); cutover.ErrorCode(err) != cutover.EINTERNAL {
		t.Errorf("seal LIVE: %v, want EINTERNAL", err)
	}
	if _, err := r.Holdings(ctx, cutover.Target{Env: "prod"}); cutover.ErrorCode(err) != cutover.EINTERNAL {
		t.Errorf("holdings of an unknown environment: %v, want EINTERNAL", err)
	}
	if len(calls) != 0 {
		t.Errorf("the TEST destination was called: %v", calls)
	}
}

func TestRouterSealsThroughASealerOnly(t *testing.T) {
	var calls []string
	var sealed []cutover.Target
	boom := errors.New("drop unwritable")
	drop := fakeSealer{named("drop", &calls), func(t cutover.Target, h map[string]cutover.Holding, parts int) error {
		sealed = append(sealed, t)
		if h["contact"].Count != 3 || parts != 12 {
			return errors.New("holdings or parts not passed through")
		}
		if t.Env == cutover.EnvLive {
			return boom
		}
		return nil
	}}
	ctx := context.Background()
	test := cutover.Target{Env: cutover.EnvTest, TenantID: "acme", MigrationID: "m", Round: 2}
	held := map[string]cutover.Holding{"contact": {Count: 3}}

	r := &Router{Test: drop, Live: named("api", &calls)}
	if err := r.Seal(ctx, test, held, 12); err != nil {
		t.Fatal(err)
	}
	if err := r.Seal(ctx, cutover.Target{Env: cutover.EnvLive, TenantID: "acme", MigrationID: "m"}, held, 12); err != nil {
		t.Errorf("sealing a destination with nothing to close: %v", err)
	}
	if len(sealed) != 1 || sealed[0] != test {
		t.Errorf("sealed %v, want only %v", sealed, test)
	}

	r = &Router{Live: drop}
	if err := r.Seal(ctx, cutover.Target{Env: cutover.EnvLive, TenantID: "acme", MigrationID: "m"}, held, 12); !errors.Is(err, boom) {
		t.Errorf("a failing seal: %v, want the sealer's error", err)
	}
}

// fakeRanges is a fakeDest that also reads back by key range.
type fakeRanges struct {
	*fakeDest
	in func(cutover.Target, string, string) map[string]cutover.Holding
}

func (f fakeRanges) HoldingsIn(_ context.Context, t cutover.Target, lo, hi string) (map[string]cutover.Holding, bool, error) {
	return f.in(t, lo, hi), true, nil
}

// The router reads a range back through a destination that reads by
// range, and says it cannot (ok false, no call) for one that does not:
// the engine then reads the whole back.
func TestRouterReadsARangeBackOnlyWhereTheDestinationCan(t *testing.T) {
	var calls []string
	ranges := fakeRanges{named("tables", &calls), func(t cutover.Target, lo, hi string) map[string]cutover.Holding {
		calls = append(calls, "tables range "+t.Env+" "+lo+".."+hi)
		return map[string]cutover.Holding{"contact": {Count: 2}}
	}}
	r := &Router{Test: ranges, Live: named("api", &calls)}
	ctx := context.Background()
	held, ok, err := r.HoldingsIn(ctx, cutover.Target{Env: cutover.EnvTest, MigrationID: "m"}, "contact#40", "contact#80")
	if err != nil || !ok || held["contact"].Count != 2 {
		t.Fatalf("TEST by range: %v %v %v", held, ok, err)
	}
	held, ok, err = r.HoldingsIn(ctx, cutover.Target{Env: cutover.EnvLive, MigrationID: "m"}, "", "contact#40")
	if err != nil || ok || held != nil {
		t.Fatalf("LIVE, whose destination cannot read a range: %v %v %v", held, ok, err)
	}
	if _, _, err := r.HoldingsIn(ctx, cutover.Target{Env: "prod"}, "", ""); cutover.ErrorCode(err) != cutover.EINTERNAL {
		t.Errorf("an unknown environment: %v, want EINTERNAL", err)
	}
	if len(calls) != 1 || calls[0] != "tables range test contact#40..contact#80" {
		t.Errorf("calls %v", calls)
	}
}

// fakeParts is a fakeDest that also reads back in parts.
type fakeParts struct {
	*fakeDest
	part func(cutover.Target, int, int) map[string]cutover.Holding
}

func (f fakeParts) HoldingsOfPart(_ context.Context, t cutover.Target, i, n int) (map[string]cutover.Holding, bool, error) {
	return f.part(t, i, n), true, nil
}

// The router reads a part back through a destination that reads in
// parts, and says it cannot (ok false, no call) for one that does not,
// nor for one that reads by range only.
func TestRouterReadsAPartBackOnlyWhereTheDestinationCan(t *testing.T) {
	var calls []string
	parts := fakeParts{named("drop", &calls), func(t cutover.Target, i, n int) map[string]cutover.Holding {
		calls = append(calls, fmt.Sprintf("drop part %s %d/%d", t.Env, i, n))
		return map[string]cutover.Holding{"contact": {Count: 5}}
	}}
	ranges := fakeRanges{named("tables", &calls), nil}
	ctx := context.Background()
	for _, tc := range []struct {
		r    *Router
		env  string
		want bool
	}{
		{&Router{Test: parts, Live: named("api", &calls)}, cutover.EnvTest, true},
		{&Router{Test: parts, Live: named("api", &calls)}, cutover.EnvLive, false},
		{&Router{Test: parts, Live: ranges}, cutover.EnvLive, false},
	} {
		held, ok, err := tc.r.HoldingsOfPart(ctx, cutover.Target{Env: tc.env, MigrationID: "m"}, 3, 8)
		if err != nil || ok != tc.want || (held["contact"].Count == 5) != tc.want {
			t.Errorf("%s in parts: %v %v %v; want ok %v", tc.env, held, ok, err, tc.want)
		}
	}
	if _, _, err := (&Router{Test: parts}).HoldingsOfPart(ctx, cutover.Target{Env: "prod"}, 0, 1); cutover.ErrorCode(err) != cutover.EINTERNAL {
		t.Errorf("an unknown environment: %v, want EINTERNAL", err)
	}
	if len(calls) != 1 || calls[0] != "drop part test 3/8" {
		t.Errorf("calls %v", calls)
	}
}
