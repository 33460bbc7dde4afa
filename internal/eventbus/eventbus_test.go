package eventbus

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebt "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/cutover/cutover/internal/cutover"
)

// fakeAPI is EventBridge as a function field.
type fakeAPI struct {
	PutEventsFn func(*eventbridge.PutEventsInput) (*eventbridge.PutEventsOutput, error)
}

func (f fakeAPI) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	return f.PutEventsFn(in)
}

func TestPublishPutsOneEntryAndReportsARefusedOne(t *testing.T) {
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	ev := cutover.NewLifecycleEvent(cutover.EventFinalStarting, &cutover.Migration{ID: "m1", TenantID: "acme"}, 2, "", at)
	var got ebt.PutEventsRequestEntry
	bus := &Bus{Name: "cutover-events", API: fakeAPI{func(in *eventbridge.PutEventsInput) (*eventbridge.PutEventsOutput, error) {
		got = in.Entries[0]
		return &eventbridge.PutEventsOutput{Entries: []ebt.PutEventsResultEntry{{EventId: aws.String("eb-1")}}}, nil
	}}}
	id, err := bus.Publish(context.Background(), ev)
	if err != nil || id != "eb-1" {
		t.Fatalf("Publish = %q, %v", id, err)
	}
	var detail map[string]any
	if err := json.Unmarshal([]byte(*got.Detail), &detail); err != nil {
		t.Fatal(err)
	}
	if *got.EventBusName != "cutover-events" || *got.Source != "cutover" || *got.DetailType != "Final Migration Starting" ||
		!got.Time.Equal(at) || detail["id"] != "m1#final.starting#r2" || detail["tenantId"] != "acme" || detail["status"] != nil {
		t.Fatalf("entry = %+v, detail %v", got, detail)
	}

	bus.API = fakeAPI{func(*eventbridge.PutEventsInput) (*eventbridge.PutEventsOutput, error) {
		return &eventbridge.PutEventsOutput{FailedEntryCount: 1, Entries: []ebt.PutEventsResultEntry{{ErrorCode: aws.String("InternalFailure"), ErrorMessage: aws.String("boom")}}}, nil
	}}
	if _, err := bus.Publish(context.Background(), ev); cutover.ErrorCode(err) != cutover.EUNAVAILABLE || !strings.Contains(cutover.ErrorMessage(err), "InternalFailure") {
		t.Fatalf("a refused entry: %v", err)
	}
}
