package migration

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

// Retry is ops' retry of whatever a migration is stuck on: the failed
// chunks of a paused final migration (RetryFinal), or a migration that
// failed or whose execution died (RetryFailed).
//
// Errors: ECONFLICT when there is nothing to retry; ENOTFOUND;
// EUNAVAILABLE from storage or Step Functions.
func (s *Ops) Retry(ctx context.Context, id, actor string) (*cutover.Migration, error) {
	m, err := s.store.GetMigration(ctx, id)
	if err != nil {
		return nil, err
	}
	if m.Status == cutover.StatusFailed {
		return s.RetryFailed(ctx, m, actor)
	}
	return s.RetryFinal(ctx, m, actor)
}

// RetryFailed resumes a failed migration from the right step in a new
// execution (see resumePoint): before sign-off the round starts again at
// Map (TEST is reset and the workbook made again); after an approval the
// customer's final extract or the go-live time is waited for again,
// without a new sign-off; once the final migration began (the tenant's
// lock is this migration's) it resumes, planning again with its own lock
// and running only the chunks that are not done, with create-only LIVE
// writes, so LIVE is never written twice.
//
// Errors: ECONFLICT when the migration has not failed or has no round;
// EUNAVAILABLE from storage or Step Functions.
func (s *Ops) RetryFailed(ctx context.Context, m *cutover.Migration, actor string) (*cutover.Migration, error) {
	if m.Status != cutover.StatusFailed || m.Round == 0 {
		return nil, cutover.Errorf(cutover.ECONFLICT, "Migration %s has not failed in a round; it is %s.", m.ID, m.Status)
	}
	lock, err := s.store.GetTenantLock(ctx, m.TenantID)
	if err != nil {
		return nil, err
	}
	resumeAt, status := s.resumePoint(m, lock)
	name := fmt.Sprintf("%s-retry-%d", ExecutionName(m.ID, m.Round), s.Now().Unix())
	in := s.executionInput(m.ID, m.Round, name)
	in.ResumeAt = resumeAt
	if resumeAt == ResumeGoLive {
		in.Final = &ResumedFinal{GoLiveAt: m.GoLiveAt.UTC().Format(time.RFC3339), FileIDs: m.FinalFileIDs}
	}
	updated, err := s.Update(ctx, m.ID, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		if cur.Status != cutover.StatusFailed || cur.ExecutionName != m.ExecutionName {
			return nil, cutover.Errorf(cutover.ECONFLICT, "The migration changed to %s meanwhile; reload.", cur.Status)
		}
		reason := ""
		if cur.Failure != nil {
			reason = " after: " + cur.Failure.Reason
		}
		cur.Status, cur.Failure, cur.Pending, cur.ExecutionName = status, nil, nil, name
		action, detail := "round.retried", fmt.Sprintf("round %d started again%s", cur.Round, reason)
		if resumeAt != "" {
			action, detail = "migration.resumed", fmt.Sprintf("round %d resumed at %s%s", cur.Round, resumeAt, reason)
		}
		return []cutover.AuditEvent{s.Event(actor, action, detail)}, nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.flow.Start(ctx, name, in); err != nil {
		// Not started: put the migration back as it was, so ops can retry.
		if _, rerr := s.Update(ctx, m.ID, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
			if cur.Status != status || cur.ExecutionName != name {
				return nil, nil // it moved on
			}
			cur.Status, cur.Failure, cur.ExecutionName = cutover.StatusFailed, m.Failure, m.ExecutionName
			return []cutover.AuditEvent{s.Event(System, "round.retry_failed", cutover.ErrorMessage(err))}, nil
		}); rerr != nil {
			slog.WarnContext(ctx, "retry not undone", "migration", m.ID, "code", cutover.ErrorCode(rerr))
		}
		return nil, err
	}
	return updated, nil
}

// RetryFinal lets the final migration run its failed chunks again.
//
// Errors: ECONFLICT when no chunks wait for a retry; EUNAVAILABLE from
// Step Functions.
func (s *Ops) RetryFinal(ctx context.Context, m *cutover.Migration, actor string) (*cutover.Migration, error) {
	if m.Status != cutover.StatusFinalBlocked || m.Pending == nil || m.Pending.Kind != cutover.TaskChunks {
		return nil, cutover.Errorf(cutover.ECONFLICT, "Migration %s has no failed chunks waiting for a retry; it is %s.", m.ID, m.Status)
	}
	return s.HandOver(ctx, s.flow, m, map[string]any{"retry": true}, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		if cur.Status != cutover.StatusFinalBlocked {
			return nil, cutover.Errorf(cutover.ECONFLICT, "The migration changed to %s meanwhile; reload.", cur.Status)
		}
		cur.Status, cur.Failure, cur.Pending = cutover.StatusFinalMigrating, nil, nil
		return []cutover.AuditEvent{s.Event(actor, "final.retry", "failed chunks run again")}, nil
	})
}

// FinalChunks returns the final migration's chunks, for ops.
//
// Errors: EUNAVAILABLE from storage.
func (s *Ops) FinalChunks(ctx context.Context, id string) ([]cutover.Chunk, error) {
	chunks, err := s.chunks.ListChunks(ctx, id)
	if chunks == nil && err == nil {
		chunks = []cutover.Chunk{}
	}
	return chunks, err
}
