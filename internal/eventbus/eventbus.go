// Package eventbus adapts EventBridge to the lifecycle events' Bus: each
// event goes on the deployment's bus with source "cutover", its own
// detail-type and its detail (cutover.LifecycleEvent.Detail).
package eventbus

import (
	"context"
	"errors"

	"github.com/cutover/cutover/internal/cutover"
)

// Bus publishes lifecycle events on one event bus.
type Bus struct {
	API API
	// Name is the bus's name (EVENT_BUS_NAME).
	Name string
}

// Publish implements lifecycle.Bus: one PutEvents entry, timed at the
// transition (OccurredAt), and returns EventBridge's id for it.
//
// Errors: EINTERNAL for a type cutover does not publish; EUNAVAILABLE when
// EventBridge cannot be reached or refuses the entry; the message names
// EventBridge's error code, so ops see why an event is pending, and never
// its text.
func (b *Bus) Publish(ctx context.Context, ev cutover.LifecycleEvent) (string, error) {
	detailType := cutover.LifecycleDetailType(ev.Type)
	if detailType == "" {
		return "", cutover.Errorf(cutover.EINTERNAL, "The lifecycle event type %q is not one cutover publishes.", ev.Type)
	}
	out, err := b.API.PutEvents(ctx, []Entry{{
		EventBusName: b.Name, Source: cutover.LifecycleSource, DetailType: detailType,
		Detail: string(ev.Detail()), Time: ev.OccurredAt.Unix(),
	}})
	if err != nil {
		var api *APIError
		if errors.As(err, &api) {
			return "", cutover.Wrap(cutover.EUNAVAILABLE, err, "The event could not be published (EventBridge: %s).", api.Code)
		}
		return "", cutover.Wrap(cutover.EUNAVAILABLE, err, "The event could not be published.")
	}
	if len(out) != 1 || out[0].ErrorCode != "" || out[0].EventID == "" {
		code := "no result"
		if len(out) == 1 && out[0].ErrorCode != "" {
			code = out[0].ErrorCode
		}
		return "", cutover.Errorf(cutover.EUNAVAILABLE, "The event could not be published (EventBridge: %s).", code)
	}
	return out[0].EventID, nil
}
