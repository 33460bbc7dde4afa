package engine

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/mapspec/presets"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/pass"
	"github.com/cutover/cutover/internal/tabular"
	"github.com/cutover/cutover/internal/workbook"
)

// MapResult is the Map step's output.
type MapResult struct {
	Version int           `json:"version"`
	Files   []MappedFileV `json:"files"`
}

// MappedFileV says which entity a file (or a workbook's sheet) was mapped
// to, under which name in the mapping.
type MappedFileV struct {
	FileID string `json:"fileId"`
	Table  string `json:"table"`
	Entity string `json:"entity"`
}

// Map profiles the round's test extract and builds its mapping. A file
// that cannot be migrated (the reader cannot read it, or none of a
// table's columns maps to a field) is marked refused on the migration,
// with why, and the round goes on without it: it is named, never dropped
// silently, and it never puts an invalid entry into the mapping.
//
// Errors: ECONFLICT when the migration is not in a mappable state; EINVALID
// when there is no extract, or no file of it can be migrated (the message
// names each file and why); EUNAVAILABLE from storage.
func (s *Mapper) Map(ctx context.Context, in migration.StepInput) (*MapResult, error) {
	m, err := s.BeginStep(ctx, in, cutover.StatusMapping, cutover.StatusSubmitted)
	if err != nil {
		return nil, err
	}
	files := m.TestFiles(in.Round)
	if len(files) == 0 {
		return nil, cutover.Errorf(cutover.EINVALID, "Round %d has no test extract.", in.Round)
	}
	res := &MapResult{Version: m.MappingVersion + 1}
	var (
		tables  []tableSample
		refused []refusal
	)
	for _, f := range files {
		ts, err := s.sample(ctx, f)
		if cutover.ErrorCode(err) == cutover.EINVALID {
			refused = append(refused, refusal{f, cutover.ErrorMessage(err)})
			continue
		}
		if err != nil {
			return nil, err
		}
		tables = append(tables, ts...)
	}
	var (
		props []presets.Proposal
		draft *mapspec.Spec
	)
	origin := "proposed"
	if m.DraftMapping != "" {
		if draft, err = mapspec.Parse([]byte(m.DraftMapping)); err != nil {
			return nil, err
		}
		props = draftProposals(draft, tables)
		origin = "the customer's revision"
	} else {
		for _, t := range tables {
			props = append(props, presets.Propose(t.name, t.header, t.sample))
		}
	}
	tables, props, unmapped := dropUnmappable(files, tables, props)
	refused = append(refused, unmapped...)
	if len(tables) == 0 {
		return nil, cutover.Errorf(cutover.EINVALID, "No file of round %d can be migrated. %s", in.Round, refusalList(refused))
	}
	spec := presets.ProposeSpec(props)
	if draft != nil {
		spec = &mapspec.Spec{Version: mapspec.Version, Name: draft.Name, Description: draft.Description, Defaults: draft.Defaults}
		for _, p := range props {
			spec.Files = append(spec.Files, p.File)
		}
	}
	for i, f := range spec.Files {
		res.Files = append(res.Files, MappedFileV{FileID: tables[i].fileID, Table: f.Name, Entity: f.Entity})
	}
	raw, _ := json.Marshal(spec) // a Spec always marshals
	if err := mappingFits(raw); err != nil {
		return nil, err
	}
	if err := s.putIdentities(ctx, m.ID, in.Round, identitiesOf(tables, spec, res.Version)); err != nil {
		return nil, err // what the final extract's tables are matched by
	}
	_, err = s.Update(ctx, m.ID, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		cur.Mapping, cur.MappingHash, cur.MappingVersion, cur.DraftMapping = string(raw), spec.Hash(), res.Version, ""
		events := []cutover.AuditEvent{s.Event(migration.System, "mapping.built", fmt.Sprintf("version %d from %s, %d file(s)", res.Version, origin, len(res.Files)))}
		for _, r := range refused {
			if cf := cur.FileByID(r.file.ID); cf != nil {
				cf.Refused = cutover.Clip(r.reason, cutover.MaxReasonBytes)
				events = append(events, s.Event(migration.System, "file.refused", fmt.Sprintf("%s (round %d): %s", cf.Name, cf.Round, cf.Refused)))
			}
		}
		return events, nil
	})
	return res, err
}

// refusal is a file a round cannot migrate, and why.
type refusal struct {
	file   cutover.File
	reason string
}

func refusalList(rs []refusal) string {
	var b strings.Builder
	for i, r := range rs {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(strings.TrimSpace(r.reason))
	}
	return b.String()
}

// dropUnmappable takes out every table of a file one of whose tables maps
// no column (a mapping entry needs at least one field, and the engine
// needs an entry for every table it reads), and says why for each file.
func dropUnmappable(files []cutover.File, tables []tableSample, props []presets.Proposal) ([]tableSample, []presets.Proposal, []refusal) {
	bad := map[string]string{}
	for i, t := range tables {
		if len(props[i].File.Fields) == 0 && bad[t.fileID] == "" {
			where := t.fileName
			if t.sheet != "" {
				where += ", sheet " + strconv.Quote(t.sheet)
			}
			bad[t.fileID] = where + ": none of its columns (" + cutover.Clip(strings.Join(t.header, ", "), 120) +
				") matches a field cutover can migrate. Remove the file, or export the records with their usual column names."
		}
	}
	var (
		keptT []tableSample
		keptP []presets.Proposal
		out   []refusal
	)
	for i, t := range tables {
		if bad[t.fileID] == "" {
			keptT, keptP = append(keptT, t), append(keptP, props[i])
		}
	}
	for _, f := range files {
		if r := bad[f.ID]; r != "" {
			out = append(out, refusal{f, r})
		}
	}
	return keptT, keptP, out
}

// sampleRows is how many rows of a file the Map step looks at.
const sampleRows = 50

// sample reads a file's header and first rows, one sample per table (a
// workbook has one per sheet). The reader refuses what the upload check
// refuses (a PDF, an image, binary data), with the same message.
//
// Errors: EINVALID naming the file and why it cannot be read; ENOTFOUND
// or EUNAVAILABLE from storage.
func (s *base) sample(ctx context.Context, f cutover.File) ([]tableSample, error) {
	rc, err := s.files.Open(ctx, f.Key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	tables, err := tabular.Open(rc, f.Name, pass.ReadOptions(f, tabular.Options{MaxXLSX: s.ReadLimits}))
	if err != nil {
		return nil, err // the reader's messages name the file
	}
	var out []tableSample
	for _, t := range tables {
		ts := tableSample{fileID: f.ID, fileName: f.Name, sheet: t.Format().Sheet, name: pass.TableName(f, t), header: t.Header()}
		for len(ts.sample) < sampleRows {
			r, err := t.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				_ = t.Close()
				return nil, err
			}
			ts.sample = append(ts.sample, append([]string(nil), r.Fields...))
		}
		ts.format = t.Format()
		out = append(out, ts)
		_ = t.Close()
	}
	return out, nil
}

// announceTestCompleted tells the vendor's product that round's test
// migration is in TEST, with the link to the customer's workbook page.
func (s *TestRun) announceTestCompleted(ctx context.Context, m *cutover.Migration, round int) {
	ev := cutover.NewLifecycleEvent(cutover.EventTestCompleted, m, round, "", s.Now())
	ev.WorkbookURL = s.WorkbookURL(m.ID)
	s.Announce(ctx, ev)
}

// newSeed returns a fresh seed for a round's spot checks; the workbook
// records it, so the same picks can be made again.
func newSeed() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand does not fail on supported platforms
	return binary.BigEndian.Uint64(b[:])
}

// downloadTTL is how long a rejects file's download link works.
const downloadTTL = 15 * time.Minute

// Workbook returns the latest test migration's workbook, with download
// links to its rejects and review files.
//
// Errors: ENOTFOUND before the first test migration has finished;
// EUNAVAILABLE when storage cannot be read.
func (s *Customer) Workbook(ctx context.Context, m *cutover.Migration) (*workbook.Workbook, error) {
	if m.Workbook == nil {
		return nil, cutover.Errorf(cutover.ENOTFOUND, "There is no workbook yet: it is produced by the test migration.")
	}
	var wb workbook.Workbook
	if err := s.readArtifact(ctx, m.Workbook.Key, "workbook", &wb); err != nil {
		return nil, err
	}
	if err := s.presignRejects(ctx, &wb); err != nil {
		return nil, err
	}
	return &wb, nil
}

// presignRejects adds short-lived download links to a workbook's rejects
// and review files.
func (s *Customer) presignRejects(ctx context.Context, wb *workbook.Workbook) error {
	if wb == nil {
		return nil
	}
	for _, files := range [][]workbook.RejectsFile{wb.Issues.RejectsFiles, wb.Issues.ReviewFiles} {
		for i, f := range files {
			u, err := s.downloads.PresignGet(ctx, f.Key, downloadTTL)
			if err != nil {
				return err
			}
			files[i].URL = u
		}
	}
	return nil
}
