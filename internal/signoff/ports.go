package signoff

import (
	"context"
	"io"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

// Store keeps sign-off requests.
type Store interface {
	// PutRequest stores a new request. Errors: ECONFLICT if the hash exists.
	PutRequest(ctx context.Context, r Request) error
	// GetRequest loads a request. Errors: ENOTFOUND.
	GetRequest(ctx context.Context, linkHash string) (*Request, error)
	// Decide records the decision only if the request is still pending.
	// Errors: ECONFLICT when it is not (someone decided first).
	Decide(ctx context.Context, linkHash, state, by, comment string, at time.Time) error
	// MarkDelivered notes that the state machine has the decision.
	MarkDelivered(ctx context.Context, linkHash string) error
}

// Migrations is the part of the migration store sign-off needs.
type Migrations interface {
	GetMigration(ctx context.Context, id string) (*cutover.Migration, error)
	SaveMigration(ctx context.Context, m *cutover.Migration, events ...cutover.AuditEvent) error
}

// Resumer completes the parked sign-off task.
type Resumer interface {
	Resume(ctx context.Context, taskToken string, output any) error
}

// Mailer sends plain-text mail.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// Artifacts reads the stored artifacts a coordinator reviews: the round's
// workbook and a held go-live's pre-flight report.
type Artifacts interface {
	// Open streams the artifact stored at key.
	// Errors: ENOTFOUND when it is missing; EUNAVAILABLE when storage
	// cannot be read.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

// Downloads makes short-lived download links to stored artifacts, the
// same kind of link the customer gets for their rejects files.
type Downloads interface {
	// PresignGet returns a link to key that works for ttl.
	// Errors: EINTERNAL when signing fails.
	PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error)
}

// Announcer raises the lifecycle events a vendor's product hears (package
// lifecycle: an outbox in front of the event bus).
type Announcer interface {
	// Announce raises ev after the transition it tells of is stored; it
	// never fails the caller.
	Announce(ctx context.Context, ev cutover.LifecycleEvent)
}
