package eventbus

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

// fakeAPI is EventBridge as a function field.
type fakeAPI struct {
	PutEventsFn func([]Entry) ([]Result, error)
}

func (f fakeAPI) PutEvents(_ context.Context, entries []Entry) ([]Result, error) {
	return f.PutEventsFn(entries)
}

func TestPublishPutsOneEntryAndReportsARefusedOne(t *testing.T) {
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	ev := cutover.NewLifecycleEvent(cutover.EventFinalStarting, &cutover.Migration{ID: "m1", TenantID: "acme"}, 2, "", at)
	var got Entry
	bus := &Bus{Name: "cutover-events", API: fakeAPI{func(in []Entry) ([]Result, error) {
		got = in[0]
		return []Result{{EventID: "eb-1"}}, nil
	}}}
	id, err := bus.Publish(context.Background(), ev)
	if err != nil || id != "eb-1" {
		t.Fatalf("Publish = %q, %v", id, err)
	}
	var detail map[string]any
	if err := json.Unmarshal([]byte(got.Detail), &detail); err != nil {
		t.Fatal(err)
	}
	if got.EventBusName != "cutover-events" || got.Source != "cutover" || got.DetailType != "Final Migration Starting" ||
		got.Time != at.Unix() || detail["id"] != "m1#final.starting#r2" || detail["tenantId"] != "acme" || detail["status"] != nil {
		t.Fatalf("entry = %+v, detail %v", got, detail)
	}

	for name, tc := range map[string]struct {
		out  []Result
		err  error
		want string
	}{
		"refused entry": {out: []Result{{ErrorCode: "InternalFailure", ErrorMessage: "boom"}}, want: "InternalFailure"},
		"refused call":  {err: &APIError{Code: "AccessDeniedException", Status: 400}, want: "AccessDeniedException"},
		"no result":     {out: nil, want: "no result"},
	} {
		bus.API = fakeAPI{func([]Entry) ([]Result, error) { return tc.out, tc.err }}
		if _, err := bus.Publish(context.Background(), ev); cutover.ErrorCode(err) != cutover.EUNAVAILABLE || !strings.Contains(cutover.ErrorMessage(err), tc.want) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
