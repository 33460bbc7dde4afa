// Package migration is the application service: it creates migrations,
// authorises customers, plans uploads, submits rounds and the final
// extract, and carries out the state machine's steps. It talks to storage,
// S3, Step Functions and mail only through the narrow interfaces below, and
// has no AWS types.
package migration

import (
	"context"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/tabular"
)

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

// Files reads uploaded extracts and stores generated artifacts.
type Files interface {
	cutover.Opener
	cutover.Putter
	RangeOpener
}

// TestEnv is the disposable TEST environment.
type TestEnv interface {
	// Reset deletes every TEST record of a migration.
	Reset(ctx context.Context, migrationID string) error
	// Writer returns the sink for a migration's TEST records. Each record
	// written expires after the deployment's retention period.
	Writer(migrationID string) cutover.Sink
	// Expire sets every TEST record of a migration to be deleted the
	// retention period after from (its go-live); running it again changes
	// nothing more.
	Expire(ctx context.Context, migrationID string, from time.Time) error
}

// LiveEnv is the LIVE environment: records can be created, never
// overwritten or deleted.
type LiveEnv interface {
	// Writer returns the sink for a tenant's LIVE records; writing a record
	// that exists leaves it as it is.
	Writer(tenantID, migrationID string) cutover.Sink
}

// Service is the migration application service. Fields that an operation
// does not use may be nil.
type Service struct {
	Store     Store
	Uploads   Uploads
	Flow      Flow
	Mailer    Mailer
	Outbox    Outbox // keeps mail until it is sent; nil sends without retries
	Files     Files
	Downloads Downloads
	Test      TestEnv
	Live      LiveEnv
	Chunks    ChunkStore
	Runs      Executions
	Watch     ExecutionStatuses // what Reconcile reads
	SiteURL   string
	OpsEmail  string // where ops hear of final migrations waiting for them
	Now       func() time.Time

	// SignOffTimeoutSeconds is how long a sign-off request waits for a
	// decision; it travels in the execution's input to RequestSignOff.
	SignOffTimeoutSeconds int
	// SignOffReminderSeconds is how often the coordinator is reminded.
	SignOffReminderSeconds int
	// ChunkBytes is how much of a final file one chunk reads; 0 means
	// DefaultChunkBytes.
	ChunkBytes int64
	// Thresholds are how far a final extract may differ from the signed-off
	// test migration before its pre-flight holds go-live; nil means
	// cutover.DefaultThresholds.
	Thresholds *cutover.Thresholds
	// ReadLimits bound what reading one uploaded XLSX workbook may cost
	// in this Lambda (tabular.XLSXLimitsForMemory of its memory); the
	// zero value takes tabular's defaults, which suit a laptop.
	ReadLimits tabular.XLSXLimits
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// update loads a migration, applies fn and saves it with fn's audit events,
// retrying when a concurrent save wins.
func (s *Service) update(ctx context.Context, id string, fn func(m *cutover.Migration) ([]cutover.AuditEvent, error)) (*cutover.Migration, error) {
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		m, err := s.Store.GetMigration(ctx, id)
		if err != nil {
			return nil, err
		}
		events, err := fn(m)
		if err != nil {
			return nil, err
		}
		m.UpdatedAt = s.now()
		err = s.Store.SaveMigration(ctx, m, events...)
		if err == nil {
			m.Version++
			return m, nil
		}
		if cutover.ErrorCode(err) != cutover.ECONFLICT {
			return nil, err
		}
		lastErr = err
	}
	return nil, cutover.Wrap(cutover.EUNAVAILABLE, lastErr, "The migration is busy; try again.")
}

func (s *Service) event(actor, action, detail string) cutover.AuditEvent {
	return cutover.AuditEvent{At: s.now(), Actor: actor, Action: action, Detail: detail}
}

// Authorize returns the migration a customer key opens.
//
// Errors: EUNAUTHORIZED when no key is given; ENOTFOUND when the migration
// does not exist; EFORBIDDEN when the key is not this migration's.
func (s *Service) Authorize(ctx context.Context, id, key string) (*cutover.Migration, error) {
	if key == "" {
		return nil, cutover.Errorf(cutover.EUNAUTHORIZED, "This request needs the key from your invite link.")
	}
	m, err := s.Store.GetMigration(ctx, id)
	if err != nil {
		return nil, err
	}
	if !cutover.SecretMatches(key, m.KeyHash) {
		return nil, cutover.Errorf(cutover.EFORBIDDEN, "This key does not open this migration.")
	}
	return m, nil
}

// Audit returns a migration's audit trail.
//
// Errors: whatever the Store returns.
func (s *Service) Audit(ctx context.Context, id string) ([]cutover.AuditEvent, error) {
	return s.Store.ListAudit(ctx, id)
}

// List returns the newest migrations for ops.
//
// Errors: whatever the Store returns.
func (s *Service) List(ctx context.Context) ([]*cutover.Migration, error) {
	return s.Store.ListMigrations(ctx, 200)
}

// Execution returns the state machine execution of a migration's latest
// round, or nil before there is one.
//
// Errors: EUNAVAILABLE when it cannot be read.
func (s *Service) Execution(ctx context.Context, m *cutover.Migration) (*cutover.Execution, error) {
	if s.Runs == nil || m.ExecutionName == "" {
		return nil, nil
	}
	ex, err := s.Runs.Execution(ctx, m.ExecutionName)
	if cutover.ErrorCode(err) == cutover.ENOTFOUND {
		return nil, nil
	}
	return ex, err
}

// Get returns one migration for ops.
//
// Errors: ENOTFOUND.
func (s *Service) Get(ctx context.Context, id string) (*cutover.Migration, error) {
	return s.Store.GetMigration(ctx, id)
}
