package signoff

import (
	"context"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

// PreflightView is what a re-approval link shows: why go-live is held.
// Report is the full comparison (per entity, missing columns, fill rates),
// nil when it is no longer stored.
type PreflightView struct {
	Phase     string                    `json:"phase"`
	CheckedAt time.Time                 `json:"checkedAt"`
	Breaches  []cutover.PreflightBreach `json:"breaches"`
	Report    *cutover.PreflightReport  `json:"report,omitempty"`
}

// RequestReapproval parks a go-live its pre-flight held on the
// coordinator's decision: it stores the task token under a new link's
// hash (a request of kind "reapproval"), points the migration at that link
// (superseding every earlier one) and marks the migration as waiting for
// it, then mails the coordinator the link with the differences.
//
// Errors: EINVALID without a task token; ENOTFOUND for an unknown
// migration; ECONFLICT when the go-live is not held; whatever the stores
// and mailer return.
func (s *Service) RequestReapproval(ctx context.Context, in RequestInput) error {
	if in.TaskToken == "" {
		return cutover.Errorf(cutover.EINVALID, "The re-approval step has no task token.")
	}
	now := s.now()
	exp := now.Add(s.TTL)
	if !in.Deadline.IsZero() {
		exp = in.Deadline
	}
	token, hash := s.Links.Mint(exp)
	req := Request{
		LinkHash: hash, Kind: KindReapproval, MigrationID: in.MigrationID, Round: in.Round, TaskToken: in.TaskToken, State: StatePending,
		CreatedAt: now, ExpiresAt: exp, PurgeAt: exp.Add(90 * 24 * time.Hour).Unix(),
	}
	if err := s.Store.PutRequest(ctx, req); err != nil {
		return err
	}
	m, err := s.saveWithRetry(ctx, in.MigrationID, func(m *cutover.Migration) (cutover.AuditEvent, error) {
		if m.Status != cutover.StatusFinalHeld || m.Preflight == nil || !m.Preflight.Held {
			return cutover.AuditEvent{}, cutover.Errorf(cutover.ECONFLICT, "Re-approval cannot be requested while the migration is %s: only a held go-live needs it.", m.Status)
		}
		if m.Round != in.Round {
			return cutover.AuditEvent{}, cutover.Errorf(cutover.ECONFLICT, "Re-approval was requested for round %d, but the migration is in round %d.", in.Round, m.Round)
		}
		m.CurrentLink, m.UpdatedAt = hash, now
		m.Pending = &cutover.PendingTask{Kind: cutover.TaskReapproval, Token: in.TaskToken, Round: in.Round}
		return cutover.AuditEvent{
			At: now, Actor: "system", Action: "golive.reapproval_requested",
			Detail: fmt.Sprintf("round %d, %d differences past the thresholds, link sent to the coordinator, expires %s", in.Round, len(m.Preflight.Breaches), exp.Format(time.RFC3339)),
		}, nil
	})
	if err != nil {
		return err
	}
	subject, body := reapprovalMail(m, s.SiteURL, token, exp)
	return s.Mailer.Send(ctx, m.CoordinatorEmail, subject, body)
}

// addPreflight puts a held go-live's differences onto v: the breaches
// kept on the migration, and the full report when it is still stored
// (when it is not, the page says so and the breaches still show).
//
// Errors: EUNAVAILABLE when the report cannot be read.
func (s *Service) addPreflight(ctx context.Context, v *View, m *cutover.Migration) error {
	p := m.Preflight
	if p == nil {
		v.Missing = append(v.Missing, "The pre-flight of the final extract is not recorded.")
		return nil
	}
	v.Preflight = &PreflightView{Phase: p.Phase, CheckedAt: p.CheckedAt, Breaches: p.Breaches}
	if v.Preflight.Breaches == nil {
		v.Preflight.Breaches = []cutover.PreflightBreach{}
	}
	if p.ReportKey == "" || s.Artifacts == nil {
		return nil
	}
	var rep cutover.PreflightReport
	err := s.readJSON(ctx, p.ReportKey, "pre-flight report", &rep)
	if cutover.ErrorCode(err) == cutover.ENOTFOUND {
		v.Missing = append(v.Missing, "The pre-flight's full report is no longer stored: only the differences past the thresholds can be shown.")
		return nil
	}
	if err != nil {
		return err
	}
	v.Preflight.Report = &rep
	if len(rep.Breaches) > len(v.Preflight.Breaches) {
		v.Preflight.Breaches = rep.Breaches // the migration keeps at most MaxPreflightBreaches; the report has them all
	}
	return nil
}

// recordReapproval writes the coordinator's decision on a held go-live
// onto the migration and its audit trail, once (as recordDecision). An
// approval is for exactly the fingerprint that was checked and schedules
// the go-live; a refusal leaves the go-live held until the state machine
// asks the customer for a corrected extract. Either way nothing is
// pending any more, so the customer's withdrawal (which needs the pending
// task) and this decision cannot both win.
//
// Errors: EGONE when the go-live is no longer waiting for this link (the
// customer corrected the extract first); EUNAVAILABLE when the migration
// is busy.
func (s *Service) recordReapproval(ctx context.Context, r *Request, approved bool) error {
	_, err := s.saveWithRetry(ctx, r.MigrationID, func(m *cutover.Migration) (cutover.AuditEvent, error) {
		if m.DecidedLink == r.LinkHash {
			return cutover.AuditEvent{}, errRecorded
		}
		if m.CurrentLink != r.LinkHash || m.Status != cutover.StatusFinalHeld || m.Preflight == nil ||
			m.Pending == nil || m.Pending.Kind != cutover.TaskReapproval || m.Pending.Token != r.TaskToken {
			return cutover.AuditEvent{}, cutover.Errorf(cutover.EGONE, "This re-approval link was superseded: the customer corrected the final extract first. Nothing was decided.")
		}
		m.DecidedLink, m.Pending, m.UpdatedAt = r.LinkHash, nil, r.DecidedAt
		detail := fmt.Sprintf("round %d: %d difference(s) from the signed-off test migration, for the final extract checked as %.19s", r.Round, len(m.Preflight.Breaches), m.Preflight.Fingerprint)
		if r.Comment != "" {
			detail += ": " + r.Comment
		}
		if !approved {
			return cutover.AuditEvent{At: r.DecidedAt, Actor: r.DecidedBy, Action: "golive.refused", Detail: detail}, nil
		}
		m.Preflight.Reapproval = &cutover.PreflightApproval{Fingerprint: m.Preflight.Fingerprint, BreachKey: m.Preflight.BreachKey, DecidedBy: r.DecidedBy, DecidedAt: r.DecidedAt, Comment: r.Comment}
		m.Preflight.Held, m.Status = false, cutover.StatusScheduled
		return cutover.AuditEvent{At: r.DecidedAt, Actor: r.DecidedBy, Action: "golive.reapproved", Detail: detail}, nil
	})
	return err
}
