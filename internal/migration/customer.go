package migration

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

func (s *Core) link(page, id, key string) string {
	return strings.TrimRight(s.cfg.SiteURL, "/") + "/" + page + "#m=" + id + "&k=" + key
}

// Part is one uploaded part, as the browser reports it.
type Part struct {
	PartNumber int    `json:"partNumber"`
	ETag       string `json:"etag"`
}

// UploadInput describes a file the customer is about to upload.
type UploadInput struct {
	FileName    string `json:"fileName"`
	Size        int64  `json:"size"`
	ContentType string `json:"contentType"`
	Purpose     string `json:"purpose"`
}

// UploadPlan tells the browser where to send each part.
type UploadPlan struct {
	FileID   string        `json:"fileId"`
	UploadID string        `json:"uploadId"`
	Key      string        `json:"key"`
	PartSize int64         `json:"partSize"`
	Parts    []PartURL     `json:"parts"`
	Expires  time.Duration `json:"-"`
}

// PartURL is where one part goes.
type PartURL struct {
	PartNumber int    `json:"partNumber"`
	URL        string `json:"url"`
}

// Upload limits.
const (
	MinPartSize   = 8 << 20
	MaxParts      = 10000
	MaxUploadSize = 5 << 40 // S3's object limit
	presignTTL    = 6 * time.Hour
)

var unsafeName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^A-Za-z0-9._-]+`) }) // compiled on first use: a cold start of a function that never needs it should not pay for it

// StartUpload plans a presigned multipart upload of one file.
//
// Errors: EINVALID for a missing name, a size out of range or an unknown
// purpose; ECONFLICT when the migration is not accepting that kind of file
// now (the message says what it is waiting for); EUNAVAILABLE from storage.
func (s *Customer) StartUpload(ctx context.Context, m *cutover.Migration, in UploadInput) (*UploadPlan, error) {
	name, err := checkFileName(in.FileName)
	if err != nil {
		return nil, err
	}
	if in.Size <= 0 || in.Size > MaxUploadSize {
		return nil, cutover.Errorf(cutover.EINVALID, "size must be between 1 byte and 5 TiB.")
	}
	ct := in.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	if err := cutover.CheckContentType(ct); err != nil {
		return nil, err
	}
	round, err := UploadRound(m, in.Purpose)
	if err != nil {
		return nil, err
	}
	if err := roomFor(m, in.Purpose, round); err != nil {
		return nil, err
	}
	partSize, parts := partsOf(in.Size)
	fileID := cutover.NewID("f-")
	key := fmt.Sprintf("migrations/%s/%s/%s", m.ID, fileID, unsafeName().ReplaceAllString(name, "_"))
	uploadID, err := s.uploads.Begin(ctx, key, ct)
	if err != nil {
		return nil, err
	}
	// The first parts' URLs come with the plan; the browser asks for the
	// rest as it goes (SignParts), which keeps the answer small for a file
	// of thousands of parts.
	numbers := make([]int, min(parts, PlanSignedParts))
	for i := range numbers {
		numbers[i] = i + 1
	}
	urls, err := s.uploads.PresignParts(ctx, key, uploadID, numbers, presignTTL)
	if err != nil {
		return nil, err
	}
	file := cutover.File{ID: fileID, Name: name, Key: key, UploadID: uploadID, Size: in.Size, Purpose: in.Purpose, Round: round, StartedAt: s.Now()}
	if _, err := s.Update(ctx, m.ID, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		if _, err := UploadRound(cur, in.Purpose); err != nil {
			return nil, err
		}
		if err := roomFor(cur, in.Purpose, round); err != nil {
			return nil, err
		}
		cur.Files = append(cur.Files, file)
		return nil, nil
	}); err != nil {
		return nil, err
	}
	plan := &UploadPlan{FileID: fileID, UploadID: uploadID, Key: key, PartSize: partSize, Expires: presignTTL}
	for i, u := range urls {
		plan.Parts = append(plan.Parts, PartURL{PartNumber: i + 1, URL: u})
	}
	return plan, nil
}

// checkFileName returns the name an upload is stored under: the name the
// browser sent, trimmed. A browser sends a bare file name; anything that
// could be read as a path ("..", "a/b", "C:\\x") or hide what it is
// (control, bidirectional and zero-width characters) is refused, not
// rewritten, so the name shown everywhere is the one the customer chose.
//
// Errors: EINVALID saying what is wrong with the name.
func checkFileName(raw string) (string, error) {
	name := strings.TrimSpace(raw)
	if err := cutover.CheckName("fileName", name, cutover.MaxFileNameBytes); err != nil {
		return "", err
	}
	if strings.ContainsAny(name, "/\\") {
		return "", cutover.Errorf(cutover.EINVALID, "fileName must be a file's name, without a folder: %q has a path separator.", name)
	}
	if strings.Trim(name, ".") == "" {
		return "", cutover.Errorf(cutover.EINVALID, "fileName %q is not a file's name.", name)
	}
	return name, nil
}

// roomFor refuses another file when the round already has
// MaxUploadsPerRound of that purpose, or the migration MaxUploads in all:
// each file is stored on the migration, which has a size limit. Removing a
// file makes room.
func roomFor(m *cutover.Migration, purpose string, round int) error {
	if len(m.Files) >= cutover.MaxUploads {
		return cutover.Errorf(cutover.EINVALID, "This migration already has %d files, the most it can hold; remove files you no longer need first.", cutover.MaxUploads)
	}
	n := 0
	for _, f := range m.Files {
		if f.Purpose == purpose && f.Round == round {
			n++
		}
	}
	if n >= cutover.MaxUploadsPerRound {
		return cutover.Errorf(cutover.EINVALID, "This round already has %d %s files, the most one round takes; remove one first, or combine exports.", cutover.MaxUploadsPerRound, purpose)
	}
	return nil
}

// partsOf is how a file of size bytes is cut into parts: at least
// MinPartSize each, and no more than MaxParts of them. The browser can work
// it out from the size alone.
func partsOf(size int64) (partSize int64, parts int) {
	partSize = int64(MinPartSize)
	if need := (size + MaxParts - 1) / MaxParts; need > partSize {
		partSize = need
	}
	return partSize, int((size + partSize - 1) / partSize)
}

// PlanSignedParts is how many parts' URLs an upload plan carries.
const PlanSignedParts = 100

// maxSignParts bounds the part URLs one request may ask for again.
const maxSignParts = 1000

// SignParts presigns fresh upload URLs for parts of an upload that is not
// complete, for example after a pause longer than the first URLs last.
//
// Errors: ENOTFOUND for an unknown file; ECONFLICT when it is complete or
// its round no longer takes uploads; EINVALID for no part numbers, too
// many, or one out of the file's range; EINTERNAL when presigning fails.
func (s *Customer) SignParts(ctx context.Context, m *cutover.Migration, fileID string, numbers []int) ([]PartURL, error) {
	f, err := openUpload(m, fileID)
	if err != nil {
		return nil, err
	}
	_, parts := partsOf(f.Size)
	if len(numbers) == 0 || len(numbers) > maxSignParts {
		return nil, cutover.Errorf(cutover.EINVALID, "partNumbers must list between 1 and %d parts.", maxSignParts)
	}
	for _, n := range numbers {
		if n < 1 || n > parts {
			return nil, cutover.Errorf(cutover.EINVALID, "Part %d is not a part of %s, which has parts 1 to %d.", n, f.Name, parts)
		}
	}
	urls, err := s.uploads.PresignParts(ctx, f.Key, f.UploadID, numbers, presignTTL)
	if err != nil {
		return nil, err
	}
	out := make([]PartURL, len(urls))
	for i, u := range urls {
		out[i] = PartURL{PartNumber: numbers[i], URL: u}
	}
	return out, nil
}

// UploadRound says which round a file of that purpose would belong to now.
//
// Errors: ECONFLICT when the migration takes no file of that purpose now,
// saying why; EINVALID for an unknown purpose.
func UploadRound(m *cutover.Migration, purpose string) (int, error) {
	switch purpose {
	case cutover.PurposeTest:
		if err := Revisable(m, "The test extract"); err != nil {
			return 0, err
		}
		return m.Round + 1, nil
	case cutover.PurposeFinal:
		if m.Status == cutover.StatusAwaitingFinal {
			return m.Round, nil
		}
		return 0, cutover.Errorf(cutover.ECONFLICT, "The final extract is accepted only after sign-off; the migration is %s.", m.Status)
	default:
		return 0, cutover.Errorf(cutover.EINVALID, "purpose must be %q or %q.", cutover.PurposeTest, cutover.PurposeFinal)
	}
}

// RemoveUpload discards a file of the round the customer is preparing:
// an unfinished upload is aborted, a finished (or refused) file deleted,
// and it leaves the migration's file list. Files of a submitted round are
// what that round runs on, and stay.
//
// Errors: ENOTFOUND for an unknown file; ECONFLICT when its round was
// submitted (or the final extract was confirmed); whatever the Store
// returns. A storage failure to discard the object is logged, not
// returned: the file is already out of the migration.
func (s *Customer) RemoveUpload(ctx context.Context, m *cutover.Migration, fileID string) (*cutover.File, error) {
	f := m.FileByID(fileID)
	if f == nil {
		return nil, cutover.Errorf(cutover.ENOTFOUND, "No upload %q in this migration.", fileID)
	}
	if err := removable(m, *f); err != nil {
		return nil, err
	}
	// The file leaves the list first, under the version check, so a round
	// submitted meanwhile keeps its file; only then is the object discarded.
	removed := *f
	_, err := s.Update(ctx, m.ID, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		i := slices.IndexFunc(cur.Files, func(cf cutover.File) bool { return cf.ID == fileID })
		if i < 0 {
			return nil, nil // removed meanwhile: the same outcome
		}
		if err := removable(cur, cur.Files[i]); err != nil {
			return nil, err
		}
		removed = cur.Files[i]
		cur.Files = slices.Delete(cur.Files, i, i+1)
		return []cutover.AuditEvent{s.Event("customer", "file.removed", fmt.Sprintf("%s (%s, round %d)", removed.Name, removed.Purpose, removed.Round))}, nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.uploads.Remove(ctx, removed.Key, removed.UploadID); err != nil {
		// Nothing reads an object that no file names; an unfinished
		// upload's parts go with the bucket's lifecycle rule.
		slog.WarnContext(ctx, "removed upload not discarded", "migration", m.ID, "file", fileID, "code", cutover.ErrorCode(err), "message", cutover.ErrorMessage(err))
	}
	return &removed, nil
}

// removable says whether f belongs to the round the customer is still
// preparing.
func removable(m *cutover.Migration, f cutover.File) error {
	if round, err := UploadRound(m, f.Purpose); err != nil || round != f.Round {
		return cutover.Errorf(cutover.ECONFLICT, "%s belongs to a round that was already submitted; it cannot be removed now.", f.Name)
	}
	return nil
}

// StepInput is the state machine's input to every step: which migration and
// which round (and, in the execution's input, how long sign-off may wait).
type StepInput struct {
	MigrationID            string   `json:"migrationId"`
	Round                  int      `json:"round"`
	SignOffTimeoutSeconds  int      `json:"signOffTimeoutSeconds,omitempty"`
	SignOffReminderSeconds int      `json:"signOffReminderSeconds,omitempty"`
	SignOff                struct{} `json:"signOff"` // the sign-off clock starts empty
}

// ID returns the migration id, for logs and failure records.
func (in StepInput) ID() string { return in.MigrationID }

// ExecutionName is the deterministic name of the execution that runs a
// migration from a round: starting it twice is refused by Step Functions.
func ExecutionName(id string, round int) string { return fmt.Sprintf("%s-r%d", id, round) }

// Submit sends the test extract for a round: the first submit starts the
// state machine; after a rejected sign-off it resumes it for the next round;
// during the workbook's review (or after a sign-off request expired) it
// runs the test migration again on the revised mapping or corrected
// extract (see rerun).
//
// Errors: ECONFLICT when the migration is not waiting for a submit (once
// sign-off is requested the message says so), the round has no uploaded
// test extract, or a rerun has nothing new to run; EUNAVAILABLE from Step
// Functions.
func (s *Customer) Submit(ctx context.Context, m *cutover.Migration) (*cutover.Migration, error) {
	next := m.Round + 1
	switch m.Status {
	case cutover.StatusCreated, cutover.StatusSubmitted:
		if m.Status == cutover.StatusSubmitted {
			next = m.Round // a retried submit restarts the same, idempotent execution
		}
	case cutover.StatusAwaitingRevision:
	case cutover.StatusAwaitingReview, cutover.StatusSignOffExpired:
		return s.rerun(ctx, m)
	case cutover.StatusSignOffRequested, cutover.StatusAwaitingSignOff:
		return nil, Revisable(m, "The test migration")
	default:
		return nil, cutover.Errorf(cutover.ECONFLICT, "Nothing to submit: the migration is %s.", m.Status)
	}
	if len(m.TestFiles(next)) == 0 {
		return nil, cutover.Errorf(cutover.ECONFLICT, "Upload the test extract before submitting.")
	}
	revision := m.Status == cutover.StatusAwaitingRevision
	if revision && (m.Pending == nil || m.Pending.Kind != cutover.TaskRevision) {
		return nil, cutover.Errorf(cutover.ECONFLICT, "The migration is not ready for a revision yet; try again in a moment.")
	}
	name := ExecutionName(m.ID, next)
	if revision || m.Status == cutover.StatusSubmitted {
		name = m.ExecutionName // the same execution carries on, or is started again idempotently
	}
	in := s.executionInput(m.ID, next, name)
	apply := func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		if cur.Status != m.Status || cur.Round != m.Round {
			return nil, cutover.Errorf(cutover.ECONFLICT, "The migration changed to %s meanwhile; reload.", cur.Status)
		}
		cur.Status, cur.Round, cur.Failure, cur.ExecutionName = cutover.StatusSubmitted, next, nil, name
		return []cutover.AuditEvent{s.Event("customer", "round.submitted", fmt.Sprintf("round %d", next))}, nil
	}
	if revision {
		return s.HandOver(ctx, s.flow, m, in, apply)
	}
	updated, err := s.Update(ctx, m.ID, apply)
	if err != nil {
		return nil, err
	}
	if err := s.flow.Start(ctx, name, in); err != nil {
		return nil, err // the status stays submitted: submitting again retries the same execution
	}
	return updated, nil
}

// HandOver records someone's action (apply), then resumes through flow the
// task the migration is parked on. The order matters: the state machine's
// next step must find the action recorded. If the task cannot be resumed,
// the record is put back as it was so the action can be tried again.
//
// Errors: whatever apply returns; the Store's; the flow's (EGONE when the
// task no longer waits, EUNAVAILABLE), after the record is put back.
func (s *Core) HandOver(ctx context.Context, flow Flow, m *cutover.Migration, output any, apply func(*cutover.Migration) ([]cutover.AuditEvent, error)) (*cutover.Migration, error) {
	token := m.Pending.Token
	updated, err := s.Update(ctx, m.ID, apply)
	if err != nil {
		return nil, err
	}
	if err := flow.Resume(ctx, token, output); err != nil {
		if _, rerr := s.Update(ctx, m.ID, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
			if cur.Version != updated.Version {
				return nil, nil // the state machine moved on; leave its record alone
			}
			restored := *m
			restored.Version, restored.UpdatedAt = cur.Version, cur.UpdatedAt
			*cur = restored
			return []cutover.AuditEvent{s.Event(System, "handover.undone", cutover.ErrorMessage(err))}, nil
		}); rerr != nil {
			slog.WarnContext(ctx, "hand-over not undone", "migration", m.ID, "code", cutover.ErrorCode(rerr))
		}
		return nil, err
	}
	return updated, nil
}

// RefuseIfLive refuses when another migration already took the tenant live.
//
// Errors: ECONFLICT saying which migration went live and why a second
// final migration is refused; the Store's.
func (s *Core) RefuseIfLive(ctx context.Context, m *cutover.Migration) error {
	lock, err := s.store.GetTenantLock(ctx, m.TenantID)
	if err != nil {
		return err
	}
	if lock != nil && lock.MigrationID != m.ID {
		return s.AlreadyLive(ctx, lock)
	}
	return nil
}

// AlreadyLive is the refusal of a second final migration for a tenant: when
// the first went live (or, while it runs, when it started) and why there
// cannot be a second. It always returns that ECONFLICT error.
func (s *Core) AlreadyLive(ctx context.Context, lock *cutover.TenantLock) error {
	when := "started its final migration on " + lock.TakenAt.UTC().Format(time.RFC3339)
	if holder, err := s.store.GetMigration(ctx, lock.MigrationID); err == nil && !holder.WentLiveAt.IsZero() {
		when = "went live on " + holder.WentLiveAt.UTC().Format(time.RFC3339)
	}
	return cutover.Errorf(cutover.ECONFLICT,
		"Tenant %s already went live: migration %s %s. Its live data comes from that one final migration, and live records are never overwritten or deleted; a second final migration would duplicate every record, so it is refused.",
		lock.TenantID, lock.MigrationID, when)
}

// Authorize returns the migration a customer key opens.
//
// Errors: EUNAUTHORIZED when no key is given; ENOTFOUND when the migration
// does not exist; EFORBIDDEN when the key is not this migration's.
func (s *Customer) Authorize(ctx context.Context, id, key string) (*cutover.Migration, error) {
	if key == "" {
		return nil, cutover.Errorf(cutover.EUNAUTHORIZED, "This request needs the key from your invite link.")
	}
	m, err := s.store.GetMigration(ctx, id)
	if err != nil {
		return nil, err
	}
	if !cutover.SecretMatches(key, m.KeyHash) {
		return nil, cutover.Errorf(cutover.EFORBIDDEN, "This key does not open this migration.")
	}
	return m, nil
}
