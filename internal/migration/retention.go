package migration

import (
	"context"
	"log/slog"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/schema"
)

// After Complete, the state machine gives the TEST records their go-live
// expiry a slice at a time (cutover.RecordIDPrefixes), one step each
// (ExpireTest), so no step's time grows with the test extract: at 400,000
// records one step expiring them all ran out of time (2026-12-03).

// The Complete function's actions beside the step itself ("").
const (
	CompleteExpire         = "expire"          // give one slice of the TEST records its go-live expiry
	CompleteExpireDeferred = "expire-deferred" // the state machine caught a slice's failure
)

// CompleteStep is the Complete function's input: the step itself (no
// action), one slice of the TEST expiry (expire, Prefix the slice), or a
// slice the state machine gave up on (expire-deferred, Error what it
// caught).
type CompleteStep struct {
	Action      string     `json:"action,omitempty"`
	MigrationID string     `json:"migrationId"`
	Round       int        `json:"round"`
	Prefix      string     `json:"prefix,omitempty"`
	Error       *StepError `json:"error,omitempty"`
}

// ID returns the migration id, for logs and failure records.
func (in CompleteStep) ID() string { return in.MigrationID }

// RecordsItsOwnFailure implements lambdastep.SelfRecording: the migration
// is live whatever happens to its TEST records' expiry, so an expiry
// step's failure is never recorded as the migration's; the state machine
// hands it to expire-deferred, which puts it in the audit trail.
func (in CompleteStep) RecordsItsOwnFailure() bool { return in.Action != "" }

// CompleteOutput is what Complete returns to the state machine: the slices
// of the TEST records to expire, a step each.
type CompleteOutput struct {
	Expire []string `json:"expire"`
}

// Run runs one action of the Complete function.
//
// Errors: EINVALID for an unknown action; as the action otherwise.
func (s *Completion) Run(ctx context.Context, in CompleteStep) (*CompleteOutput, error) {
	switch in.Action {
	case "":
		return s.Complete(ctx, StepInput{MigrationID: in.MigrationID, Round: in.Round})
	case CompleteExpire:
		return &CompleteOutput{Expire: []string{}}, s.ExpireTest(ctx, in)
	case CompleteExpireDeferred:
		s.expiryDeferred(ctx, in)
		return &CompleteOutput{Expire: []string{}}, nil
	}
	return nil, cutover.Errorf(cutover.EINVALID, "Unknown Complete action %q.", in.Action)
}

// testRecords is about how many TEST records a migration's last test round
// wrote: at most a record per row read, and the records derived from
// people named inline.
func testRecords(m *cutover.Migration) int {
	if m.Test == nil {
		return 0
	}
	return m.Test.Read + m.Test.Derived
}

// ExpireTest sets one slice of a live migration's TEST records (those
// whose id begins with in.Prefix) to expire the retention period after its
// go-live. Running it again sets the same expiry.
//
// Errors: ECONFLICT when the migration is not live; ENOTFOUND for an
// unknown migration; EUNAVAILABLE from storage.
func (s *Completion) ExpireTest(ctx context.Context, in CompleteStep) error {
	m, err := s.store.GetMigration(ctx, in.MigrationID)
	if err != nil {
		return err
	}
	if m.Status != cutover.StatusLive || m.WentLiveAt.IsZero() {
		return cutover.Errorf(cutover.ECONFLICT, "The TEST records are given their go-live expiry only once the migration is live, not while it is %s.", m.Status)
	}
	return s.test.ExpireSegment(ctx, m.ID, schema.Default().EntityNames(), in.Prefix, m.WentLiveAt)
}

// expiryDeferred records a slice the state machine could not expire. It
// is best effort on purpose: the migration is live whatever happens here,
// and a record it cannot reach still expires the retention period after
// its test round wrote it (sooner, not later). A failure is logged and
// recorded in the audit trail.
func (s *Completion) expiryDeferred(ctx context.Context, in CompleteStep) {
	cause := ""
	if in.Error != nil {
		cause = in.Error.Error
	}
	slog.ErrorContext(ctx, "TEST records not given their go-live expiry", "migration", in.MigrationID, "slice", in.Prefix, "error", cause)
	detail := "the TEST records could not be given their go-live expiry; they expire the retention period after their test round wrote them"
	if in.Prefix != "" {
		detail = "the TEST records whose ids begin " + in.Prefix + " could not be given their go-live expiry; they expire the retention period after their test round wrote them"
	}
	_, aerr := s.Update(ctx, in.MigrationID, func(*cutover.Migration) ([]cutover.AuditEvent, error) {
		return []cutover.AuditEvent{s.Event(System, "retention.deferred", detail)}, nil
	})
	if aerr != nil {
		slog.ErrorContext(ctx, "retention.deferred not recorded", "migration", in.MigrationID, "code", cutover.ErrorCode(aerr))
	}
}
