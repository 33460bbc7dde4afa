package engine

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/delta"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/pipeline"
	"github.com/cutover/cutover/internal/workbook"
)

// The pre-flight (cutover/preflight.go has its types) is the final
// migration's dry run: the final extract through the signed-off mapping
// and the confirmed matches, into a sink that writes nothing, compared with
// the signed-off test migration. It runs when the customer submits the
// final extract and again at go-live, before PlanFinal takes the tenant
// lock; past the vendor's thresholds go-live holds (final_held) until the
// coordinator re-approves exactly this extract or the customer withdraws it
// and uploads a corrected one. Without it the final report would find a
// lost column only after LIVE, which is create-only, was written.

// FinalPreflight is the final migration's pre-flight action.
const FinalPreflight = "preflight"

// thresholds returns the deployment's thresholds, or the defaults.
func (s *Final) thresholds() cutover.Thresholds {
	if s.limits != nil {
		return *s.limits
	}
	return cutover.DefaultThresholds
}

// finalFingerprint names what a pre-flight checks: the signed-off mapping,
// the final files (id, stored object, size) and their matches. A
// re-approval holds for this fingerprint only, so a different extract, or
// the same one read with other entries, is checked and approved afresh.
func finalFingerprint(m *cutover.Migration) string {
	h := sha256.New()
	fmt.Fprintf(h, "mapping %s\n", m.MappingHash)
	for _, f := range m.FinalFiles() {
		fmt.Fprintf(h, "file %s %s %d\n", f.ID, f.Key, f.Size)
	}
	for _, fm := range m.FinalMatches {
		fmt.Fprintf(h, "match %s %s %s\n", fm.FileID, fm.Table, fm.Entry)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// preflightCleared says whether the final migration may take the tenant
// lock: the go-live pre-flight of exactly this extract passed, or its
// differences were re-approved by the coordinator.
//
// Errors: ECONFLICT saying what is missing.
func preflightCleared(m *cutover.Migration) error {
	p := m.Preflight
	fp := finalFingerprint(m)
	switch {
	case p == nil || p.Phase != cutover.PreflightAtGoLive || p.Fingerprint != fp:
		return cutover.Errorf(cutover.ECONFLICT, "The final migration starts only after the go-live pre-flight of this final extract; nothing was locked or written.")
	case p.Held || (len(p.Breaches) > 0 && !p.Reapproval.Approves(p)):
		return cutover.Errorf(cutover.ECONFLICT, "Go-live is held: the final extract differs from the signed-off test migration and the coordinator has not re-approved it; nothing was locked or written.")
	}
	return nil
}

// Preflight starts the pre-flight: the dry run of the final extract, in
// chunks as the final migration runs (preflight_run.go). It plans the
// extract's chunks as PlanFinal does, without taking the tenant lock, and
// answers with the ChunkRun the state machine runs through the final's
// own Maps (Run.Phase set), after which FinishPreflight compares. A final
// extract that cannot be read is decided at once: a breach that holds
// go-live, with the reader's words (a Run of no chunks: the state machine
// reads the answer's run, held and phase by path, so each is always
// there). Running it again for the same extract and phase while held
// answers held.
//
// Errors: ECONFLICT when the migration is not scheduled for go-live (or
// held), or its mapping is not the signed-off one; EINVALID for an unknown
// phase or no final extract; EUNAVAILABLE from storage.
func (s *Final) Preflight(ctx context.Context, in FinalStep) (*FinalOutput, error) {
	out, err := s.startPreflight(ctx, in)
	if out != nil && out.Run == nil {
		out.Run = &ChunkRun{Phase: in.Phase} // decided: no chunks to run
	}
	return out, err
}

// startPreflight is Preflight, without a run when it decided at once.
func (s *Final) startPreflight(ctx context.Context, in FinalStep) (*FinalOutput, error) {
	m, done, err := s.preflightOf(ctx, in)
	if err != nil || done != nil {
		return done, err
	}
	spec, err := signedOffSpec(m)
	if err != nil {
		return nil, err
	}
	// At go-live, the chunks the pre-flight at submission dry-ran, when it
	// checked this very extract for this go-live time: no step of go-live
	// reads the whole extract then. At submission, by reading it.
	from := ""
	if in.Phase == cutover.PreflightAtGoLive {
		from = cutover.PreflightAtSubmit
	}
	ex, planning, err := s.planChecked(ctx, m, spec, from, in.Phase, in.LinksRound)
	if err == nil && planning != nil {
		return &FinalOutput{Run: &ChunkRun{Phase: in.Phase}, Planning: planning, Phase: in.Phase}, nil
	}
	if cutover.ErrorCode(err) == cutover.EINVALID {
		unreadable := cutover.PreflightBreach{
			Rule:   cutover.RuleUnreadable,
			Detail: "The final extract cannot be migrated with the signed-off mapping: " + cutover.ErrorMessage(err),
		}
		rep, err := s.preflightChecks(ctx, m, spec)
		if err != nil {
			return nil, err
		}
		rep.Breaches = append(rep.Breaches, unreadable)
		return s.decidePreflight(ctx, m, in.Phase, rep)
	}
	if err != nil {
		return nil, err
	}
	run, err := s.planDryRun(ctx, m, in.Phase, ex)
	if err != nil {
		return nil, err
	}
	return &FinalOutput{Run: run, Phase: in.Phase}, nil
}

// preflightOf loads the migration a pre-flight step names. It answers
// (done) without the migration's going on when it is over, or when
// go-live is held for exactly this extract and phase already (a retried
// step).
//
// Errors: EINVALID for an unknown phase; ECONFLICT when the migration is
// not scheduled for go-live; as GetMigration.
func (s *Final) preflightOf(ctx context.Context, in FinalStep) (*cutover.Migration, *FinalOutput, error) {
	if in.Phase != cutover.PreflightAtSubmit && in.Phase != cutover.PreflightAtGoLive {
		return nil, nil, cutover.Errorf(cutover.EINVALID, "Unknown pre-flight phase %q.", in.Phase)
	}
	m, err := s.Store().GetMigration(ctx, in.MigrationID)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case migration.Terminal(m.Status):
		return nil, &FinalOutput{Phase: in.Phase}, nil
	case m.Status == cutover.StatusFinalHeld && m.Preflight != nil && m.Preflight.Fingerprint == finalFingerprint(m) && m.Preflight.Phase == in.Phase:
		return nil, &FinalOutput{Held: true, Phase: in.Phase}, nil // a retried step
	case m.Status != cutover.StatusScheduled:
		return nil, nil, cutover.Errorf(cutover.ECONFLICT, "The pre-flight cannot run while the migration is %s.", m.Status)
	}
	return m, nil, nil
}

// preflightChecks starts a pre-flight's report with what the final
// extract's headers tell: the mapped columns and the signed-off files it
// lacks.
//
// Errors: as missingColumns and missingEntries.
func (s *Final) preflightChecks(ctx context.Context, m *cutover.Migration, spec *mapspec.Spec) (*cutover.PreflightReport, error) {
	rep := &cutover.PreflightReport{
		Matches: append([]cutover.FinalMatch{}, namedMatches(m)...), Entities: []cutover.PreflightEntity{},
		Missing: []cutover.MissingColumn{}, Fill: []cutover.FieldFill{}, Breaches: []cutover.PreflightBreach{},
	}
	if err := s.missingColumns(ctx, m, spec, m.FinalFiles(), rep); err != nil {
		return nil, err
	}
	if err := s.missingEntries(ctx, m, spec, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// decidePreflight stores a pre-flight's report artifact and its summary on
// the migration, and holds go-live (status final_held, audit golive.held,
// Held in the output) when a difference is past a threshold and the
// coordinator has not re-approved this fingerprint.
//
// Errors: ECONFLICT when the migration changed meanwhile; EINTERNAL when
// the report cannot be encoded; EUNAVAILABLE from storage.
func (s *Final) decidePreflight(ctx context.Context, m *cutover.Migration, phase string, rep *cutover.PreflightReport) (*FinalOutput, error) {
	fp := finalFingerprint(m)
	rep.Fingerprint, rep.Phase, rep.At = fp, phase, s.Now()
	key := fmt.Sprintf("%spreflight-%s.json", finalPrefix(m), phase)
	body, err := json.Marshal(rep)
	if err != nil {
		return nil, cutover.Wrap(cutover.EINTERNAL, err, "The pre-flight report could not be encoded.")
	}
	if err := s.files.Put(ctx, key, "application/json", body); err != nil {
		return nil, err
	}
	sum := &cutover.PreflightSummary{Fingerprint: fp, Phase: phase, Breaches: []cutover.PreflightBreach{}, BreachKey: breachKey(rep.Breaches), ReportKey: key, CheckedAt: rep.At}
	for _, b := range rep.Breaches[:min(len(rep.Breaches), cutover.MaxPreflightBreaches)] {
		b.Detail = cutover.Clip(b.Detail, cutover.MaxReasonBytes)
		sum.Breaches = append(sum.Breaches, b)
	}
	var held bool
	updated, err := s.Update(ctx, m.ID, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		if cur.Status != cutover.StatusScheduled || finalFingerprint(cur) != fp {
			return nil, cutover.Errorf(cutover.ECONFLICT, "The migration changed to %s meanwhile; the pre-flight stops.", cur.Status)
		}
		if cur.Preflight != nil && cur.Preflight.Reapproval != nil {
			sum.Reapproval = cur.Preflight.Reapproval
		}
		approved := sum.Reapproval.Approves(sum)
		held = len(rep.Breaches) > 0 && !approved
		sum.Held = held
		cur.Preflight = sum
		switch {
		case held:
			cur.Status = cutover.StatusFinalHeld
			return []cutover.AuditEvent{s.Event(migration.System, "golive.held", cutover.Clip(fmt.Sprintf("pre-flight (%s): %s", phase, breachList(rep.Breaches)), cutover.MaxReasonBytes))}, nil
		case len(rep.Breaches) > 0:
			return []cutover.AuditEvent{s.Event(migration.System, "preflight.passed", fmt.Sprintf("pre-flight (%s): %d difference(s), re-approved by the coordinator", phase, len(rep.Breaches)))}, nil
		}
		return []cutover.AuditEvent{s.Event(migration.System, "preflight.passed", fmt.Sprintf("pre-flight (%s): within the thresholds; %s", phase, migration.CountsDetail(rep.Counts)))}, nil
	})
	if err != nil {
		return nil, err
	}
	if held {
		s.Notify(ctx, s.HeldNotice(updated))
	}
	return &FinalOutput{Held: held, Phase: phase}, nil
}

func breachList(bs []cutover.PreflightBreach) string {
	var parts []string
	for _, b := range bs {
		parts = append(parts, b.Detail)
	}
	return strings.Join(parts, " ")
}

// compareDryRun compares a finished dry run (its chunks, all done) with
// the signed-off test migration and adds what differs to rep: each
// entity's rows, rejection and warning rates, reconciliation and delta,
// and each mapped field's fill rate.
//
// Errors: EINTERNAL when the chunks' rows do not balance or do not add up
// to the extract's; as preflightDelta; EUNAVAILABLE from storage.
func (s *Final) compareDryRun(ctx context.Context, m *cutover.Migration, rows int, chunks []cutover.Chunk, cmp *comparison, rep *cutover.PreflightReport) error {
	var (
		total   cutover.Counts
		reports []*pipeline.Report
	)
	for _, c := range chunks {
		total = total.Add(c.Counts)
		var rs []*pipeline.Report
		if err := json.Unmarshal([]byte(c.Reports), &rs); err != nil {
			return cutover.Wrap(cutover.EINTERNAL, err, "Part %d of the pre-flight's report could not be read.", c.Index+1)
		}
		reports = append(reports, rs...)
	}
	if !total.Balanced() || total.Read != rows {
		return cutover.Errorf(cutover.EINTERNAL, "The pre-flight's parts read %d rows of the final extract's %d, and account for %d.", total.Read, rows, total.Migrated+total.Merged+total.Rejected+total.Skipped)
	}
	reports = mergeReports(reports)
	rep.Counts = total
	final := workbook.Build(workbook.Meta{MigrationID: m.ID, Round: m.Round, MappingVersion: m.MappingVersion, CreatedAt: s.Now()},
		reports, m.Checklist, nil, total.Orphans, nil)
	var test workbook.Workbook
	wbKey := ""
	if m.Workbook != nil {
		wbKey = m.Workbook.Key
	}
	if m.SignOff != nil && m.SignOff.WorkbookKey != "" {
		wbKey = m.SignOff.WorkbookKey
	}
	if wbKey != "" {
		if err := s.readArtifact(ctx, wbKey, "signed-off workbook", &test); err != nil {
			return err
		}
	}
	changed, d, err := s.preflightDelta(ctx, m, chunks, cmp)
	if err != nil {
		return err
	}
	th := s.thresholds()
	compareEntities(rep, &test, final, reports, d, th)
	compareFill(rep, &test, final, changed, th)
	return nil
}

// missingColumns records, per confirmed match, the columns the signed-off
// entry reads that the final table lacks: each one always holds go-live,
// since the records would reach LIVE without what the customer mapped;
// unless the signed-off test file lacked it too (an optional column, or
// the people named inline's phone): its values never reached TEST, so
// the customer signed off without them, and holding would stop the very
// extract they approved.
func (s *Final) missingColumns(ctx context.Context, m *cutover.Migration, spec *mapspec.Spec, files []cutover.File, rep *cutover.PreflightReport) error {
	headers := map[string]tableSample{}
	for _, f := range files {
		ts, err := s.sample(ctx, f)
		if cutover.ErrorCode(err) == cutover.EINVALID {
			continue // the dry run reports it in the reader's words
		}
		if err != nil {
			return err
		}
		for _, t := range ts {
			headers[t.name] = t
		}
	}
	ids, err := s.signedOffIdentities(ctx, m, spec)
	if err != nil {
		return err
	}
	tested, err := s.testHeaders(ctx, m)
	if err != nil {
		return err
	}
	choose := matchedEntry(m)
	for _, name := range slices.Sorted(maps.Keys(headers)) {
		t := headers[name]
		fs, err := choose(spec, name, t.header)
		if err != nil {
			rep.Breaches = append(rep.Breaches, cutover.PreflightBreach{Rule: cutover.RuleUnreadable, Detail: t.fileName + ": " + cutover.ErrorMessage(err)})
			continue
		}
		from := fs.Name
		for _, id := range ids {
			if id.Entry == fs.Name && id.FileName != "" {
				from = id.FileName
			}
		}
		var lacked []string // what the test file lacked too: its values never reached TEST either
		if th, ok := tested[fs.Name]; ok {
			lacked = missingColumns(fs, th)
		}
		for _, col := range missingColumns(fs, t.header) {
			if slices.Contains(lacked, col) {
				continue
			}
			targets := fieldsReading(fs, col)
			mc := cutover.MissingColumn{Entry: from, File: t.label(), Column: col, Field: strings.Join(targets, ", ")}
			rep.Missing = append(rep.Missing, mc)
			what := "which the signed-off mapping reads"
			if len(targets) > 0 {
				what = fmt.Sprintf("which the signed-off mapping of %s reads into %s.%s", from, fs.Entity, mc.Field)
			}
			rep.Breaches = append(rep.Breaches, cutover.PreflightBreach{
				Rule: cutover.RuleColumnMissing, Entity: fs.Entity, Field: mc.Field,
				Detail: fmt.Sprintf("%s has no column %q, %s: those values would not reach LIVE.", t.label(), col, what),
			})
		}
	}
	return nil
}

// testHeaders returns the header of each table of the signed-off round's
// test files, by table name (the name of its mapping entry), read from
// their first rows; a file that is gone or no longer reads is left out.
//
// Errors: EUNAVAILABLE from storage.
func (s *Final) testHeaders(ctx context.Context, m *cutover.Migration) (map[string][]string, error) {
	round := m.Round
	if m.SignOff != nil {
		round = m.SignOff.Round
	}
	out := map[string][]string{}
	for _, f := range m.TestFiles(round) {
		ts, err := s.sample(ctx, f)
		if c := cutover.ErrorCode(err); c == cutover.EINVALID || c == cutover.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		for _, t := range ts {
			out[t.name] = t.header
		}
	}
	return out, nil
}

// fieldsReading lists the target fields an entry fills from a column.
func fieldsReading(fs mapspec.FileSpec, col string) []string {
	var out []string
	for _, f := range fs.Fields {
		for _, c := range f.SourceColumns() {
			if normHeader(c) == normHeader(col) && !slices.Contains(out, f.Target) {
				out = append(out, f.Target)
			}
		}
	}
	return out
}

// preflightDelta compares the dry run's records (its chunks' snapshots)
// with the signed-off test migration's snapshot: the delta per entity, and
// per entity and field how many records change. Both are nil when the
// test kept no snapshot.
func (s *Final) preflightDelta(ctx context.Context, m *cutover.Migration, chunks []cutover.Chunk, cmp *comparison) (map[string]int, *delta.Report, error) {
	if m.Workbook == nil || m.Workbook.Snapshot == "" {
		return nil, nil, nil
	}
	if cmp != nil { // compared in key ranges
		if cmp.Delta == nil {
			return nil, nil, nil // the test's snapshot is gone
		}
		return cmp.Changed, cmp.Delta, nil
	}
	rc, err := s.files.Open(ctx, m.Workbook.Snapshot)
	if cutover.ErrorCode(err) == cutover.ENOTFOUND {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	_ = rc.Close() // compareSnapshots opens it again, to read it

	changed := map[string]int{} // entity + "\x00" + field
	d, err := countedCompare(changed, func(w io.Writer) (*delta.Report, error) {
		return s.compareSnapshots(ctx, m.Workbook.Snapshot, chunks, w)
	})
	if err != nil {
		return nil, nil, err
	}
	return changed, d, nil
}

// countedCompare runs compare, counting from the delta CSV it writes the
// changed records per entity and field into changed (countChanged). The
// CSV goes to the counts through a pipe: it is never held whole.
//
// Errors: compare's; EINTERNAL when the CSV cannot be read back.
func countedCompare(changed map[string]int, compare func(w io.Writer) (*delta.Report, error)) (*delta.Report, error) {
	out, ow := io.Pipe()
	counted := make(chan error, 1)
	go func() { counted <- countChanged(out, changed) }()
	d, err := compare(ow)
	ow.CloseWithError(err)
	if cerr := <-counted; err == nil && cerr != nil {
		err = cutover.Wrap(cutover.EINTERNAL, cerr, "The pre-flight's delta could not be read.")
	}
	return d, err
}

// countChanged counts, from a delta CSV, the changed records per entity
// and field (the key entity + "\x00" + field). It reads r to its end, so
// the writer of a pipe never blocks, even after a malformed row.
//
// Errors: the CSV reader's, or the pipe's writer's.
func countChanged(r io.Reader, changed map[string]int) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			_, _ = io.Copy(io.Discard, r)
			return err
		}
		if len(row) >= 4 && strings.EqualFold(row[1], "changed") && row[3] != "" {
			changed[row[0]+"\x00"+row[3]]++
		}
	}
}

func pct(n, of int) float64 {
	if of <= 0 {
		return 0
	}
	return math.Round(float64(n)*1000/float64(of)) / 10
}

// compareEntities compares each entity's rows, rejection and warning
// rates, reconciliation and delta with the test's, and notes breaches.
func compareEntities(rep *cutover.PreflightReport, test, final *workbook.Workbook, reports []*pipeline.Report, d *delta.Report, th cutover.Thresholds) {
	testBy := map[string]workbook.Reconciliation{}
	testRows := 0
	for _, r := range test.Reconciliation {
		testBy[r.Entity] = r
		testRows += r.Rows
	}
	warned := map[string]int{}
	for _, r := range reports {
		warned[r.Entity] += r.Counts.Warned
	}
	deltas := map[string]delta.EntityDelta{}
	if d != nil {
		for _, e := range d.Entities {
			deltas[e.Entity] = e
		}
	}
	for _, f := range final.Reconciliation {
		t := testBy[f.Entity]
		e := cutover.PreflightEntity{
			Entity: f.Entity, TestRows: t.Rows, Rows: f.Rows, Migrated: f.Migrated,
			TestRejectPct: pct(t.Rejected, t.Rows), RejectPct: pct(f.Rejected, f.Rows),
			TestWarnPct: pct(test.Issues.Warned, testRows), WarnPct: pct(warned[f.Entity], f.Rows), Status: f.Status,
			TestRejected: t.Rejected, Rejected: f.Rejected, TestWarned: test.Issues.Warned, Warned: warned[f.Entity],
		}
		if de, ok := deltas[f.Entity]; ok {
			e.Added, e.Removed, e.Changed = de.Added, de.Removed, de.Changed
		}
		rep.Entities = append(rep.Entities, e)
		if rise := e.RejectPct - e.TestRejectPct; rise > th.RejectRisePoints {
			rep.Breaches = append(rep.Breaches, cutover.PreflightBreach{
				Rule: cutover.RuleRejectRise, Entity: f.Entity,
				Detail: fmt.Sprintf("%s: %.1f%% of the final extract's rows would be rejected, against %.1f%% in the test (%.1f points more; the limit is %g).", f.Entity, e.RejectPct, e.TestRejectPct, rise, th.RejectRisePoints),
			})
		}
		// An unexplained reconciliation the coordinator already signed off
		// in the test is what they approved; a newly unexplained one holds
		// when the export falls short of the customer's count (records the
		// old CRM has are missing). An export grown past a count taken
		// before the test is the CRM's growth since: the preview shows it
		// and the delta threshold bounds it.
		if th.HoldUnexplained && f.Status == "unexplained" && t.Status != "unexplained" && (f.Checklist == nil || f.Rows < *f.Checklist) {
			rep.Breaches = append(rep.Breaches, cutover.PreflightBreach{
				Rule: cutover.RuleUnexplained, Entity: f.Entity,
				Detail: fmt.Sprintf("%s: the final extract's counts do not reconcile with the checklist and nothing explains it: %s", f.Entity, f.Explanation),
			})
		}
		if th.DeltaPct > 0 && t.Rows > 0 {
			size := e.Added + e.Removed + e.Changed
			if p := pct(size, max(testBy[f.Entity].Migrated, 1)); p > th.DeltaPct {
				rep.Breaches = append(rep.Breaches, cutover.PreflightBreach{
					Rule: cutover.RuleDelta, Entity: f.Entity,
					Detail: fmt.Sprintf("%s: %d records added, %d removed and %d changed since the test, %.1f%% of its records (the limit is %g%%).", f.Entity, e.Added, e.Removed, e.Changed, p, th.DeltaPct),
				})
			}
		}
	}
	for _, t := range test.Reconciliation {
		if !slices.ContainsFunc(final.Reconciliation, func(f workbook.Reconciliation) bool { return f.Entity == t.Entity }) {
			rep.Entities = append(rep.Entities, cutover.PreflightEntity{Entity: t.Entity, TestRows: t.Rows, TestRejectPct: pct(t.Rejected, t.Rows), TestRejected: t.Rejected, Status: "missing"})
			rep.Breaches = append(rep.Breaches, cutover.PreflightBreach{
				Rule: cutover.RuleColumnMissing, Entity: t.Entity,
				Detail: fmt.Sprintf("%s: the test migration had %d rows of it; the final extract has none.", t.Entity, t.Rows),
			})
		}
	}
}

// compareFill compares each mapped field's fill rate with the test's.
func compareFill(rep *cutover.PreflightReport, test, final *workbook.Workbook, changed map[string]int, th cutover.Thresholds) {
	testFill, testDen := fillByEntity(test)
	finalFill, finalDen := fillByEntity(final)
	var keys []string
	for k := range testFill {
		keys = append(keys, k)
	}
	for k := range finalFill {
		if _, ok := testFill[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		entity, field, _ := strings.Cut(k, "\x00")
		ff := cutover.FieldFill{Entity: entity, Field: field, TestPct: pct(testFill[k], testDen[entity]), Pct: pct(finalFill[k], finalDen[entity]), Changed: changed[k]}
		if ff.TestPct == 0 && ff.Pct == 0 && ff.Changed == 0 {
			continue // a field neither fills
		}
		rep.Fill = append(rep.Fill, ff)
		if _, inFinal := finalDen[entity]; !inFinal {
			continue // the whole entity is missing: said once above
		}
		if drop := ff.TestPct - ff.Pct; drop > th.FillDropPoints {
			rep.Breaches = append(rep.Breaches, cutover.PreflightBreach{
				Rule: cutover.RuleFillDrop, Entity: entity, Field: field,
				Detail: fmt.Sprintf("%s.%s: filled in %.1f%% of the final extract's records, against %.1f%% in the test (%.1f points less; the limit is %g).", entity, field, ff.Pct, ff.TestPct, drop, th.FillDropPoints),
			})
		}
	}
}

// fillByEntity sums a workbook's filled counts per entity and field, and
// the records they are counted over (migrated and merged rows) per entity.
func fillByEntity(wb *workbook.Workbook) (map[string]int, map[string]int) {
	filled, den := map[string]int{}, map[string]int{}
	for _, r := range wb.Reconciliation {
		den[r.Entity] += r.Migrated + r.Merged
	}
	for _, ef := range wb.FillRates {
		for _, f := range ef.Fields {
			filled[ef.Entity+"\x00"+f.Field] += f.Filled
		}
	}
	return filled, den
}

// PreflightFor returns the latest pre-flight's full report, for the
// customer's preview ("this is what will go live") and the held notice.
//
// Errors: ENOTFOUND before a pre-flight ran for the current final extract;
// EUNAVAILABLE when storage cannot be read.
func (s *Customer) PreflightFor(ctx context.Context, m *cutover.Migration) (*cutover.PreflightReport, error) {
	if m.Preflight == nil || m.Preflight.ReportKey == "" {
		return nil, cutover.Errorf(cutover.ENOTFOUND, "There is no pre-flight yet: it runs when the final extract is submitted.")
	}
	var rep cutover.PreflightReport
	if err := s.readArtifact(ctx, m.Preflight.ReportKey, "pre-flight report", &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

// WithdrawFinal is the customer's correction of a held go-live: the final
// extract is withdrawn, the coordinator's re-approval link stops working
// (it says it was superseded), and the state machine goes back to waiting
// for a final extract, for the customer to upload a corrected one. Nothing
// was written to LIVE.
//
// Errors: ECONFLICT when go-live is not held, or its re-approval request is
// not parked yet (try again in a moment); EGONE when the coordinator
// decided first; EUNAVAILABLE from Step Functions.
func (s *Customer) WithdrawFinal(ctx context.Context, m *cutover.Migration) (*cutover.Migration, error) {
	if m.Status != cutover.StatusFinalHeld {
		return nil, cutover.Errorf(cutover.ECONFLICT, "Only a held go-live can be withdrawn; the migration is %s.", m.Status)
	}
	if m.Pending == nil || m.Pending.Kind != cutover.TaskReapproval {
		return nil, cutover.Errorf(cutover.ECONFLICT, "Go-live is being held; try again in a moment.")
	}
	return s.HandOver(ctx, s.flow, m, map[string]any{"approved": false, "withdrawn": true}, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		if cur.Status != cutover.StatusFinalHeld || cur.Pending == nil || cur.Pending.Token != m.Pending.Token {
			return nil, cutover.Errorf(cutover.EGONE, "The held go-live was decided meanwhile (the migration is %s); reload.", cur.Status)
		}
		cur.Status, cur.Pending, cur.CurrentLink = cutover.StatusAwaitingFinal, nil, ""
		if cur.Preflight != nil {
			cur.Preflight.Held = false
		}
		return []cutover.AuditEvent{s.Event("customer", "golive.withdrawn", "the final extract was withdrawn for a corrected one; nothing was written to LIVE")}, nil
	})
}

// missingEntries adds a breach for each signed-off file the final extract
// has nothing for: its rows, and every column the customer mapped in it,
// would not reach LIVE, though another file of the same kind of record
// keeps that entity's rates close to the test's. A final extract that is
// the signed-off test extract itself (no matches) has every entry.
//
// Errors: as signedOffIdentities.
func (s *Final) missingEntries(ctx context.Context, m *cutover.Migration, spec *mapspec.Spec, rep *cutover.PreflightReport) error {
	if len(m.FinalMatches) == 0 {
		return nil
	}
	ids, err := s.signedOffIdentities(ctx, m, spec)
	if err != nil {
		return err
	}
	for _, fs := range spec.Files {
		if slices.ContainsFunc(m.FinalMatches, func(fm cutover.FinalMatch) bool { return fm.Entry == fs.Name }) {
			continue
		}
		from := fs.Name
		for _, id := range ids {
			if id.Entry == fs.Name && id.FileName != "" {
				from = id.FileName
			}
		}
		rep.Breaches = append(rep.Breaches, cutover.PreflightBreach{
			Rule: cutover.RuleFileMissing, Entity: fs.Entity,
			Detail: fmt.Sprintf("No file of the final extract is read with the signed-off mapping of %s (%s): its records, and every column mapped in it, would not reach LIVE.", from, fs.Entity),
		})
	}
	return nil
}

// breachKey names a set of differences by every breach's rule, entity and
// field (their wording, which carries rates, may vary), in any order.
func breachKey(bs []cutover.PreflightBreach) string {
	if len(bs) == 0 {
		return ""
	}
	keys := make([]string, len(bs))
	for i, b := range bs {
		keys[i] = b.Rule + "\x00" + b.Entity + "\x00" + b.Field
	}
	slices.Sort(keys)
	sum := sha256.Sum256([]byte(strings.Join(slices.Compact(keys), "\x01")))
	return "sha256:" + hex.EncodeToString(sum[:])
}
