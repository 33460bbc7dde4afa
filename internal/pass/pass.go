// Package pass runs a migration pass for the Lambdas: every file of an
// extract through the mapping engine (internal/pipeline) into a sink (the
// TEST or the LIVE environment), every rejected row kept with its reasons
// in a rejects file, and every row accounted for. It has no AWS types.
package pass

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pipeline"
	"github.com/cutover/cutover/internal/schema"
	"github.com/cutover/cutover/internal/tabular"
)

// Pass describes one migration pass.
type Pass struct {
	TenantID        string
	Spec            *mapspec.Spec
	Files           []cutover.File
	ArtifactsPrefix string    // artifacts key prefix; one rejects CSV per file with rejects
	Now             time.Time // "today" for row rules
	// Choose picks the spec's entry for a table. Nil means by name: the
	// entry named TableName(file, table).
	Choose func(spec *mapspec.Spec, name string, header []string) (mapspec.FileSpec, error)
	// Spot, if set, sees every migrated record beside its source row.
	Spot pipeline.Spotter
	// Read are the reader's options: a chunk of a final file is read with
	// the whole file's encoding and delimiter and its line offset.
	Read tabular.Options
	// BatchSize is how many records each Sink.Write gets; 0 is the
	// pipeline's default. A sink that writes a batch in parallel (LIVE's
	// transactions) wants several of its writes' worth.
	BatchSize int
	// Market is the migration's market (ISO 3166-1 alpha-2, "" for none),
	// for the pipeline's phone-region and date inference.
	Market string
	// Inferred is what the signed-off test migration inferred (phone
	// region, date formats), by mapping entry name: a final pass reads
	// each file exactly as the test did instead of inferring again from
	// its chunk's rows. An entry it lacks is inferred as usual.
	Inferred map[string]*mapspec.Inference
	// KeepReview stores each table's review file (its rows migrated with a
	// "!" warning) beside its rejects file: the test migration's workbook
	// offers it for download. Off, the warnings are only counted.
	KeepReview bool
	// KeepSource keeps each record's source row (file, line, cells) on
	// the records given to the sink (cutover.Record.Source): the test
	// migration's TEST environment stores it for the customer to browse.
	KeepSource bool
	// Claimed are the records earlier chunks of the same extract migrated
	// (the id shuffle's resolution for this chunk): a row of this pass
	// with one of their ids is rejected as a duplicate source id, as it
	// would be were the chunks one pass; and the people named inline an
	// earlier chunk derives.
	Claimed []Claim
	// Spill, if set, takes every record the pass keeps, with its dedupe
	// key ("" for none), instead of the sink, in order: a chunk of an
	// extract whose records merge by dedupe key across chunks hands them
	// to a merge step (Merge) that sees every record of their keys. A row
	// repeating an earlier row's source id (of this pass, or Claimed) is
	// still rejected here, as it would be were the chunks one pass. A
	// person named inline is spilled as a record with no key, once per
	// pass, and not at all when Claimed (an earlier chunk derives it).
	// The spec must need nothing else of every record: references and
	// people named inline only with Elsewhere, which resolves and links
	// them before the record is spilled (without it, as in the id
	// shuffle's keys step, they are spilled as the rows name them).
	//
	// With Spot, a record's sighting (pipeline.Watcher) is not given to
	// Spot but spilled with the record (seen; nil when there is none): only
	// the merge step knows whether its row merged, and into which record.
	Spill func(rec *mapspec.Record, key string, seen *pipeline.Sighting) error
	// Elsewhere, when set, says the pass is one chunk of an extract whose
	// id shuffle saw every chunk's records: its references resolve to the
	// record of their entity and source id wherever it is, unless no chunk
	// holds it (Elsewhere.Missing: an orphan, as in one pass), or to the
	// record it merged into when it merged into one with another source id
	// (Elsewhere.Aliases, decided over every chunk, as one pass's
	// mapspec.Merger aliases it).
	//
	// With Elsewhere, people named inline are linked to listed ones by
	// Elsewhere.Linked, decided over every chunk, not over the pass's own
	// records (mapspec.LinkInline).
	Elsewhere *Elsewhere
	// Repeated, with Spill, is told of each row rejected for repeating
	// an earlier row's source id of the pass, with the dedupe key it
	// would have been kept under ("" for none) and the people it names
	// inline, in file order among the records spilled: the id shuffle's
	// keys step, which runs a chunk without the ids earlier chunks hold,
	// learns of a row that the chunk's own run (given them) may merge
	// instead. The record spilled
	// before it is spilled first, without waiting for a sighting: a pass
	// with Repeated may have no Spot (Run refuses it).
	Repeated func(rec *mapspec.Record, key string, named []*mapspec.Record)
	// Kept, with Spill, is told of each row kept (not rejected for
	// repeating a source id), with the people it names inline (the
	// records it derives, spilled before the row when first in the pass),
	// before the row is spilled: the id shuffle's keys step tells the
	// people a row derives from the row's own record, whatever their ids.
	Kept func(rec *mapspec.Record, named []*mapspec.Record)
}

// Elsewhere is what a chunk knows of the records other chunks hold.
type Elsewhere struct {
	// Missing are the records ("entity#record id") the chunk's references
	// name that no chunk of the extract holds.
	Missing map[string]bool
	// Linked are the people the chunk names inline that are linked to a
	// listed record (by LinkInline's rule, over every chunk): the listed
	// record's source id, by entity + "\x00" + the derived source id.
	Linked map[string]string
	// Aliases are the records ("entity#record id") the chunk's references
	// name that merged into a record with another source id (its entity
	// merges across source ids): that record's id.
	Aliases map[string]string
}

// link is the chunk's mapspec.Mapper.LinkWith.
func (e *Elsewhere) link(entity, sourceID string) (string, bool) {
	to, ok := e.Linked[entity+"\x00"+sourceID]
	return to, ok
}

// resolve sets the id of each of rec's references that a chunk holds
// and clears the others', and returns how many it cleared: orphans.
func (e *Elsewhere) resolve(tenant string, rec *mapspec.Record) int {
	orphans := 0
	for i := range rec.Refs {
		ref := &rec.Refs[i]
		ref.ID = cutover.RecordID(tenant, ref.Entity, ref.SourceID)
		if e.Missing[ref.Entity+"#"+ref.ID] {
			ref.ID = ""
			orphans++
		} else if to, ok := e.Aliases[ref.Entity+"#"+ref.ID]; ok {
			ref.ID = to
		}
	}
	return orphans
}

// Claim names a record by entity and record id, and the dedupe key the
// row that claimed its id was kept under ("" for none): a later row with
// the id and the same key merges into the record, any other is a
// duplicate.
type Claim struct{ Entity, ID, Key string }

// Result is a pass's account: the totals, each table's report, and where
// each table's rejected rows are.
type Result struct {
	Counts  cutover.Counts
	Reports []*pipeline.Report
	Rejects []RejectsFile
	// PossibleDuplicates lists dedupe keys shared by records with different
	// source ids that were kept apart, for a person to review.
	PossibleDuplicates []mapspec.PossibleDuplicate
	// Entries is the spec entry each table was mapped with, by the table's
	// label (a report's File), so the workbook can say how each file's
	// records are identified from the spec the pass ran.
	Entries map[string]mapspec.FileSpec
	// Reviews are where each table's review file is: its rows migrated
	// with a "!" warning, one line per warning, for a person to check.
	Reviews []RejectsFile
}

// Inferred is what the pass inferred for each mapping entry (by entry
// name), from its reports: what a later pass gives as Pass.Inferred to
// read its files the same way. An entry mapped from several tables keeps
// the first one's.
func (r *Result) Inferred() map[string]*mapspec.Inference {
	out := map[string]*mapspec.Inference{}
	for _, rep := range r.Reports {
		fs, ok := r.Entries[rep.File]
		if _, seen := out[fs.Name]; !ok || seen || rep.Inference == nil {
			continue
		}
		out[fs.Name] = rep.Inference
	}
	return out
}

// RejectsFile is a table's rejects CSV in storage.
type RejectsFile struct {
	File string `json:"file"`
	Key  string `json:"key"`
}

// TableName names a file's table in a mapping spec: the file id, with the
// sheet for a workbook.
func TableName(f cutover.File, t tabular.Table) string {
	if s := t.Format().Sheet; s != "" {
		return f.ID + "#" + s
	}
	return f.ID
}

// ByName picks the spec's entry called name.
//
// Errors: EINVALID when the spec has no such entry.
func ByName(spec *mapspec.Spec, name string, _ []string) (mapspec.FileSpec, error) {
	for _, f := range spec.Files {
		if f.Name == name {
			return f, nil
		}
	}
	return mapspec.FileSpec{}, cutover.Errorf(cutover.EINVALID, "The mapping has no entry for file %s.", name)
}

// Run executes the pass and returns the counts, which always balance.
//
// Errors: EINVALID when a file cannot be read or does not fit its mapping
// (the message names the file and, for a read error, the line); whatever
// the Opener, Sink or Putter return (EUNAVAILABLE for transient failures).
//
// Whatever the counts say, Run also counts the distinct records its sink
// accepted and fails the pass (EINTERNAL, naming both numbers) when they are
// not the migrated count: a record lost on the way is noticed.
//
// With Pass.Spill the sink is given nothing, and the check counts the
// records spilled instead. A pass with Pass.Repeated and Pass.Spot is
// refused (EINTERNAL, a wiring mistake): Repeated spills a record before
// its sighting comes.
func Run(ctx context.Context, p Pass, open cutover.Opener, sink cutover.Sink, put cutover.Putter) (*Result, error) {
	if p.Repeated != nil && p.Spot != nil {
		return nil, cutover.Errorf(cutover.EINTERNAL, "A pass told of repeated rows cannot watch their sightings: Repeated spills the record before it without one.")
	}
	counted := &countingSink{Sink: sink, written: pipeline.NewWritten()}
	spilled := 0
	if spill := p.Spill; spill != nil {
		p.Spill = func(rec *mapspec.Record, key string, seen *pipeline.Sighting) error {
			spilled++
			return spill(rec, key, seen)
		}
	}
	res, err := run(ctx, p, open, counted, put)
	if err != nil {
		return res, err
	}
	if p.Spill != nil {
		return res, pipeline.CheckWritten("The spill", res.Counts.Migrated+res.Counts.Derived, spilled)
	}
	// Each migrated row is one record, and each derived person one more.
	return res, pipeline.CheckWritten("The destination", res.Counts.Migrated+res.Counts.Derived, counted.written.Len())
}

// countingSink counts the distinct records its sink accepted, at the
// sink's boundary: the count comes from what was written, not from the
// pipeline's bookkeeping.
type countingSink struct {
	cutover.Sink
	written *pipeline.Written
}

func (c *countingSink) Write(ctx context.Context, recs []cutover.Record) ([]cutover.Refusal, error) {
	refused, err := c.Sink.Write(ctx, recs)
	if err != nil {
		return nil, err
	}
	no := make(map[string]bool, len(refused))
	for _, r := range refused {
		no[r.Entity+"\x00"+r.ID] = true
	}
	for _, r := range recs {
		if !no[r.Entity+"\x00"+r.ID] {
			c.written.Add(r.Entity, r.ID)
		}
	}
	return refused, nil
}

func run(ctx context.Context, p Pass, open cutover.Opener, sink cutover.Sink, put cutover.Putter) (*Result, error) {
	res := &Result{Entries: map[string]mapspec.FileSpec{}}
	total := &res.Counts
	total.RejectsKey = p.ArtifactsPrefix
	sch := schema.Default()
	choose := p.Choose
	if choose == nil {
		choose = ByName
	}
	var merger *mapspec.Merger
	if p.Spec.HoldsRecords(sch) && p.Spill == nil {
		merger = mapspec.NewMergerFor(p.Spec)
	}
	seen := pipeline.NewSeen() // a source id migrated twice in a pass is a rejected duplicate
	for _, c := range p.Claimed {
		seen.Claim(c.Entity, c.ID, c.Key)
	}
	var global *spilling
	if p.Spill != nil {
		global = &spilling{seen: seen, spill: p.Spill, tenant: p.TenantID, elsewhere: p.Elsewhere, repeated: p.Repeated, kept: p.Kept}
		if p.Spot != nil {
			p.Spot = spillSpotter{p.Spot, global}
		}
	}
	derived := pipeline.NewWritten() // a person named inline in several files is derived once
	for _, c := range p.Claimed {
		derived.Add(c.Entity, c.ID) // and once in an extract: an earlier chunk derived these (or holds a row with such an id)
	}
	out := sinkAdapter{sink}
	var tables []*tableOut
	for _, f := range p.Files {
		o := outputs{sink: out, merger: merger, seen: seen, derived: derived}
		if global != nil {
			o.global = global
		}
		reps, err := runFile(ctx, p, f, sch, choose, open, o, put, res.Entries, &res.Reviews, &tables)
		res.Reports = append(res.Reports, reps...)
		if err != nil {
			return res, err
		}
		for _, r := range reps {
			rc := r.Counts
			*total = total.Add(cutover.Counts{Read: rc.Read, Migrated: rc.Migrated, Merged: rc.Merged, Rejected: rc.Rejected, Skipped: rc.SkippedTotal()})
			for _, n := range rc.Derived {
				total.Derived += n
			}
		}
	}
	if global != nil {
		if err := global.flush(); err != nil {
			return res, err
		}
	}
	if merger != nil {
		recs, links := merger.Records(), []mapspec.Alias(nil)
		if p.Elsewhere == nil { // with it, the chunk's Mappers linked them (LinkWith)
			var linked map[string]int
			recs, links, linked = mapspec.LinkInline(recs)
			for _, n := range linked {
				total.Derived -= n // the listed person is written instead
			}
		}
		resolver := mapspec.NewResolver()
		for _, r := range recs {
			resolver.AddRecord(r)
		}
		resolver.AddAliases(merger.Aliases())
		resolver.AddAliases(links)
		res.PossibleDuplicates = merger.PossibleDuplicates()
		for _, r := range recs {
			if p.Elsewhere != nil {
				total.Orphans += p.Elsewhere.resolve(p.TenantID, r)
			} else {
				total.Orphans += len(resolver.Resolve(r))
			}
		}
		refused, err := writeHeld(ctx, out, recs, 100)
		if err != nil {
			return res, err
		}
		if err := refuseHeld(ctx, p, open, tables, refused, total); err != nil {
			return res, err
		}
		total.Orphans += orphanedBy(recs, refused)
	}
	for _, t := range tables {
		if t.rep.Counts.Rejected == 0 {
			continue
		}
		if err := put.Put(ctx, t.key, "text/csv; charset=utf-8", t.rejects.Bytes()); err != nil {
			return res, err
		}
		res.Rejects = append(res.Rejects, RejectsFile{File: t.label, Key: t.key})
	}
	if !total.Balanced() {
		return res, cutover.Errorf(cutover.EINTERNAL, "Row accounting does not balance: read %d, migrated %d, merged %d, rejected %d, skipped %d.",
			total.Read, total.Migrated, total.Merged, total.Rejected, total.Skipped)
	}
	return res, nil
}

func runFile(ctx context.Context, p Pass, f cutover.File, sch *schema.Schema, choose func(*mapspec.Spec, string, []string) (mapspec.FileSpec, error),
	open cutover.Opener, o outputs, put cutover.Putter, entries map[string]mapspec.FileSpec, reviews *[]RejectsFile,
	outs *[]*tableOut,
) ([]*pipeline.Report, error) {
	var reps []*pipeline.Report
	rc, err := open.Open(ctx, f.Key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	tables, err := tabular.Open(rc, f.Name, ReadOptions(f, p.Read))
	if err != nil {
		return nil, err // the reader's messages name the file
	}
	defer func() {
		for _, t := range tables {
			_ = t.Close()
		}
	}()
	for _, t := range tables {
		name := TableName(f, t)
		fs, err := choose(p.Spec, name, t.Header())
		if err != nil {
			return reps, Named(f.Name, err)
		}
		m, err := mapspec.Compile(fs, sch, t.Header(), p.TenantID, p.Now)
		if err != nil {
			return reps, Named(f.Name, err)
		}
		if p.Elsewhere != nil {
			m.LinkWith(p.Elsewhere.link)
		}
		var review bytes.Buffer
		rejects := &bytes.Buffer{}
		var reviewOut io.Writer
		if p.KeepReview {
			reviewOut = &review
		}
		label := f.Name
		if s := t.Format().Sheet; s != "" {
			label += " [" + s + "]"
		}
		entries[label] = fs
		rep, err := pipeline.Run(ctx, label, t, m, pipeline.Outputs{Sink: o.sink, Merger: o.merger, Rejects: rejects, Review: reviewOut, Spot: p.Spot, Seen: o.seen, Derived: o.derived, Global: o.global, KeepSource: p.KeepSource}, pipeline.Options{BatchSize: p.BatchSize, Market: p.Market, Inferred: p.Inferred[fs.Name]})
		if err != nil {
			return reps, err
		}
		reps = append(reps, rep)
		// The rejects file is stored at the end of the pass: a record held
		// for merging is written, and may be refused, only then.
		*outs = append(*outs, &tableOut{label: label, key: fmt.Sprintf("%srejects-%s.csv", p.ArtifactsPrefix, safeKey(name)), width: len(t.Header()), rejects: rejects, rep: rep})
		if p.KeepReview && rep.Counts.Warned > 0 {
			key := fmt.Sprintf("%sreview-%s.csv", p.ArtifactsPrefix, safeKey(name))
			if err := put.Put(ctx, key, "text/csv; charset=utf-8", review.Bytes()); err != nil {
				return reps, err
			}
			*reviews = append(*reviews, RejectsFile{File: label, Key: key})
		}
	}
	return reps, nil
}

// outputs are where a pass's files' records go.
type outputs struct {
	sink    pipeline.Sink
	merger  *mapspec.Merger
	seen    *pipeline.Seen
	derived *pipeline.Written
	global  pipeline.Global // with Pass.Spill: replaces the others
}

// spilling is the pipeline.Global of a pass with Pass.Spill: it rejects
// a row repeating an earlier row's source id as Seen does, and spills
// every record it keeps, with its sighting when the record is watched
// (the pipeline adds a record before it reports its sighting, so the
// record waits for it until the next one comes).
type spilling struct {
	seen      *pipeline.Seen
	spill     func(*mapspec.Record, string, *pipeline.Sighting) error
	tenant    string
	elsewhere *Elsewhere // resolves the references before the record is spilled
	repeated  func(*mapspec.Record, string, []*mapspec.Record)
	kept      func(*mapspec.Record, []*mapspec.Record)
	pending   *mapspec.Record
	key       string
	err       error // a spill that failed while a sighting was reported
}

var _ pipeline.Global = (*spilling)(nil)

func (s *spilling) Keep(rec *mapspec.Record, key string, named []*mapspec.Record) (string, error) {
	if s.seen.Repeats(rec, key) {
		if s.repeated != nil {
			if err := s.flush(); err != nil { // the records before it first
				return "", err
			}
			s.repeated(rec, key, named)
		}
		return pipeline.DuplicateSourceID, nil
	}
	if s.kept != nil {
		s.kept(rec, named)
	}
	return "", nil
}

// Derived implements pipeline.Global: a person is derived once in an
// extract, by one chunk that names them (the others have it among their
// claims: the id shuffle's, by the first chunk whose rows that stay name
// them).
func (s *spilling) Derived(rec *mapspec.Record) (bool, error) {
	return !s.seen.Repeats(rec, ""), nil
}

// Add implements pipeline.Global.
//
// Errors: Pass.Spill's.
func (s *spilling) Add(rec *mapspec.Record, key string) error {
	if err := s.flush(); err != nil {
		return err
	}
	if s.elsewhere != nil {
		s.elsewhere.resolve(s.tenant, rec) // the orphans are counted once merged (Merge)
	}
	s.pending, s.key = rec, key
	return nil
}

// flush spills the record waiting for its sighting without one.
//
// Errors: Pass.Spill's.
func (s *spilling) flush() error {
	if s.err != nil || s.pending == nil {
		return s.err
	}
	rec := s.pending
	s.pending = nil
	return s.spill(rec, s.key, nil)
}

// sighted spills the waiting record with its sighting x, and reports
// whether x was of it.
func (s *spilling) sighted(x pipeline.Sighting) bool {
	if s.pending == nil || x.Record != s.pending {
		return false
	}
	s.pending = nil
	if s.err == nil {
		s.err = s.spill(x.Record, s.key, &x)
	}
	return true
}

// spillSpotter is a spilling pass's Spot: a record's sighting goes with
// the record; every other row's (rejected, skipped) to the pass's Spot.
type spillSpotter struct {
	inner pipeline.Spotter
	s     *spilling
}

var _ pipeline.Watcher = spillSpotter{}

func (w spillSpotter) Offer(file string, header []string, line int, row []string, rec *mapspec.Record) {
	w.Watch(pipeline.Sighting{File: file, Header: header, Line: line, Row: row, Entity: rec.Entity, SourceID: rec.SourceID, Outcome: mapspec.Migrated, Record: rec})
}

func (w spillSpotter) Watch(x pipeline.Sighting) {
	if x.Record != nil && w.s.sighted(x) {
		return
	}
	if in, ok := w.inner.(pipeline.Watcher); ok {
		in.Watch(x)
	} else if x.Record != nil {
		w.inner.Offer(x.File, x.Header, x.Line, x.Row, x.Record)
	}
}

func safeKey(name string) string {
	b := []byte(name)
	for i, ch := range b {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_' || ch == '.') {
			b[i] = '_'
		}
	}
	return string(b)
}

// Named prefixes an application error's message with the file's name,
// keeping its code. Internal errors are returned as they are.
//
// Errors: err, renamed.
func Named(file string, err error) error {
	code := cutover.ErrorCode(err)
	if code == cutover.EINTERNAL {
		return err
	}
	return cutover.Wrap(code, err, "%s: %s", file, cutover.ErrorMessage(err))
}

// sinkAdapter turns the engine's records into the domain's: each field
// as text, and beside it what text would lose (a list's items, the ids
// references resolved to), for destinations that take typed values.
type sinkAdapter struct{ cutover.Sink }

func (s sinkAdapter) Write(ctx context.Context, recs []*mapspec.Record) ([]cutover.Refusal, error) {
	out := make([]cutover.Record, len(recs))
	for i, r := range recs {
		out[i] = domainRecord(r)
	}
	return s.Sink.Write(ctx, out)
}

// domainRecord is r as the domain carries it.
func domainRecord(r *mapspec.Record) cutover.Record {
	fields := make(map[string]string, len(r.Fields))
	var lists map[string][]string
	for j, v := range r.Fields {
		if v.Kind == mapspec.Absent {
			continue
		}
		name := r.Def().Fields[j].Name
		fields[name] = v.String()
		if v.Kind == mapspec.KList {
			if lists == nil {
				lists = map[string][]string{}
			}
			lists[name] = append([]string(nil), v.List...)
		}
	}
	out := cutover.Record{ID: r.ID, Entity: r.Entity, SourceID: r.SourceID, SourceRow: r.Line, Fields: fields, Lists: lists, Source: r.Source}
	for _, ref := range r.Refs {
		if ref.ID == "" {
			continue // unresolved: an orphan, or a pass that resolves nothing
		}
		if out.RefIDs == nil {
			out.RefIDs = map[string]map[string]string{}
		}
		if out.RefIDs[ref.Field] == nil {
			out.RefIDs[ref.Field] = map[string]string{}
		}
		out.RefIDs[ref.Field][ref.SourceID] = ref.ID
	}
	if len(r.Invalid) > 0 {
		out.Invalid = make(map[string]cutover.InvalidValue, len(r.Invalid))
		for _, iv := range r.Invalid {
			out.Invalid[iv.Field] = cutover.InvalidValue{Value: cutover.KeepInvalid(iv.Value), Reason: iv.Reason}
		}
	}
	return out
}

// ArtifactsPrefix is where a pass's generated files go: its rejects and review files and, for a test migration, the workbook.
func ArtifactsPrefix(migrationID, phase string, round int) string {
	return fmt.Sprintf("artifacts/%s/round-%d/%s/", migrationID, round, phase)
}

// ReadOptions is o with the encoding and delimiter the customer chose for
// f (cutover.File.Encoding, Delimiter) where o leaves them to detection:
// every step that reads a file reads it the same way, and a chunk of a
// final extract, whose options come from the format planned with these,
// keeps its own.
func ReadOptions(f cutover.File, o tabular.Options) tabular.Options {
	if o.Encoding == "" {
		o.Encoding = f.Encoding
	}
	if d := []rune(f.Delimiter); o.Delimiter == 0 && len(d) == 1 {
		o.Delimiter = d[0]
	}
	return o
}
