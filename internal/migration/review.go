package migration

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cutover/cutover/internal/cutover"
)

// The workbook's sections. Spot checks are also ticked one by one, as
// "spot:0", "spot:1", ..., and each group of "!" warnings is marked as
// "warn:0", "warn:1", ...
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
// A request marks each section or spot check at most once, so it holds at
// most as many marks as the workbook has things to mark. Its audit trail is
// one event per request naming every mark (split into parts only when the
// notes are long), saved atomically with the marks: a workbook with more
// than 100 things to mark is marked in one request, within one DynamoDB
// transaction's 100 writes.
//
// Errors: ECONFLICT when no workbook is waiting for review; EINVALID for no
// marks, more marks than the workbook has things to mark, a section or spot
// check marked twice, an unknown section or state, a waiver without a note,
// "reviewed" on the spot-check section, or on a spot check with no record
// to call right (rejected, skipped or not found; the message says to
// waive it with a note), or a warning group the workbook does not have.
func (s *Customer) MarkReview(ctx context.Context, m *cutover.Migration, in ReviewInput) (*cutover.Migration, error) {
	limit, spots, warns := len(ReviewSections), 0, 0
	if m.Workbook != nil {
		spots, warns = m.Workbook.Spots, m.Workbook.WarningGroups
		limit += spots + warns
	}
	if len(in.Items) == 0 || len(in.Items) > limit {
		return nil, cutover.Errorf(cutover.EINVALID, "items must list between 1 and %d marks: the workbook has %d sections, %d spot checks and %d warning groups, each marked at most once.",
			limit, len(ReviewSections), spots, warns)
	}
	marked := make(map[string]bool, len(in.Items))
	for _, it := range in.Items {
		if err := checkMark(m, it); err != nil {
			return nil, err
		}
		if marked[it.Section] {
			return nil, cutover.Errorf(cutover.EINVALID, "%s is marked twice in one request; mark it once.", it.Section)
		}
		marked[it.Section] = true
	}
	return s.Update(ctx, m.ID, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		if !reviewing(cur) {
			return nil, cutover.Errorf(cutover.ECONFLICT, "There is no workbook waiting for your review; the migration is %s.", cur.Status)
		}
		if cur.Review == nil {
			cur.Review = map[string]cutover.ReviewMark{}
		}
		marks := make([]string, 0, len(in.Items))
		for _, it := range in.Items {
			note := strings.TrimSpace(it.Note)
			cur.Review[it.Section] = cutover.ReviewMark{State: it.State, Note: note, At: s.Now()}
			mark := it.Section + " " + it.State
			if note != "" {
				mark += ": " + note
			}
			marks = append(marks, mark)
		}
		var events []cutover.AuditEvent
		for _, detail := range auditParts(fmt.Sprintf("round %d, %d marks", cur.Round, len(marks)), marks) {
			events = append(events, s.Event("customer", "workbook.marked", detail))
		}
		return events, nil
	})
}

// maxAuditDetail bounds one audit event's detail, so that a request with
// many long notes stays far inside DynamoDB's item and transaction sizes.
const maxAuditDetail = 16 << 10

// auditParts joins marks into as few details as fit maxAuditDetail each,
// every one headed by head (and "part i of n" when there are several). A
// request's marks are bounded (each note by 2,000 characters, the marks by
// the workbook's sections and spot checks), and so are its parts.
func auditParts(head string, marks []string) []string {
	var parts [][]string
	size := 0
	for _, mk := range marks {
		if len(parts) == 0 || size+len(mk)+2 > maxAuditDetail {
			parts, size = append(parts, nil), len(head)+32
		}
		parts[len(parts)-1] = append(parts[len(parts)-1], mk)
		size += len(mk) + 2
	}
	out := make([]string, len(parts))
	for i, p := range parts {
		h := head
		if len(parts) > 1 {
			h += fmt.Sprintf(" (part %d of %d)", i+1, len(parts))
		}
		out[i] = h + ": " + strings.Join(p, "; ")
	}
	return out
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
		if it.State == Reviewed && slices.Contains(m.Workbook.WaiveOnly, i) {
			return cutover.Errorf(cutover.EINVALID, "%s: this row did not become a record (it was rejected, skipped or not found), so there is nothing to call right: waive it with a note saying why that is acceptable.", it.Section)
		}
		return nil
	}
	if n, ok := strings.CutPrefix(it.Section, "warn:"); ok {
		i, err := strconv.Atoi(n)
		if err != nil || m.Workbook == nil || i < 0 || i >= m.Workbook.WarningGroups {
			return cutover.Errorf(cutover.EINVALID, "%s: there is no such group of warnings.", it.Section)
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
	return cutover.Errorf(cutover.EINVALID, "%q is not a section of the workbook: use one of %s, spot:N or warn:N.", it.Section, strings.Join(ReviewSections, ", "))
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
	if m.Workbook != nil {
		for i := 0; i < m.Workbook.WarningGroups; i++ {
			if !marked(fmt.Sprintf("warn:%d", i)) {
				out = append(out, fmt.Sprintf("warn:%d", i))
			}
		}
	}
	return out
}

// RequestSignOff asks for the coordinator's sign-off once every section of
// the workbook is reviewed or waived.
//
// Errors: ECONFLICT when no workbook is waiting for review, sections are
// still unreviewed (the message lists them), or a revised mapping or
// corrected extract was saved and not run yet; EGONE/EUNAVAILABLE from the
// state machine.
func (s *Customer) RequestSignOff(ctx context.Context, m *cutover.Migration) (*cutover.Migration, error) {
	if !reviewing(m) || m.Pending == nil || (m.Pending.Kind != cutover.TaskReview && m.Pending.Kind != cutover.TaskExpired) {
		return nil, cutover.Errorf(cutover.ECONFLICT, "Sign-off can be requested once the test migration's workbook is ready; the migration is %s.", m.Status)
	}
	if missing := Unreviewed(m); len(missing) > 0 {
		return nil, cutover.Errorf(cutover.ECONFLICT, "Review or waive every part of the workbook first; still open: %s.", strings.Join(missing, ", "))
	}
	if err := unrunRevision(m); err != nil {
		return nil, err
	}
	return s.HandOver(ctx, s.flow, m, struct{}{}, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		if !reviewing(cur) {
			return nil, cutover.Errorf(cutover.ECONFLICT, "The migration changed to %s meanwhile; reload.", cur.Status)
		}
		if err := unrunRevision(cur); err != nil {
			return nil, err
		}
		cur.Status = cutover.StatusSignOffRequested
		return []cutover.AuditEvent{s.Event("customer", "signoff.asked", fmt.Sprintf("round %d, workbook reviewed", cur.Round))}, nil
	})
}
