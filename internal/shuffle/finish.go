package shuffle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
)

// WriteRecords gets the pass's records in batches, in the order the
// in-memory pass writes them (mapspec.Merger.Records, or as they come
// when it does not merge). It may keep no batch: the slice is reused.
type WriteRecords func(ctx context.Context, recs []*mapspec.Record) error

// Output is where Finish writes besides the records.
type Output struct {
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
	Merges        int // records that merged others (mapspec.Merger.Merges)
	Conflicts     int // conflicting values over all merges
	// PossibleDuplicateRecords is mapspec.Merger.PossibleDuplicateRecords.
	PossibleDuplicateRecords int
	// Linked counts the people named inline linked to a listed record
	// (mapspec.LinkInline's count): derived, counted, and not written.
	Linked int
}

// Finish merges each record partition and writes the records (to the
// WriteRecords given Records), merges and possible duplicates (to out) in
// the in-memory pass's order.
//
// Errors: the store's; ErrDamaged; out's writers' and WriteRecords'.
func (s *Shuffle) Finish(out Output) (*Result, error) {
	// A run that wrote its records as they came (a pass that does not
	// merge) may have its last batch left, and spilled none: its runs
	// below are empty.
	if err := s.flushBatch(); err != nil {
		return nil, err
	}
	done := []*cursor{s.dups, s.orphs, s.aliases} // the second run is over
	if s.link != nil {
		done = append(done, s.link.nfirst)
	}
	for _, c := range done {
		if c != nil {
			c.m.close()
		}
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
		if err := s.interrupted(); err != nil {
			return nil, err
		}
		if err := s.mergePartition(i, surv, mrg, pds, res); err != nil {
			return nil, err
		}
	}
	if l := s.link; l != nil {
		defer func() {
			for _, c := range []*cursor{l.drop, l.rewrite} {
				if c != nil {
					c.m.close()
				}
			}
		}()
		var err error
		if res.Linked, err = s.resolveLinks(); err != nil {
			return nil, err
		}
	}
	names := []string{s.thru.name}
	for i := 0; i < s.nrec; i++ {
		names = append(names, partName("surv", s.nrec, i))
	}
	if err := s.writeRecords(names); err != nil {
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
		if err := s.noteLinks(at[j], rec); err != nil { // as merged
			return err
		}
		if err := surv.add(s.ctx, i, s.frameRecord(nil, at[j], "", rec)); err != nil {
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

// recordBatch is how many records a WriteRecords gets at a time.
const recordBatch = 1000

func (s *Shuffle) writeRecords(names []string) error {
	m, err := openRuns(s.ctx, s.store, names)
	if err != nil {
		return err
	}
	defer m.close()
	batch := make([]*mapspec.Record, 0, recordBatch)
	for {
		p, f, err := m.next()
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
		if keep, err := s.linkRecord(p, rec); err != nil || !keep {
			if err != nil {
				return err
			}
			continue
		}
		batch = append(batch, rec)
		if len(batch) == recordBatch {
			if err := s.interrupted(); err != nil {
				return err
			}
			if err := s.write(s.ctx, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		return s.write(s.ctx, batch)
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

// interrupted is the context's end as an error for people.
//
// Errors: EUNAVAILABLE once the context is done.
func (s *Shuffle) interrupted() error {
	if err := s.ctx.Err(); err != nil {
		return cutover.Wrap(cutover.EUNAVAILABLE, err, "The run was interrupted before every record was written.")
	}
	return nil
}
