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

// Records is the pipeline.Global of the second run (after Resolve), for
// all its tables: it rejects the duplicates and spills the records, which
// Finish gives to write; or, when the pass does not merge
// (Options.Merging false: nothing can change a record or its place once
// it is kept), gives them to write as they come, the order Finish would
// give them in, without spilling them and reading them back.
func (s *Shuffle) Records(write WriteRecords) pipeline.Global {
	s.write, s.batch, s.addPos, s.tableEnds = write, s.batch[:0], 0, nil
	return records{s}
}

// Streams reports whether the pass can start with a Streaming run: it
// names no one inline (people named inline are linked after every record
// is known).
func (s *Shuffle) Streams() bool { return s.link == nil }

// Streaming is the pipeline.Global of a first run, for all its tables,
// that does the second run's work as it goes, as the second run would
// if no row repeated a source id: it emits the keys as Keys does, and
// gives each record to write as it comes (a pass that does not merge:
// Options.Merging false) or spills it to its merge partition (sized for
// about rows rows). Resolve then finds whether the second run is needed
// after all (SecondRun): when a row repeated a source id, a record had
// references to resolve, or the rows were more than twice rows. If not,
// the run did all the second run would have, and Finish ends the pass;
// if so, what it wrote must be thrown away and the second run made
// (Records). So an extract without repeated source ids or references,
// the usual one, is mapped once.
//
// Errors: EINTERNAL for a pass that cannot stream (Streams).
func (s *Shuffle) Streaming(write WriteRecords, rows int) (pipeline.Global, error) {
	if !s.Streams() {
		return nil, cutover.Errorf(cutover.EINTERNAL, "A pass that names people inline cannot write its records in its first run.")
	}
	s.write, s.streamed = write, true
	n := 1 // a pass that does not merge spills nothing
	if s.o.Merging {
		n = s.partitionsFor(uint64(max(rows, 0)))
	}
	s.spillTo("1", n)
	return streaming{keys{s}}, nil
}

type streaming struct{ keys }

var _ pipeline.Global = streaming{}

// Keep implements pipeline.Global: it emits the keys, and notes a
// record with references, which only the second run resolves.
//
// Errors: as Keys'.
func (w streaming) Keep(rec *mapspec.Record, key string, named []*mapspec.Record) (string, error) {
	if len(rec.Refs) > 0 {
		w.refs = true
	}
	return w.keys.Keep(rec, key, named)
}

// Add implements pipeline.Global: the record is written as it comes, or
// spilled as the second run spills it.
//
// Errors: WriteRecords'; the store's.
func (w streaming) Add(rec *mapspec.Record, key string) error {
	return records(w.keys).Add(rec, key)
}

// SecondRun reports, after Resolve, whether the pass needs its second
// run: always after a Keys run; after a Streaming run, when a row
// repeated an earlier row's source id, a record had references, or the
// merge partitions it spilled to hold more than twice what they were
// sized for.
func (s *Shuffle) SecondRun() bool { return s.second }

// partitionsFor is how many merge partitions rows records need.
func (s *Shuffle) partitionsFor(rows uint64) int {
	per := uint64(s.o.PartitionRecords)
	return int(min(max((rows+per-1)/per, 1), 4096))
}

// spillTo readies n merge partitions, and the run of records without a
// dedupe key, for the run named run (each run spills to files of its
// own).
func (s *Shuffle) spillTo(run string, n int) {
	s.nrec = n
	s.recs = newParts(s.store, "rec"+run, n, s.seed)
	s.thru = newParts(s.store, "thru"+run, 1, s.seed)
}

type keys struct{ *Shuffle }

var _ pipeline.Global = keys{}

// Keep implements pipeline.Global.
func (k keys) Keep(rec *mapspec.Record, key string, _ []*mapspec.Record) (string, error) {
	p := pos{k.keepPos, 0}
	k.keepPos++
	if !k.o.Merging {
		key = ""
	}
	id := rec.Entity + "#" + rec.ID
	k.buf = appendString(appendString(appendPos(k.buf[:0], p), id), key)
	part := k.ids.of(id)
	if err := k.ids.add(k.ctx, part, k.buf); err != nil {
		return "", err
	}
	k.link.rowAt(p.a, part)
	// Each reference, to the partition of the id it names: a position
	// whose second part is the reference's index + 1 (a row's own id has 0).
	// A reference to a person named inline goes to the people's (inline.go).
	for i, ref := range rec.Refs {
		named := ref.Entity + "#" + cutover.RecordID(k.o.Tenant, ref.Entity, ref.SourceID)
		if k.link.namesDerived(ref.SourceID) {
			k.buf = appendString(appendPos(k.buf[:0], pos{p.a, uint64(i)}), named)
			if err := k.link.dref.add(k.ctx, k.link.dref.of(named), k.buf); err != nil {
				return "", err
			}
			continue
		}
		k.buf = appendString(appendString(appendPos(k.buf[:0], pos{p.a, uint64(i) + 1}), named), "")
		if err := k.ids.add(k.ctx, k.ids.of(named), k.buf); err != nil {
			return "", err
		}
	}
	return "", nil
}

// errNoPeople is what Derived says for a spec that names no one inline:
// its Mapper derives no one, so this is a bug.
var errNoPeople = cutover.Errorf(cutover.EINTERNAL, "A person was derived for a mapping that names no one inline.")

// Add implements pipeline.Global: the first run writes nothing.
func (k keys) Add(*mapspec.Record, string) error { return nil }

// ref is a reference read back from an id partition: its row's position
// (and index + 1) and the id it names.
type ref struct {
	at pos
	id string
}

// cursor opens the sorted runs of the n partitions of each set named.
//
// Errors: the store's.
func (s *Shuffle) cursor(sets []string, n int) (*cursor, error) {
	names := make([]string, 0, n*len(sets))
	for _, name := range sets {
		for i := range n {
			names = append(names, partName(name, n, i))
		}
	}
	m, err := openRuns(s.ctx, s.store, names)
	if err != nil {
		return nil, err
	}
	return &cursor{m: m}, nil
}

// Resolve finds, partition by partition, the rows that repeat an earlier
// row's source id and the references that name a record no row became,
// and those that name a record merged into one with another source id
// (aliases.go), and readies the second run. It first gives a Streaming
// run's last records to its WriteRecords.
//
// Errors: the store's; ErrDamaged; WriteRecords'.
func (s *Shuffle) Resolve() error {
	if err := s.flushBatch(); err != nil { // a Streaming run's last records
		return err
	}
	if err := s.ids.flush(s.ctx); err != nil {
		return err
	}
	n := s.ids.n()
	dup := newParts(s.store, "dup", n, s.seed)
	orph := newParts(s.store, "orph", n, s.seed)
	var al *aliasing
	if across := mapspec.MergesAcross(s.o.Spec); s.o.Merging && len(across) > 0 {
		al = &aliasing{across: across, grp: newParts(s.store, "grp", n, s.seed)}
	}
	var dupRows map[uint64]bool // with people named inline: the partition's rows that repeat a source id
	if s.link != nil {
		if err := s.link.occ.flush(s.ctx); err != nil {
			return err
		}
		s.link.dv = newParts(s.store, "dv", n, s.seed)
	}
	for i := 0; i < n; i++ {
		first := map[string]string{} // entity#id -> the dedupe key its first row was kept under
		var refs []ref               // the references naming an id of this partition, in row order
		if s.link != nil {
			dupRows = map[uint64]bool{}
		}
		err := s.ids.each(s.ctx, i, func(f *frame) error {
			p, id, key := f.pos(), f.str(), f.str()
			if p.b > 0 {
				refs = append(refs, ref{p, id})
				return nil
			}
			prev, seen := first[id]
			if !seen {
				first[id] = key
				return s.aliasNote(al, grpRow, p, id, key)
			}
			// pipeline.Seen's rule: a repeat is a duplicate unless it
			// merges into the very record that holds the id.
			if key == "" || key != prev {
				s.repeats++
				if dupRows != nil {
					dupRows[p.a] = true
				}
				return dup.add(s.ctx, i, appendPos(nil, p))
			}
			return nil
		})
		if err != nil {
			return err
		}
		if s.link != nil {
			if err := s.passPeople(i, dupRows); err != nil {
				return err
			}
		}
		for _, r := range refs {
			key, ok := first[r.id]
			at := pos{r.at.a, r.at.b - 1}
			if !ok {
				if err := orph.add(s.ctx, i, appendPos(nil, at)); err != nil {
					return err
				}
			} else if err := s.aliasNote(al, grpRef, at, r.id, key); err != nil {
				return err
			}
		}
		if err := dup.flushOne(s.ctx, i); err != nil {
			return err
		}
		if err := orph.flushOne(s.ctx, i); err != nil {
			return err
		}
	}
	orphans := []string{"orph"}
	if s.link != nil {
		if err := s.resolvePeople(); err != nil {
			return err
		}
		orphans = append(orphans, "dorph")
	}
	var err error
	if s.dups, err = s.cursor([]string{"dup"}, n); err != nil {
		return err
	}
	if s.orphs, err = s.cursor(orphans, n); err != nil {
		return err
	}
	if al != nil {
		if err := s.resolveAliases(al); err != nil {
			return err
		}
	}
	s.second = !s.streamed || s.repeats > 0 || s.refs || (s.o.Merging && s.partitionsFor(s.keepPos) > 2*s.nrec)
	if s.second {
		s.spillTo("2", s.partitionsFor(s.keepPos))
	}
	s.keepPos = 0
	return nil
}

type records struct{ *Shuffle }

var _ pipeline.Global = records{}

// Keep implements pipeline.Global: the rows Resolve found are duplicates,
// and the references it found orphans name no record (their id cleared,
// as mapspec.Resolver clears it); every other reference gets the id it
// names.
//
// Errors: those of reading the resolution (the store's, ErrDamaged).
func (r records) Keep(rec *mapspec.Record, _ string, _ []*mapspec.Record) (string, error) {
	p := pos{r.keepPos, 0}
	r.keepPos++
	r.link.rowAt(p.a, 0)
	for i := range rec.Refs {
		ref := &rec.Refs[i]
		ref.ID = cutover.RecordID(r.o.Tenant, ref.Entity, ref.SourceID)
		orphan, err := r.orphs.has(pos{p.a, uint64(i)})
		if err != nil {
			return "", err
		}
		if orphan {
			ref.ID = ""
			continue
		}
		if r.aliases == nil {
			continue
		}
		to, merged, err := r.aliases.value(pos{p.a, uint64(i)})
		if err != nil {
			return "", err
		}
		if merged {
			ref.ID = to
		}
	}
	dup, err := r.dups.has(p)
	if err != nil || !dup {
		return "", err
	}
	return pipeline.DuplicateSourceID, nil
}

// Add implements pipeline.Global: the record is spilled with its
// position, or written as it comes when the pass does not merge.
//
// Errors: the store's; WriteRecords'.
func (r records) Add(rec *mapspec.Record, key string) error {
	p := pos{r.addPos, 0}
	r.addPos++
	if !r.o.Merging {
		return r.stream(rec)
	}
	r.buf = r.frameRecord(r.buf[:0], p, key, rec)
	if key == "" {
		if err := r.noteLinks(p, rec); err != nil { // written as it is: no merge changes it
			return err
		}
		return r.thru.add(r.ctx, 0, r.buf)
	}
	return r.recs.add(r.ctx, r.recs.of(rec.Entity+"\x00"+key), r.buf)
}

// EndTable marks the end of a table of the second run: Finish counts
// each table's merged rows (Result.MergedByTable).
func (s *Shuffle) EndTable() { s.tableEnds = append(s.tableEnds, s.addPos) }

// stream gives rec to the WriteRecords in batches of recordBatch.
//
// Errors: WriteRecords'; EUNAVAILABLE once the context is done.
func (s *Shuffle) stream(rec *mapspec.Record) error {
	s.batch = append(s.batch, rec)
	if len(s.batch) < recordBatch {
		return nil
	}
	return s.flushBatch()
}

// flushBatch gives the records stream holds to the WriteRecords.
//
// Errors: as stream.
func (s *Shuffle) flushBatch() error {
	if len(s.batch) == 0 {
		return nil
	}
	if err := s.interrupted(); err != nil {
		return err
	}
	err := s.write(s.ctx, s.batch)
	clear(s.batch) // the records are written: let them go
	s.batch = s.batch[:0]
	return err
}

// frameRecord appends to b a spilled record's frame: its position, its
// dedupe key and its binary form (after its length, so built in s.body
// first).
func (s *Shuffle) frameRecord(b []byte, p pos, key string, rec *mapspec.Record) []byte {
	s.body = rec.AppendBinary(s.body[:0])
	return appendBytes(appendString(appendPos(b, p), key), s.body)
}
