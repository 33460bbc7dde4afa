package migration

import (
	"context"
	"fmt"
	"log/slog"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

// CreateInput is what ops give to start a migration.
type CreateInput struct {
	TenantID         string `json:"tenantId"`
	CustomerName     string `json:"customerName"`
	CustomerEmail    string `json:"customerEmail"`
	CoordinatorEmail string `json:"coordinatorEmail"`
	Market           string `json:"market"` // ISO 3166-1 alpha-2, optional; the customer can change it
}

// Created is a new migration (or a re-issued invite) with the customer's
// key, which is shown once and stored only as a hash. InviteMailed says
// whether the invite mail went out.
type Created struct {
	Migration    *cutover.Migration `json:"migration"`
	CustomerKey  string             `json:"customerKey"`
	InviteURL    string             `json:"inviteUrl"`
	InviteMailed bool               `json:"inviteMailed"`
}

var tenantPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}$`)

// Create starts a migration for a customer and mails them the invite link.
//
// Errors: EINVALID when a field is missing or malformed, the market
// included (the message names it); whatever the Store returns. A mail that cannot be sent does not fail
// the creation: InviteMailed says so, and the outbox shows it.
func (s *Service) Create(ctx context.Context, actor string, in CreateInput) (*Created, error) {
	in.TenantID = strings.TrimSpace(in.TenantID)
	in.CustomerName = strings.TrimSpace(in.CustomerName)
	if !tenantPattern.MatchString(in.TenantID) {
		return nil, cutover.Errorf(cutover.EINVALID, "tenantId must be 2-63 lowercase letters, digits or dashes.")
	}
	if err := cutover.CheckName("customerName", in.CustomerName, cutover.MaxCustomerNameBytes); err != nil {
		return nil, err
	}
	for _, e := range []struct{ name, v string }{{"customerEmail", in.CustomerEmail}, {"coordinatorEmail", in.CoordinatorEmail}} {
		if len(e.v) > cutover.MaxEmailBytes {
			return nil, cutover.Errorf(cutover.EINVALID, "%s is longer than an email address can be (%d bytes).", e.name, cutover.MaxEmailBytes)
		}
		if a, err := mail.ParseAddress(e.v); err != nil || a.Address != e.v || strings.ContainsAny(e.v, "<> ") || cutover.CheckName(e.name, e.v, cutover.MaxEmailBytes) != nil {
			return nil, cutover.Errorf(cutover.EINVALID, "%s must be an email address.", e.name)
		}
	}
	in.Market = strings.ToUpper(strings.TrimSpace(in.Market))
	if err := cutover.CheckMarket(in.Market); err != nil {
		return nil, err
	}
	key := cutover.NewSecret(32)
	now := s.now()
	m := &cutover.Migration{
		ID:               cutover.NewID("m-"),
		TenantID:         in.TenantID,
		CustomerName:     in.CustomerName,
		CustomerEmail:    in.CustomerEmail,
		CoordinatorEmail: in.CoordinatorEmail,
		Market:           in.Market,
		KeyHash:          cutover.HashSecret(key),
		Status:           cutover.StatusCreated,
		Files:            []cutover.File{},
		Invites:          1,
		InvitedAt:        now,
		CreatedAt:        now,
		UpdatedAt:        now,
	}
	if err := s.Store.CreateMigration(ctx, m, s.event(actor, "migration.created", "tenant "+m.TenantID)); err != nil {
		return nil, err
	}
	mailed := s.mailInvite(ctx, m, key, 1)
	return &Created{Migration: m, CustomerKey: key, InviteURL: s.link("upload.html", m.ID, key), InviteMailed: mailed}, nil
}

func (s *Service) link(page, id, key string) string {
	return strings.TrimRight(s.SiteURL, "/") + "/" + page + "#m=" + id + "&k=" + key
}

// Uploads is the object store's multipart upload, with presigned parts so
// browsers send the bytes straight to storage.
type Uploads interface {
	// Begin starts a multipart upload and returns its id.
	Begin(ctx context.Context, key, contentType string) (string, error)
	// PresignParts returns a presigned PUT URL for each part number.
	// Errors: EINTERNAL when signing fails.
	PresignParts(ctx context.Context, key, uploadID string, numbers []int, ttl time.Duration) ([]string, error)
	// Complete assembles the parts and returns the object's size.
	// Errors: EINVALID when a part or ETag is wrong or missing.
	Complete(ctx context.Context, key, uploadID string, parts []Part) (int64, error)
	// Remove discards an upload: it aborts the multipart upload uploadID
	// when it is not "", and deletes the object key. Removing what is
	// already gone is not an error.
	// Errors: EUNAVAILABLE from storage.
	Remove(ctx context.Context, key, uploadID string) error
	// ListParts returns the parts storage holds for an unfinished upload,
	// by part number. Errors: EGONE when the upload no longer exists;
	// EUNAVAILABLE from storage.
	ListParts(ctx context.Context, key, uploadID string) ([]StoredPart, error)
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

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// StartUpload plans a presigned multipart upload of one file.
//
// Errors: EINVALID for a missing name, a size out of range or an unknown
// purpose; ECONFLICT when the migration is not accepting that kind of file
// now (the message says what it is waiting for); EUNAVAILABLE from storage.
func (s *Service) StartUpload(ctx context.Context, m *cutover.Migration, in UploadInput) (*UploadPlan, error) {
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
	round, err := uploadRound(m, in.Purpose)
	if err != nil {
		return nil, err
	}
	if err := roomFor(m, in.Purpose, round); err != nil {
		return nil, err
	}
	partSize, parts := partsOf(in.Size)
	fileID := cutover.NewID("f-")
	key := fmt.Sprintf("migrations/%s/%s/%s", m.ID, fileID, unsafeName.ReplaceAllString(name, "_"))
	uploadID, err := s.Uploads.Begin(ctx, key, ct)
	if err != nil {
		return nil, err
	}
	// The first parts' URLs come with the plan; the browser asks for the
	// rest as it goes (SignParts), which keeps the answer small for a file
	// of thousands of parts.
	numbers := make([]int, min(parts, planSignedParts))
	for i := range numbers {
		numbers[i] = i + 1
	}
	urls, err := s.Uploads.PresignParts(ctx, key, uploadID, numbers, presignTTL)
	if err != nil {
		return nil, err
	}
	file := cutover.File{ID: fileID, Name: name, Key: key, UploadID: uploadID, Size: in.Size, Purpose: in.Purpose, Round: round, StartedAt: s.now()}
	if _, err := s.update(ctx, m.ID, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		if _, err := uploadRound(cur, in.Purpose); err != nil {
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

// planSignedParts is how many parts' URLs an upload plan carries.
const planSignedParts = 100

// maxSignParts bounds the part URLs one request may ask for again.
const maxSignParts = 1000

// SignParts presigns fresh upload URLs for parts of an upload that is not
// complete, for example after a pause longer than the first URLs last.
//
// Errors: ENOTFOUND for an unknown file; ECONFLICT when it is complete or
// its round no longer takes uploads; EINVALID for no part numbers, too
// many, or one out of the file's range; EINTERNAL when presigning fails.
func (s *Service) SignParts(ctx context.Context, m *cutover.Migration, fileID string, numbers []int) ([]PartURL, error) {
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
	urls, err := s.Uploads.PresignParts(ctx, f.Key, f.UploadID, numbers, presignTTL)
	if err != nil {
		return nil, err
	}
	out := make([]PartURL, len(urls))
	for i, u := range urls {
		out[i] = PartURL{PartNumber: numbers[i], URL: u}
	}
	return out, nil
}

// uploadRound says which round a file of that purpose would belong to now.
func uploadRound(m *cutover.Migration, purpose string) (int, error) {
	switch purpose {
	case cutover.PurposeTest:
		if err := revisable(m, "The test extract"); err != nil {
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

// CompleteUpload assembles an uploaded file from its parts.
//
// The assembled file's first KiB (and a zip's directory) is checked with
// the reader's own detection; a file the engine cannot read is refused,
// recorded with why (File.Refused), and its object deleted.
//
// Errors: ENOTFOUND for an unknown file; EINVALID for a bad parts list, or
// a file that is not an export cutover reads (the message names the file
// and what it is); ECONFLICT when it is already complete; EUNAVAILABLE
// from storage.
func (s *Service) CompleteUpload(ctx context.Context, m *cutover.Migration, fileID string, parts []Part) (*cutover.File, error) {
	f := m.FileByID(fileID)
	if f == nil {
		return nil, cutover.Errorf(cutover.ENOTFOUND, "No upload %q in this migration.", fileID)
	}
	if f.Complete {
		return nil, cutover.Errorf(cutover.ECONFLICT, "File %q is already complete.", f.Name)
	}
	if f.Refused != "" {
		// A retried completion gets the same answer as the first.
		return nil, cutover.Errorf(cutover.EINVALID, "%s", f.Refused)
	}
	if len(parts) == 0 || len(parts) > MaxParts {
		return nil, cutover.Errorf(cutover.EINVALID, "parts must list every uploaded part with its ETag.")
	}
	for i, p := range parts {
		if p.PartNumber != i+1 || strings.TrimSpace(p.ETag) == "" {
			return nil, cutover.Errorf(cutover.EINVALID, "parts must be numbered 1..%d in order, each with its ETag.", len(parts))
		}
	}
	size, err := s.Uploads.Complete(ctx, f.Key, f.UploadID, parts)
	if err != nil {
		return nil, err
	}
	refusal, err := s.checkReadable(ctx, *f, size)
	if err != nil {
		return nil, err
	}
	if refusal != nil {
		return nil, s.refuse(ctx, m, *f, refusal)
	}
	var done cutover.File
	_, err = s.update(ctx, m.ID, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		cf := cur.FileByID(fileID)
		if cf == nil {
			return nil, cutover.Errorf(cutover.ENOTFOUND, "No upload %q in this migration.", fileID)
		}
		cf.Complete, cf.CompletedAt, cf.Size, cf.UploadID = true, s.now(), size, ""
		done = *cf
		return []cutover.AuditEvent{s.event("customer", "file.uploaded", fmt.Sprintf("%s (%s, %d bytes, round %d)", cf.Name, cf.Purpose, size, cf.Round))}, nil
	})
	if err != nil {
		return nil, err
	}
	return &done, nil
}

// refuse records that an uploaded file cannot be migrated, with why, and
// deletes the stored object: nothing reads it again, and a customer's
// stray PDF should not outlive the answer. It returns the refusal.
func (s *Service) refuse(ctx context.Context, m *cutover.Migration, f cutover.File, refusal error) error {
	if err := s.Uploads.Remove(ctx, f.Key, ""); err != nil {
		// The refusal stands without the deletion; the object is only
		// garbage, so this is logged rather than shown.
		slog.WarnContext(ctx, "refused upload not deleted", "migration", m.ID, "file", f.ID, "code", cutover.ErrorCode(err), "message", cutover.ErrorMessage(err))
	}
	reason := cutover.ErrorMessage(refusal)
	_, err := s.update(ctx, m.ID, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		cf := cur.FileByID(f.ID)
		if cf == nil {
			return nil, cutover.Errorf(cutover.ENOTFOUND, "No upload %q in this migration.", f.ID)
		}
		cf.Complete, cf.UploadID, cf.Refused = false, "", cutover.Clip(reason, cutover.MaxReasonBytes)
		return []cutover.AuditEvent{s.event("customer", "file.refused", fmt.Sprintf("%s (round %d): %s", cf.Name, cf.Round, cutover.Clip(reason, cutover.MaxReasonBytes)))}, nil
	})
	if err != nil {
		return err
	}
	return refusal
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
func (s *Service) RemoveUpload(ctx context.Context, m *cutover.Migration, fileID string) (*cutover.File, error) {
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
	_, err := s.update(ctx, m.ID, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		i := slices.IndexFunc(cur.Files, func(cf cutover.File) bool { return cf.ID == fileID })
		if i < 0 {
			return nil, nil // removed meanwhile: the same outcome
		}
		if err := removable(cur, cur.Files[i]); err != nil {
			return nil, err
		}
		removed = cur.Files[i]
		cur.Files = slices.Delete(cur.Files, i, i+1)
		return []cutover.AuditEvent{s.event("customer", "file.removed", fmt.Sprintf("%s (%s, round %d)", removed.Name, removed.Purpose, removed.Round))}, nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.Uploads.Remove(ctx, removed.Key, removed.UploadID); err != nil {
		// Nothing reads an object that no file names; an unfinished
		// upload's parts go with the bucket's lifecycle rule.
		slog.WarnContext(ctx, "removed upload not discarded", "migration", m.ID, "file", fileID, "code", cutover.ErrorCode(err), "message", cutover.ErrorMessage(err))
	}
	return &removed, nil
}

// removable says whether f belongs to the round the customer is still
// preparing.
func removable(m *cutover.Migration, f cutover.File) error {
	if round, err := uploadRound(m, f.Purpose); err != nil || round != f.Round {
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
func (s *Service) Submit(ctx context.Context, m *cutover.Migration) (*cutover.Migration, error) {
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
		return nil, revisable(m, "The test migration")
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
		return []cutover.AuditEvent{s.event("customer", "round.submitted", fmt.Sprintf("round %d", next))}, nil
	}
	if revision {
		return s.handOver(ctx, m, in, apply)
	}
	updated, err := s.update(ctx, m.ID, apply)
	if err != nil {
		return nil, err
	}
	if err := s.Flow.Start(ctx, name, in); err != nil {
		return nil, err // the status stays submitted: submitting again retries the same execution
	}
	return updated, nil
}

// handOver records the customer's action, then resumes the task the
// migration is parked on. The order matters: the state machine's next step
// must find the action recorded. If the task cannot be resumed, the record
// is put back as it was so the customer can try again.
func (s *Service) handOver(ctx context.Context, m *cutover.Migration, output any, apply func(*cutover.Migration) ([]cutover.AuditEvent, error)) (*cutover.Migration, error) {
	token := m.Pending.Token
	updated, err := s.update(ctx, m.ID, apply)
	if err != nil {
		return nil, err
	}
	if err := s.Flow.Resume(ctx, token, output); err != nil {
		if _, rerr := s.update(ctx, m.ID, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
			if cur.Version != updated.Version {
				return nil, nil // the state machine moved on; leave its record alone
			}
			restored := *m
			restored.Version, restored.UpdatedAt = cur.Version, cur.UpdatedAt
			*cur = restored
			return []cutover.AuditEvent{s.event(system, "handover.undone", cutover.ErrorMessage(err))}, nil
		}); rerr != nil {
			slog.WarnContext(ctx, "hand-over not undone", "migration", m.ID, "code", cutover.ErrorCode(rerr))
		}
		return nil, err
	}
	return updated, nil
}

// FinalInput is the customer's go-live request.
type FinalInput struct {
	GoLiveAt string   `json:"goLiveAt"`
	FileIDs  []string `json:"fileIds"`
	TimeZone string   `json:"timeZone"` // the browser's IANA zone, for the mails' times; optional
	// Matches are the customer's confirmation (or correction) of which
	// signed-off file each final table replaces (GET final/matches shows
	// the proposal); a table not named keeps its match by identity.
	Matches []MatchChoice `json:"matches"`
}

// How far ahead go-live may be picked.
const maxGoLiveAhead = 90 * 24 * time.Hour

// SubmitFinal supplies the final extract (or confirms the signed-off test
// extract is final, with no file ids) and the go-live time.
//
// Each final table is matched to its signed-off entry by identity (see
// MatchFinal) with the customer's confirmations applied, and the matches
// are stored: every final step reads the extract with them.
//
// Errors: EINVALID for a malformed or out-of-range time, an unknown time
// zone, or an unknown or incomplete file, or a table that matches no
// signed-off entry or two (the message names the file and the candidates)
// or a match the customer chose that cannot be; ECONFLICT when the migration is not awaiting its final
// extract, or the tenant is already live (the message says when and why a
// second final migration is refused); EUNAVAILABLE from Step Functions.
func (s *Service) SubmitFinal(ctx context.Context, m *cutover.Migration, in FinalInput) (*cutover.Migration, error) {
	if m.Status != cutover.StatusAwaitingFinal || m.Pending == nil || m.Pending.Kind != cutover.TaskFinal {
		return nil, cutover.Errorf(cutover.ECONFLICT, "The final extract is accepted only after sign-off; the migration is %s.", m.Status)
	}
	at, err := time.Parse(time.RFC3339, in.GoLiveAt)
	if err != nil {
		return nil, cutover.Errorf(cutover.EINVALID, "goLiveAt must be an RFC 3339 time such as 2026-12-01T09:00:00Z.")
	}
	now := s.now()
	if at.Before(now.Add(-time.Minute)) || at.After(now.Add(maxGoLiveAhead)) {
		return nil, cutover.Errorf(cutover.EINVALID, "goLiveAt must be between now and 90 days ahead.")
	}
	zone, err := checkZone(in.TimeZone)
	if err != nil {
		return nil, err
	}
	if len(in.FileIDs) > cutover.MaxUploadsPerRound {
		return nil, cutover.Errorf(cutover.EINVALID, "fileIds may name at most %d files.", cutover.MaxUploadsPerRound)
	}
	for i, id := range in.FileIDs {
		if slices.Contains(in.FileIDs[:i], id) {
			return nil, cutover.Errorf(cutover.EINVALID, "fileIds names %q twice.", id)
		}
		f := m.FileByID(id)
		if f == nil || f.Purpose != cutover.PurposeFinal || !f.Complete {
			return nil, cutover.Errorf(cutover.EINVALID, "File %q is not a completed final-extract upload.", id)
		}
	}
	if err := s.refuseIfLive(ctx, m); err != nil {
		return nil, err
	}
	spec, err := signedOffSpec(m)
	if err != nil {
		return nil, err
	}
	view, err := s.matchView(ctx, m, spec, in.FileIDs)
	if err != nil {
		return nil, err
	}
	matches, err := confirmMatches(view, in.Matches)
	if err != nil {
		return nil, err
	}
	at = at.UTC()
	detail := "the signed-off test extract is final"
	if len(in.FileIDs) > 0 {
		detail = fmt.Sprintf("%d final file(s)", len(in.FileIDs))
	}
	output := map[string]any{"goLiveAt": at.Format(time.RFC3339), "fileIds": in.FileIDs}
	updated, err := s.handOver(ctx, m, output, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		if cur.Status != cutover.StatusAwaitingFinal {
			return nil, cutover.Errorf(cutover.ECONFLICT, "The migration changed to %s meanwhile; reload.", cur.Status)
		}
		cur.Status, cur.GoLiveAt, cur.FinalFileIDs = cutover.StatusScheduled, at, in.FileIDs
		cur.FinalMatches, cur.Preflight = storedMatches(matches), nil // a new extract: its pre-flight runs next
		if zone != "" {
			cur.TimeZone = zone
		}
		return []cutover.AuditEvent{s.event("customer", "final.scheduled", "go-live "+at.Format(time.RFC3339)+"; "+detail),
			s.event("customer", "final.matched", matchesDetail(matches))}, nil
	})
	if err != nil {
		return nil, err
	}
	s.notify(ctx, s.goLiveNotice(updated))
	return updated, nil
}

// refuseIfLive refuses when another migration already took the tenant live.
func (s *Service) refuseIfLive(ctx context.Context, m *cutover.Migration) error {
	lock, err := s.Store.GetTenantLock(ctx, m.TenantID)
	if err != nil {
		return err
	}
	if lock != nil && lock.MigrationID != m.ID {
		return s.alreadyLive(ctx, lock)
	}
	return nil
}

// alreadyLive is the refusal of a second final migration for a tenant: when
// the first went live (or, while it runs, when it started) and why there
// cannot be a second.
func (s *Service) alreadyLive(ctx context.Context, lock *cutover.TenantLock) error {
	when := "started its final migration on " + lock.TakenAt.UTC().Format(time.RFC3339)
	if holder, err := s.Store.GetMigration(ctx, lock.MigrationID); err == nil && !holder.WentLiveAt.IsZero() {
		when = "went live on " + holder.WentLiveAt.UTC().Format(time.RFC3339)
	}
	return cutover.Errorf(cutover.ECONFLICT,
		"Tenant %s already went live: migration %s %s. Its live data comes from that one final migration, and live records are never overwritten or deleted; a second final migration would duplicate every record, so it is refused.",
		lock.TenantID, lock.MigrationID, when)
}
