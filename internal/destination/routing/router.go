package routing

import (
	"context"

	"github.com/cutover/cutover/internal/cutover"
)

var (
	_ cutover.Destination = (*Router)(nil)
	_ cutover.Sealer      = (*Router)(nil)
	_ cutover.RangeHolder = (*Router)(nil)
	_ cutover.PartHolder  = (*Router)(nil)
)

// Router sends each target to its environment's destination: TEST
// targets to Test, LIVE targets to Live. A function configures only the
// environment it writes (TestMigrate TEST, FinalMigrate LIVE), so a
// target of the other one is refused rather than written somewhere
// unintended.
type Router struct {
	Test cutover.Destination
	Live cutover.Destination
}

// route is t's destination, or an error when none is configured.
func (r *Router) route(t cutover.Target) (cutover.Destination, error) {
	var d cutover.Destination
	switch t.Env {
	case cutover.EnvTest:
		d = r.Test
	case cutover.EnvLive:
		d = r.Live
	default:
		return nil, cutover.Errorf(cutover.EINTERNAL, "A destination target is TEST or LIVE, not %q.", t.Env)
	}
	if d == nil {
		return nil, cutover.Errorf(cutover.EINTERNAL, "This function has no %s destination configured.", t.Env)
	}
	return d, nil
}

// Deliverer implements cutover.Destination. An unroutable target's
// deliverer fails every Deliver with EINTERNAL.
func (r *Router) Deliverer(t cutover.Target) cutover.Deliverer {
	d, err := r.route(t)
	if err != nil {
		return failing{err}
	}
	return d.Deliverer(t)
}

// Holdings implements cutover.Destination.
//
// Errors: the routed destination's; EINTERNAL for an unroutable target.
func (r *Router) Holdings(ctx context.Context, t cutover.Target) (map[string]cutover.Holding, error) {
	d, err := r.route(t)
	if err != nil {
		return nil, err
	}
	return d.Holdings(ctx, t)
}

// HoldingsIn implements cutover.RangeHolder through the routed
// destination when it reads by range; ok false otherwise.
//
// Errors: the routed destination's; EINTERNAL for an unroutable target.
func (r *Router) HoldingsIn(ctx context.Context, t cutover.Target, lo, hi string) (map[string]cutover.Holding, bool, error) {
	d, err := r.route(t)
	if err != nil {
		return nil, false, err
	}
	return holdingsIn(ctx, d, t, lo, hi)
}

// holdingsIn asks d for t's holdings in [lo, hi) when it reads by range.
//
// Errors: d's.
func holdingsIn(ctx context.Context, d cutover.Destination, t cutover.Target, lo, hi string) (map[string]cutover.Holding, bool, error) {
	if rh, ok := d.(cutover.RangeHolder); ok {
		return rh.HoldingsIn(ctx, t, lo, hi)
	}
	return nil, false, nil
}

// HoldingsOfPart implements cutover.PartHolder through the routed
// destination when it reads in parts; ok false otherwise.
//
// Errors: the routed destination's; EINTERNAL for an unroutable target.
func (r *Router) HoldingsOfPart(ctx context.Context, t cutover.Target, i, n int) (map[string]cutover.Holding, bool, error) {
	d, err := r.route(t)
	if err != nil {
		return nil, false, err
	}
	return holdingsOfPart(ctx, d, t, i, n)
}

// holdingsOfPart asks d for part i of n of t when it reads in parts.
//
// Errors: d's.
func holdingsOfPart(ctx context.Context, d cutover.Destination, t cutover.Target, i, n int) (map[string]cutover.Holding, bool, error) {
	if ph, ok := d.(cutover.PartHolder); ok {
		return ph.HoldingsOfPart(ctx, t, i, n)
	}
	return nil, false, nil
}

// Seal implements cutover.Sealer: it seals through the routed
// destination when that one closes its deliveries (the S3 drop's
// manifest) and does nothing for those with nothing to close.
//
// Errors: the routed Sealer's; EINTERNAL for an unroutable target.
func (r *Router) Seal(ctx context.Context, t cutover.Target, delivered map[string]cutover.Holding, parts int) error {
	d, err := r.route(t)
	if err != nil {
		return err
	}
	return seal(ctx, d, t, delivered, parts)
}

// seal seals t's delivery through d when d closes its deliveries.
//
// Errors: d's Seal's.
func seal(ctx context.Context, d cutover.Destination, t cutover.Target, delivered map[string]cutover.Holding, parts int) error {
	if s, ok := d.(cutover.Sealer); ok {
		return s.Seal(ctx, t, delivered, parts)
	}
	return nil
}

// failing is a Deliverer that cannot deliver.
type failing struct{ err error }

func (f failing) Deliver(context.Context, []cutover.Record) ([]cutover.DeliveryResult, error) {
	return nil, f.err
}
