package migration

import (
	"context"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

// ChunkStore keeps the final migration's chunks beside the migration. Every
// method may also fail with EUNAVAILABLE when storage is unreachable.
type ChunkStore interface {
	// PlanChunks creates each chunk unless it exists.
	PlanChunks(ctx context.Context, migrationID string, chunks []cutover.Chunk) error
	// GetChunk loads one chunk. Errors: ENOTFOUND.
	GetChunk(ctx context.Context, migrationID string, index int) (*cutover.Chunk, error)
	// SaveChunk stores a chunk. Errors: ECONFLICT when the stored one is done.
	SaveChunk(ctx context.Context, migrationID string, c *cutover.Chunk) error
	// ListChunks returns every chunk in index order, read consistently.
	ListChunks(ctx context.Context, migrationID string) ([]cutover.Chunk, error)
}

// Store keeps migrations, their audit trails and tenants' live locks.
type Store interface {
	// CreateMigration stores a new migration with its first audit event.
	// Errors: ECONFLICT if the id exists.
	CreateMigration(ctx context.Context, m *cutover.Migration, ev cutover.AuditEvent) error
	// GetMigration loads a migration. Errors: ENOTFOUND.
	GetMigration(ctx context.Context, id string) (*cutover.Migration, error)
	// ListMigrations returns migrations, newest first.
	ListMigrations(ctx context.Context, limit int) ([]*cutover.Migration, error)
	// SaveMigration writes m if the stored version is still m.Version,
	// bumping it, and appends events in the same transaction.
	// Errors: ECONFLICT when someone else saved first.
	SaveMigration(ctx context.Context, m *cutover.Migration, events ...cutover.AuditEvent) error
	// ListAudit returns a migration's audit trail, oldest first.
	ListAudit(ctx context.Context, id string) ([]cutover.AuditEvent, error)
	// GetTenantLock returns the tenant's live lock, or nil when there is none.
	GetTenantLock(ctx context.Context, tenantID string) (*cutover.TenantLock, error)
	// TakeTenantLock atomically takes the tenant's live lock unless another
	// migration holds it, and returns the holder (lock itself, or the other).
	TakeTenantLock(ctx context.Context, lock cutover.TenantLock) (*cutover.TenantLock, error)
}

// Flow drives the state machine.
type Flow interface {
	// Start starts an execution; starting one with a name already used is
	// not an error (the call is idempotent).
	Start(ctx context.Context, name string, input any) error
	// Resume completes a parked callback task with output.
	// Errors: EGONE when the task is no longer waiting.
	Resume(ctx context.Context, taskToken string, output any) error
}

// Executions reads the state machine's executions, for ops.
type Executions interface {
	// Execution returns an execution by name. Errors: ENOTFOUND;
	// EUNAVAILABLE when it cannot be read.
	Execution(ctx context.Context, name string) (*cutover.Execution, error)
}

// Mailer sends plain-text mail.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// Outbox keeps the mail the service owes, so a mail that could not be sent
// is retried and ops can see it.
type Outbox interface {
	// AddMail stores m unless a mail with its id exists, and returns the
	// stored mail (the existing one when there was one) and whether it
	// created it. Errors: EUNAVAILABLE.
	AddMail(ctx context.Context, m cutover.Mail) (cutover.Mail, bool, error)
	// UpdateMail saves m if the stored mail is still pending after
	// prevAttempts attempts: claiming an attempt this way keeps two senders
	// from sending the same mail. Errors: ECONFLICT when another sender
	// claimed or finished it first; EUNAVAILABLE.
	UpdateMail(ctx context.Context, m cutover.Mail, prevAttempts int) error
	// ListMail returns a migration's mail, oldest purpose first.
	// Errors: EUNAVAILABLE.
	ListMail(ctx context.Context, migrationID string) ([]cutover.Mail, error)
	// DueMail returns up to limit pending mails whose NextAt is not after
	// now, across migrations. Errors: EUNAVAILABLE.
	DueMail(ctx context.Context, now time.Time, limit int) ([]cutover.Mail, error)
}

// Uploads is the object store's multipart upload, with presigned parts so
// browsers send the bytes straight to storage.
type Uploads interface {
	// Begin starts a multipart upload and returns its id.
	Begin(ctx context.Context, key, contentType string) (string, error)
	// PresignParts returns a presigned PUT URL for each part number.
	// Errors: EINTERNAL when signing fails.
	PresignParts(ctx context.Context, key, uploadID string, numbers []int, ttl time.Duration) ([]string, error)
	// Complete assembles the parts and returns the object's size.
	// Errors: EINVALID when a part or ETag is wrong or missing.
	Complete(ctx context.Context, key, uploadID string, parts []Part) (int64, error)
	// Remove discards an upload: it aborts the multipart upload uploadID
	// when it is not "", and deletes the object key. Removing what is
	// already gone is not an error.
	// Errors: EUNAVAILABLE from storage.
	Remove(ctx context.Context, key, uploadID string) error
	// ListParts returns the parts storage holds for an unfinished upload,
	// by part number. Errors: EGONE when the upload no longer exists;
	// EUNAVAILABLE from storage.
	ListParts(ctx context.Context, key, uploadID string) ([]StoredPart, error)
}

// ExecutionStatuses reads the status of the migration state machine's
// executions, to notice the ones that died.
type ExecutionStatuses interface {
	// ExecutionStatus returns an execution's status: RUNNING, SUCCEEDED,
	// FAILED, TIMED_OUT, ABORTED or PENDING_REDRIVE.
	// Errors: ENOTFOUND when there is no such execution (it never started,
	// or its state machine was deleted); EUNAVAILABLE otherwise.
	ExecutionStatus(ctx context.Context, name string) (string, error)
}

// TestExpiry sets a migration's TEST records to expire (after Complete,
// a slice at a time).
type TestExpiry interface {
	// ExpireSegment sets a migration's TEST records of the entities whose
	// id begins with prefix (a slice of cutover.RecordIDPrefixes; "" is
	// every record of the migration) to be deleted the retention period
	// after from (its go-live); running it again changes nothing more.
	ExpireSegment(ctx context.Context, migrationID string, entities []string, prefix string, from time.Time) error
}

// TestRecords reads a migration's TEST records a page at a time, for the
// customer to browse (TestBrowser). The migration id names the only
// records it can read: no key after which a page starts can reach another
// migration's.
type TestRecords interface {
	// TestRecords returns at most limit records of the migration in key
	// order, starting after the key after ("" for the first), and the key
	// of the last one it read ("" when the migration's records end there).
	// Errors: EINVALID when after is not a key of the environment;
	// EUNAVAILABLE when storage cannot be read.
	TestRecords(ctx context.Context, migrationID, after string, limit int) (cutover.TestRecordPage, error)
}

// Announcer raises the lifecycle events a vendor's product hears
// (package lifecycle: an outbox in front of the event bus).
type Announcer interface {
	// Announce raises ev after the transition it tells of is stored. It
	// never fails the caller: an event that cannot be published now is
	// kept and published again by RetryDue.
	Announce(ctx context.Context, ev cutover.LifecycleEvent)
	// RetryDue publishes the kept events that are due again, and returns
	// how many it published. Errors: EUNAVAILABLE when they cannot be
	// listed.
	RetryDue(ctx context.Context) (int, error)
}

// EventLog lists the lifecycle events raised for a migration, with how
// their publishing went, for ops.
type EventLog interface {
	// ListEvents returns a migration's events, oldest first.
	// Errors: EUNAVAILABLE.
	ListEvents(ctx context.Context, migrationID string) ([]cutover.LifecycleEvent, error)
}
