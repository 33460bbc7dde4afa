package engine

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/delta"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pipeline"
	"github.com/cutover/cutover/internal/schema"
	"github.com/cutover/cutover/internal/workbook"
)

// FinalReport is the final migration's account, and with it the
// customer's post-activation list: what changed since the test migration
// (the delta), what was rejected (the rejects files) and what did not
// migrate at all (the unmapped columns).
type FinalReport struct {
	MigrationID string             `json:"migrationId"`
	Counts      cutover.Counts     `json:"counts"`
	Chunks      int                `json:"chunks"`
	Workbook    *workbook.Workbook `json:"workbook"` // reconciliation against the checklist, issues, rejects, unmapped columns
	Delta       *delta.Report      `json:"delta"`
	DeltaURL    string             `json:"deltaUrl,omitempty"`   // the full delta CSV, when served
	TestRound   int                `json:"testRound"`            // the signed-off round compared against
	NoBaseline  bool               `json:"noBaseline,omitempty"` // the test migration kept no snapshot to compare with
	// Missing are the mapped columns the final extract did not have, which
	// the coordinator re-approved going live without: those fields are
	// empty in LIVE, and the customer's follow-up list says so.
	Missing []MissingInFinal `json:"missing"`

	Summary *cutover.FinalSummary `json:"-"`
}

// finalReport builds, stores and summarises the final report from the
// chunks, which are all done, and their comparison with the test in key
// ranges (nil: the snapshots are compared here, streamed).
func (s *Final) finalReport(ctx context.Context, m *cutover.Migration, chunks []cutover.Chunk, cmp *comparison) (*FinalReport, error) {
	var (
		total   cutover.Counts
		reports []*pipeline.Report
		rejects []workbook.RejectsFile
	)
	parts := map[string]int{} // a file's chunks, numbered from 1
	for _, c := range chunks {
		parts[c.FileID]++
		total = total.Add(c.Counts)
		var rs []*pipeline.Report
		if err := json.Unmarshal([]byte(c.Reports), &rs); err != nil {
			return nil, cutover.Wrap(cutover.EINTERNAL, err, "Chunk %d's report could not be read.", c.Index)
		}
		reports = append(reports, rs...)
		for _, k := range c.Rejects {
			label := fmt.Sprintf("%s (part %d)", c.FileName, parts[c.FileID])
			if c.Merge {
				label = fmt.Sprintf("records refused by the destination after merging (%s)", c.FileName)
			}
			rejects = append(rejects, workbook.RejectsFile{File: label, Key: k})
		}
	}
	if !total.Balanced() {
		return nil, cutover.Errorf(cutover.EINTERNAL, "Row accounting does not balance across the chunks: read %d, migrated %d, merged %d, rejected %d, skipped %d.",
			total.Read, total.Migrated, total.Merged, total.Rejected, total.Skipped)
	}
	prefix := finalPrefix(m)
	wb := workbook.Build(workbook.Meta{MigrationID: m.ID, Round: m.Round, MappingVersion: m.MappingVersion, CreatedAt: s.Now()},
		mergeReports(reports), m.Checklist, nil, total.Orphans, rejects)
	if spec, err := mapspec.Parse([]byte(m.Mapping)); err == nil {
		wb.AddIdentityNotes(finalEntries(m, spec), schema.Default())
	}
	rep := &FinalReport{MigrationID: m.ID, Counts: total, Chunks: len(chunks), Workbook: wb}
	if m.SignOff != nil {
		rep.TestRound = m.SignOff.Round
	}
	missing, err := s.missingInFinal(ctx, m)
	if err != nil {
		return nil, err
	}
	rep.Missing = missing
	sum := &cutover.FinalSummary{ReportKey: prefix + "report.json", DeltaKey: prefix + "delta.csv", Chunks: len(chunks), CreatedAt: wb.CreatedAt}
	// The delta CSV has a row per changed field of every record: it is
	// streamed to storage as the snapshots are merged, never held whole.
	var d *delta.Report
	if cmp != nil {
		d = cmp.Delta
		if err := s.composeDelta(ctx, sum.DeltaKey, cmp); err != nil {
			return nil, err
		}
	} else if err := s.files.Stream(ctx, sum.DeltaKey, "text/csv; charset=utf-8", func(w io.Writer) (err error) {
		d, err = s.compareWithTest(ctx, m, chunks, w)
		return err
	}); err != nil {
		return nil, err
	}
	rep.Delta, rep.NoBaseline = d, d == nil
	if d == nil {
		rep.Delta = &delta.Report{Entities: []delta.EntityDelta{}}
	}
	body, err := json.Marshal(rep)
	if err != nil {
		return nil, cutover.Wrap(cutover.EINTERNAL, err, "The final report could not be encoded.")
	}
	if err := s.files.Put(ctx, sum.ReportKey, "application/json", body); err != nil {
		return nil, err
	}
	byEntity := map[string]delta.EntityDelta{}
	for _, e := range rep.Delta.Entities {
		byEntity[e.Entity] = e
	}
	for _, r := range wb.Reconciliation {
		e := byEntity[r.Entity]
		sum.Entities = append(sum.Entities, cutover.EntityFinal{
			EntityReconciled: cutover.EntityReconciled{Entity: r.Entity, Checklist: r.Checklist, Rows: r.Rows, Migrated: r.Migrated, Status: r.Status},
			Added:            e.Added, Removed: e.Removed, Changed: e.Changed,
		})
	}
	rep.Summary = sum
	return rep, nil
}

// compareWithTest compares the chunks' snapshots with the signed-off test
// migration's. It returns nil when the test migration kept no snapshot.
func (s *Final) compareWithTest(ctx context.Context, m *cutover.Migration, chunks []cutover.Chunk, csv io.Writer) (*delta.Report, error) {
	if m.SignOff == nil || m.Workbook == nil || m.Workbook.Round != m.SignOff.Round || m.Workbook.Snapshot == "" {
		return nil, nil // signed off before test migrations kept snapshots
	}
	return s.compareSnapshots(ctx, m.Workbook.Snapshot, chunks, csv)
}

// compareSnapshots compares the snapshot at beforeKey with the chunks'
// snapshots, streaming them all (delta.Compare writing its CSV to csv).
//
// Errors: as delta.Compare; ENOTFOUND when a snapshot is missing;
// EUNAVAILABLE from storage.
func (s *base) compareSnapshots(ctx context.Context, beforeKey string, chunks []cutover.Chunk, csv io.Writer) (*delta.Report, error) {
	before, err := s.files.Open(ctx, beforeKey)
	if err != nil {
		return nil, err
	}
	defer before.Close()
	after := make([]io.Reader, 0, len(chunks))
	for _, c := range chunks {
		rc, err := s.files.Open(ctx, c.Snapshot)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		after = append(after, rc)
	}
	return delta.Compare(before, after, csv)
}

// mergeReports adds up the chunks' reports of each file and entity.
func mergeReports(in []*pipeline.Report) []*pipeline.Report {
	type key struct{ file, entity string }
	var order []key
	merged := map[key]*pipeline.Report{}
	filled := map[key]map[string]int{}
	for _, r := range in {
		k := key{r.File, r.Entity}
		acc, ok := merged[k]
		if !ok {
			cp := *r
			cp.Counts.Skipped, cp.Counts.Derived, cp.Rules, cp.Reasons = map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
			cp.Counts.Read, cp.Counts.Migrated, cp.Counts.Merged, cp.Counts.Rejected, cp.Counts.Warned = 0, 0, 0, 0, 0
			resetReportExtras(&cp)
			acc, merged[k], filled[k] = &cp, &cp, map[string]int{}
			order = append(order, k)
		}
		c := r.Counts
		acc.Counts.Read += c.Read
		acc.Counts.Migrated += c.Migrated
		acc.Counts.Merged += c.Merged
		acc.Counts.Rejected += c.Rejected
		acc.Counts.Warned += c.Warned
		addCounts(acc.Counts.Skipped, c.Skipped)
		addCounts(acc.Counts.Derived, c.Derived) // people named inline: each chunk derives its own
		addCounts(acc.Rules, r.Rules)
		addCounts(acc.Reasons, r.Reasons)
		addReportExtras(acc, r)
		for _, f := range r.FillRates {
			filled[k][f.Field] += f.Filled
		}
	}
	out := make([]*pipeline.Report, 0, len(order))
	for _, k := range order {
		acc := merged[k]
		rows := acc.Counts.Migrated + acc.Counts.Merged
		for i, f := range acc.FillRates {
			n := filled[k][f.Field]
			acc.FillRates[i] = pipeline.FillRate{Field: f.Field, Filled: n}
			if rows > 0 {
				acc.FillRates[i].Rate = float64(n) / float64(rows)
			}
		}
		sortFillRates(acc)
		finishReportExtras(acc)
		maps.DeleteFunc(acc.Counts.Derived, func(_ string, n int) bool { return n == 0 })
		if len(acc.Counts.Derived) == 0 {
			acc.Counts.Derived = nil // as one pass's report of a file naming no one
		}
		out = append(out, acc)
	}
	return out
}

// sortFillRates orders a merged report's fill rates as one pass orders
// them (pipeline.Report.FillRates): by rate, the highest first, and
// fields of one rate in the entity's order. A chunk's own order was by
// its own rates.
func sortFillRates(r *pipeline.Report) {
	pos := map[string]int{}
	if ent, ok := schema.Default().Entity(r.Entity); ok {
		for i, f := range ent.Fields {
			pos[f.Name] = i
		}
	}
	slices.SortStableFunc(r.FillRates, func(a, b pipeline.FillRate) int {
		if c := cmp.Compare(b.Rate, a.Rate); c != 0 {
			return c
		}
		return pos[a.Field] - pos[b.Field]
	})
}

func addCounts(dst, src map[string]int) {
	for _, k := range slices.Sorted(maps.Keys(src)) {
		dst[k] += src[k]
	}
}

// FinalReportFor returns the final report with download links to its
// rejects files and the delta CSV.
//
// Errors: ENOTFOUND before the final migration has finished; EUNAVAILABLE
// when storage cannot be read.
func (s *Customer) FinalReportFor(ctx context.Context, m *cutover.Migration) (*FinalReport, error) {
	if m.FinalReport == nil {
		return nil, cutover.Errorf(cutover.ENOTFOUND, "There is no final report yet: it is produced by the final migration.")
	}
	var rep FinalReport
	if err := s.readArtifact(ctx, m.FinalReport.ReportKey, "final report", &rep); err != nil {
		return nil, err
	}
	if err := s.presignRejects(ctx, rep.Workbook); err != nil {
		return nil, err
	}
	var err error
	if rep.DeltaURL, err = s.downloads.PresignGet(ctx, m.FinalReport.DeltaKey, downloadTTL); err != nil {
		return nil, err
	}
	return &rep, nil
}

// finalEntries names, by the label the final migration's reports use (the
// file's name, with " [sheet]" for a workbook's sheet), the signed-off
// entry each final table was read with: the confirmed matches, or, when
// the signed-off test extract is final, its own entries. The final report
// says from it how each file's records are identified, as the workbook did.
func finalEntries(m *cutover.Migration, spec *mapspec.Spec) map[string]mapspec.FileSpec {
	byName := map[string]mapspec.FileSpec{}
	for _, fs := range spec.Files {
		byName[fs.Name] = fs
	}
	label := func(fileName, table string) string {
		if _, sheet, ok := strings.Cut(table, "#"); ok {
			return fileName + " [" + sheet + "]"
		}
		return fileName
	}
	out := map[string]mapspec.FileSpec{}
	if len(m.FinalMatches) > 0 {
		for _, fm := range namedMatches(m) {
			if fs, ok := byName[fm.Entry]; ok {
				out[label(fm.FileName, fm.Table)] = fs
			}
		}
		return out
	}
	for _, f := range m.FinalFiles() {
		for _, fs := range spec.Files {
			if fs.Name == f.ID || strings.HasPrefix(fs.Name, f.ID+"#") {
				out[label(f.Name, fs.Name)] = fs
			}
		}
	}
	return out
}

// MissingInFinal is a mapped column the final extract did not have.
type MissingInFinal struct {
	File   string `json:"file"` // the final file, by its name
	Column string `json:"column"`
	Field  string `json:"field"`
}

// missingInFinal lists the mapped columns the go-live pre-flight found
// missing, by the final file's name: go-live went ahead without them only
// on the coordinator's re-approval, and the final report keeps them on the
// customer's follow-up list.
//
// Errors: EUNAVAILABLE when the pre-flight's report cannot be read.
func (s *Final) missingInFinal(ctx context.Context, m *cutover.Migration) ([]MissingInFinal, error) {
	out := []MissingInFinal{}
	if m.Preflight == nil || m.Preflight.ReportKey == "" {
		return out, nil
	}
	var pr cutover.PreflightReport
	if err := s.readArtifact(ctx, m.Preflight.ReportKey, "pre-flight report", &pr); err != nil {
		if cutover.ErrorCode(err) == cutover.ENOTFOUND {
			return out, nil
		}
		return nil, err
	}
	for _, mc := range pr.Missing {
		file := mc.File
		if file == "" {
			file = mc.Entry
		}
		out = append(out, MissingInFinal{File: file, Column: mc.Column, Field: mc.Field})
	}
	return out, nil
}
