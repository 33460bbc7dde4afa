package signoff

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/workbook/entry"
)

// Request states.
const (
	StatePending  = cutover.SignOffPending
	StateApproved = cutover.SignOffApproved
	StateRejected = cutover.SignOffRejected
)

// Request kinds: a round's sign-off, or the re-approval of a go-live its
// pre-flight held. A link decides only what its kind asks.
const (
	KindSignOff    = "signoff"
	KindReapproval = cutover.TaskReapproval
)

// Request is one sign-off request (see cutover.SignOffRequest): the type
// lives in the domain so the store adapter keeps it without importing this
// package.
type Request = cutover.SignOffRequest

// kindOf is a request's kind; requests stored before kinds are sign-offs.
func kindOf(r *Request) string {
	if r.Kind == "" {
		return KindSignOff
	}
	return r.Kind
}

// Service runs sign-off requests and decisions. Artifacts and Downloads
// are what the page needs to show the workbook and the pre-flight report
// (the request step does without them). Build it with NewRequester (the
// request step) or NewDesk (the sign-off API), which refuse a missing port.
type Service struct {
	Links      Links
	Store      Store
	Migrations Migrations
	Flow       Resumer
	Mailer     Mailer
	Artifacts  Artifacts
	Downloads  Downloads
	SiteURL    string
	TTL        time.Duration
	events     Announcer // set by AnnounceWith
	Now        func() time.Time
}

// NewRequester returns the service as the RequestSignOff step uses it: it
// stores a request and mails the coordinator a link to siteURL that lasts
// ttl.
//
// Errors: EINTERNAL when a port is nil, no link key is set, or ttl is not
// positive: a wiring mistake main reports at start.
func NewRequester(links Links, store Store, migrations Migrations, mailer Mailer, siteURL string, ttl time.Duration) (*Service, error) {
	if err := wired("the sign-off request step", links, store, migrations); err != nil {
		return nil, err
	}
	if mailer == nil {
		return nil, cutover.Errorf(cutover.EINTERNAL, "the sign-off request step needs a Mailer; it was wired without one.")
	}
	if ttl <= 0 {
		return nil, cutover.Errorf(cutover.EINTERNAL, "the sign-off request step needs a positive link lifetime; it was wired with %s.", ttl)
	}
	return &Service{Links: links, Store: store, Migrations: migrations, Mailer: mailer, SiteURL: siteURL, TTL: ttl}, nil
}

// NewDesk returns the service as the coordinator's sign-off API uses it:
// it shows a request with the workbook or pre-flight report read from the
// artifacts and short-lived download links, and resumes the parked task
// with the decision.
//
// Errors: EINTERNAL when a port is nil or no link key is set.
func NewDesk(links Links, store Store, migrations Migrations, flow Resumer, artifacts Artifacts, downloads Downloads) (*Service, error) {
	const name = "the sign-off API"
	if err := wired(name, links, store, migrations); err != nil {
		return nil, err
	}
	missing := ""
	switch {
	case flow == nil:
		missing = "Resumer"
	case artifacts == nil:
		missing = "Artifacts"
	case downloads == nil:
		missing = "Downloads"
	}
	if missing != "" {
		return nil, cutover.Errorf(cutover.EINTERNAL, "%s needs a %s; it was wired without one.", name, missing)
	}
	return &Service{Links: links, Store: store, Migrations: migrations, Flow: flow, Artifacts: artifacts, Downloads: downloads}, nil
}

// wired checks what both uses of the service need.
func wired(name string, links Links, store Store, migrations Migrations) error {
	switch {
	case len(links.Key) == 0:
		return cutover.Errorf(cutover.EINTERNAL, "%s needs the link signing key; it was wired without one.", name)
	case store == nil:
		return cutover.Errorf(cutover.EINTERNAL, "%s needs a Store; it was wired without one.", name)
	case migrations == nil:
		return cutover.Errorf(cutover.EINTERNAL, "%s needs Migrations; it was wired without them.", name)
	}
	return nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// RequestInput is the RequestSignOff step's input.
type RequestInput struct {
	MigrationID string    `json:"migrationId"`
	Round       int       `json:"round"`
	TaskToken   string    `json:"taskToken"`
	Deadline    time.Time `json:"deadline"`  // when the request expires; zero means TTL from now
	Reminders   int       `json:"reminders"` // how many times the coordinator was reminded before this
}

// ID returns the migration id, for logs and failure records.
func (in RequestInput) ID() string { return in.MigrationID }

// Request stores the task token under a new link's hash, points the
// migration at that link (so every earlier link is superseded) and mails the
// coordinator the link.
//
// Errors: EINVALID without a task token; ENOTFOUND for an unknown
// migration; ECONFLICT when the migration moved on; whatever the stores
// and mailer return.
func (s *Service) Request(ctx context.Context, in RequestInput) error {
	if in.TaskToken == "" {
		return cutover.Errorf(cutover.EINVALID, "The sign-off step has no task token.")
	}
	now := s.now()
	exp := now.Add(s.TTL)
	if !in.Deadline.IsZero() {
		exp = in.Deadline
	}
	token, hash := s.Links.Mint(exp)
	req := Request{
		LinkHash: hash, Kind: KindSignOff, MigrationID: in.MigrationID, Round: in.Round, TaskToken: in.TaskToken, State: StatePending,
		CreatedAt: now, ExpiresAt: exp, PurgeAt: exp.Add(90 * 24 * time.Hour).Unix(),
	}
	if err := s.Store.PutRequest(ctx, req); err != nil {
		return err
	}
	m, err := s.saveWithRetry(ctx, in.MigrationID, func(m *cutover.Migration) (cutover.AuditEvent, error) {
		if m.Status != cutover.StatusSignOffRequested && m.Status != cutover.StatusAwaitingSignOff {
			return cutover.AuditEvent{}, cutover.Errorf(cutover.ECONFLICT, "Sign-off cannot be requested while the migration is %s.", m.Status)
		}
		m.Status, m.CurrentLink, m.UpdatedAt = cutover.StatusAwaitingSignOff, hash, now
		action, what := "signoff.requested", "link sent to the coordinator"
		if in.Reminders > 0 {
			action, what = "signoff.reminded", fmt.Sprintf("reminder %d sent to the coordinator with a fresh link; the earlier one no longer works", in.Reminders)
		}
		return cutover.AuditEvent{
			At: now, Actor: "system", Action: action,
			Detail: fmt.Sprintf("round %d, %s, expires %s", in.Round, what, exp.Format(time.RFC3339)),
		}, nil
	})
	if err != nil {
		return err
	}
	if in.Reminders == 0 { // a reminder is the same request, with a fresh link
		s.announce(ctx, requestedEvent(m, in.Round, in.TaskToken, now))
	}
	var b strings.Builder
	subject := "Sign-off requested: " + m.CustomerName + " test migration"
	if in.Reminders > 0 {
		subject = "Reminder: sign-off requested: " + m.CustomerName + " test migration"
		fmt.Fprintf(&b, "This is a reminder: no decision has been made yet. The link in earlier emails no longer works; use this one.\n\n")
	}
	fmt.Fprintf(&b, "%s asks you to sign off the test migration of %s (round %d).\n\n", m.CustomerName, m.TenantID, in.Round)
	if m.Test != nil {
		fmt.Fprintf(&b, "%s\n\n", countsSentence(*m.Test))
	}
	linkLines(&b, s.SiteURL, token, exp)
	return s.Mailer.Send(ctx, m.CoordinatorEmail, subject, b.String())
}

// Clock is a sign-off request's deadline, carried in the execution's
// state: the state machine waits WaitSeconds for a decision, then either
// reminds the coordinator (with a fresh link) or, past the deadline,
// expires the request.
type Clock struct {
	Deadline    time.Time `json:"deadline"`
	WaitSeconds int       `json:"waitSeconds"`
	Expired     bool      `json:"expired"`
	Reminders   int       `json:"reminders"`
}

// TickInput is the SignOffClock step's input.
type TickInput struct {
	MigrationID     string `json:"migrationId"`
	Round           int    `json:"round"`
	TimeoutSeconds  int    `json:"timeoutSeconds"`
	ReminderSeconds int    `json:"reminderSeconds"`
	Clock           Clock  `json:"clock"`
}

// StepRequest is what the state machine sends the sign-off step
// function: a tick of the request's clock, the re-approval of a held
// go-live, or the request itself.
type StepRequest struct {
	Action string `json:"action"` // "tick", "reapproval"; anything else requests sign-off
	RequestInput
	TimeoutSeconds  int   `json:"timeoutSeconds"`
	ReminderSeconds int   `json:"reminderSeconds"`
	Clock           Clock `json:"clock"`
}

// Step runs one sign-off step: Tick for "tick", RequestReapproval for
// "reapproval", else Request (neither request has an output: the state
// machine waits for the decision).
//
// Errors: as Tick, RequestReapproval and Request.
func (s *Service) Step(ctx context.Context, in StepRequest) (*Clock, error) {
	switch in.Action {
	case "tick":
		return s.Tick(ctx, TickInput{MigrationID: in.MigrationID, Round: in.Round, TimeoutSeconds: in.TimeoutSeconds, ReminderSeconds: in.ReminderSeconds, Clock: in.Clock})
	case KindReapproval:
		return nil, s.RequestReapproval(ctx, in.RequestInput)
	}
	return nil, s.Request(ctx, in.RequestInput)
}

// Tick starts a request's clock or moves it on after a wait ran out: the
// next wait is the reminder interval or what is left before the deadline,
// whichever is shorter; at the deadline the request has expired.
//
// Errors: EINVALID for a non-positive timeout or reminder interval.
func (s *Service) Tick(_ context.Context, in TickInput) (*Clock, error) {
	if in.TimeoutSeconds <= 0 || in.ReminderSeconds <= 0 {
		return nil, cutover.Errorf(cutover.EINVALID, "The sign-off timeout and reminder interval must be positive.")
	}
	now := s.now()
	c := in.Clock
	if c.Deadline.IsZero() {
		c = Clock{Deadline: now.Add(time.Duration(in.TimeoutSeconds) * time.Second)}
	} else {
		c.Reminders++
	}
	left := c.Deadline.Sub(now)
	if left <= 0 {
		c.Expired, c.WaitSeconds = true, 0
		return &c, nil
	}
	wait := min(time.Duration(in.ReminderSeconds)*time.Second, left)
	c.WaitSeconds = max(1, int((wait+time.Second-1)/time.Second))
	return &c, nil
}

// View is what the sign-off page shows. Kind says what the link decides:
// a round's sign-off (the mapping, the workbook's details and the
// customer's marks) or a held go-live's re-approval (the pre-flight).
type View struct {
	Kind      string `json:"kind"`
	Migration struct {
		ID           string `json:"id"`
		CustomerName string `json:"customerName"`
		TenantID     string `json:"tenantId"`
	} `json:"migration"`
	Round          int                           `json:"round"`
	MappingVersion int                           `json:"mappingVersion"`
	Summary        *cutover.Counts               `json:"summary"`
	Workbook       *cutover.WorkbookSummary      `json:"workbook,omitempty"` // each entity's reconciliation status
	Review         map[string]cutover.ReviewMark `json:"review,omitempty"`   // what the customer reviewed or waived, with their notes
	Issues         *cutover.IssueSummary         `json:"issues,omitempty"`   // rejected rows by reason, warnings, orphans
	ExpiresAt      time.Time                     `json:"expiresAt"`
	State          string                        `json:"state"`
	DecidedAt      time.Time                     `json:"decidedAt,omitzero"`
	Comment        string                        `json:"comment,omitempty"`

	Mapping    []MappedFile          `json:"mapping,omitempty"`    // the mapping as approved, per file
	Inference  []entry.FileInference `json:"inference,omitempty"`  // the date formats and phone regions read from each file
	Notes      []entry.FileNotes     `json:"notes,omitempty"`      // how each file's records are identified, where it matters
	SpotChecks []SpotCheck           `json:"spotChecks,omitempty"` // with the customer's marks, waivers and their notes included
	Downloads  []Download            `json:"downloads,omitempty"`  // rejects and warnings files, short-lived links
	Duplicates *Duplicates           `json:"duplicates,omitempty"` // merges and possible duplicates
	Preflight  *PreflightView        `json:"preflight,omitempty"`  // a re-approval's differences
	Missing    []string              `json:"missing,omitempty"`    // what cannot be shown, and why
}

// open verifies a token and loads its request and migration.
func (s *Service) open(ctx context.Context, token string) (*Request, *cutover.Migration, error) {
	now := s.now()
	hash, err := s.Links.Verify(token, now)
	if err != nil {
		return nil, nil, err
	}
	r, err := s.Store.GetRequest(ctx, hash)
	if err != nil {
		if cutover.ErrorCode(err) == cutover.ENOTFOUND {
			return nil, nil, cutover.Errorf(cutover.ENOTFOUND, "This sign-off link is not valid. Use the link from the most recent email.")
		}
		return nil, nil, err
	}
	if !now.Before(r.ExpiresAt) {
		return nil, nil, cutover.Errorf(cutover.EGONE, "This sign-off link expired on %s.", r.ExpiresAt.Format(time.RFC1123))
	}
	m, err := s.Migrations.GetMigration(ctx, r.MigrationID)
	if err != nil {
		return nil, nil, err
	}
	if kindOf(r) == KindReapproval {
		// Once decided, the go-live moves on (scheduled, or back to the
		// final extract): the link still says how it was decided.
		if m.CurrentLink != hash || m.Round != r.Round || (r.State == StatePending && m.Status != cutover.StatusFinalHeld) {
			return nil, nil, cutover.Errorf(cutover.EGONE, "This re-approval link was superseded: the customer corrected the final extract, or a newer email replaced it. Use the link from the most recent email.")
		}
		return r, m, nil
	}
	if m.CurrentLink != hash || m.Round != r.Round || m.Status == cutover.StatusFinalHeld {
		return nil, nil, cutover.Errorf(cutover.EGONE, "This link is for round %d, which a later round has superseded. Use the link from the most recent email.", r.Round)
	}
	return r, m, nil
}

func view(r *Request, m *cutover.Migration) *View {
	v := &View{
		Kind: kindOf(r), Round: r.Round, MappingVersion: m.MappingVersion, Summary: m.Test, Workbook: m.Workbook, Review: m.Review,
		ExpiresAt: r.ExpiresAt, State: r.State, DecidedAt: r.DecidedAt, Comment: r.Comment,
	}
	v.Migration.ID, v.Migration.CustomerName, v.Migration.TenantID = m.ID, m.CustomerName, m.TenantID
	if m.Workbook != nil {
		v.Issues = m.Workbook.Issues
	}
	return v
}

// Show returns what a link asks the coordinator to approve: for a round's
// sign-off the mapping and the workbook's details, for a re-approval the
// pre-flight's differences. It changes nothing.
//
// Errors: ENOTFOUND for a forged or unknown link; EGONE for an expired or
// superseded one (a re-approval link also once the go-live is no longer
// held); EUNAVAILABLE when the workbook or report cannot be read;
// EINTERNAL for a stored mapping that cannot be read.
func (s *Service) Show(ctx context.Context, token string) (*View, error) {
	r, m, err := s.open(ctx, token)
	if err != nil {
		return nil, err
	}
	v := view(r, m)
	if kindOf(r) == KindReapproval {
		err = s.addPreflight(ctx, v, m)
	} else {
		err = s.addApproved(ctx, v, m)
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

// DecideInput is the coordinator's decision.
type DecideInput struct {
	Decision string `json:"decision"`
	Comment  string `json:"comment"`
}

// Decide records the coordinator's decision exactly once, freezes the
// mapping it approves (for a re-approval: the pre-flight fingerprint it
// lets go live), and only then resumes the state machine.
//
// Errors: EINVALID for an unknown decision or an over-long comment;
// ENOTFOUND, EGONE as Show (EGONE also when the customer withdrew a held
// extract while the decision was being recorded); ECONFLICT when the link
// was already used (the message says how and when); EUNAVAILABLE when the decision could not be
// recorded on the migration or the state machine could not be told
// (posting the same decision again, 30 seconds later, retries both: it
// records the decision if it is not yet recorded, then delivers it).
func (s *Service) Decide(ctx context.Context, token string, in DecideInput) (*View, error) {
	state := map[string]string{"approve": StateApproved, "reject": StateRejected}[in.Decision]
	if state == "" {
		return nil, cutover.Errorf(cutover.EINVALID, `decision must be "approve" or "reject".`)
	}
	in.Comment = strings.TrimSpace(in.Comment)
	if len(in.Comment) > cutover.MaxCommentBytes {
		return nil, cutover.Errorf(cutover.EINVALID, "The comment is limited to %d bytes.", cutover.MaxCommentBytes)
	}
	r, m, err := s.open(ctx, token)
	if err != nil {
		return nil, err
	}
	by := "coordinator:" + m.CoordinatorEmail
	now := s.now()
	// The same decision posted again re-delivers it, if delivering it failed:
	// only once the first attempt has surely ended, so a double click never
	// races the first request's delivery.
	retry := r.State == state && !r.Delivered && now.Sub(r.DecidedAt) >= redeliverAfter
	if r.State != StatePending && !retry {
		return nil, alreadyDecided(r)
	}
	if !retry {
		if err := s.Store.Decide(ctx, r.LinkHash, state, by, in.Comment, now); err != nil {
			if cutover.ErrorCode(err) == cutover.ECONFLICT {
				if cur, gerr := s.Store.GetRequest(ctx, r.LinkHash); gerr == nil {
					return nil, alreadyDecided(cur)
				}
			}
			return nil, err
		}
		r.State, r.DecidedAt, r.DecidedBy, r.Comment = state, now, by, in.Comment
	}
	// Recorded before delivered, on every path: a redelivery may follow a
	// first attempt whose recording failed, and recording is idempotent.
	record, out := s.recordDecision, map[string]any{"approved": state == StateApproved, "comment": r.Comment, "round": r.Round}
	if kindOf(r) == KindReapproval {
		record, out = s.recordReapproval, map[string]any{"approved": state == StateApproved}
	}
	if err := record(ctx, r, state == StateApproved); err != nil {
		return nil, err
	}
	if kindOf(r) == KindSignOff {
		// On every path, as recording: a redelivery raises the same event.
		s.announce(ctx, decidedEvent(m, r, state == StateApproved))
	}
	if err := s.Flow.Resume(ctx, r.TaskToken, out); err != nil {
		return nil, err
	}
	if err := s.Store.MarkDelivered(ctx, r.LinkHash); err != nil {
		return nil, err
	}
	return view(r, m), nil
}

// redeliverAfter is how long after a decision a repeated POST may deliver it
// again, when the state machine never heard of it.
const redeliverAfter = 30 * time.Second

func alreadyDecided(r *Request) error {
	return cutover.Errorf(cutover.ECONFLICT, "This sign-off was already %s on %s; a link decides once.", r.State, r.DecidedAt.UTC().Format(time.RFC1123))
}

// recordDecision writes the decision (and, for an approval, the frozen
// mapping) onto the migration and its audit trail, once: the migration
// names the link whose decision it holds, so recording the same decision
// again (a redelivery after a failed first attempt) changes nothing.
func (s *Service) recordDecision(ctx context.Context, r *Request, approved bool) error {
	_, err := s.saveWithRetry(ctx, r.MigrationID, func(m *cutover.Migration) (cutover.AuditEvent, error) {
		if m.DecidedLink == r.LinkHash {
			return cutover.AuditEvent{}, errRecorded
		}
		m.DecidedLink = r.LinkHash
		action := "signoff.rejected"
		if approved {
			action = "signoff.approved"
			m.SignOff = &cutover.SignOffRecord{
				Round: r.Round, MappingVersion: m.MappingVersion, MappingHash: m.MappingHash,
				DecidedBy: r.DecidedBy, DecidedAt: r.DecidedAt, Comment: r.Comment,
			}
			if m.Workbook != nil {
				m.SignOff.WorkbookKey, m.SignOff.WorkbookSeed = m.Workbook.Key, m.Workbook.Seed
			}
		}
		m.UpdatedAt = r.DecidedAt
		detail := fmt.Sprintf("round %d, mapping version %d (%.19s)", r.Round, m.MappingVersion, m.MappingHash)
		if m.Workbook != nil {
			detail += fmt.Sprintf(", workbook of round %d (seed %d)", m.Workbook.Round, m.Workbook.Seed)
		}
		if r.Comment != "" {
			detail += ": " + r.Comment
		}
		return cutover.AuditEvent{At: r.DecidedAt, Actor: r.DecidedBy, Action: action, Detail: detail}, nil
	})
	return err
}

// errRecorded tells saveWithRetry that the migration already holds the
// change: there is nothing to save.
var errRecorded = errors.New("already recorded")

// saveWithRetry applies fn to the migration and saves it with the audit
// event fn returns, retrying when a concurrent save wins. When fn answers
// errRecorded, nothing is saved and the migration is returned as it is.
func (s *Service) saveWithRetry(ctx context.Context, id string, fn func(*cutover.Migration) (cutover.AuditEvent, error)) (*cutover.Migration, error) {
	for attempt := 0; attempt < 5; attempt++ {
		m, err := s.Migrations.GetMigration(ctx, id)
		if err != nil {
			return nil, err
		}
		ev, err := fn(m)
		if err == errRecorded {
			return m, nil
		}
		if err != nil {
			return nil, err
		}
		err = s.Migrations.SaveMigration(ctx, m, ev)
		if cutover.ErrorCode(err) != cutover.ECONFLICT {
			return m, err
		}
	}
	return nil, cutover.Errorf(cutover.EUNAVAILABLE, "The migration is busy; try again.")
}
