package schemas

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

// Every event type has its schema, titled with its detail-type; an event
// of the type validates, and one that carries more (a name, an address) or
// less than its schema says does not.
func TestEverySchemaMatchesItsEvents(t *testing.T) {
	entries, err := files.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(cutover.LifecycleTypes) {
		t.Fatalf("%d schema files for %d event types", len(entries), len(cutover.LifecycleTypes))
	}
	m := &cutover.Migration{ID: "m-20261125-abc", TenantID: "acme"}
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, typ := range cutover.LifecycleTypes {
		raw, err := files.ReadFile(typ + ".json")
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		var doc struct{ Title string }
		if err := json.Unmarshal(raw, &doc); err != nil || doc.Title != cutover.LifecycleDetailType(typ) {
			t.Errorf("%s: title %q, detail-type %q (%v)", typ, doc.Title, cutover.LifecycleDetailType(typ), err)
		}
		ev := cutover.NewLifecycleEvent(typ, m, 2, "", at)
		ev.WorkbookURL, ev.GoLiveAt, ev.FailedStep = map[bool]string{true: "https://site/index.html#m=x&view=workbook"}[typ == cutover.EventTestCompleted], map[bool]time.Time{true: at}[typ == cutover.EventFinalScheduled || typ == cutover.EventFinalStarting], map[bool]string{true: "final_migrating"}[typ == cutover.EventFailed]
		if err := Validate(typ, ev.Detail()); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
		var extra map[string]any
		_ = json.Unmarshal(ev.Detail(), &extra)
		extra["coordinatorEmail"] = "k@acme.test"
		withExtra, _ := json.Marshal(extra)
		if err := Validate(typ, withExtra); err == nil {
			t.Errorf("%s: a detail with an e-mail address validates", typ)
		}
		delete(extra, "coordinatorEmail")
		delete(extra, "tenantId")
		without, _ := json.Marshal(extra)
		if err := Validate(typ, without); err == nil || !strings.Contains(err.Error(), typ) {
			t.Errorf("%s: a detail without its tenant: %v", typ, err)
		}
	}
	if err := Validate("nope", []byte(`{}`)); err == nil {
		t.Error("an unknown type validates")
	}
	// test.completed needs its link; final.scheduled its go-live.
	for _, typ := range []string{cutover.EventTestCompleted, cutover.EventFinalScheduled} {
		if err := Validate(typ, cutover.NewLifecycleEvent(typ, m, 1, "", at).Detail()); err == nil {
			t.Errorf("%s without its own field validates", typ)
		}
	}
}
