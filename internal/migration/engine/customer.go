package engine

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
)

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
func (s *Customer) CompleteUpload(ctx context.Context, m *cutover.Migration, fileID string, parts []migration.Part) (*cutover.File, error) {
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
	if len(parts) == 0 || len(parts) > migration.MaxParts {
		return nil, cutover.Errorf(cutover.EINVALID, "parts must list every uploaded part with its ETag.")
	}
	for i, p := range parts {
		if p.PartNumber != i+1 || strings.TrimSpace(p.ETag) == "" {
			return nil, cutover.Errorf(cutover.EINVALID, "parts must be numbered 1..%d in order, each with its ETag.", len(parts))
		}
	}
	size, err := s.uploads.Complete(ctx, f.Key, f.UploadID, parts)
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
	_, err = s.Update(ctx, m.ID, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		cf := cur.FileByID(fileID)
		if cf == nil {
			return nil, cutover.Errorf(cutover.ENOTFOUND, "No upload %q in this migration.", fileID)
		}
		cf.Complete, cf.CompletedAt, cf.Size, cf.UploadID = true, s.Now(), size, ""
		done = *cf
		return []cutover.AuditEvent{s.Event("customer", "file.uploaded", fmt.Sprintf("%s (%s, %d bytes, round %d)", cf.Name, cf.Purpose, size, cf.Round))}, nil
	})
	if err != nil {
		return nil, err
	}
	return &done, nil
}

// refuse records that an uploaded file cannot be migrated, with why, and
// deletes the stored object: nothing reads it again, and a customer's
// stray PDF should not outlive the answer. It returns the refusal.
func (s *Customer) refuse(ctx context.Context, m *cutover.Migration, f cutover.File, refusal error) error {
	if err := s.uploads.Remove(ctx, f.Key, ""); err != nil {
		// The refusal stands without the deletion; the object is only
		// garbage, so this is logged rather than shown.
		slog.WarnContext(ctx, "refused upload not deleted", "migration", m.ID, "file", f.ID, "code", cutover.ErrorCode(err), "message", cutover.ErrorMessage(err))
	}
	reason := cutover.ErrorMessage(refusal)
	_, err := s.Update(ctx, m.ID, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		cf := cur.FileByID(f.ID)
		if cf == nil {
			return nil, cutover.Errorf(cutover.ENOTFOUND, "No upload %q in this migration.", f.ID)
		}
		cf.Complete, cf.UploadID, cf.Refused = false, "", cutover.Clip(reason, cutover.MaxReasonBytes)
		return []cutover.AuditEvent{s.Event("customer", "file.refused", fmt.Sprintf("%s (round %d): %s", cf.Name, cf.Round, cutover.Clip(reason, cutover.MaxReasonBytes)))}, nil
	})
	if err != nil {
		return err
	}
	return refusal
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
func (s *Customer) SubmitFinal(ctx context.Context, m *cutover.Migration, in FinalInput) (*cutover.Migration, error) {
	if m.Status != cutover.StatusAwaitingFinal || m.Pending == nil || m.Pending.Kind != cutover.TaskFinal {
		return nil, cutover.Errorf(cutover.ECONFLICT, "The final extract is accepted only after sign-off; the migration is %s.", m.Status)
	}
	at, err := time.Parse(time.RFC3339, in.GoLiveAt)
	if err != nil {
		return nil, cutover.Errorf(cutover.EINVALID, "goLiveAt must be an RFC 3339 time such as 2026-12-01T09:00:00Z.")
	}
	now := s.Now()
	if at.Before(now.Add(-time.Minute)) || at.After(now.Add(maxGoLiveAhead)) {
		return nil, cutover.Errorf(cutover.EINVALID, "goLiveAt must be between now and 90 days ahead.")
	}
	zone, err := migration.CheckZone(in.TimeZone)
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
	if err := s.RefuseIfLive(ctx, m); err != nil {
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
	updated, err := s.HandOver(ctx, s.flow, m, output, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		if cur.Status != cutover.StatusAwaitingFinal {
			return nil, cutover.Errorf(cutover.ECONFLICT, "The migration changed to %s meanwhile; reload.", cur.Status)
		}
		cur.Status, cur.GoLiveAt, cur.FinalFileIDs = cutover.StatusScheduled, at, in.FileIDs
		cur.FinalMatches, cur.Preflight = storedMatches(matches), nil // a new extract: its pre-flight runs next
		if zone != "" {
			cur.TimeZone = zone
		}
		return []cutover.AuditEvent{
			s.Event("customer", "final.scheduled", "go-live "+at.Format(time.RFC3339)+"; "+detail),
			s.Event("customer", "final.matched", matchesDetail(matches)),
		}, nil
	})
	if err != nil {
		return nil, err
	}
	// One event per go-live time: a withdrawn and re-scheduled go-live is
	// told again.
	scheduled := cutover.NewLifecycleEvent(cutover.EventFinalScheduled, updated, updated.Round, strconv.FormatInt(at.Unix(), 10), s.Now())
	scheduled.GoLiveAt = at
	s.Announce(ctx, scheduled)
	s.Notify(ctx, s.GoLiveNotice(updated))
	return updated, nil
}
