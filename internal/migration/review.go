package migration

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/cutover/cutover/internal/cutover"
)

// The workbook's sections. Spot checks are also ticked one by one, as
// "spot:0", "spot:1", ...
var ReviewSections = []string{"reconciliation", "spotChecks", "issues", "fillRates", "unmapped"}

// Review states.
const (
	Reviewed = "reviewed"
	Waived   = "waived"
)

// ReviewItem marks one section or spot check.
type ReviewItem struct {
	Section string `json:"section"`
	State   string `json:"state"`
	Note    string `json:"note"`
}

// ReviewInput is a batch of marks.
type ReviewInput struct {
	Items []ReviewItem `json:"items"`
}

func reviewing(m *cutover.Migration) bool {
	return (m.Status == cutover.StatusAwaitingReview || m.Status == cutover.StatusSignOffExpired) && m.Workbook != nil
}

// MarkReview records the customer's marks on this round's workbook. A
// waiver needs a note saying why. The spot-check section is reviewed by
// ticking every spot check, or waived as a whole.
//
// Errors: ECONFLICT when no workbook is waiting for review; EINVALID for an
// unknown section or state, a waiver without a note, or "reviewed" on the
// spot-check section (the message says what to do instead).
func (s *Service) MarkReview(ctx context.Context, m *cutover.Migration, in ReviewInput) (*cutover.Migration, error) {
	if len(in.Items) == 0 || len(in.Items) > 500 {
		return nil, cutover.Errorf(cutover.EINVALID, "items must list between 1 and 500 marks.")
	}
	for _, it := range in.Items {
		if err := checkMark(m, it); err != nil {
			return nil, err
		}
	}
	return s.update(ctx, m.ID, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		if !reviewing(cur) {
			return nil, cutover.Errorf(cutover.ECONFLICT, "There is no workbook waiting for your review; the migration is %s.", cur.Status)
		}
		if cur.Review == nil {
			cur.Review = map[string]cutover.ReviewMark{}
		}
		var events []cutover.AuditEvent
		for _, it := range in.Items {
			cur.Review[it.Section] = cutover.ReviewMark{State: it.State, Note: strings.TrimSpace(it.Note), At: s.now()}
			detail := fmt.Sprintf("round %d: %s %s", cur.Round, it.Section, it.State)
			if it.Note != "" {
				detail += ": " + strings.TrimSpace(it.Note)
			}
			events = append(events, s.event("customer", "workbook.marked", detail))
		}
		return events, nil
	})
}

func checkMark(m *cutover.Migration, it ReviewItem) error {
	if it.State != Reviewed && it.State != Waived {
		return cutover.Errorf(cutover.EINVALID, "%s: state must be %q or %q.", it.Section, Reviewed, Waived)
	}
	if it.State == Waived && strings.TrimSpace(it.Note) == "" {
		return cutover.Errorf(cutover.EINVALID, "%s: a waiver needs a note saying why.", it.Section)
	}
	if len(it.Note) > cutover.MaxReviewNoteBytes {
		return cutover.Errorf(cutover.EINVALID, "%s: the note is limited to %d bytes.", it.Section, cutover.MaxReviewNoteBytes)
	}
	if n, ok := strings.CutPrefix(it.Section, "spot:"); ok {
		i, err := strconv.Atoi(n)
		if err != nil || m.Workbook == nil || i < 0 || i >= m.Workbook.Spots {
			return cutover.Errorf(cutover.EINVALID, "%s: there is no such spot check.", it.Section)
		}
		return nil
	}
	for _, sec := range ReviewSections {
		if it.Section == sec {
			if sec == "spotChecks" && it.State == Reviewed {
				return cutover.Errorf(cutover.EINVALID, "spotChecks: tick each spot check (spot:0, spot:1, ...), or waive the section with a note.")
			}
			return nil
		}
	}
	return cutover.Errorf(cutover.EINVALID, "%q is not a section of the workbook: use one of %s, or spot:N.", it.Section, strings.Join(ReviewSections, ", "))
}

// Unreviewed lists what still needs a mark before sign-off can be requested.
func Unreviewed(m *cutover.Migration) []string {
	var out []string
	marked := func(sec string) bool {
		mk, ok := m.Review[sec]
		return ok && (mk.State == Reviewed || mk.State == Waived)
	}
	for _, sec := range ReviewSections {
		if sec == "spotChecks" {
			if marked(sec) || m.Workbook == nil {
				continue
			}
			for i := 0; i < m.Workbook.Spots; i++ {
				if !marked(fmt.Sprintf("spot:%d", i)) {
					out = append(out, fmt.Sprintf("spot:%d", i))
				}
			}
			continue
		}
		if !marked(sec) {
			out = append(out, sec)
		}
	}
	return out
}

// RequestSignOff asks for the coordinator's sign-off once every section of
// the workbook is reviewed or waived.
//
// Errors: ECONFLICT when no workbook is waiting for review, or sections are
// still unreviewed (the message lists them); EGONE/EUNAVAILABLE from the
// state machine.
func (s *Service) RequestSignOff(ctx context.Context, m *cutover.Migration) (*cutover.Migration, error) {
	if !reviewing(m) || m.Pending == nil || (m.Pending.Kind != cutover.TaskReview && m.Pending.Kind != cutover.TaskExpired) {
		return nil, cutover.Errorf(cutover.ECONFLICT, "Sign-off can be requested once the test migration's workbook is ready; the migration is %s.", m.Status)
	}
	if missing := Unreviewed(m); len(missing) > 0 {
		return nil, cutover.Errorf(cutover.ECONFLICT, "Review or waive every part of the workbook first; still open: %s.", strings.Join(missing, ", "))
	}
	return s.handOver(ctx, m, struct{}{}, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		if !reviewing(cur) {
			return nil, cutover.Errorf(cutover.ECONFLICT, "The migration changed to %s meanwhile; reload.", cur.Status)
		}
		cur.Status = cutover.StatusSignOffRequested
		return []cutover.AuditEvent{s.event("customer", "signoff.asked", fmt.Sprintf("round %d, workbook reviewed", cur.Round))}, nil
	})
}
