package migration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/cutover/cutover/internal/cutover"
)

// BeginStep moves the migration into a step's status for a round; a
// retried step finds it there and goes on.
//
// Errors: ECONFLICT when the migration is in none of the allowed statuses;
// the Store's.
func (s *Core) BeginStep(ctx context.Context, in StepInput, status cutover.Status, allowed ...cutover.Status) (*cutover.Migration, error) {
	return s.Update(ctx, in.MigrationID, func(m *cutover.Migration) ([]cutover.AuditEvent, error) {
		if m.Status == status && m.Round == in.Round {
			return nil, nil // a retried step
		}
		ok := false
		for _, a := range allowed {
			ok = ok || m.Status == a
		}
		if !ok {
			return nil, cutover.Errorf(cutover.ECONFLICT, "Step %s cannot run while the migration is %s.", status, m.Status)
		}
		m.Status, m.Round, m.Failure, m.Pending = status, in.Round, nil, nil
		return []cutover.AuditEvent{s.Event(System, "step."+string(status), fmt.Sprintf("round %d", in.Round))}, nil
	})
}

// CountsDetail is a round's counts in words, for the audit trail.
func CountsDetail(c cutover.Counts) string {
	return fmt.Sprintf("read %d, migrated %d, merged %d, rejected %d, skipped %d", c.Read, c.Migrated, c.Merged, c.Rejected, c.Skipped)
}

// ParkInput is a callback step's input.
type ParkInput struct {
	StepInput
	Kind      string `json:"kind"`
	TaskToken string `json:"taskToken"`
}

// Park keeps a callback task's token until the customer acts: a revision
// after a rejection, or the final extract after approval.
//
// Errors: EINVALID for an unknown kind or a missing token; ECONFLICT when
// the migration is in no state to wait for that.
func (s *Steps) Park(ctx context.Context, in ParkInput) error {
	if in.TaskToken == "" {
		return cutover.Errorf(cutover.EINVALID, "The callback step has no task token.")
	}
	status := map[string]cutover.Status{
		cutover.TaskReview:   cutover.StatusAwaitingReview,
		cutover.TaskExpired:  cutover.StatusSignOffExpired,
		cutover.TaskRevision: cutover.StatusAwaitingRevision,
		cutover.TaskFinal:    cutover.StatusAwaitingFinal,
		cutover.TaskChunks:   cutover.StatusFinalBlocked,
	}[in.Kind]
	if in.Kind == cutover.TaskReapproval {
		status = cutover.StatusFinalHeld // a go-live its pre-flight held waits for the coordinator's re-approval
	}
	if status == "" {
		return cutover.Errorf(cutover.EINVALID, "Unknown callback kind %q.", in.Kind)
	}
	m, err := s.Update(ctx, in.MigrationID, func(m *cutover.Migration) ([]cutover.AuditEvent, error) {
		if Terminal(m.Status) {
			return nil, cutover.Errorf(cutover.ECONFLICT, "The migration is %s; it waits for nothing.", m.Status)
		}
		m.Status, m.Pending = status, &cutover.PendingTask{Kind: in.Kind, Token: in.TaskToken, Round: in.Round}
		detail := fmt.Sprintf("round %d", in.Round)
		switch in.Kind {
		case cutover.TaskReview:
			m.Review = nil // a new workbook: nothing of it is reviewed yet
		case cutover.TaskExpired:
			m.CurrentLink = "" // the unanswered link is dead
			detail += ": the coordinator did not decide in time; request sign-off again"
		}
		return []cutover.AuditEvent{s.Event(System, "await."+in.Kind, detail)}, nil
	})
	if err != nil {
		return err
	}
	if mail, ok := s.parkNotice(m, in); ok {
		s.Notify(ctx, mail)
	}
	return nil
}

// Complete marks the migration live and locked, tells the people involved,
// and returns the slices of its TEST records the state machine then gives
// their go-live expiry, a step each (ExpireTest); run again on a live
// migration (its step retried after a time-out) it tells them again, which
// sends no mail twice, and returns the slices again.
//
// Errors: ECONFLICT when the final migration has not run.
func (s *Completion) Complete(ctx context.Context, in StepInput) (*CompleteOutput, error) {
	m, err := s.Update(ctx, in.MigrationID, func(m *cutover.Migration) ([]cutover.AuditEvent, error) {
		if m.Status == cutover.StatusLive {
			return nil, errNothingToDo // already live: told once
		}
		if m.Status != cutover.StatusFinalMigrating || m.Final == nil {
			return nil, cutover.Errorf(cutover.ECONFLICT, "The migration cannot go live from %s.", m.Status)
		}
		m.Status, m.WentLiveAt = cutover.StatusLive, s.Now()
		return []cutover.AuditEvent{s.Event(System, "migration.live", CountsDetail(*m.Final))}, nil
	})
	if errors.Is(err, errNothingToDo) {
		// Already live: a step that ran again after a crash raises the
		// event again (its id is the same: published at most once by us,
		// dropped by the receiver if it came twice), queues the mails again
		// and names the TEST slices to expire again: the run before may
		// have died before them (mails have fixed ids and are sent once; an
		// expiry changes nothing more the second time).
		m, err = s.store.GetMigration(ctx, in.MigrationID)
		if err != nil || m.Final == nil {
			return &CompleteOutput{Expire: []string{}}, nil
		}
	} else if err != nil {
		return nil, err
	}
	s.Announce(ctx, s.LifecycleEvent(cutover.EventLive, m, ""))
	body := fmt.Sprintf("Migration %s for %s is live: %s.\n", m.ID, m.CustomerName, CountsDetail(*m.Final))
	s.Notify(ctx, cutover.Mail{
		ID: MailID(m.ID, PurposeLive, m.Round, ""), MigrationID: m.ID, Purpose: PurposeLive, Round: m.Round,
		To: m.CustomerEmail, Subject: "Your migration is live", Body: body + "\nThe final report is on your migration page.\n" + s.wayBack(m),
	})
	s.Notify(ctx, cutover.Mail{
		ID: MailID(m.ID, PurposeLiveCoordinator, m.Round, ""), MigrationID: m.ID, Purpose: PurposeLiveCoordinator, Round: m.Round,
		To: m.CoordinatorEmail, Subject: "Your migration is live", Body: body,
	})
	return &CompleteOutput{Expire: cutover.RecordIDPrefixes(testRecords(m))}, nil
}

// StepError is what the state machine caught: its error name and cause.
type StepError struct {
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}

// FailInput is MarkFailed's input.
type FailInput struct {
	StepInput
	Error StepError `json:"error"`
	// ExecutionName is the failing execution's name, from its input.
	ExecutionName string `json:"executionName"`
}

// MarkFailed records why the migration failed, and tells the customer what
// happens next (ops hear of it from the failed-executions alarm). The reason is the failing
// step's own client-safe message when it recorded one, else the caught
// error's message when it has our shape, else the error's name.
//
// Only the execution the migration names can fail it, and never once it is
// live: a stray execution (one started by hand, or an earlier round's)
// fails on its own and leaves the migration as it is.
//
// Errors: ENOTFOUND; whatever the Store returns.
func (s *Steps) MarkFailed(ctx context.Context, in FailInput) error {
	m, err := s.Update(ctx, in.MigrationID, func(m *cutover.Migration) ([]cutover.AuditEvent, error) {
		if Terminal(m.Status) || in.ExecutionName != m.ExecutionName {
			return nil, errNothingToDo
		}
		f := &cutover.Failure{Step: string(m.Status), Reason: cutover.Clip(FailureReason(in.Error), cutover.MaxFailureBytes), At: s.Now()}
		if m.Failure != nil && m.Failure.Reason != "" {
			f = m.Failure // the step's own account is the clearest
		}
		m.Status, m.Failure, m.Pending = cutover.StatusFailed, f, nil
		return []cutover.AuditEvent{s.Event(System, "migration.failed", f.Step+": "+f.Reason)}, nil
	})
	if errors.Is(err, errNothingToDo) {
		slog.WarnContext(ctx, "failure of an execution the migration does not follow ignored", "migration", in.MigrationID, "execution", in.ExecutionName)
		return nil
	}
	if err != nil {
		return err
	}
	s.Announce(ctx, s.failedEvent(m))
	s.Notify(ctx, s.failedNotice(m))
	return nil
}

// FailureReason is what the customer reads about a step the state machine
// caught failing: the step's own message when the cause has our error
// shape (errorMessage), else the error's name with where ops look.
func FailureReason(e StepError) string {
	var payload struct {
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal([]byte(e.Cause), &payload) == nil && payload.ErrorMessage != "" {
		return payload.ErrorMessage
	}
	if e.Error == "" {
		return "A step failed."
	}
	return "A step failed (" + e.Error + "); ops can see the execution for details."
}

// RecordStepFailure keeps a failing step's client-safe message on the
// migration, so MarkFailed can report it even where the caught error has no
// message. It is best effort: it returns nothing and logs what it could not do.
func (s *Core) RecordStepFailure(ctx context.Context, migrationID string, step, message string) {
	_, err := s.Update(ctx, migrationID, func(m *cutover.Migration) ([]cutover.AuditEvent, error) {
		if Terminal(m.Status) {
			return nil, errNothingToDo // a stray execution's step: the live migration keeps its record
		}
		m.Failure = &cutover.Failure{Step: step, Reason: cutover.Clip(message, cutover.MaxFailureBytes), At: s.Now()}
		return []cutover.AuditEvent{s.Event(System, "step.error", step+": "+message)}, nil
	})
	if err != nil && !errors.Is(err, errNothingToDo) {
		slog.WarnContext(ctx, "step failure not recorded", "migration", migrationID, "step", step, "code", cutover.ErrorCode(err))
	}
}
