// Package eventbus adapts EventBridge to the lifecycle events' Bus: each
// event goes on the deployment's bus with source "cutover", its own
// detail-type and its detail (cutover.LifecycleEvent.Detail).
package eventbus

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebt "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

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
// Errors: EUNAVAILABLE when EventBridge cannot be reached or refuses the
// entry; the message names EventBridge's error code, so ops see why an
// event is pending, and never its text.
func (b *Bus) Publish(ctx context.Context, ev cutover.LifecycleEvent) (string, error) {
	detailType := cutover.LifecycleDetailType(ev.Type)
	if detailType == "" {
		return "", cutover.Errorf(cutover.EINTERNAL, "The lifecycle event type %q is not one cutover publishes.", ev.Type)
	}
	out, err := b.API.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebt.PutEventsRequestEntry{{
		EventBusName: aws.String(b.Name),
		Source:       aws.String(cutover.LifecycleSource),
		DetailType:   aws.String(detailType),
		Detail:       aws.String(string(ev.Detail())),
		Time:         aws.Time(ev.OccurredAt),
	}}})
	if err != nil {
		var api smithy.APIError
		if errors.As(err, &api) {
			return "", cutover.Wrap(cutover.EUNAVAILABLE, err, "The event could not be published (EventBridge: %s).", api.ErrorCode())
		}
		return "", cutover.Wrap(cutover.EUNAVAILABLE, err, "The event could not be published.")
	}
	if out.FailedEntryCount > 0 || len(out.Entries) != 1 {
		code := "no result"
		if len(out.Entries) == 1 && out.Entries[0].ErrorCode != nil {
			code = *out.Entries[0].ErrorCode
		}
		return "", cutover.Errorf(cutover.EUNAVAILABLE, "The event could not be published (EventBridge: %s).", code)
	}
	return aws.ToString(out.Entries[0].EventId), nil
}
