package receiver

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

const testEventsKey = "events-key-123"

func eventsRig(t *testing.T) *httptest.Server {
	t.Helper()
	store, err := Open(filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	srv := httptest.NewServer(New([]byte("k"), store, Options{Logger: slog.New(slog.DiscardHandler), EventsKey: testEventsKey}))
	t.Cleanup(srv.Close)
	return srv
}

// postEvent sends an event the way an API destination does: the envelope,
// with the connection's key header.
func postEvent(t *testing.T, srv *httptest.Server, key string, ev cutover.LifecycleEvent) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"version": "0", "id": "eb-" + ev.ID, "source": "cutover", "detail-type": cutover.LifecycleDetailType(ev.Type), "detail": json.RawMessage(ev.Detail()),
	})
	return postRaw(t, srv, key, body)
}

func postRaw(t *testing.T, srv *httptest.Server, key string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/events", bytes.NewReader(body))
	if key != "" {
		req.Header.Set(EventsKeyHeader, key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func listed(t *testing.T, srv *httptest.Server) (evs []Event, modes []Maintenance) {
	t.Helper()
	resp, err := http.Get(srv.URL + "/events?tenant=acme")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Events      []Event
		Maintenance []Maintenance
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Events, out.Maintenance
}

// The endpoint takes only events with the connection's key, keeps each id
// once, and maintenance follows final.starting (on) and live (off), by
// when they happened, so a late redelivery of final.starting cannot turn
// it back on.
func TestEventsAreKeptOnceAndDriveMaintenance(t *testing.T) {
	srv := eventsRig(t)
	m := &cutover.Migration{ID: "m-1", TenantID: "acme"}
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	starting := cutover.NewLifecycleEvent(cutover.EventFinalStarting, m, 1, "", t0)
	live := cutover.NewLifecycleEvent(cutover.EventLive, m, 1, "", t0.Add(time.Minute))

	if code, body := postEvent(t, srv, "", starting); code != http.StatusUnauthorized || !strings.Contains(body, EventsKeyHeader) {
		t.Fatalf("without the key: %d %s", code, body)
	}
	if code, _ := postEvent(t, srv, "wrong", starting); code != http.StatusUnauthorized {
		t.Fatalf("with a wrong key: %d", code)
	}
	for name, body := range map[string]string{
		"not JSON":     "{",
		"other source": `{"source":"aws.states","detail":{}}`,
		"no round":     `{"source":"cutover","detail":{"id":"x","type":"migration.live","tenantId":"acme","migrationId":"m","occurredAt":"2026-01-01T00:00:00Z"}}`,
	} {
		if code, resp := postRaw(t, srv, testEventsKey, []byte(body)); code != http.StatusBadRequest || !strings.Contains(resp, `"code":"invalid"`) {
			t.Errorf("%s: %d %s", name, code, resp)
		}
	}

	if code, body := postEvent(t, srv, testEventsKey, starting); code != http.StatusOK || !strings.Contains(body, `"duplicate":false`) {
		t.Fatalf("final.starting: %d %s", code, body)
	}
	if code, body := postEvent(t, srv, testEventsKey, starting); code != http.StatusOK || !strings.Contains(body, `"duplicate":true`) {
		t.Fatalf("final.starting again: %d %s", code, body)
	}
	evs, modes := listed(t, srv)
	if len(evs) != 1 || evs[0].Deliveries != 2 || len(modes) != 1 || !modes[0].On || modes[0].EventID != starting.ID {
		t.Fatalf("after final.starting twice: events %+v, maintenance %+v", evs, modes)
	}
	postEvent(t, srv, testEventsKey, live)
	later := starting
	later.ID = "m-1#final.starting#r1#late" // a distinct event that happened before live, arriving after it
	postEvent(t, srv, testEventsKey, later)
	evs, modes = listed(t, srv)
	if len(evs) != 3 || evs[1].Type != cutover.EventLive || len(modes) != 1 || modes[0].On || modes[0].EventID != live.ID {
		t.Fatalf("after live: events %+v, maintenance %+v", evs, modes)
	}
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "Maintenance mode") || !strings.Contains(string(page), "Migration Live") {
		t.Fatalf("the listing page does not show the events: %s", page)
	}
}
