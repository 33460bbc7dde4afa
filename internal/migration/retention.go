package migration

import (
	"context"
	"log/slog"

	"github.com/cutover/cutover/internal/cutover"
)

// expireTest sets a live migration's TEST records to expire the retention
// period after its go-live. It is best effort on purpose: the migration is
// live whatever happens here, and a record it cannot reach still expires
// the retention period after its test round wrote it (sooner, not later).
// A failure is logged and recorded in the audit trail.
func (s *Completion) expireTest(ctx context.Context, m *cutover.Migration) {
	err := s.test.Expire(ctx, m.ID, m.WentLiveAt)
	if err == nil {
		return
	}
	slog.ErrorContext(ctx, "TEST records not given their go-live expiry", "migration", m.ID, "code", cutover.ErrorCode(err))
	_, aerr := s.Update(ctx, m.ID, func(*cutover.Migration) ([]cutover.AuditEvent, error) {
		return []cutover.AuditEvent{s.Event(System, "retention.deferred",
			"the TEST records could not be given their go-live expiry; they expire the retention period after their test round wrote them")}, nil
	})
	if aerr != nil {
		slog.ErrorContext(ctx, "retention.deferred not recorded", "migration", m.ID, "code", cutover.ErrorCode(aerr))
	}
}
