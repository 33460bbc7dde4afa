// Package pipeline runs one file through the mapping engine at the speed of
// the parser: one goroutine reads rows, every core maps them, and one
// collector accounts for each row in file order — migrated, rejected (kept
// with its original values and every reason), or skipped by a named rule —
// and hands records to a sink. Memory is bounded by a few chunks of rows,
// never by the file (unless the caller merges records by dedupe key, which
// holds them). It has no AWS types: the CLI and the Lambdas give it
// their own sinks.
package pipeline

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/tabular"
)

// Outputs is where a file's results go. Every field may be nil.
type Outputs struct {
	Sink    Sink            // migrated records
	Merger  *mapspec.Merger // if set, records go here instead of Sink, to be merged by dedupe key
	Rejects io.Writer       // rejects CSV: the original columns, the line and the reasons (io.Discard: not written)
	Review  io.Writer       // rows migrated with warnings ("!"), for review (io.Discard: not written)
	Spot    Spotter         // sees every migrated record beside its source row, in file order (every row, if it is a Watcher)
	Seen    *Seen           // if set, a row repeating a migrated or merged row's source id is rejected
	// Derived, if set, remembers the derived records already given, so a
	// person named in several files of a pass is given once; without it
	// each Run remembers its own.
	Derived *Written
	// Global, if set, replaces Seen, Merger, Derived and Sink: the pass's
	// global operations are resolved by it (see Global).
	Global Global
	// KeepSource keeps each migrated record's source row (file, line,
	// cells) on the record (mapspec.Record.Source), for a destination that
	// stores it: the test migration's. It costs a copy of the row's cells
	// per record, held as long as the record is.
	KeepSource bool
}

// Seen remembers the records a pass has migrated or merged, by entity and
// record id (which comes from the source id), so that a row repeating an
// earlier row's source id is rejected as a duplicate, with its reason,
// instead of silently becoming the same record. That holds when records
// are merged by a dedupe key too: two rows with one id and different keys
// would otherwise both count as migrated and be written as one record. A
// row that repeats an id with the same dedupe key merges into the very
// record that holds the id, losing nothing, so it is merged (every row of
// a mapping without sourceId, whose id is its dedupe key, is such a row).
// Share one across a pass's files. It is not safe for concurrent use: a
// pass reads its files one at a time. Its ids are fixed-size keys where
// they are record ids (see idTable) and its dedupe keys are spans of one
// arena of bytes, so the collector allocates nothing per row for it and
// the garbage collector has no pointer in it to scan.
type Seen struct {
	ids     idTable[keyRef] // entity, id -> the dedupe key it was kept under
	keys    []byte          // the dedupe keys keyRefs point into
	refused map[string]bool // entity#id of the streamed records the destination refused
}

// NewSeen returns an empty Seen.
func NewSeen() *Seen { return &Seen{refused: map[string]bool{}} }

// Claim remembers that an earlier part of the pass, run apart (another
// chunk of the same extract), kept a row with the record id entity/id
// under dedupe key key ("" for none), so a row of this part with its id
// is rejected as a duplicate, as it would be were the parts one run: the
// first row with an id keeps it, wherever it is, and a later one merges
// into it only with the same dedupe key.
func (s *Seen) Claim(entity, id, key string) {
	if _, ok := s.ids.get(entity, id); !ok {
		s.ids.put(entity, id, s.keyRef(key))
	}
}

// Repeats records rec, kept under dedupe key key ("" for none), and
// reports whether it repeats an earlier row's id other than by merging
// into its record: the rule a pipeline.Global that merges later (a chunk
// that spills its records) applies as Seen does.
func (s *Seen) Repeats(rec *mapspec.Record, key string) bool { return s.add(rec, key) }

// refuse remembers that the destination refused rec, so a later row with
// its id is not said to repeat a migrated record.
func (s *Seen) refuse(rec *mapspec.Record) { s.refused[rec.Entity+"#"+rec.ID] = true }

// duplicateOf is the reason a row repeating rec's id is rejected.
func (s *Seen) duplicateOf(rec *mapspec.Record) string {
	if s.refused[rec.Entity+"#"+rec.ID] {
		return duplicateOfRefused
	}
	return duplicate
}

// add records rec, kept under dedupe key key ("" for none), and reports
// whether it repeats an earlier record's id other than by merging into it.
func (s *Seen) add(rec *mapspec.Record, key string) bool {
	if prev, ok := s.ids.get(rec.Entity, rec.ID); ok {
		return key == "" || key != string(s.keys[prev.off:prev.off+uint64(prev.n)])
	}
	s.ids.put(rec.Entity, rec.ID, s.keyRef(key))
	return false
}

// keyRef keeps key in the arena and returns where it is ("" is none).
func (s *Seen) keyRef(key string) keyRef {
	if key == "" {
		return keyRef{}
	}
	ref := keyRef{off: uint64(len(s.keys)), n: uint32(len(key))}
	s.keys = append(s.keys, key...)
	return ref
}

// duplicate is the reason a row repeating a migrated source id is rejected.
const duplicate = DuplicateSourceID

// DuplicateSourceID is the reason a row repeating the source id of an
// earlier migrated row is rejected, for a Global to give the same one.
const DuplicateSourceID = "repeats the source id of an earlier row, which is migrated: the old CRM has two records with one id"

// duplicateOfRefused is the reason a row repeating the source id of a row
// whose record the destination refused is rejected: that record never
// landed, but the old CRM still has two records with one id.
const duplicateOfRefused = "repeats the source id of an earlier row, whose record the destination refused: the old CRM has two records with one id"

// Options tune the pipeline; the zero value is sensible.
type Options struct {
	Workers   int // mapping goroutines; 0 means GOMAXPROCS
	ChunkRows int // rows per unit of work; 0 means 1024
	BatchSize int // records per Sink.Write; 0 means 100
	// Market is the migration's market (ISO 3166-1 alpha-2, "" for none):
	// the phone region when a file says nothing about its country, and the
	// tie-break for date columns that read both ways.
	Market string
	// Inferred, if set, is what an earlier pass inferred for this file's
	// mapping entry: its region and date formats are used instead of
	// being inferred again (mapspec.Mapper.InferFrom).
	Inferred *mapspec.Inference
}

// Counts account for every row read: Read = Migrated + Merged + Rejected +
// the skips, always.
type Counts struct {
	Read     int            `json:"read"`
	Migrated int            `json:"migrated"`
	Merged   int            `json:"merged"`   // migrated into an earlier record with the same dedupe key
	Rejected int            `json:"rejected"` // with reasons, in the rejects file
	Skipped  map[string]int `json:"skipped"`  // by named rule
	Warned   int            `json:"warned"`   // migrated rows flagged for review
	LeftOut  int            `json:"leftOut"`  // values left out of migrated records because they could not be read (kept under "invalid")
	// Derived counts the distinct records derived from people the rows
	// name inline (a tenant's name on a tenancy), by entity. They are not
	// rows read, so they stand apart from the balance; each one is given to
	// the sink or merger once (see Outputs.Derived).
	Derived map[string]int `json:"derived,omitempty"`
}

// SkippedTotal is the number of rows skipped by any rule.
func (c Counts) SkippedTotal() int {
	n := 0
	for _, v := range c.Skipped {
		n += v
	}
	return n
}

// Balanced reports whether every row is accounted for.
func (c Counts) Balanced() bool {
	return c.Read == c.Migrated+c.Merged+c.Rejected+c.SkippedTotal()
}

// FillRate is how often a target field got a value.
type FillRate struct {
	Field  string  `json:"field"`
	Filled int     `json:"filled"`
	Rate   float64 `json:"rate"` // Filled / rows migrated or merged
}

// Report is the account of one file.
type Report struct {
	File    string         `json:"file"`
	Format  tabular.Format `json:"format"`
	Entity  string         `json:"entity"`
	Preset  string         `json:"preset,omitempty"`
	Counts  Counts         `json:"counts"`
	Rules   map[string]int `json:"rules,omitempty"`   // derive rules that changed records, e.g. applicant-expiry
	Reasons map[string]int `json:"reasons,omitempty"` // rejection reasons, grouped with the values left out
	// RefusedPeople counts the persons derived from names on this file's
	// rows that the destination refused, by RefusedPersonGroup: the rows
	// landed (they stay migrated), the persons did not.
	RefusedPeople map[string]int `json:"refusedPeople,omitempty"`
	LeftOut       map[string]int `json:"leftOut,omitempty"` // per target field, values left out of migrated records (the rows are flagged "!" in the review file)
	FillRates     []FillRate     `json:"fillRates"`
	Unmapped      []string       `json:"unmapped"` // source columns nothing maps: they will not migrate
	Dropped       []string       `json:"dropped,omitempty"`
	// Inference is what the engine read from the file's first rows: its
	// phone region and its date formats, with how sure it is.
	Inference *mapspec.Inference `json:"inference,omitempty"`
	// Combined accounts for each field several columns fill: how they
	// combine, and every value of a migrated row that was not migrated.
	Combined []mapspec.CombinedField `json:"combined,omitempty"`
	// Warnings are the "!" warnings of migrated rows grouped by reason,
	// the most frequent first, each with a few examples (see watch.go).
	Warnings []WarningGroup `json:"warnings,omitempty"`
}

type chunk struct {
	seq   int
	lines []int
	rows  [][]string
	outs  []mapspec.Outcome
}

// Run maps every row of t with m.
//
// Errors: EINVALID when the file cannot be read further (the message names
// the line); whatever the sink or the writers return; EINTERNAL if the
// counts fail to balance, which would be a bug. On error the report holds
// the rows accounted for so far.
func Run(ctx context.Context, file string, t tabular.Table, m *mapspec.Mapper, out Outputs, o Options) (*Report, error) {
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.ChunkRows <= 0 {
		o.ChunkRows = 1024
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 100
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The first rows are read before any is mapped, so the phone region and
	// date formats are inferred from the file itself; then they are mapped
	// like the rest.
	pre := prefetch(t, mapspec.InferSample) // a read error is met again by the reader, after the rows before it
	inf := m.InferFrom(pre.rows(), o.Market, o.Inferred)
	t = pre

	todo := make(chan *chunk, o.Workers)
	done := make(chan *chunk, o.Workers)
	// slots bounds the chunks in flight, so a slow chunk cannot make the
	// collector hold every chunk that finished after it.
	slots := make(chan struct{}, 2*o.Workers+2)
	var readErr error
	readerDone := make(chan struct{})
	go func() { // reader
		defer close(readerDone)
		defer close(todo)
		readErr = read(ctx, t, o.ChunkRows, todo, slots)
	}()
	var wg sync.WaitGroup
	for i := 0; i < o.Workers; i++ {
		wg.Add(1)
		mm := m.Clone()
		go func() { // mappers
			defer wg.Done()
			for c := range todo {
				c.outs = make([]mapspec.Outcome, len(c.rows))
				for j, row := range c.rows {
					c.outs[j] = mm.Map(c.lines[j], row)
				}
				select {
				case done <- c:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()

	col := newCollector(ctx, file, t, m, out, o)
	col.report.Inference = inf
	err := col.consume(done, slots)
	if err != nil {
		cancel()
	}
	for range done { // after an error: let the mappers finish
	}
	<-readerDone // the table is the caller's again only once the reader has stopped
	if err != nil {
		return col.report, err
	}
	// An interruption is said as one even when the reader met it first
	// (it then returns the context's bare error, which reads as internal).
	if err := ctx.Err(); err != nil {
		return col.report, cutover.Wrap(cutover.EUNAVAILABLE, err, "The migration of %s was interrupted before every row was read.", file)
	}
	if readErr != nil {
		return col.report, readErr
	}
	return col.finish()
}

// prefetched is a table whose first rows have been read ahead: Next
// returns them, then the rest of the table, then the error that stopped
// the read-ahead, if any.
type prefetched struct {
	tabular.Table
	buf  []tabular.Row
	err  error
	next int
}

// prefetch reads up to n rows of t ahead, copying them (a Row's fields are
// reused by the reader).
func prefetch(t tabular.Table, n int) *prefetched {
	p := &prefetched{Table: t}
	for len(p.buf) < n {
		r, err := t.Next()
		if err != nil {
			p.err = err
			break
		}
		p.buf = append(p.buf, tabular.Row{Line: r.Line, Fields: append([]string(nil), r.Fields...)})
	}
	return p
}

func (p *prefetched) rows() [][]string {
	out := make([][]string, len(p.buf))
	for i, r := range p.buf {
		out[i] = r.Fields
	}
	return out
}

// Next implements tabular.Table.
func (p *prefetched) Next() (tabular.Row, error) {
	if p.next < len(p.buf) {
		p.next++
		return p.buf[p.next-1], nil
	}
	if p.err != nil {
		return tabular.Row{}, p.err
	}
	return p.Table.Next()
}

// read turns rows into chunks. The reader's field strings may be kept
// (only the slice holding them is reused), so a chunk copies just the
// slice headers, into one slab per chunk.
func read(ctx context.Context, t tabular.Table, size int, todo chan<- *chunk, slots chan<- struct{}) error {
	seq := 0
	// A chunk's lines and rows are made at their full size at once, not
	// grown by doubling row after row.
	c := &chunk{lines: make([]int, 0, size), rows: make([][]string, 0, size)}
	var slab []string
	send := func() bool {
		if len(c.rows) == 0 {
			return true
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return false
		}
		select {
		case todo <- c:
		case <-ctx.Done():
			return false
		}
		seq++
		c = &chunk{seq: seq, lines: make([]int, 0, size), rows: make([][]string, 0, size)}
		return true
	}
	for {
		r, err := t.Next()
		if errors.Is(err, io.EOF) {
			if !send() {
				return ctx.Err()
			}
			return nil
		}
		if err != nil {
			send() // the rows before the bad one are still accounted for
			return err
		}
		n := len(r.Fields)
		if len(slab) < n {
			slab = make([]string, max(n*size, n))
		}
		row := slab[:n:n]
		slab = slab[n:]
		copy(row, r.Fields)
		c.lines = append(c.lines, r.Line)
		c.rows = append(c.rows, row)
		if len(c.rows) == size && !send() {
			return ctx.Err()
		}
	}
}

// origin is where a batched record came from, so that a record the
// destination refuses is rejected with its row, as our own rejections are.
type origin struct {
	line     int
	row      []string
	derived  bool            // a person named inline on the row, not the row's own record
	warnings []mapspec.Issue // the row's warnings, counted in Warned and the warning groups
}

type collector struct {
	ctx      context.Context
	m        *mapspec.Mapper
	out      Outputs
	o        Options
	report   *Report
	filled   []int
	batch    []*mapspec.Record
	pending  map[int]*chunk
	next     int
	from     []origin // the row (or the naming row, for a derived record) of each record in batch
	rejects  *csv.Writer
	review   *csv.Writer
	header   []string
	watcher  Watcher                  // out.Spot, when it watches every row
	warnings map[string]*WarningGroup // by reason group
	group    []byte                   // a warning's reason group, built in place (appendReasonGroup)
}

func newCollector(ctx context.Context, file string, t tabular.Table, m *mapspec.Mapper, out Outputs, o Options) *collector {
	ent := m.Entity()
	c := &collector{ctx: ctx, m: m, out: out, o: o, pending: map[int]*chunk{}, filled: make([]int, len(ent.Fields)), header: t.Header()}
	if c.out.Derived == nil {
		c.out.Derived = NewWritten()
	}
	c.watcher, _ = out.Spot.(Watcher)
	c.report = &Report{
		File: file, Format: t.Format(), Entity: ent.Name,
		Counts: Counts{Skipped: map[string]int{}}, Rules: map[string]int{}, Reasons: map[string]int{}, LeftOut: map[string]int{},
		Unmapped: m.Unmapped(), Dropped: m.Dropped(),
	}
	if cf := m.Combined(); len(cf) > 0 {
		c.report.Combined = cf
	}
	if c.report.Unmapped == nil {
		c.report.Unmapped = []string{}
	}
	for _, r := range m.SkipRules() {
		c.report.Counts.Skipped[r] = 0
	}
	// A file given as io.Discard (the shuffle's first run, which only
	// emits keys) is not written at all: its rows would be formatted only
	// to be thrown away.
	if out.Rejects != nil && out.Rejects != io.Discard {
		c.rejects = newCSV(out.Rejects, append(append([]string(nil), t.Header()...), "cutover_line", "cutover_reasons"))
	}
	if out.Review != nil && out.Review != io.Discard {
		c.review = newCSV(out.Review, []string{"cutover_line", "source_id", "record_id", "field", "column", "value", "warning"})
	}
	return c
}

// newCSV starts a CSV that Excel opens cleanly: UTF-8 with a BOM, CRLF.
func newCSV(w io.Writer, header []string) *csv.Writer {
	_, _ = w.Write([]byte{0xEF, 0xBB, 0xBF})
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	writeSafe(cw, header)
	return cw
}

// writeSafe writes a row with every cell made safe from formula injection.
func writeSafe(w *csv.Writer, cells []string) {
	for i, c := range cells {
		cells[i] = SafeCell(c)
	}
	_ = w.Write(cells) // errors surface from Flush
}

// SafeCell neutralises a value a spreadsheet would run as a formula by
// prefixing a single quote; the value is otherwise kept as it was.
func SafeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// consume accounts for chunks in file order as the mappers finish them,
// freeing a slot for the reader after each.
func (c *collector) consume(done <-chan *chunk, slots <-chan struct{}) error {
	for ch := range done {
		c.pending[ch.seq] = ch
		for {
			next, ok := c.pending[c.next]
			if !ok {
				break
			}
			delete(c.pending, c.next)
			c.next++
			err := c.account(next)
			<-slots
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *collector) account(ch *chunk) error {
	rep := c.report
	for i, out := range ch.outs {
		rep.Counts.Read++
		switch out.Kind() {
		case mapspec.Skipped:
			rep.Counts.Skipped[out.SkipRule]++
			c.watch(ch, i, Sighting{Outcome: mapspec.Skipped, Reasons: []string{out.SkipRule}})
		case mapspec.Rejected:
			c.watch(ch, i, Sighting{Outcome: mapspec.Rejected, Reasons: c.reject(ch, i, out.Errors)})
		default:
			// Before any merge: a row repeating a kept row's source id
			// would become that record again (or, with a different dedupe
			// key, a second record under the same id) and be lost.
			key := "" // without a Merger nothing merges: any repeat is a duplicate
			if c.out.Merger != nil || c.out.Global != nil {
				key = out.DedupeKey
			}
			if c.out.Global != nil {
				dup, err := c.out.Global.Keep(out.Record, key, out.Derived)
				if err != nil {
					return err
				}
				if dup != "" {
					reasons := c.reject(ch, i, []mapspec.Issue{{Field: "source id", Value: out.Record.SourceID, Reason: dup}})
					c.watch(ch, i, Sighting{Outcome: mapspec.Rejected, Reasons: reasons, SourceID: out.Record.SourceID, Entity: out.Record.Entity})
					continue
				}
			} else if c.out.Seen != nil && c.out.Seen.add(out.Record, key) {
				// The earlier row may wait in the batch: write it first, so
				// the reason can say whether the destination refused it.
				if err := c.flush(); err != nil {
					return err
				}
				reasons := c.reject(ch, i, []mapspec.Issue{{Field: "source id", Value: out.Record.SourceID, Reason: c.out.Seen.duplicateOf(out.Record)}})
				c.watch(ch, i, Sighting{Outcome: mapspec.Rejected, Reasons: reasons, SourceID: out.Record.SourceID, Entity: out.Record.Entity})
				continue
			}
			if c.out.Spot != nil && c.watcher == nil {
				c.out.Spot.Offer(rep.File, c.header, ch.lines[i], ch.rows[i], out.Record)
			}
			if c.out.KeepSource {
				out.Record.Source = cutover.NewSourceRow(rep.File, ch.lines[i], c.header, ch.rows[i])
			}
			merged, into, err := c.migrated(ch.lines[i], ch.rows[i], out)
			if err != nil {
				return err
			}
			if c.watcher != nil {
				s := Sighting{
					Outcome: mapspec.Migrated, Record: out.Record, Entity: out.Record.Entity, SourceID: out.Record.SourceID,
					DedupeKey: out.DedupeKey, Warnings: out.Warnings, Derived: len(out.Rules) > 0 || len(out.Derived) > 0,
				}
				if merged {
					s.Outcome, s.Into = Merged, into
				}
				c.watch(ch, i, s)
			}
		}
	}
	return nil
}

// reject accounts for row i of ch as rejected, with its reasons in the
// rejects file, and returns those reasons.
func (c *collector) reject(ch *chunk, i int, issues []mapspec.Issue) []string {
	rep := c.report
	rep.Counts.Rejected++
	reasons := make([]string, len(issues))
	for j, e := range issues {
		reasons[j] = describe(e)
		rep.Reasons[reasonGroup(e)]++
	}
	if c.rejects != nil {
		row := append([]string(nil), ch.rows[i]...)
		for len(row) < len(c.header) {
			row = append(row, "") // a short row: keep the line and reasons in their own columns
		}
		writeSafe(c.rejects, append(row, strconv.Itoa(ch.lines[i]), strings.Join(reasons, "; ")))
	}
	return reasons
}

// migrated accounts for a row that became a record, and reports whether it
// was merged into an earlier record, and which (nil if the Merger cannot say).
func (c *collector) migrated(line int, row []string, out mapspec.Outcome) (bool, *mapspec.Record, error) {
	rep, rec := c.report, out.Record
	rec.File = rep.File
	for _, r := range out.Rules {
		rep.Rules[r]++
	}
	for j, v := range rec.Fields {
		if v.Kind != mapspec.Absent {
			c.filled[j]++
		}
	}
	if len(out.Combined) > 0 {
		mapspec.TallyCombined(rep.Combined, out.Combined)
	}
	for _, iv := range rec.Invalid {
		rep.Counts.LeftOut++
		rep.LeftOut[iv.Field]++
	}
	if len(out.Warnings) > 0 {
		rep.Counts.Warned++
		c.warned(line, rec.SourceID, out.Warnings)
		if c.review != nil {
			for _, w := range out.Warnings {
				writeSafe(c.review, []string{strconv.Itoa(line), rec.SourceID, rec.ID, w.Field, w.Column, w.Value, "! " + w.Reason})
			}
		}
	}
	if err := c.derived(line, row, out.Derived); err != nil {
		return false, nil, err
	}
	if c.out.Global != nil {
		rep.Counts.Migrated++
		return false, nil, c.out.Global.Add(rec, out.DedupeKey)
	}
	if c.out.Merger != nil {
		if c.out.Merger.Add(rec, out.DedupeKey) {
			rep.Counts.Merged++
			return true, c.out.Merger.Survivor(rec, out.DedupeKey), nil
		}
		rep.Counts.Migrated++
		return false, nil, nil
	}
	rep.Counts.Migrated++
	if c.out.Sink == nil {
		return false, nil, nil
	}
	c.batch = append(c.batch, rec)
	c.from = append(c.from, origin{line: line, row: row, warnings: out.Warnings})
	if len(c.batch) >= c.o.BatchSize {
		return false, nil, c.flush()
	}
	return false, nil, nil
}

// derived passes on the records derived for a migrated row, each distinct
// one once, counted by entity apart from the rows.
func (c *collector) derived(line int, row []string, recs []*mapspec.Record) error {
	for _, d := range recs {
		d.File = c.report.File
		if c.out.Global != nil {
			first, err := c.out.Global.Derived(d)
			if err != nil {
				return err
			}
			if !first {
				continue
			}
			if c.report.Counts.Derived == nil {
				c.report.Counts.Derived = map[string]int{}
			}
			c.report.Counts.Derived[d.Entity]++
			if err := c.out.Global.Add(d, ""); err != nil {
				return err
			}
			continue
		}
		if c.out.Derived.Has(d.Entity, d.ID) {
			continue
		}
		c.out.Derived.Add(d.Entity, d.ID)
		if c.report.Counts.Derived == nil {
			c.report.Counts.Derived = map[string]int{}
		}
		c.report.Counts.Derived[d.Entity]++
		if c.out.Merger != nil {
			c.out.Merger.Add(d, "") // never merged by a key: linked to a listed person after the pass (mapspec.LinkInline)
			continue
		}
		if c.out.Sink != nil {
			c.batch = append(c.batch, d)
			c.from = append(c.from, origin{line: line, row: row, derived: true})
		}
	}
	return nil
}

func (c *collector) flush() error {
	if len(c.batch) == 0 {
		return nil
	}
	refused, err := c.out.Sink.Write(c.ctx, c.batch)
	if err == nil && len(refused) > 0 {
		why := make(map[string]string, len(refused))
		for _, r := range refused {
			why[r.Entity+"\x00"+r.ID] = r.Reason
		}
		for i, rec := range c.batch {
			reason, ok := why[rec.Entity+"\x00"+rec.ID]
			if !ok {
				continue
			}
			if c.from[i].derived {
				RefuseDerived(c.report, rec.Entity, reason)
			} else {
				for j, v := range rec.Fields { // its values did not land: the fill rates are of records migrated
					if v.Kind != mapspec.Absent && c.filled[j] > 0 {
						c.filled[j]--
					}
				}
				Refuse(c.report, c.rejects, len(c.header), c.from[i].line, c.from[i].row, rec, reason)
				c.unwarn(c.from[i].line, c.from[i].warnings)
				if c.out.Seen != nil {
					c.out.Seen.refuse(rec)
				}
			}
			if rw, ok := c.out.Spot.(RefusalWatcher); ok {
				rw.Refused(rec.Entity, rec.ID, RefusedReason(reason))
			}
		}
	}
	// A new batch, not the old one cut back: the sink may keep the slice
	// it was given. Made at its full size at once.
	c.batch, c.from = make([]*mapspec.Record, 0, c.o.BatchSize), make([]origin, 0, c.o.BatchSize)
	return err
}

// MaxRefusalBytes bounds the destination's reason as the rejects file and
// the workbook quote it: the destination is not ours, and its reasons are
// grouped and kept on the migration's item.
const MaxRefusalBytes = 300

// MaxRefusalGroups bounds the distinct groups of the destination's
// reasons one report keeps.
const MaxRefusalGroups = 50

// RefusedReason is how a record the destination refused reads in the
// rejects file and the workbook: its reason, said to be the destination's.
func RefusedReason(reason string) string {
	return refusedBy + cutover.Clip(strings.TrimSpace(reason), MaxRefusalBytes)
}

const (
	refusedBy     = "Refused by the destination: "
	mergedRefusal = "Merged into a record the destination refused: "
	// OtherRefusals is the reason group of the destination's reasons past
	// the first MaxRefusalGroups of a report.
	OtherRefusals = "Refused by the destination: other reasons (each one is in the rejects file)"
	// maxRefusalGroupBytes bounds one group's text.
	maxRefusalGroupBytes = 120
)

var (
	emailLike = regexp.MustCompile(`[^\s@"'<>(),;:\[\]]+@[^\s@"'<>(),;:\[\]]+`)
	idLike    = regexp.MustCompile(`[\p{L}\p{N}_.-]*\p{N}[\p{L}\p{N}_.-]*`)
	spaces    = regexp.MustCompile(`\s+`)
)

// RefusalGroup is the heading the destination's reason is counted under
// in a report: its free text with what makes it one record's (e-mail
// addresses, quoted values, numbers and ids) masked and its length cut,
// so refusals of one kind count together, a report stays small (the
// final migration keeps each chunk's reports on its DynamoDB item) and
// holds no personal data from the reason. The rejects file keeps each
// reason in full.
func RefusalGroup(reason string) string {
	r := emailLike.ReplaceAllString(reason, "…@…")
	r = string(appendMasked(nil, r))
	r = idLike.ReplaceAllString(r, "#")
	r = strings.TrimSpace(spaces.ReplaceAllString(r, " "))
	return cutover.Clip(r, maxRefusalGroupBytes)
}

// refusalGroup is the key of rep.Reasons a refusal counts under: prefix
// and the reason's RefusalGroup, or OtherRefusals once the report has
// MaxRefusalGroups groups of the destination's reasons.
func (rep *Report) refusalGroup(prefix, reason string) string {
	k := prefix + RefusalGroup(reason)
	if _, ok := rep.Reasons[k]; ok {
		return k
	}
	n := 0
	for g := range rep.Reasons {
		if g != OtherRefusals && (strings.HasPrefix(g, refusedBy) || strings.HasPrefix(g, mergedRefusal)) {
			n++
		}
	}
	if n >= MaxRefusalGroups {
		return OtherRefusals
	}
	return k
}

// MergedRefusedReason is how a row merged into a record the destination
// refused reads in the rejects file and the workbook: its data went into
// that record, so it did not land either.
func MergedRefusedReason(reason string) string {
	return mergedRefusal + cutover.Clip(strings.TrimSpace(reason), MaxRefusalBytes)
}

// Refuse accounts, in rep, for a row counted migrated whose record rec
// the destination then refused (it was not written): the row becomes a
// rejected row, with the destination's reason grouped in rep.Reasons and
// written to rejects (the file's rejects CSV, nil for none) with the row
// as read and its line, like our own rejections. Read still balances, and
// the values left out of rec are no longer counted as left out of a
// migrated record.
// When the report's fill rates are made already (a record held for
// merging is written after its file's report), rec's values leave them.
func Refuse(rep *Report, rejects *csv.Writer, width, line int, row []string, rec *mapspec.Record, reason string) {
	text := RefusedReason(reason)
	rep.Counts.Migrated--
	rep.Counts.Rejected++
	if len(rep.FillRates) > 0 && rec != nil {
		rep.unfill(rec)
	}
	if rec != nil {
		for _, iv := range rec.Invalid { // values left out of migrated records: this one did not land
			rep.Counts.LeftOut--
			if rep.LeftOut[iv.Field]--; rep.LeftOut[iv.Field] <= 0 {
				delete(rep.LeftOut, iv.Field)
			}
		}
	}
	rep.Reasons[rep.refusalGroup(refusedBy, reason)]++
	if rejects != nil {
		cells := append([]string(nil), row...)
		for len(cells) < width {
			cells = append(cells, "")
		}
		writeSafe(rejects, append(cells, strconv.Itoa(line), text))
	}
}

// RefuseMerged accounts, in rep, for a row counted merged into a record
// the destination refused: its values went into that record and did not
// land, so it becomes a rejected row like the record's own, with reason
// MergedRefusedReason(reason), written to rejects (nil for none) with the
// row as read and its line. Read still balances. The fill rates are of
// the rows kept, so they are taken over the one fewer (the row's own
// values are not known apart from the merged record's: its fill counts
// are kept, and a rate never passes 1).
func RefuseMerged(rep *Report, rejects *csv.Writer, width, line int, row []string, reason string) {
	text := MergedRefusedReason(reason)
	rep.Counts.Merged--
	rep.Counts.Rejected++
	if len(rep.FillRates) > 0 {
		rep.unfill(nil)
	}
	rep.Reasons[rep.refusalGroup(mergedRefusal, reason)]++
	if rejects != nil {
		cells := append([]string(nil), row...)
		for len(cells) < width {
			cells = append(cells, "")
		}
		writeSafe(rejects, append(cells, strconv.Itoa(line), text))
	}
}

// unfill takes rec's values (none for nil) out of the fill rates, which
// are of the records migrated or merged, and makes the rates again.
func (rep *Report) unfill(rec *mapspec.Record) {
	kept := rep.Counts.Migrated + rep.Counts.Merged
	var fields []mapspec.Value
	if rec != nil {
		fields = rec.Fields
	}
	for j, v := range fields {
		if v.Kind == mapspec.Absent {
			continue
		}
		name := rec.Def().Fields[j].Name
		for k := range rep.FillRates {
			if f := &rep.FillRates[k]; f.Field == name && f.Filled > 0 {
				f.Filled--
			}
		}
	}
	for k := range rep.FillRates {
		f := &rep.FillRates[k]
		f.Rate = 0
		if kept > 0 {
			f.Rate = min(float64(f.Filled)/float64(kept), 1)
		}
	}
	sort.SliceStable(rep.FillRates, func(i, j int) bool { return rep.FillRates[i].Rate > rep.FillRates[j].Rate })
}

// RefusedPersonGroup is the heading a derived person the destination
// refused counts under in its naming row's report (Report.RefusedPeople).
func RefusedPersonGroup(reason string) string {
	return "the destination refused a person named in this row: " + RefusalGroup(reason)
}

// RefuseDerived accounts, in rep, for a person derived from a name on a
// row (not a row itself) that the destination refused for reason: it is
// not counted derived, and it is counted in rep.RefusedPeople under
// RefusedPersonGroup(reason) (at most MaxRefusalGroups groups, the rest
// under one "other reasons" group), so it is not silent. The row that
// named it stays migrated: its own record landed.
func RefuseDerived(rep *Report, entity, reason string) {
	if rep.Counts.Derived[entity] > 0 {
		rep.Counts.Derived[entity]--
	}
	CountRefusedPerson(rep, reason)
}

// CountRefusedPerson counts, in rep.RefusedPeople, a derived person the
// destination refused for reason (RefuseDerived without the derived
// count: a merge step refuses a person another step counted).
func CountRefusedPerson(rep *Report, reason string) {
	if rep.RefusedPeople == nil {
		rep.RefusedPeople = map[string]int{}
	}
	k := RefusedPersonGroup(reason)
	if _, ok := rep.RefusedPeople[k]; !ok && len(rep.RefusedPeople) >= MaxRefusalGroups {
		k = RefusedPersonGroup("other reasons")
	}
	rep.RefusedPeople[k]++
}

// RejectsWriter appends rows to a rejects CSV the pipeline wrote (and
// flushed), as the pipeline writes them.
func RejectsWriter(w io.Writer) *csv.Writer {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return cw
}

func (c *collector) finish() (*Report, error) {
	if err := c.flush(); err != nil {
		return c.report, err
	}
	for _, w := range []*csv.Writer{c.rejects, c.review} {
		if w == nil {
			continue
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return c.report, cutover.Wrap(cutover.EUNAVAILABLE, err, "A report file could not be written.")
		}
	}
	rep := c.report
	kept := rep.Counts.Migrated + rep.Counts.Merged
	for j, f := range c.m.Entity().Fields {
		rate := 0.0
		if kept > 0 {
			rate = float64(c.filled[j]) / float64(kept)
		}
		rep.FillRates = append(rep.FillRates, FillRate{Field: f.Name, Filled: c.filled[j], Rate: rate})
	}
	sort.SliceStable(rep.FillRates, func(i, j int) bool { return rep.FillRates[i].Rate > rep.FillRates[j].Rate })
	rep.Warnings = c.warningGroups()
	if !rep.Counts.Balanced() {
		return rep, cutover.Errorf(cutover.EINTERNAL, "Row accounting does not balance for %s: read %d, migrated %d, merged %d, rejected %d, skipped %d.",
			rep.File, rep.Counts.Read, rep.Counts.Migrated, rep.Counts.Merged, rep.Counts.Rejected, rep.Counts.SkippedTotal())
	}
	return rep, nil
}

// reasonGroup is an issue's reason with its values left out, so rows that
// fail the same way count under one heading.
func reasonGroup(e mapspec.Issue) string { return string(appendReasonGroup(nil, e)) }

// appendReasonGroup appends reasonGroup(e) to b: the collector builds a
// warning's group in a buffer it reuses and looks it up without making a
// string, as nearly every row of some files warns.
func appendReasonGroup(b []byte, e mapspec.Issue) []byte {
	if e.Field != "" {
		b = append(append(b, e.Field...), ": "...)
	}
	return appendMasked(b, e.Reason)
}

// appendMasked appends s to b with each quoted value (a double quote, the
// text up to the next one, and it) written as "…"; a quote left without
// its pair is kept as it is. It is what the regular expression `"[^"]*"`
// replaced by `"…"` does (leftmost matches, none overlapping), without
// one: a quote is one byte that no other UTF-8 character contains, so
// the bytes can be searched directly.
func appendMasked(b []byte, s string) []byte {
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			return append(b, s...)
		}
		j := strings.IndexByte(s[i+1:], '"')
		if j < 0 {
			return append(b, s...)
		}
		b = append(append(b, s[:i]...), `"…"`...)
		s = s[i+1+j+1:]
	}
}

// describe renders one issue for a rejects file.
func describe(e mapspec.Issue) string {
	var b strings.Builder
	if e.Field != "" {
		b.WriteString(e.Field)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, " (%s)", e.Column)
	}
	if e.Value != "" {
		fmt.Fprintf(&b, " %q", e.Value)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return strings.TrimSpace(b.String())
}
