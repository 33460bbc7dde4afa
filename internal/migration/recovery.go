package migration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

// Where an ops retry resumes a migration whose execution died: the
// execution input's resumeAt, routed by the state machine's Entry choice.
// Without one, an execution starts a round at Map.
const (
	ResumeFinalExtract   = "final-extract"   // approved: wait for the final extract again
	ResumeGoLive         = "go-live"         // approved and scheduled: wait for the go-live time again
	ResumeFinalMigration = "final-migration" // the final migration began: plan again (its own lock) and run the chunks not done
)

// ExecutionInput is the input of every execution the service starts. It
// is built in one place (executionInput), for Submit and for every retry,
// so the settings the later steps read (the sign-off clock's) cannot be
// left out of one of them.
type ExecutionInput struct {
	StepInput
	// ExecutionName is the execution's own name: MarkFailed records a
	// failure only for the execution the migration names, and only
	// executions the service started carry it (see the OwnExecution? state).
	ExecutionName string `json:"executionName"`
	// ResumeAt, when set, is where a resumed execution starts.
	ResumeAt string `json:"resumeAt,omitempty"`
	// Final is what WaitForGoLive reads when an execution resumes there.
	Final *ResumedFinal `json:"final,omitempty"`
}

// ResumedFinal is the go-live time a resumed execution waits for, in the
// shape AwaitFinalExtract's result has.
type ResumedFinal struct {
	GoLiveAt string   `json:"goLiveAt"`
	FileIDs  []string `json:"fileIds"`
}

// executionInput is the input of the execution name that runs round of
// migration id.
func (s *Core) executionInput(id string, round int, name string) ExecutionInput {
	return ExecutionInput{
		StepInput: StepInput{
			MigrationID: id, Round: round,
			SignOffTimeoutSeconds: s.cfg.SignOffTimeoutSeconds, SignOffReminderSeconds: s.cfg.SignOffReminderSeconds,
		},
		ExecutionName: name,
	}
}

// Terminal reports whether no step may move a migration out of status:
// a live migration is done and locked; whatever an execution does next
// (a stray one started by hand, a late retry) must leave it live.
func Terminal(status cutover.Status) bool {
	return status == cutover.StatusLive
}

// Execution statuses that end an execution without the migration ending.
const (
	execRunning  = "RUNNING"
	execFailed   = "FAILED"
	execTimedOut = "TIMED_OUT"
	execAborted  = "ABORTED"
	execMissing  = "MISSING" // no such execution
)

// missingGrace is how long a migration may name an execution that does not
// exist before it counts as dead: Submit and Retry save the name just
// before they start the execution.
const missingGrace = 2 * time.Minute

// sweepLimit is how many of the newest migrations a sweep looks at.
const sweepLimit = 1000

// ExecutionEvent is the part of a Step Functions "Execution Status Change"
// event (delivered by EventBridge) that reconciling reads: the event's
// detail. A scheduled sweep's event has no detail.
type ExecutionEvent struct {
	Source     string `json:"source"`
	DetailType string `json:"detail-type"`
	Detail     struct {
		Name   string  `json:"name"`
		Status string  `json:"status"`
		Input  *string `json:"input"`
	} `json:"detail"`
}

// SweepResult says what a reconciliation did.
type SweepResult struct {
	Checked  int `json:"checked"`
	Failed   int `json:"failed"`   // migrations marked failed because their execution died
	MailSent int `json:"mailSent"` // pending mails the sweep sent (RetryMail)
	// EventsPublished is how many pending lifecycle events the sweep
	// published (RetryEvents).
	EventsPublished int `json:"eventsPublished"`
}

// Reconcile handles what the reconcile Lambda receives: an execution's
// status change (the execution it names is checked) or a scheduled sweep
// (every migration that should have a running execution is checked).
//
// Errors: EUNAVAILABLE when storage or Step Functions cannot be read (the
// sweep goes on past a migration it cannot check, and reports the first
// such error after it); as the Store otherwise.
func (s *Reconciler) Reconcile(ctx context.Context, ev ExecutionEvent) (*SweepResult, error) {
	if ev.Source != "aws.states" {
		return s.Sweep(ctx)
	}
	res := &SweepResult{}
	var in StepInput
	if ev.Detail.Input == nil || json.Unmarshal([]byte(*ev.Detail.Input), &in) != nil || in.MigrationID == "" {
		return res, nil // not one of ours; the sweep sees our own anyway
	}
	m, err := s.store.GetMigration(ctx, in.MigrationID)
	if cutover.ErrorCode(err) == cutover.ENOTFOUND {
		return res, nil
	}
	if err != nil {
		return nil, err
	}
	res.Checked++
	failed, err := s.reconcileOne(ctx, m, ev.Detail.Name, ev.Detail.Status)
	if failed {
		res.Failed++
	}
	return res, err
}

// Sweep checks every migration that should have a running execution and
// marks failed, with ops alerted, each one whose execution failed, timed
// out, was stopped or no longer exists. It catches what status-change
// events miss. It also sends again the mail that is due a retry.
//
// Errors: as Reconcile.
func (s *Reconciler) Sweep(ctx context.Context) (*SweepResult, error) {
	migs, err := s.store.ListMigrations(ctx, sweepLimit)
	if err != nil {
		return nil, err
	}
	res := &SweepResult{}
	var errs []error
	for _, m := range migs {
		if !awaitsExecution(m) {
			continue
		}
		res.Checked++
		status, err := s.watch.ExecutionStatus(ctx, m.ExecutionName)
		switch {
		case cutover.ErrorCode(err) == cutover.ENOTFOUND:
			if s.Now().Sub(m.UpdatedAt) < missingGrace {
				continue
			}
			status = execMissing
		case err != nil:
			slog.WarnContext(ctx, "execution not read", "migration", m.ID, "code", cutover.ErrorCode(err))
			errs = append(errs, err)
			continue
		}
		failed, err := s.reconcileOne(ctx, m, m.ExecutionName, status)
		if err != nil {
			slog.WarnContext(ctx, "migration not reconciled", "migration", m.ID, "code", cutover.ErrorCode(err))
			errs = append(errs, err)
		}
		if failed {
			res.Failed++
		}
	}
	// The same minute's tick re-sends mail that failed to send.
	sent, err := s.RetryMail(ctx)
	res.MailSent = sent
	if err != nil {
		slog.WarnContext(ctx, "due mail not read", "code", cutover.ErrorCode(err))
		errs = append(errs, err)
	}
	// And publishes lifecycle events that could not be published.
	if s.announcer != nil {
		published, err := s.RetryEvents(ctx)
		res.EventsPublished = published
		if err != nil {
			slog.WarnContext(ctx, "due lifecycle events not read", "code", cutover.ErrorCode(err))
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return res, errs[0]
	}
	return res, nil
}

// awaitsExecution reports whether a migration should have a running
// execution: it started one and has not ended (live) or failed.
func awaitsExecution(m *cutover.Migration) bool {
	return m.ExecutionName != "" && m.Status != cutover.StatusCreated && m.Status != cutover.StatusFailed && !Terminal(m.Status)
}

// reconcileOne marks m failed when execution, the one m names, ended
// without the migration ending, and alerts ops. An execution m does not
// name (a stray one, or an earlier round's) changes nothing. It reports
// whether it marked m failed.
func (s *Reconciler) reconcileOne(ctx context.Context, m *cutover.Migration, execution, status string) (bool, error) {
	if execution != m.ExecutionName || !awaitsExecution(m) {
		return false, nil
	}
	reason := deadReason(status, m.Status)
	if reason == "" {
		return false, nil
	}
	updated, err := s.Update(ctx, m.ID, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		if cur.ExecutionName != execution || !awaitsExecution(cur) {
			return nil, errNothingToDo
		}
		if status != execFailed || cur.Failure == nil || cur.Failure.Reason == "" {
			cur.Failure = &cutover.Failure{Step: string(cur.Status), Reason: deadReason(status, cur.Status), At: s.Now()}
		} // else a failed step's own account (RecordStepFailure) is the clearest, as in MarkFailed
		cur.Status, cur.Pending = cutover.StatusFailed, nil
		return []cutover.AuditEvent{s.Event(System, "migration.failed", "execution "+execution+" "+status+": "+cur.Failure.Reason)}, nil
	})
	if errors.Is(err, errNothingToDo) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	slog.InfoContext(ctx, "dead execution noticed", "migration", m.ID, "execution", execution, "status", status, "step", updated.Failure.Step)
	s.Announce(ctx, s.failedEvent(updated))
	s.alertOps(ctx, updated)
	return true, nil
}

// errNothingToDo ends an update that finds the work already done.
var errNothingToDo = errors.New("nothing to do")

// deadReason is what a migration's failure says when its execution ended
// with status while the migration was at step; empty when the execution
// has not ended that way.
func deadReason(status string, step cutover.Status) string {
	what := map[string]string{
		execAborted:  "The workflow was stopped outside the service (ABORTED)",
		execTimedOut: "The workflow timed out (TIMED_OUT)",
		execFailed:   "The workflow failed (FAILED) without recording why",
		execMissing:  "The workflow's execution no longer exists",
	}[status]
	if what == "" {
		return ""
	}
	return what + " while " + doing(step) + ". Ops have been alerted and can resume it from where it stopped."
}

// doing says what a migration at status was doing, for people.
func doing(status cutover.Status) string {
	if d, ok := map[cutover.Status]string{
		cutover.StatusSubmitted:        "starting a test migration",
		cutover.StatusMapping:          "mapping the test extract",
		cutover.StatusTestMigrating:    "running the test migration",
		cutover.StatusAwaitingReview:   "awaiting the customer's review",
		cutover.StatusSignOffRequested: "requesting sign-off",
		cutover.StatusAwaitingSignOff:  "awaiting sign-off",
		cutover.StatusSignOffExpired:   "waiting for sign-off to be requested again",
		cutover.StatusAwaitingRevision: "awaiting the customer's revision",
		cutover.StatusAwaitingFinal:    "awaiting the final extract",
		cutover.StatusScheduled:        "scheduled for go-live",
		cutover.StatusFinalMigrating:   "running the final migration",
		cutover.StatusFinalBlocked:     "waiting for ops to retry failed parts of the final migration",
		cutover.StatusFinalHeld:        "holding go-live for the coordinator's re-approval of the final extract's differences",
	}[status]; ok {
		return d
	}
	return string(status)
}

// alertOps mails ops that a migration stopped and how to resume it, and
// tells the customer what happens next. Both go through the outbox, so a
// mail that cannot be sent now is retried by the sweep and shows on the ops
// detail; the failed status and the state machine's alarms show it anyway.
func (s *Core) alertOps(ctx context.Context, m *cutover.Migration) {
	if m.Failure == nil {
		return
	}
	cause := fmt.Sprint(m.Failure.At.UnixNano())
	if s.cfg.OpsEmail != "" {
		body := fmt.Sprintf("Migration %s (tenant %s) stopped.\n\n%s\n\nIts detail is at GET /ops/migrations/%s. Resume it with POST /ops/migrations/%s/retry: %s.\n",
			m.ID, m.TenantID, m.Failure.Reason, m.ID, m.ID, resumeDescription(m))
		s.Notify(ctx, cutover.Mail{
			ID: MailID(m.ID, PurposeOpsStopped, m.Round, cause), MigrationID: m.ID, Purpose: PurposeOpsStopped, Round: m.Round,
			To: s.cfg.OpsEmail, Subject: "Migration stopped: " + m.ID, Body: body,
		})
	}
	s.Notify(ctx, s.failedNotice(m))
}

// resumeDescription says where a retry would resume m, before the tenant
// lock is known (a final migration that began resumes its chunks).
func resumeDescription(m *cutover.Migration) string {
	switch m.Failure.Step {
	case string(cutover.StatusFinalMigrating), string(cutover.StatusFinalBlocked):
		return "the final migration resumes, running only the parts that did not finish"
	}
	if approved(m) {
		return "it goes back to the final extract or the go-live wait, without a new sign-off"
	}
	return "the round starts again from its Map step"
}

// approved reports whether the coordinator approved m's current round and
// mapping.
func approved(m *cutover.Migration) bool {
	return m.SignOff != nil && m.SignOff.Round == m.Round && m.SignOff.MappingHash == m.MappingHash && m.SignOff.MappingVersion == m.MappingVersion
}

// resumePoint decides where a failed migration resumes, from what is on
// record rather than from where it failed: once the tenant's live lock is
// this migration's, the final migration began, and only resuming it
// (never a new round) can finish it without writing LIVE twice; after an
// approval of the current round, the customer's final steps are waited for
// again (the go-live wait only while the chosen time is still ahead: a time
// that passed while nothing ran is not acted on unannounced); before that,
// the round starts again at Map. It returns the resumeAt and the status
// the migration resumes in.
func (s *Core) resumePoint(m *cutover.Migration, lock *cutover.TenantLock) (string, cutover.Status) {
	switch {
	case lock != nil && lock.MigrationID == m.ID:
		return ResumeFinalMigration, cutover.StatusFinalMigrating
	case approved(m) && !m.GoLiveAt.IsZero() && m.GoLiveAt.After(s.Now()):
		return ResumeGoLive, cutover.StatusScheduled
	case approved(m):
		return ResumeFinalExtract, cutover.StatusAwaitingFinal
	}
	return "", cutover.StatusSubmitted
}
