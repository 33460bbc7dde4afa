package shuffle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"sort"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pipeline"
	"github.com/cutover/cutover/internal/schema"
)

// How a pass runs through a Shuffle:
//
//  1. Map every file with Outputs.Global = s.Keys(): each row that becomes
//     a record emits its entity, record id and dedupe key to a partition
//     by hash of the id. The run's own outputs are thrown away.
//  2. s.Resolve: each id partition alone finds the rows that repeat an
//     earlier row's source id (the in-memory pipeline.Seen's rule), as a
//     sorted run of their positions.
//  3. Map every file again with Outputs.Global = s.Records(): the rows the
//     runs name are rejected as duplicates, in file order, so the rejects
//     and review files and the reports are written as the in-memory pass
//     writes them; every kept record is spilled with its position, to a
//     partition by hash of its dedupe key (or, with none, to one run).
//  4. s.Finish: each record partition alone is merged by a
//     mapspec.Merger, exactly as the in-memory pass merges, and its
//     survivors, merges and possible duplicates are written as sorted
//     runs; streaming merges of the runs then give the records, the
//     merges and the possible duplicates in the in-memory order.
//
// Memory is one partition's keys or records at a time plus a block per
// partition, whatever the extract's size.

// Options configure a Shuffle.
type Options struct {
	Spec   *mapspec.Spec
	Schema *schema.Schema
	// Merging says the pass merges records by dedupe key (the spec holds
	// records: mapspec.Spec.HoldsRecords); without it every repeated
	// source id is a duplicate and records are written as they come.
	Merging bool
	// KeyPartitions is how many partitions the ids are spread over; 0
	// means 256.
	KeyPartitions int
	// PartitionRecords is how many records a merge partition aims to
	// hold; 0 means 8,192 (about 16 MB held while it merges). The number of partitions follows from the
	// rows counted in the first run.
	PartitionRecords int
}

// Supports reports whether a Shuffle resolves everything the spec needs.
// Inline people (mapspec.LinkInline) and references between records
// (mapspec.Resolver) are not resolved by the shuffle yet: a spec with
// either runs in memory.
func Supports(spec *mapspec.Spec, sch *schema.Schema) bool {
	for _, f := range spec.Files {
		if len(f.Inline) > 0 {
			return false
		}
		ent, ok := sch.Entity(f.Entity)
		if !ok {
			continue
		}
		for _, fm := range f.Fields {
			if fd, ok := ent.Field(fm.Target); ok && fd.Ref != "" {
				return false
			}
		}
	}
	return true
}

// Shuffle resolves one pass's global operations through a Store. It is
// not safe for concurrent use: the pipeline calls it from its collector.
type Shuffle struct {
	ctx   context.Context
	store Store
	o     Options
	seed  maphash.Seed

	keepPos uint64 // rows kept so far in this run (the position of Keep's row)
	addPos  uint64 // records added so far in the second run

	ids  *parts // run 1: entity#id, dedupe key, by hash of the id
	dups *cursor
	recs *parts // run 2: records with a dedupe key, by hash of entity and key
	thru *parts // run 2: records without one, in order
	nrec int    // merge partitions
	buf  []byte
	// tableEnds are the records added by the end of each table of the
	// second run (EndTable), to count each table's merges.
	tableEnds []uint64
}

// New returns a Shuffle spilling to store. ctx bounds every store call.
func New(ctx context.Context, store Store, o Options) *Shuffle {
	if o.KeyPartitions <= 0 {
		o.KeyPartitions = 256
	}
	if o.PartitionRecords <= 0 {
		o.PartitionRecords = 8192
	}
	s := &Shuffle{ctx: ctx, store: store, o: o, seed: maphash.MakeSeed()}
	s.ids = newParts(store, "ids", o.KeyPartitions, s.seed)
	return s
}

// Keys is the pipeline.Global of the first run: it keeps every row and
// emits its keys.
func (s *Shuffle) Keys() pipeline.Global { return keys{s} }

// Records is the pipeline.Global of the second run (after Resolve): it
// rejects the duplicates and spills the records.
func (s *Shuffle) Records() pipeline.Global { return records{s} }

type keys struct{ *Shuffle }

var _ pipeline.Global = keys{}

// Keep implements pipeline.Global.
func (k keys) Keep(rec *mapspec.Record, key string) (string, error) {
	p := pos{k.keepPos, 0}
	k.keepPos++
	if !k.o.Merging {
		key = ""
	}
	id := rec.Entity + "#" + rec.ID
	k.buf = appendString(appendString(appendPos(k.buf[:0], p), id), key)
	return "", k.ids.add(k.ctx, k.ids.of(id), k.buf)
}

// errInline is what Derived says: Supports keeps such specs in memory.
var errInline = cutover.Errorf(cutover.EINTERNAL, "The shuffle does not resolve people named inline; this mapping runs in memory.")

// Derived implements pipeline.Global.
//
// Errors: always EINTERNAL: a spec with inline people is not Supported.
func (k keys) Derived(*mapspec.Record) (bool, error) { return false, errInline }

// Add implements pipeline.Global: the first run writes nothing.
func (k keys) Add(*mapspec.Record, string) error { return nil }

// Resolve finds, partition by partition, the rows that repeat an earlier
// row's source id, and readies the second run.
//
// Errors: the store's; ErrDamaged.
func (s *Shuffle) Resolve() error {
	if err := s.ids.flush(s.ctx); err != nil {
		return err
	}
	n := s.ids.n()
	dup := newParts(s.store, "dup", n, s.seed)
	for i := 0; i < n; i++ {
		first := map[string]string{} // entity#id -> the dedupe key its first row was kept under
		err := s.ids.each(s.ctx, i, func(f *frame) error {
			p, id, key := f.pos(), f.str(), f.str()
			prev, seen := first[id]
			if !seen {
				first[id] = key
				return nil
			}
			// pipeline.Seen's rule: a repeat is a duplicate unless it
			// merges into the very record that holds the id.
			if key == "" || key != prev {
				return dup.add(s.ctx, i, appendPos(nil, p))
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := dup.flushOne(s.ctx, i); err != nil {
			return err
		}
	}
	names := make([]string, n)
	for i := range names {
		names[i] = partName("dup", n, i)
	}
	m, err := openRuns(s.ctx, s.store, names)
	if err != nil {
		return err
	}
	s.dups = &cursor{m: m}
	s.nrec = int(min(max((s.keepPos+uint64(s.o.PartitionRecords)-1)/uint64(s.o.PartitionRecords), 1), 4096))
	s.recs = newParts(s.store, "rec", s.nrec, s.seed)
	s.thru = newParts(s.store, "thru", 1, s.seed)
	s.keepPos = 0
	return nil
}

type records struct{ *Shuffle }

var _ pipeline.Global = records{}

// Keep implements pipeline.Global: the rows Resolve found are duplicates.
//
// Errors: those of reading the resolution (the store's, ErrDamaged).
func (r records) Keep(*mapspec.Record, string) (string, error) {
	p := pos{r.keepPos, 0}
	r.keepPos++
	dup, err := r.dups.has(p)
	if err != nil || !dup {
		return "", err
	}
	return pipeline.DuplicateSourceID, nil
}

// Derived implements pipeline.Global.
//
// Errors: always EINTERNAL: a spec with inline people is not Supported.
func (r records) Derived(*mapspec.Record) (bool, error) { return false, errInline }

// Add implements pipeline.Global: the record is spilled with its position.
//
// Errors: the store's.
func (r records) Add(rec *mapspec.Record, key string) error {
	p := pos{r.addPos, 0}
	r.addPos++
	if !r.o.Merging {
		key = ""
	}
	r.buf = frameRecord(r.buf[:0], p, key, rec)
	if key == "" {
		return r.thru.add(r.ctx, 0, r.buf)
	}
	return r.recs.add(r.ctx, r.recs.of(rec.Entity+"\x00"+key), r.buf)
}

// EndTable marks the end of a table of the second run: Finish counts
// each table's merged rows (Result.MergedByTable).
func (s *Shuffle) EndTable() { s.tableEnds = append(s.tableEnds, s.addPos) }

// frameRecord is a spilled record's frame: its position, its dedupe key
// and its binary form.
func frameRecord(b []byte, p pos, key string, rec *mapspec.Record) []byte {
	b = appendString(appendPos(b, p), key)
	start := len(b)
	b = rec.AppendBinary(b)
	// the record's length goes before it: shift it along by its varint
	body := append([]byte(nil), b[start:]...)
	return appendBytes(b[:start], body)
}

// Output is where Finish writes.
type Output struct {
	// Records gets the pass's records in batches, in the order the
	// in-memory pass writes them (mapspec.Merger.Records).
	Records func(ctx context.Context, recs []*mapspec.Record) error
	// Merges and PossibleDuplicates, if set, get mapspec.Merger's Merges
	// and PossibleDuplicates as the CLI's merges.json and
	// possible-duplicates.json hold them: json.MarshalIndent with two
	// spaces, and a newline.
	Merges, PossibleDuplicates io.Writer
}

// Result is what Finish counted.
type Result struct {
	// MergedByTable counts, for each table of the second run (in the
	// order EndTable was called), its rows that merged into an earlier
	// record: the second run counted them migrated.
	MergedByTable []int
	Merges       int // records that merged others (mapspec.Merger.Merges)
	Conflicts    int // conflicting values over all merges
	// PossibleDuplicateRecords is mapspec.Merger.PossibleDuplicateRecords.
	PossibleDuplicateRecords int
}

// Finish merges each record partition and writes the records, merges and
// possible duplicates in the in-memory pass's order.
//
// Errors: the store's; ErrDamaged; Output's writers' and Records'.
func (s *Shuffle) Finish(out Output) (*Result, error) {
	if s.dups != nil {
		s.dups.m.close()
	}
	if err := s.recs.flush(s.ctx); err != nil {
		return nil, err
	}
	if err := s.thru.flush(s.ctx); err != nil {
		return nil, err
	}
	res := &Result{MergedByTable: make([]int, len(s.tableEnds))}
	surv := newParts(s.store, "surv", s.nrec, s.seed)
	mrg := newParts(s.store, "mrg", s.nrec, s.seed)
	pds := newParts(s.store, "pd", s.nrec, s.seed)
	for i := 0; i < s.nrec; i++ {
		if err := s.mergePartition(i, surv, mrg, pds, res); err != nil {
			return nil, err
		}
	}
	names := []string{"thru"}
	for i := 0; i < s.nrec; i++ {
		names = append(names, partName("surv", s.nrec, i))
	}
	if err := s.writeRecords(names, out.Records); err != nil {
		return nil, err
	}
	if out.Merges != nil {
		if err := s.writeArray(mrg, out.Merges, "null", func(f *frame) { res.Merges++; res.Conflicts += int(f.uvarint()) }); err != nil {
			return nil, err
		}
	}
	if out.PossibleDuplicates != nil {
		if err := s.writeArray(pds, out.PossibleDuplicates, "[]", func(f *frame) { res.PossibleDuplicateRecords += int(f.uvarint()) }); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// mergePartition merges partition i's records in their order, as the
// in-memory pass's Merger would: every record of a dedupe key is in the
// key's partition, so its merges and possible duplicates are whole here.
func (s *Shuffle) mergePartition(i int, surv, mrg, pds *parts, res *Result) error {
	m := mapspec.NewMergerFor(s.o.Spec)
	var at []pos                   // each survivor's position, in m.Records' order
	firstOfKey := map[string]pos{} // entity, key -> where the key was first met
	err := s.recs.each(s.ctx, i, func(f *frame) error {
		p, key, b := f.pos(), f.str(), f.bytes()
		if f.err {
			return ErrDamaged
		}
		rec, err := mapspec.DecodeRecord(b, s.o.Schema)
		if err != nil {
			return err
		}
		k := rec.Entity + "\x00" + key
		if _, ok := firstOfKey[k]; !ok {
			firstOfKey[k] = p
		}
		if m.Add(rec, key) {
			// The table whose records end after p holds it.
			t := sort.Search(len(s.tableEnds), func(j int) bool { return s.tableEnds[j] > p.a })
			if t == len(s.tableEnds) {
				return cutover.Errorf(cutover.EINTERNAL, "A spilled record was added after the last table ended.")
			}
			res.MergedByTable[t]++
		} else {
			at = append(at, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	byID := map[string]pos{}
	for j, rec := range m.Records() {
		byID[rec.Entity+"\x00"+rec.ID] = at[j]
		if err := surv.add(s.ctx, i, frameRecord(nil, at[j], "", rec)); err != nil {
			return err
		}
	}
	for _, mg := range m.Merges() {
		b, err := json.MarshalIndent(mg, "  ", "  ")
		if err != nil {
			return cutover.Wrap(cutover.EINTERNAL, err, "A merge could not be written: %v", err)
		}
		p, ok := byID[mg.Entity+"\x00"+mg.ID]
		if !ok {
			return cutover.Errorf(cutover.EINTERNAL, "A merge names a record its partition does not hold.")
		}
		fb := appendBytes(appendPos(nil, p), b)
		if err := mrg.add(s.ctx, i, appendUvarint(fb, uint64(len(mg.Conflicts)))); err != nil {
			return err
		}
	}
	for _, pd := range m.PossibleDuplicates() {
		b, err := json.MarshalIndent(pd, "  ", "  ")
		if err != nil {
			return cutover.Wrap(cutover.EINTERNAL, err, "A possible duplicate could not be written: %v", err)
		}
		fb := appendBytes(appendPos(nil, firstOfKey[pd.Entity+"\x00"+pd.Key]), b)
		if err := pds.add(s.ctx, i, appendUvarint(fb, uint64(len(pd.SourceIDs)))); err != nil {
			return err
		}
	}
	for _, p := range []*parts{surv, mrg, pds} {
		if err := p.flushOne(s.ctx, i); err != nil {
			return err
		}
	}
	return nil
}

// recordBatch is how many records Output.Records gets at a time.
const recordBatch = 1000

func (s *Shuffle) writeRecords(names []string, fn func(context.Context, []*mapspec.Record) error) error {
	m, err := openRuns(s.ctx, s.store, names)
	if err != nil {
		return err
	}
	defer m.close()
	batch := make([]*mapspec.Record, 0, recordBatch)
	for {
		_, f, err := m.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		f.str() // the dedupe key
		b := f.bytes()
		if f.err {
			return ErrDamaged
		}
		rec, err := mapspec.DecodeRecord(b, s.o.Schema)
		if err != nil {
			return err
		}
		batch = append(batch, rec)
		if len(batch) == recordBatch {
			if err := fn(s.ctx, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		return fn(s.ctx, batch)
	}
	return nil
}

// writeArray streams the runs of p (frames: position, an element's
// indented JSON, then what count reads) as json.MarshalIndent writes the
// whole slice, or empty (its JSON for no elements) and a newline.
func (s *Shuffle) writeArray(p *parts, w io.Writer, empty string, count func(*frame)) error {
	names := make([]string, p.n())
	for i := range names {
		names[i] = partName(p.name, p.n(), i)
	}
	m, err := openRuns(s.ctx, s.store, names)
	if err != nil {
		return err
	}
	defer m.close()
	n := 0
	for {
		_, f, err := m.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		elem := f.bytes()
		count(f)
		if f.err {
			return ErrDamaged
		}
		sep := ",\n  "
		if n == 0 {
			sep = "[\n  "
		}
		n++
		if _, err := fmt.Fprintf(w, "%s%s", sep, elem); err != nil {
			return err
		}
	}
	tail := "\n]\n"
	if n == 0 {
		tail = empty + "\n"
	}
	_, err = io.WriteString(w, tail)
	return err
}
