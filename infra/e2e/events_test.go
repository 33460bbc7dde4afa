package e2e

import (
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/infra/receiver"
	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/lifecycle/schemas"
)

// eventsReceiver is the reference receiver, run in this process, that the
// shared stack's lifecycle events rule delivers to.
type eventsReceiver struct {
	url   string
	key   string
	srv   *http.Server
	store *receiver.Store
	dir   string
}

// lifecycleRx is the receiver of the shared stack's lifecycle events.
var lifecycleRx *eventsReceiver

func startEventsReceiver() (*eventsReceiver, error) {
	dir, err := os.MkdirTemp("", "cutover-e2e-events-*")
	if err != nil {
		return nil, err
	}
	store, err := receiver.Open(filepath.Join(dir, "receiver.db"))
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rx := &eventsReceiver{url: "http://" + ln.Addr().String(), key: "e2e-events-key-" + time.Now().Format("150405.000"), store: store, dir: dir}
	h := receiver.New([]byte("unused: this receiver only hears events"), store, receiver.Options{Logger: slog.New(slog.DiscardHandler), EventsKey: rx.key})
	rx.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = rx.srv.Serve(ln) }()
	lifecycleRx = rx
	return rx, nil
}

// parameters subscribe the receiver to the stack's lifecycle events.
func (rx *eventsReceiver) parameters() map[string]string {
	return map[string]string{"LifecycleEventsUrl": rx.url + "/events", "LifecycleEventsApiKey": rx.key}
}

func (rx *eventsReceiver) close() {
	_ = rx.srv.Close()
	_ = rx.store.Close()
	_ = os.RemoveAll(rx.dir)
}

// listed is what the receiver kept of one tenant's migration, in arrival
// order, and the tenant's maintenance mode.
func (rx *eventsReceiver) listed(t *testing.T, tenant, migration string) ([]receiver.Event, []receiver.Maintenance) {
	t.Helper()
	resp, err := http.Get(rx.url + "/events?tenant=" + tenant + "&migration=" + migration)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Events      []receiver.Event
		Maintenance []receiver.Maintenance
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Events, out.Maintenance
}

// waitEvents waits until the receiver holds n events of the migration.
func (rx *eventsReceiver) waitEvents(t *testing.T, tenant, migration string, n int) ([]receiver.Event, []receiver.Maintenance) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		evs, modes := rx.listed(t, tenant, migration)
		if len(evs) >= n || time.Now().After(deadline) {
			return evs, modes
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A journey's lifecycle events reach the product through the template's
// rule and API destination (with the connection's key), in order, each
// id once; the product is in maintenance while the final migration writes
// LIVE and out of it once live; ops see the same events on the detail.
func TestLifecycleEventsReachTheProductInOrder(t *testing.T) {
	rx := lifecycleRx
	a := api{t: t, base: st.APIURL}
	box := mailbox{t: t, endpoint: st.Endpoint}
	ops := st.MintOpsToken("ana@vendor.test", time.Hour)
	id, key := a.create(ops, "hooli", "Hooli", "hooli.test", "events-coordinator")

	a.upload(id, key, "contacts.csv", "test", []byte(final))
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
	a.waitStatus(id, key, "awaiting_review", 1)
	if evs, _ := rx.waitEvents(t, "hooli", id, 1); len(evs) != 1 || evs[0].Type != cutover.EventTestCompleted {
		t.Fatalf("after the test migration the product heard %+v", evs)
	}
	a.reviewAll(id, key, 1)
	a.waitStatus(id, key, "awaiting_signoff", 1)
	rx.waitEvents(t, "hooli", id, 2)
	a.must(http.StatusOK, "POST", "/signoff", box.signOffLink("events-coordinator@hooli.test", 1), map[string]any{"decision": "approve"})
	a.waitStatus(id, key, "awaiting_final", 1)
	rx.waitEvents(t, "hooli", id, 3)
	finalID := a.upload(id, key, "contacts-final.csv", "final", []byte(final))
	goLive := time.Now().Add(3 * time.Second).UTC().Truncate(time.Second).Add(time.Second)
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/final", key, map[string]any{"goLiveAt": goLive.Format(time.RFC3339), "fileIds": []string{finalID}})
	a.waitStatus(id, key, "live", 1)
	evs, modes := rx.waitEvents(t, "hooli", id, 6)

	want := []string{cutover.EventTestCompleted, cutover.EventSignOffRequested, cutover.EventSignOffApproved, cutover.EventFinalScheduled, cutover.EventFinalStarting, cutover.EventLive}
	var got []string
	byType := map[string]receiver.Event{}
	for _, e := range evs { // the receiver keeps each id once: redeliveries only count
		got = append(got, e.Type)
		byType[e.Type] = e
		if !strings.HasPrefix(e.ID, id+"#"+e.Type+"#r1") || e.TenantID != "hooli" || e.Round != 1 || strings.Contains(string(e.Detail), "@") {
			t.Errorf("event %+v", e)
		}
		if err := schemas.Validate(e.Type, e.Detail); err != nil { // what really went through EventBridge
			t.Error(err)
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("the product heard %v, want %v in that order", got, want)
	}
	var wb map[string]any
	if err := json.Unmarshal(byType[cutover.EventTestCompleted].Detail, &wb); err != nil || wb["workbookUrl"] != st.SiteURL+"/index.html#m="+id+"&view=workbook" {
		t.Fatalf("test.completed detail %s", byType[cutover.EventTestCompleted].Detail)
	}

	// Maintenance: on from final.starting, off at live, and the final's
	// LIVE writes (final.migrated) happened while it was on.
	if len(modes) != 1 || modes[0].On || modes[0].EventID != byType[cutover.EventLive].ID {
		t.Fatalf("maintenance after live = %+v", modes)
	}
	var detail struct {
		Audit  []struct{ At, Action string }
		Events []struct{ ID, Type, Status, BusEventID string }
	}
	a.must(http.StatusOK, "GET", "/ops/migrations/"+id, ops, nil).decode(t, &detail)
	var migrated time.Time
	for _, e := range detail.Audit {
		if e.Action == "final.migrated" {
			migrated, _ = time.Parse(time.RFC3339Nano, e.At)
		}
	}
	on, _ := time.Parse(time.RFC3339Nano, byType[cutover.EventFinalStarting].ReceivedAt)
	off, _ := time.Parse(time.RFC3339Nano, byType[cutover.EventLive].ReceivedAt)
	if migrated.IsZero() || !on.Before(migrated) || !off.After(migrated) {
		t.Fatalf("maintenance on at %s, off at %s; the final migrated LIVE at %s: it must be on meanwhile", on, off, migrated)
	}

	// Ops see what was published, the same ids the product kept.
	if len(detail.Events) != len(want) {
		t.Fatalf("ops see %d events: %+v", len(detail.Events), detail.Events)
	}
	for i, e := range detail.Events {
		if e.Type != want[i] || e.ID != evs[i].ID || e.Status != cutover.EventPublished || e.BusEventID == "" {
			t.Errorf("ops event %d = %+v, the product kept %s", i, e, evs[i].ID)
		}
	}
}

// A failed step reaches the product as migration.failed, naming the step
// but not the failure's text (it quotes the customer's file); a round
// started again that fails again is a second failure, with its own id.
func TestAFailureReachesTheProductOncePerFailure(t *testing.T) {
	rx := lifecycleRx
	a := api{t: t, base: st.APIURL}
	ops := st.MintOpsToken("ana@vendor.test", time.Hour)
	id, key := a.create(ops, "umbrella", "Umbrella", "umbrella.test", "al")
	a.upload(id, key, "broken.csv", "test", []byte("Email,Name\nann@umbrella.test,Ann\nbo@umbrella.test,\"Bo\n"))
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
	a.waitStatus(id, key, "failed", 1)
	evs, _ := rx.waitEvents(t, "umbrella", id, 1)
	if len(evs) != 1 || evs[0].Type != cutover.EventFailed || strings.Contains(string(evs[0].Detail), "broken.csv") || strings.Contains(string(evs[0].Detail), "@") {
		t.Fatalf("after the failure the product heard %+v", evs)
	}
	var d struct{ FailedStep string }
	if err := json.Unmarshal(evs[0].Detail, &d); err != nil || d.FailedStep == "" {
		t.Fatalf("failed detail %s", evs[0].Detail)
	}
	if err := schemas.Validate(evs[0].Type, evs[0].Detail); err != nil {
		t.Error(err)
	}
	a.must(http.StatusAccepted, "POST", "/ops/migrations/"+id+"/retry", ops, nil)
	evs, _ = rx.waitEvents(t, "umbrella", id, 2)
	if len(evs) != 2 || evs[1].Type != cutover.EventFailed || evs[1].ID == evs[0].ID {
		t.Fatalf("after the retried round failed again the product heard %+v", evs)
	}
}
