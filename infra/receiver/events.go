package receiver

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

// The lifecycle events endpoint: cutover's EventBridge rule delivers every
// lifecycle event here through an API destination, with the connection's
// API key in EventsKeyHeader. The receiver keeps each event once (by the
// id in its detail: EventBridge may deliver one twice) and models the
// AccessAlly flow: the product goes into maintenance mode at
// "final.starting" (the freeze) and out of it at "migration.live" (cutover
// has no separate post-live check by the customer, so live is the signal;
// a failed final leaves maintenance on, since the final migration is
// resumed, not abandoned). Maintenance follows the event that happened
// last (occurredAt), so an event delivered late cannot turn it back.

// EventsKeyHeader is the header the connection's API key arrives in (the
// template's ApiKeyName).
const EventsKeyHeader = "X-Cutover-Events-Key"

// maxEventBytes bounds one event: EventBridge's own limit is 256 KiB.
const maxEventBytes = 256 << 10

// eventsSchema keeps the events and each tenant's maintenance mode. seq is
// the order events arrived in; deliveries counts redeliveries of one id.
const eventsSchema = `
CREATE TABLE IF NOT EXISTS events (
	seq          INTEGER PRIMARY KEY AUTOINCREMENT,
	event_id     TEXT NOT NULL UNIQUE,
	type         TEXT NOT NULL,
	detail_type  TEXT NOT NULL,
	tenant_id    TEXT NOT NULL,
	migration_id TEXT NOT NULL,
	round        INTEGER NOT NULL,
	occurred_at  TEXT NOT NULL,
	detail       TEXT NOT NULL,
	deliveries   INTEGER NOT NULL DEFAULT 1,
	received_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE IF NOT EXISTS maintenance (
	tenant_id    TEXT PRIMARY KEY,
	on_          INTEGER NOT NULL,
	migration_id TEXT NOT NULL,
	event_id     TEXT NOT NULL,
	occurred_at  TEXT NOT NULL
);`

// Event is a lifecycle event as the receiver keeps it.
type Event struct {
	ID          string          `json:"id"`
	Type        string          `json:"type"`
	DetailType  string          `json:"detailType"`
	TenantID    string          `json:"tenantId"`
	MigrationID string          `json:"migrationId"`
	Round       int             `json:"round"`
	OccurredAt  string          `json:"occurredAt"`
	Detail      json.RawMessage `json:"detail"`
	Deliveries  int             `json:"deliveries"`
	ReceivedAt  string          `json:"receivedAt"`
}

// Maintenance is a tenant's maintenance mode and the event that set it.
type Maintenance struct {
	TenantID    string `json:"tenantId"`
	On          bool   `json:"on"`
	MigrationID string `json:"migrationId"`
	EventID     string `json:"eventId"`
	OccurredAt  string `json:"occurredAt"`
}

// envelope is what EventBridge POSTs: the event with its detail.
type envelope struct {
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Detail     json.RawMessage `json:"detail"`
}

// eventDetail is the part of the detail the receiver reads.
type eventDetail struct {
	ID          string    `json:"id"`
	Type        string    `json:"type"`
	TenantID    string    `json:"tenantId"`
	MigrationID string    `json:"migrationId"`
	Round       *int      `json:"round"`
	OccurredAt  time.Time `json:"occurredAt"`
}

// event answers POST /events: it checks the API key, reads the event and
// keeps it once.
func (h *Handler) event(w http.ResponseWriter, r *http.Request) {
	got := r.Header.Get(EventsKeyHeader)
	if h.opts.EventsKey == "" || subtle.ConstantTimeCompare([]byte(got), []byte(h.opts.EventsKey)) != 1 {
		writeError(w, http.StatusUnauthorized, codeUnsigned, "The request lacks the events API key in "+EventsKeyHeader+".")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEventBytes))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, codeTooLarge, "An event is at most 256 KiB.")
		return
	}
	var env envelope
	var d eventDetail
	if err := json.Unmarshal(body, &env); err != nil || env.Source != cutover.LifecycleSource || len(env.Detail) == 0 {
		writeError(w, http.StatusBadRequest, codeInvalid, `The body is not an EventBridge event from source "cutover".`)
		return
	}
	if err := json.Unmarshal(env.Detail, &d); err != nil || d.ID == "" || d.Type == "" || d.TenantID == "" || d.MigrationID == "" || d.Round == nil || d.OccurredAt.IsZero() {
		writeError(w, http.StatusBadRequest, codeInvalid, "The event's detail needs id, type, tenantId, migrationId, round and occurredAt.")
		return
	}
	dup, err := h.store.keepEvent(r.Context(), env, d)
	if err != nil {
		h.opts.Logger.Error("keep event", "err", err.Error())
		writeError(w, http.StatusInternalServerError, codeInternal, "The event could not be stored; send it again.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": d.ID, "duplicate": dup})
}

// listEvents answers GET /events?tenant=&migration= with the events kept,
// in the order they arrived, and the tenants' maintenance modes.
func (h *Handler) listEvents(w http.ResponseWriter, r *http.Request) {
	evs, modes, err := h.store.events(r.Context(), r.URL.Query().Get("tenant"), r.URL.Query().Get("migration"))
	if err != nil {
		h.opts.Logger.Error("list events", "err", err.Error())
		writeError(w, http.StatusInternalServerError, codeInternal, "The events could not be listed.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": evs, "maintenance": modes})
}

// keepEvent stores an event unless its id is kept (then it counts the
// redelivery and reports it), and moves the tenant's maintenance mode.
func (s *Store) keepEvent(ctx context.Context, env envelope, d eventDetail) (dup bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	at := d.OccurredAt.UTC().Format(time.RFC3339Nano)
	_, err = tx.ExecContext(ctx, `INSERT INTO events (event_id, type, detail_type, tenant_id, migration_id, round, occurred_at, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO UPDATE SET deliveries = deliveries + 1`,
		d.ID, d.Type, env.DetailType, d.TenantID, d.MigrationID, *d.Round, at, string(env.Detail))
	if err != nil {
		return false, fmt.Errorf("receiver: keep event: %w", err)
	}
	var deliveries int
	if err := tx.QueryRowContext(ctx, `SELECT deliveries FROM events WHERE event_id = ?`, d.ID).Scan(&deliveries); err != nil {
		return false, fmt.Errorf("receiver: keep event: %w", err)
	}
	if deliveries == 1 {
		if on, moves := maintenanceFor(d.Type); moves {
			// Only an event newer than the one that last moved it.
			if _, err := tx.ExecContext(ctx, `INSERT INTO maintenance (tenant_id, on_, migration_id, event_id, occurred_at) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (tenant_id) DO UPDATE SET on_ = excluded.on_, migration_id = excluded.migration_id, event_id = excluded.event_id, occurred_at = excluded.occurred_at
				WHERE excluded.occurred_at > maintenance.occurred_at`, d.TenantID, on, d.MigrationID, d.ID, at); err != nil {
				return false, fmt.Errorf("receiver: maintenance: %w", err)
			}
		}
	}
	return deliveries > 1, tx.Commit()
}

// maintenanceFor says how an event type moves maintenance mode.
func maintenanceFor(typ string) (on, moves bool) {
	switch typ {
	case cutover.EventFinalStarting:
		return true, true
	case cutover.EventLive:
		return false, true
	}
	return false, false
}

// events lists kept events in arrival order (optionally one tenant's or
// one migration's) and every tenant's maintenance mode.
func (s *Store) events(ctx context.Context, tenant, migration string) ([]Event, []Maintenance, error) {
	var where []string
	var args []any
	if tenant != "" {
		where, args = append(where, "tenant_id = ?"), append(args, tenant)
	}
	if migration != "" {
		where, args = append(where, "migration_id = ?"), append(args, migration)
	}
	q := `SELECT event_id, type, detail_type, tenant_id, migration_id, round, occurred_at, detail, deliveries, received_at FROM events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.db.QueryContext(ctx, q+" ORDER BY seq", args...)
	if err != nil {
		return nil, nil, fmt.Errorf("receiver: list events: %w", err)
	}
	defer rows.Close()
	evs := []Event{}
	for rows.Next() {
		var e Event
		var detail string
		if err := rows.Scan(&e.ID, &e.Type, &e.DetailType, &e.TenantID, &e.MigrationID, &e.Round, &e.OccurredAt, &detail, &e.Deliveries, &e.ReceivedAt); err != nil {
			return nil, nil, fmt.Errorf("receiver: list events: %w", err)
		}
		e.Detail = json.RawMessage(detail)
		evs = append(evs, e)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("receiver: list events: %w", err)
	}
	modes, err := s.maintenance(ctx, tenant)
	return evs, modes, err
}

// maintenance returns the tenants' maintenance modes (one tenant's when
// tenant is set).
func (s *Store) maintenance(ctx context.Context, tenant string) ([]Maintenance, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT tenant_id, on_, migration_id, event_id, occurred_at FROM maintenance WHERE ? = '' OR tenant_id = ? ORDER BY tenant_id`, tenant, tenant)
	if err != nil {
		return nil, fmt.Errorf("receiver: maintenance: %w", err)
	}
	defer rows.Close()
	modes := []Maintenance{}
	for rows.Next() {
		var m Maintenance
		if err := rows.Scan(&m.TenantID, &m.On, &m.MigrationID, &m.EventID, &m.OccurredAt); err != nil {
			return nil, fmt.Errorf("receiver: maintenance: %w", err)
		}
		modes = append(modes, m)
	}
	if err := rows.Err(); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("receiver: maintenance: %w", err)
	}
	return modes, nil
}

// eventsSection is the listing page's part about lifecycle events: each
// tenant's maintenance mode and the latest events.
const eventsSection = `{{define "events"}}<h2>Maintenance mode (lifecycle events)</h2>
{{if .Maintenance}}<table><tr><th>tenant</th><th>maintenance</th><th>migration</th><th>since (event)</th></tr>
{{range .Maintenance}}<tr><td>{{.TenantID}}</td><td>{{if .On}}<strong>ON</strong>: the final migration is running{{else}}off{{end}}</td><td>{{.MigrationID}}</td><td>{{.OccurredAt}} ({{.EventID}})</td></tr>
{{end}}</table>{{else}}<p>No tenant has been put into maintenance.</p>{{end}}
<h2>Lifecycle events</h2>
{{if .Events}}<table><tr><th>received</th><th>event</th><th>tenant</th><th>migration</th><th>round</th><th>occurred</th><th>deliveries</th></tr>
{{range .Events}}<tr><td>{{.ReceivedAt}}</td><td>{{.DetailType}} <code>{{.Type}}</code></td><td>{{.TenantID}}</td><td>{{.MigrationID}}</td><td>{{.Round}}</td><td>{{.OccurredAt}}</td><td>{{.Deliveries}}</td></tr>
{{end}}</table>{{else}}<p>No lifecycle event has arrived.</p>{{end}}
<p>As JSON: <a href="/events">/events</a> (?tenant=, migration=).</p>{{end}}`

// The section is part of the page's template set, so the page can name it.
var _ = template.Must(pageTemplate.New("events").Parse(eventsSection))
