package cutover

import (
	"encoding/json"
	"fmt"
	"time"
)

// Lifecycle event types: what a vendor's product hears about a migration
// (issue 14, item 5). Each has its own EventBridge detail-type
// (LifecycleDetailType) and JSON Schema (internal/lifecycle/schemas).
const (
	EventTestCompleted    = "test.completed"    // a test round is in TEST and its workbook is ready
	EventSignOffRequested = "signoff.requested" // the coordinator was asked to sign a round off
	EventSignOffApproved  = "signoff.approved"
	EventSignOffRejected  = "signoff.rejected"
	EventFinalScheduled   = "final.scheduled" // the customer picked the go-live time
	EventFinalStarting    = "final.starting"  // the freeze: the final migration into LIVE begins
	EventLive             = "migration.live"
	EventFailed           = "migration.failed"
)

// LifecycleTypes lists every lifecycle event type, in the order a journey
// meets them.
var LifecycleTypes = []string{
	EventTestCompleted, EventSignOffRequested, EventSignOffApproved, EventSignOffRejected,
	EventFinalScheduled, EventFinalStarting, EventLive, EventFailed,
}

// LifecycleDetailType is the EventBridge detail-type of an event type, the
// name a vendor's rule matches on.
func LifecycleDetailType(typ string) string {
	switch typ {
	case EventTestCompleted:
		return "Test Migration Completed"
	case EventSignOffRequested:
		return "Sign-off Requested"
	case EventSignOffApproved:
		return "Sign-off Approved"
	case EventSignOffRejected:
		return "Sign-off Rejected"
	case EventFinalScheduled:
		return "Final Migration Scheduled"
	case EventFinalStarting:
		return "Final Migration Starting"
	case EventLive:
		return "Migration Live"
	case EventFailed:
		return "Migration Failed"
	}
	return ""
}

// LifecycleSource is the EventBridge source of every lifecycle event.
const LifecycleSource = "cutover"

// LifecycleEvent is one lifecycle event the service owes a vendor's
// product, kept beside its migration (like Mail) until EventBridge has it.
// It is a domain type because the application (which raises it), the store
// adapter (which keeps it) and the bus adapter (which publishes it) all
// speak of it.
//
// Its ID is derived from the migration, the type and the round (plus, where
// one round can raise the same type twice, what caused it), so a step that
// runs again raises the same event, and a receiver drops a redelivery by
// its id. Its fields carry no personal data: no names, no addresses, no
// comments, no failure text (which can quote a row).
type LifecycleEvent struct {
	ID          string    `dynamodbav:"id" json:"id"`
	Type        string    `dynamodbav:"type" json:"type"`
	TenantID    string    `dynamodbav:"tenantId" json:"tenantId"`
	MigrationID string    `dynamodbav:"migrationId" json:"migrationId"`
	Round       int       `dynamodbav:"round" json:"round"`
	OccurredAt  time.Time `dynamodbav:"occurredAt" json:"occurredAt"`
	// WorkbookURL is test.completed's link to the customer's workbook page
	// on the site (it opens with the customer's own invite link; it carries
	// no key).
	WorkbookURL string `dynamodbav:"workbookUrl,omitempty" json:"workbookUrl,omitempty"`
	// GoLiveAt is when the final migration runs (final.scheduled,
	// final.starting).
	GoLiveAt time.Time `dynamodbav:"goLiveAt,omitempty" json:"goLiveAt,omitzero"`
	// FailedStep is migration.failed's step: the status the migration was
	// in (test_migrating, final_migrating, ...).
	FailedStep string `dynamodbav:"failedStep,omitempty" json:"failedStep,omitempty"`

	// Delivery, as ops see it; never part of the published detail.
	Status      string    `dynamodbav:"status" json:"status"`
	Attempts    int       `dynamodbav:"attempts" json:"attempts"`
	LastError   string    `dynamodbav:"lastError,omitempty" json:"lastError,omitempty"`
	NextAt      time.Time `dynamodbav:"nextAt,omitempty" json:"nextAt,omitzero"`
	PublishedAt time.Time `dynamodbav:"publishedAt,omitempty" json:"publishedAt,omitzero"`
	BusEventID  string    `dynamodbav:"busEventId,omitempty" json:"busEventId,omitempty"`
	CreatedAt   time.Time `dynamodbav:"createdAt" json:"createdAt"`
}

// Lifecycle event delivery statuses.
const (
	EventPending   = "pending"   // not on the bus yet; the sweep tries again at NextAt
	EventPublished = "published" // EventBridge accepted it
	EventGivenUp   = "failed"    // given up after its attempts: ops see it
)

// LifecycleEventID is an event's deterministic id. cause tells apart
// events of one type in one round (a second failure, a re-scheduled
// go-live); "" when there is only ever one.
func LifecycleEventID(migrationID, typ string, round int, cause string) string {
	id := fmt.Sprintf("%s#%s#r%d", migrationID, typ, round)
	if cause != "" {
		id += "#" + cause
	}
	return id
}

// NewLifecycleEvent is the event typ of m's round, occurring at.
func NewLifecycleEvent(typ string, m *Migration, round int, cause string, at time.Time) LifecycleEvent {
	return LifecycleEvent{
		ID: LifecycleEventID(m.ID, typ, round, cause), Type: typ, TenantID: m.TenantID, MigrationID: m.ID,
		Round: round, OccurredAt: at.UTC(),
	}
}

// lifecycleDetail is the published detail: the event without its delivery
// state. Its shape is the JSON Schema of internal/lifecycle/schemas.
type lifecycleDetail struct {
	ID          string    `json:"id"`
	Type        string    `json:"type"`
	TenantID    string    `json:"tenantId"`
	MigrationID string    `json:"migrationId"`
	Round       int       `json:"round"`
	OccurredAt  time.Time `json:"occurredAt"`
	WorkbookURL string    `json:"workbookUrl,omitempty"`
	GoLiveAt    time.Time `json:"goLiveAt,omitzero"`
	FailedStep  string    `json:"failedStep,omitempty"`
}

// Detail is the event's EventBridge detail: JSON of its id, type, tenant,
// migration, round, time and its own fields, never its delivery state.
func (e LifecycleEvent) Detail() []byte {
	b, _ := json.Marshal(lifecycleDetail{ // a struct of strings, an int and times always encodes
		ID: e.ID, Type: e.Type, TenantID: e.TenantID, MigrationID: e.MigrationID, Round: e.Round,
		OccurredAt: e.OccurredAt.UTC(), WorkbookURL: e.WorkbookURL, GoLiveAt: e.GoLiveAt.UTC(), FailedStep: e.FailedStep,
	})
	return b
}
