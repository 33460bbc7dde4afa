package shuffle

import (
	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pipeline"
)

// The two runs of the pipeline through a Shuffle, and the resolution
// between them.

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
