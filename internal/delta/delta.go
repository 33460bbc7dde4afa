package delta

import (
	"container/heap"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/pipeline"
)

// MaxExamples is how many changes an EntityDelta shows.
const MaxExamples = 20

// Change kinds.
const (
	Added   = "added"   // in the final migration only
	Removed = "removed" // in the test migration only
	Changed = "changed" // in both, with fields that differ
)

// Report is the delta between the test and the final migration.
type Report struct {
	Entities []EntityDelta `json:"entities"` // sorted by entity
}

// EntityDelta is one entity's delta. Added+Changed+Unchanged == After and
// Removed+Changed+Unchanged == Before.
type EntityDelta struct {
	Entity    string   `json:"entity"`
	Before    int      `json:"before"` // records in the test migration
	After     int      `json:"after"`  // records in the final migration
	Added     int      `json:"added"`
	Removed   int      `json:"removed"`
	Changed   int      `json:"changed"`
	Unchanged int      `json:"unchanged"`
	Examples  []Change `json:"examples"` // the first MaxExamples changes of any kind, in key order
}

// Change is one record added, removed or changed.
type Change struct {
	Kind     string        `json:"kind"` // Added, Removed or Changed
	Entity   string        `json:"entity"`
	SourceID string        `json:"sourceId"`
	Fields   []FieldChange `json:"fields,omitempty"` // for Changed: the fields that differ, sorted by name
}

// FieldChange is one field of a changed record.
type FieldChange struct {
	Field  string `json:"field"`
	Before string `json:"before"` // "" when the field was absent
	After  string `json:"after"`  // "" when the field is absent
}

// Compare streams before, the test migration's snapshot, against after,
// the final migration's snapshots (one per chunk, say), and returns the
// delta per entity. The after snapshots are merged by key; of a key in
// several, the entry of the lowest index wins and the others are ignored.
// Records are matched by Key and changed when a field differs, an absent
// field being equal to "".
//
// When out is not nil, Compare writes the delta to it as a CSV that Excel
// opens cleanly (UTF-8 with a byte-order mark, CRLF, every cell made
// formula-safe by pipeline.SafeCell) with the header
// entity,change,source_id,field,before,after: a row per added or removed
// record, with field, before and after empty, and a row per changed field of
// a changed record. Rows are in key order.
//
// Errors: EINVALID when before or an element of after is nil, or when a
// snapshot has a line that is not a JSON entry, is longer than MaxLine, has
// an empty key, an entity that is empty or contains "#", a key that does not
// start with its entity and "#", or a key not greater than the key on the
// line before it; the message names the snapshot ("before snapshot", or
// "after snapshot i" with i its index in after) and the line, from 1.
// EUNAVAILABLE when reading a snapshot or writing out fails (an application
// error from a reader or from out is returned as it is). Out may have been
// written in part when Compare fails.
func Compare(before io.Reader, after []io.Reader, out io.Writer) (*Report, error) {
	return CompareEach(before, after, out, nil)
}

// CompareEach is Compare, and calls each (when not nil) with every entry
// of the merged after snapshots, in key order, each key once: what the
// final migration holds, for its read-back.
//
// Errors: as Compare.
func CompareEach(before io.Reader, after []io.Reader, out io.Writer, each func(Entry)) (*Report, error) {
	if before == nil {
		return nil, cutover.Errorf(cutover.EINVALID, "the before snapshot is missing")
	}
	as := make([]*source, len(after))
	for i, r := range after {
		if r == nil {
			return nil, cutover.Errorf(cutover.EINVALID, "after snapshot %d is missing", i)
		}
		as[i] = newSource(fmt.Sprintf("after snapshot %d", i), i, r)
	}
	bm, err := newMerger([]*source{newSource("before snapshot", 0, before)})
	if err != nil {
		return nil, err
	}
	am, err := newMerger(as)
	if err != nil {
		return nil, err
	}
	d := &differ{byName: map[string]*EntityDelta{}}
	if out != nil {
		if d.csv, err = newCSV(out); err != nil {
			return nil, err
		}
	}

	var b, a Entry
	var bok, aok bool
	nextB, nextA := true, true
	for {
		if nextB {
			if b, bok, err = bm.next(); err != nil {
				return nil, err
			}
		}
		if nextA {
			if a, aok, err = am.next(); err != nil {
				return nil, err
			}
		}
		switch {
		case !bok && !aok:
			return d.report()
		case bok && (!aok || b.Key < a.Key):
			nextB, nextA = true, false
			ed := d.entity(b.Entity)
			ed.Before++
			ed.Removed++
			err = d.note(ed, Change{Kind: Removed, Entity: b.Entity, SourceID: b.SourceID})
		case aok && (!bok || a.Key < b.Key):
			nextB, nextA = false, true
			if each != nil {
				each(a)
			}
			ed := d.entity(a.Entity)
			ed.After++
			ed.Added++
			err = d.note(ed, Change{Kind: Added, Entity: a.Entity, SourceID: a.SourceID})
		default: // equal keys, so equal entities
			nextB, nextA = true, true
			if each != nil {
				each(a)
			}
			ed := d.entity(a.Entity)
			ed.Before++
			ed.After++
			fs := diffFields(b, a)
			if len(fs) == 0 {
				ed.Unchanged++
				continue
			}
			ed.Changed++
			err = d.note(ed, Change{Kind: Changed, Entity: a.Entity, SourceID: a.SourceID, Fields: fs})
		}
		if err != nil {
			return nil, err
		}
	}
}

// diffFields returns the fields that differ, sorted by name, an absent
// field reading as "". A field's value includes the raw value left out of
// it, if any (see value).
func diffFields(b, a Entry) []FieldChange {
	var fs []FieldChange
	diff := func(k string) {
		if v, w := value(b, k), value(a, k); v != w {
			fs = append(fs, FieldChange{Field: k, Before: v, After: w})
		}
	}
	in := func(m map[string]string, k string) bool { _, ok := m[k]; return ok }
	// Each key once: the before fields, then the before's other left-out
	// ones, then what only the after has.
	for k := range b.Fields {
		diff(k)
	}
	for k := range b.Invalid {
		if !in(b.Fields, k) {
			diff(k)
		}
	}
	for k := range a.Fields {
		if !in(b.Fields, k) && !in(b.Invalid, k) {
			diff(k)
		}
	}
	for k := range a.Invalid {
		if !in(a.Fields, k) && !in(b.Fields, k) && !in(b.Invalid, k) {
			diff(k)
		}
	}
	slices.SortFunc(fs, func(x, y FieldChange) int { return strings.Compare(x.Field, y.Field) })
	return fs
}

// value is field k of e as the delta compares it: its value, and the raw
// value left out of it marked as such, e.g. "(left out: 31/31/2024)".
func value(e Entry, k string) string {
	v := e.Fields[k]
	iv, ok := e.Invalid[k]
	switch {
	case !ok:
		return v
	case v == "":
		return "(left out: " + iv + ")"
	}
	return v + " (left out: " + iv + ")"
}

// differ accumulates the report and writes the CSV.
type differ struct {
	byName map[string]*EntityDelta
	last   *EntityDelta // entities come in runs, keys starting with the entity
	csv    *csv.Writer
	row    [6]string
}

func (d *differ) entity(name string) *EntityDelta {
	if d.last != nil && d.last.Entity == name {
		return d.last
	}
	ed := d.byName[name]
	if ed == nil {
		ed = &EntityDelta{Entity: name, Examples: []Change{}}
		d.byName[name] = ed
	}
	d.last = ed
	return ed
}

// note keeps c as an example while there is room and writes its CSV rows.
func (d *differ) note(ed *EntityDelta, c Change) error {
	if len(ed.Examples) < MaxExamples {
		ed.Examples = append(ed.Examples, c)
	}
	if d.csv == nil {
		return nil
	}
	if c.Kind != Changed {
		return d.write(c.Entity, c.Kind, c.SourceID, "", "", "")
	}
	for _, f := range c.Fields {
		if err := d.write(c.Entity, c.Kind, c.SourceID, f.Field, f.Before, f.After); err != nil {
			return err
		}
	}
	return nil
}

func (d *differ) write(cells ...string) error {
	for i, c := range cells {
		d.row[i] = pipeline.SafeCell(c)
	}
	if err := d.csv.Write(d.row[:]); err != nil {
		return ioError(err, "writing the delta CSV failed")
	}
	return nil
}

func (d *differ) report() (*Report, error) {
	if d.csv != nil {
		d.csv.Flush()
		if err := d.csv.Error(); err != nil {
			return nil, ioError(err, "writing the delta CSV failed")
		}
	}
	r := &Report{Entities: make([]EntityDelta, 0, len(d.byName))}
	for _, ed := range d.byName {
		r.Entities = append(r.Entities, *ed)
	}
	slices.SortFunc(r.Entities, func(x, y EntityDelta) int { return strings.Compare(x.Entity, y.Entity) })
	return r, nil
}

// CSVHead is how every delta CSV begins: a byte-order mark and the
// header. The CSVs of key ranges compared apart (the rows of each range
// in key order) join into the whole delta's CSV when every one but the
// first is stripped of it.
const CSVHead = "\xEF\xBB\xBFentity,change,source_id,field,before,after\r\n"

// newCSV starts the delta CSV: CSVHead.
func newCSV(w io.Writer) (*csv.Writer, error) {
	if _, err := io.WriteString(w, CSVHead); err != nil {
		return nil, ioError(err, "writing the delta CSV failed")
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return cw, nil
}

// Merge adds up the reports of disjoint key ranges, given in key order, as
// one Compare over all of them would have made it: the counts add up, and
// the examples are the first MaxExamples of the ranges' in that order.
func Merge(parts []*Report) *Report {
	byName := map[string]*EntityDelta{}
	for _, p := range parts {
		if p == nil {
			continue
		}
		for _, e := range p.Entities {
			m := byName[e.Entity]
			if m == nil {
				m = &EntityDelta{Entity: e.Entity, Examples: []Change{}}
				byName[e.Entity] = m
			}
			m.Before += e.Before
			m.After += e.After
			m.Added += e.Added
			m.Removed += e.Removed
			m.Changed += e.Changed
			m.Unchanged += e.Unchanged
			m.Examples = append(m.Examples, e.Examples[:min(len(e.Examples), MaxExamples-len(m.Examples))]...)
		}
	}
	d := &differ{byName: byName}
	r, _ := d.report()
	return r
}

// merger merges sorted sources into one sorted stream.
type merger struct{ h sourceHeap }

func newMerger(srcs []*source) (*merger, error) {
	m := &merger{h: make(sourceHeap, 0, len(srcs))}
	for _, s := range srcs {
		if err := s.next(); err != nil {
			return nil, err
		}
		if !s.done {
			m.h = append(m.h, s)
		}
	}
	heap.Init(&m.h)
	return m, nil
}

// next returns the entry with the smallest key, of the lowest index when
// several sources have it (the others are skipped), or false at the end.
func (m *merger) next() (Entry, bool, error) {
	if len(m.h) == 0 {
		return Entry{}, false, nil
	}
	e := m.h[0].cur
	for len(m.h) > 0 && m.h[0].cur.Key == e.Key {
		s := m.h[0]
		if err := s.next(); err != nil {
			return Entry{}, false, err
		}
		if s.done {
			heap.Pop(&m.h)
		} else {
			heap.Fix(&m.h, 0)
		}
	}
	return e, true, nil
}

// sourceHeap orders sources by current key, then index.
type sourceHeap []*source

func (h sourceHeap) Len() int { return len(h) }
func (h sourceHeap) Less(i, j int) bool {
	if h[i].cur.Key != h[j].cur.Key {
		return h[i].cur.Key < h[j].cur.Key
	}
	return h[i].idx < h[j].idx
}
func (h sourceHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *sourceHeap) Push(x any)   { *h = append(*h, x.(*source)) }
func (h *sourceHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	*h = old[:len(old)-1]
	return s
}
