package migration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapping"
	"github.com/cutover/cutover/internal/migrate"
)

// MapResult is the Map step's output.
type MapResult struct {
	Version int           `json:"version"`
	Files   []MappedFileV `json:"files"`
}

// MappedFileV says which entity a file was mapped to.
type MappedFileV struct {
	FileID string `json:"fileId"`
	Entity string `json:"entity"`
}

const system = "system"

// beginStep moves the migration into a step's status for a round.
func (s *Service) beginStep(ctx context.Context, in StepInput, status cutover.Status, allowed ...cutover.Status) (*cutover.Migration, error) {
	return s.update(ctx, in.MigrationID, func(m *cutover.Migration) ([]cutover.AuditEvent, error) {
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
		return []cutover.AuditEvent{s.event(system, "step."+string(status), fmt.Sprintf("round %d", in.Round))}, nil
	})
}

// Map profiles the round's test extract and builds its mapping.
//
// Errors: ECONFLICT when the migration is not in a mappable state; EINVALID
// when there is no extract or a file is not readable as CSV (the message
// names the file); EUNAVAILABLE from storage.
func (s *Service) Map(ctx context.Context, in StepInput) (*MapResult, error) {
	m, err := s.beginStep(ctx, in, cutover.StatusMapping, cutover.StatusSubmitted)
	if err != nil {
		return nil, err
	}
	files := m.TestFiles(in.Round)
	if len(files) == 0 {
		return nil, cutover.Errorf(cutover.EINVALID, "Round %d has no test extract.", in.Round)
	}
	spec := mapping.Spec{Version: m.MappingVersion + 1}
	res := &MapResult{Version: spec.Version}
	for _, f := range files {
		header, err := s.header(ctx, f)
		if err != nil {
			return nil, err
		}
		fs := mapping.Suggest(f.ID, f.Name, header)
		spec.Files = append(spec.Files, fs)
		res.Files = append(res.Files, MappedFileV{FileID: f.ID, Entity: fs.Entity})
	}
	raw, _ := json.Marshal(spec) // a Spec always marshals
	_, err = s.update(ctx, m.ID, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		cur.Mapping, cur.MappingHash, cur.MappingVersion = string(raw), spec.Hash(), spec.Version
		return []cutover.AuditEvent{s.event(system, "mapping.built", fmt.Sprintf("version %d, %d file(s)", spec.Version, len(files)))}, nil
	})
	return res, err
}

func (s *Service) header(ctx context.Context, f cutover.File) ([]string, error) {
	rc, err := s.Files.Open(ctx, f.Key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	r, err := mapping.NewReader(io.LimitReader(rc, 4<<20))
	if err != nil {
		return nil, cutover.Wrap(cutover.ErrorCode(err), err, "%s: %s", f.Name, cutover.ErrorMessage(err))
	}
	return r.Header(), nil
}

// TestMigrate resets TEST for the migration and migrates the round's test
// extract into it.
//
// Errors: as migrate.Run; ECONFLICT when the migration is not mapped.
func (s *Service) TestMigrate(ctx context.Context, in StepInput) (*cutover.Counts, error) {
	m, err := s.beginStep(ctx, in, cutover.StatusTestMigrating, cutover.StatusMapping)
	if err != nil {
		return nil, err
	}
	spec, err := mapping.Parse(m.Mapping)
	if err != nil {
		return nil, err
	}
	if err := s.Test.Reset(ctx, m.ID); err != nil {
		return nil, err
	}
	pass := migrate.Pass{TenantID: m.TenantID, Spec: spec, Files: m.TestFiles(in.Round), RejectsPrefix: migrate.RejectsPrefix(m.ID, "test", in.Round)}
	counts, err := migrate.Run(ctx, pass, s.Files, s.Test.Writer(m.ID), s.Files)
	if err != nil {
		return nil, err
	}
	_, err = s.update(ctx, m.ID, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		cur.Test = &counts
		return []cutover.AuditEvent{s.event(system, "test.migrated", countsDetail(counts))}, nil
	})
	return &counts, err
}

func countsDetail(c cutover.Counts) string {
	return fmt.Sprintf("read %d, migrated %d, rejected %d, skipped %d", c.Read, c.Migrated, c.Rejected, c.Skipped)
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
func (s *Service) Park(ctx context.Context, in ParkInput) error {
	if in.TaskToken == "" {
		return cutover.Errorf(cutover.EINVALID, "The callback step has no task token.")
	}
	status := map[string]cutover.Status{cutover.TaskRevision: cutover.StatusAwaitingRevision, cutover.TaskFinal: cutover.StatusAwaitingFinal}[in.Kind]
	if status == "" {
		return cutover.Errorf(cutover.EINVALID, "Unknown callback kind %q.", in.Kind)
	}
	m, err := s.update(ctx, in.MigrationID, func(m *cutover.Migration) ([]cutover.AuditEvent, error) {
		m.Status, m.Pending = status, &cutover.PendingTask{Kind: in.Kind, Token: in.TaskToken, Round: in.Round}
		return []cutover.AuditEvent{s.event(system, "await."+in.Kind, fmt.Sprintf("round %d", in.Round))}, nil
	})
	if err != nil {
		return err
	}
	if s.Mailer != nil {
		subject, body := "Your migration needs a revision", "The coordinator rejected the test migration. Revise the mapping or upload a corrected extract, then submit again:\n\n"
		if in.Kind == cutover.TaskFinal {
			subject, body = "Your test migration was signed off", "Upload the full and final extract (or confirm the test extract is final) and pick the go-live time.\nChanges made in your old CRM after the final extract will not be migrated and must be re-entered by hand.\n\n"
		}
		if err := s.Mailer.Send(ctx, m.CustomerEmail, subject, body+s.SiteURL+"/upload.html"); err != nil {
			slog.WarnContext(ctx, "customer mail not sent", "migration", m.ID, "kind", in.Kind)
		}
	}
	return nil
}

// FinalMigrate runs the signed-off mapping on the final extract into LIVE,
// exactly once per tenant. A retried or restarted run converges on the same
// records; a run for a migration that is already live changes nothing.
//
// Errors: ECONFLICT when another migration took the tenant live, or the
// mapping is not the one signed off; as migrate.Run otherwise.
func (s *Service) FinalMigrate(ctx context.Context, in StepInput) (*cutover.Counts, error) {
	m, err := s.Store.GetMigration(ctx, in.MigrationID)
	if err != nil {
		return nil, err
	}
	if m.Status == cutover.StatusLive && m.Final != nil {
		return m.Final, nil
	}
	if m.SignOff == nil || m.SignOff.MappingHash != m.MappingHash || m.SignOff.MappingVersion != m.MappingVersion {
		return nil, cutover.Errorf(cutover.ECONFLICT, "The final migration runs only the mapping that was signed off; this mapping (version %d) was not.", m.MappingVersion)
	}
	spec, err := mapping.Parse(m.Mapping)
	if err != nil {
		return nil, err
	}
	if spec.Hash() != m.SignOff.MappingHash {
		return nil, cutover.Errorf(cutover.ECONFLICT, "The stored mapping does not match the signed-off hash; refusing to migrate.")
	}
	holder, err := s.Store.TakeTenantLock(ctx, cutover.TenantLock{TenantID: m.TenantID, MigrationID: m.ID, TakenAt: s.now()})
	if err != nil {
		return nil, err
	}
	if holder.MigrationID != m.ID {
		return nil, alreadyLive(holder)
	}
	if _, err := s.beginStep(ctx, in, cutover.StatusFinalMigrating, cutover.StatusScheduled); err != nil {
		return nil, err
	}
	files := m.FinalFiles()
	if len(files) == 0 {
		return nil, cutover.Errorf(cutover.EINVALID, "There is no final extract.")
	}
	pass := migrate.Pass{TenantID: m.TenantID, Spec: finalSpec(spec, files), Files: files, RejectsPrefix: migrate.RejectsPrefix(m.ID, "final", in.Round)}
	counts, err := migrate.Run(ctx, pass, s.Files, s.Live.Writer(m.TenantID, m.ID), s.Files)
	if err != nil {
		return nil, err
	}
	_, err = s.update(ctx, m.ID, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		cur.Final = &counts
		return []cutover.AuditEvent{s.event(system, "final.migrated", countsDetail(counts))}, nil
	})
	return &counts, err
}

// finalSpec applies the signed-off mapping to the final files: a final file
// takes the spec of the signed-off file it replaces (same entity; the first
// file's spec in this skeleton, since the default schema has one entity).
func finalSpec(spec mapping.Spec, files []cutover.File) mapping.Spec {
	out := mapping.Spec{Version: spec.Version}
	for _, f := range files {
		fs, ok := spec.ForFile(f.ID)
		if !ok && len(spec.Files) > 0 {
			fs = spec.Files[0]
			fs.FileID, fs.FileName = f.ID, f.Name
		}
		out.Files = append(out.Files, fs)
	}
	return out
}

// Complete marks the migration live and locked and tells the people involved.
//
// Errors: ECONFLICT when the final migration has not run.
func (s *Service) Complete(ctx context.Context, in StepInput) error {
	m, err := s.update(ctx, in.MigrationID, func(m *cutover.Migration) ([]cutover.AuditEvent, error) {
		if m.Status == cutover.StatusLive {
			return nil, nil
		}
		if m.Status != cutover.StatusFinalMigrating || m.Final == nil {
			return nil, cutover.Errorf(cutover.ECONFLICT, "The migration cannot go live from %s.", m.Status)
		}
		m.Status, m.WentLiveAt = cutover.StatusLive, s.now()
		return []cutover.AuditEvent{s.event(system, "migration.live", countsDetail(*m.Final))}, nil
	})
	if err != nil {
		return err
	}
	if s.Mailer != nil {
		body := fmt.Sprintf("Migration %s for %s is live: %s.\n", m.ID, m.CustomerName, countsDetail(*m.Final))
		for _, to := range []string{m.CustomerEmail, m.CoordinatorEmail} {
			if err := s.Mailer.Send(ctx, to, "Your migration is live", body); err != nil {
				slog.WarnContext(ctx, "live mail not sent", "migration", m.ID)
			}
		}
	}
	return nil
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
}

// MarkFailed records why the migration failed. The reason is the failing
// step's own client-safe message when it recorded one, else the caught
// error's message when it has our shape, else the error's name.
//
// Errors: ENOTFOUND; whatever the Store returns.
func (s *Service) MarkFailed(ctx context.Context, in FailInput) error {
	_, err := s.update(ctx, in.MigrationID, func(m *cutover.Migration) ([]cutover.AuditEvent, error) {
		f := &cutover.Failure{Step: string(m.Status), Reason: failureReason(in.Error), At: s.now()}
		if m.Failure != nil && m.Failure.Reason != "" {
			f = m.Failure // the step's own account is the clearest
		}
		m.Status, m.Failure, m.Pending = cutover.StatusFailed, f, nil
		return []cutover.AuditEvent{s.event(system, "migration.failed", f.Step+": "+f.Reason)}, nil
	})
	return err
}

func failureReason(e StepError) string {
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
func (s *Service) RecordStepFailure(ctx context.Context, migrationID string, step, message string) {
	_, err := s.update(ctx, migrationID, func(m *cutover.Migration) ([]cutover.AuditEvent, error) {
		m.Failure = &cutover.Failure{Step: step, Reason: message, At: s.now()}
		return []cutover.AuditEvent{s.event(system, "step.error", step+": "+message)}, nil
	})
	if err != nil {
		slog.WarnContext(ctx, "step failure not recorded", "migration", migrationID, "step", step, "code", cutover.ErrorCode(err))
	}
}
