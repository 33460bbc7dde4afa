package migration

import (
	"context"
	"fmt"
	"strings"

	"github.com/cutover/cutover/internal/cutover"
)

// revisable says whether the customer may still change what the next test
// round runs on: the mapping and the test extract. That is so until
// sign-off is requested; from then on the coordinator is asked about a
// precise round, and only their rejection reopens it.
//
// Errors: ECONFLICT saying why, with what to do instead.
func Revisable(m *cutover.Migration, what string) error {
	switch m.Status {
	case cutover.StatusCreated, cutover.StatusAwaitingReview, cutover.StatusSignOffExpired, cutover.StatusAwaitingRevision:
		return nil
	case cutover.StatusSignOffRequested, cutover.StatusAwaitingSignOff:
		return cutover.Errorf(cutover.ECONFLICT, "%s cannot change now: sign-off was requested for round %d, and the coordinator is asked about exactly that workbook. Ask them to reject it to revise, or wait for their decision.", what, m.Round)
	default:
		return cutover.Errorf(cutover.ECONFLICT, "%s can change until sign-off is requested; the migration is %s.", what, m.Status)
	}
}

// RerunOutput is the callback output that sends a migration parked on its
// review back to the Map step: the state machine's Rerun? choice reads
// Rerun, and Next becomes the new round's whole input (so the round number
// is explicit, and the sign-off clock starts empty again).
type RerunOutput struct {
	Rerun bool           `json:"rerun"`
	Next  ExecutionInput `json:"next"`
}

// changesFor says what is new for round next: a revised mapping, a
// corrected extract (completed test files uploaded for that round), or both.
func changesFor(m *cutover.Migration, next int) []string {
	var out []string
	if m.DraftMapping != "" {
		out = append(out, "mapping revised")
	}
	for _, f := range m.Files {
		if f.Purpose == cutover.PurposeTest && f.Round == next && f.Complete && f.Refused == "" {
			out = append(out, "corrected extract")
			break
		}
	}
	return out
}

// rerun runs the test migration again before sign-off is requested: the
// new round supersedes the workbook under review, whose marks are dropped
// (they were about another workbook), and whatever sign-off link an
// expired request left stays dead.
//
// Errors: ECONFLICT when there is nothing new to run (no revised mapping,
// no corrected extract), when the execution is not parked on the review
// yet, or when the migration moved meanwhile; EUNAVAILABLE/EGONE from Step
// Functions (the migration is then put back as it was).
func (s *Customer) rerun(ctx context.Context, m *cutover.Migration) (*cutover.Migration, error) {
	next := m.Round + 1
	changes := changesFor(m, next)
	if len(changes) == 0 {
		return nil, cutover.Errorf(cutover.ECONFLICT, "Nothing new to run: round %d already ran on this mapping and extract. Change the mapping or upload a corrected extract first.", m.Round)
	}
	if m.Pending == nil || (m.Pending.Kind != cutover.TaskReview && m.Pending.Kind != cutover.TaskExpired) {
		return nil, cutover.Errorf(cutover.ECONFLICT, "The workbook is not ready for a new round yet; try again in a moment.")
	}
	in := s.executionInput(m.ID, next, m.ExecutionName) // the same execution carries on
	return s.HandOver(ctx, s.flow, m, RerunOutput{Rerun: true, Next: in}, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		if cur.Status != m.Status || cur.Round != m.Round {
			return nil, cutover.Errorf(cutover.ECONFLICT, "The migration changed to %s meanwhile; reload.", cur.Status)
		}
		prev := cur.Round
		cur.Status, cur.Round, cur.Failure = cutover.StatusSubmitted, next, nil
		cur.Review, cur.CurrentLink = nil, ""
		return []cutover.AuditEvent{
			s.Event("customer", "round.submitted", fmt.Sprintf("round %d", next)),
			s.Event("customer", "round.rerun", fmt.Sprintf("round %d replaces round %d's workbook: %s", next, prev, strings.Join(changes, ", "))),
		}, nil
	})
}

// unrunRevision refuses a sign-off request while a revision saved during
// the review has not run: the coordinator would approve this workbook, and
// the final migration would run its mapping, while the customer's change
// appeared nowhere.
//
// Errors: ECONFLICT naming what changed and what to do.
func unrunRevision(m *cutover.Migration) error {
	if changes := changesFor(m, m.Round+1); len(changes) > 0 {
		return cutover.Errorf(cutover.ECONFLICT, "This workbook does not show your latest changes (%s since round %d). Run the test migration again with these changes first, so that what your coordinator signs off is what will go live.", strings.Join(changes, ", "), m.Round)
	}
	return nil
}
