package shuffle

import (
	"slices"
	"strings"

	"github.com/cutover/cutover/internal/mapspec"
)

// People named inline. The in-memory pass derives a person named inline
// (a tenant's name on a tenancy) once, at the first kept row that names
// them (pipeline.Written), and after the pass links each derived person
// to a listed record of the same entity by what merging left in the
// records (mapspec.LinkInline): by e-mail, to the first listed record
// with it; else by name, to the only listed record with it. The shuffle
// decides the same in bounded memory:
//
//   - run 1: each row's derived people go, with the row's position and
//     their place among its people, to the row's id partition (occ); a
//     reference naming a derived person goes to the partition of the
//     person's id (dref), not to the ids, which hold listed records;
//   - Resolve: each id partition, knowing which of its rows repeat a
//     source id (they derive no one in run 2), passes on the other rows'
//     people to the partition of the person's id (dv); each person
//     partition then finds every person's first naming, writes the
//     others as a sorted run (ndv: run 2 counts and adds only the first),
//     and the references naming a person no kept row derives (orphans,
//     as mapspec.Resolver finds them);
//   - run 2 and the merge partitions: every record as it will be written
//     (a merge partition's survivors once merged, the others as added)
//     sends its link keys (mapspec.ListedLinkKeys, or a derived person's
//     DerivedLinkKey) with its position to the partition of the key (lk),
//     and each reference naming a derived person to the partition of the
//     person (rj);
//   - Finish, before it writes: each key partition decides its people's
//     links by LinkInline's rule (the first listed record by position, or
//     the only one with the name), writes the linked people's positions
//     (ldrop: they are not written) and each link to the person's
//     partition (lmap); each person partition then joins its links with
//     the references to them (lrw, sorted by position); the records are
//     written with those references pointing at the listed record
//     (mapspec.Record.Relink), as LinkInline rewrites them.
//
// Memory is one partition's people, keys or references at a time.

// Link key frame kinds.
const (
	lkListed = iota
	lkWanted
)

// linking is a Shuffle's state for a spec with people named inline.
type linking struct {
	entities map[string]bool // the entities people are derived of (mapspec.InlineEntities)

	occ, dv, dref *parts  // run 1 and Resolve
	nfirst        *cursor // run 2: the people named again (not counted or added)
	lk, rj        *parts  // run 2 and the merge partitions
	drop, rewrite *cursor // writing: the linked people, the references to rewrite

	row  uint64 // the current row's position
	part int    // its id partition (run 1)
	k    uint64 // the people derived for it so far
	buf  []byte
}

// newLinking returns the linking state of s's spec, or nil when it names
// no one inline.
func newLinking(s *Shuffle) *linking {
	ents := mapspec.InlineEntities(s.o.Spec, s.o.Schema)
	if len(ents) == 0 {
		return nil
	}
	n := s.o.KeyPartitions
	return &linking{
		entities: ents,
		occ:      newParts(s.store, "occ", n, s.seed),
		dref:     newParts(s.store, "dref", n, s.seed),
	}
}

// namesDerived reports whether a reference's source id is a derived
// person's (mapspec.InlinePrefix): with people named inline, it resolves
// against the people derived rather than the ids of listed records.
func (l *linking) namesDerived(sourceID string) bool {
	return l != nil && strings.HasPrefix(sourceID, mapspec.InlinePrefix)
}

// rowAt starts a row: its position and id partition.
func (l *linking) rowAt(p uint64, part int) {
	if l != nil {
		l.row, l.part, l.k = p, part, 0
	}
}

// nextPerson is the position of the current row's next derived person.
func (l *linking) nextPerson() pos {
	p := pos{l.row, l.k}
	l.k++
	return p
}

// Derived implements pipeline.Global for run 1: the person is noted in
// its row's id partition.
//
// Errors: the store's.
func (k keys) Derived(rec *mapspec.Record) (bool, error) {
	l := k.link
	if l == nil {
		return false, errNoPeople
	}
	l.buf = appendString(appendPos(l.buf[:0], l.nextPerson()), rec.Entity+"#"+rec.ID)
	return true, l.occ.add(k.ctx, l.part, l.buf)
}

// Derived implements pipeline.Global for run 2: only a person's first
// naming by a kept row counts.
//
// Errors: those of reading the resolution.
func (r records) Derived(*mapspec.Record) (bool, error) {
	l := r.link
	if l == nil {
		return false, errNoPeople
	}
	again, err := l.nfirst.has(l.nextPerson())
	return !again, err
}

// passPeople sends the people of id partition i's rows to their own
// partitions, leaving out those of the rows that repeat a source id.
//
// Errors: the store's; ErrDamaged.
func (s *Shuffle) passPeople(i int, dupRows map[uint64]bool) error {
	l := s.link
	return l.occ.each(s.ctx, i, func(f *frame) error {
		p, id := f.pos(), f.bytes()
		if f.err || dupRows[p.a] {
			return nil
		}
		l.buf = appendBytes(appendPos(l.buf[:0], p), id)
		return l.dv.add(s.ctx, l.dv.of(string(id)), l.buf)
	})
}

// resolvePeople finds each derived person's first naming, partition by
// partition, and the references naming a person no kept row derives.
//
// Errors: the store's; ErrDamaged.
func (s *Shuffle) resolvePeople() error {
	l := s.link
	if err := l.dv.flush(s.ctx); err != nil {
		return err
	}
	if err := l.dref.flush(s.ctx); err != nil {
		return err
	}
	n := l.dv.n()
	again := newParts(s.store, "ndv", n, s.seed)
	orph := newParts(s.store, "dorph", n, s.seed)
	type naming struct {
		at pos
		id string
	}
	for j := range n {
		first := map[string]pos{}
		var all []naming
		err := l.dv.each(s.ctx, j, func(f *frame) error {
			p, id := f.pos(), f.str()
			all = append(all, naming{p, id})
			if q, ok := first[id]; !ok || p.less(q) {
				first[id] = p
			}
			return nil
		})
		if err != nil {
			return err
		}
		var later []pos
		for _, nm := range all {
			if first[nm.id] != nm.at {
				later = append(later, nm.at)
			}
		}
		slices.SortFunc(later, comparePos)
		for _, p := range later {
			if err := again.add(s.ctx, j, appendPos(nil, p)); err != nil {
				return err
			}
		}
		// The references came in row order, so the orphans are a sorted run.
		err = l.dref.each(s.ctx, j, func(f *frame) error {
			p, id := f.pos(), f.str()
			if _, ok := first[id]; ok {
				return nil
			}
			return orph.add(s.ctx, j, appendPos(nil, p))
		})
		if err != nil {
			return err
		}
		if err := again.flushOne(s.ctx, j); err != nil {
			return err
		}
		if err := orph.flushOne(s.ctx, j); err != nil {
			return err
		}
	}
	var err error
	l.nfirst, err = s.cursor([]string{"ndv"}, n)
	l.lk = newParts(s.store, "lk", n, s.seed)
	l.rj = newParts(s.store, "rj", n, s.seed)
	return err
}

// comparePos orders positions for slices.SortFunc.
func comparePos(x, y pos) int {
	switch {
	case x == y:
		return 0
	case x.less(y):
		return -1
	}
	return 1
}

// noteLinks sends a record as it will be written, at p, to the link
// rounds: its link keys, and each of its references naming a derived
// person.
//
// Errors: the store's.
func (s *Shuffle) noteLinks(p pos, rec *mapspec.Record) error {
	l := s.link
	if l == nil {
		return nil
	}
	key := func(k mapspec.LinkKey, kind uint64) error {
		text := linkKeyText(k)
		l.buf = appendUvarint(appendString(appendString(appendString(appendPos(l.buf[:0], p), text), rec.SourceID), rec.ID), kind)
		return l.lk.add(s.ctx, l.lk.of(text), l.buf)
	}
	if mapspec.IsDerived(rec) {
		if k, ok := mapspec.DerivedLinkKey(rec); ok {
			if err := key(k, lkWanted); err != nil {
				return err
			}
		}
	} else if l.entities[rec.Entity] {
		for _, k := range mapspec.ListedLinkKeys(rec) {
			if err := key(k, lkListed); err != nil {
				return err
			}
		}
	}
	for i, ref := range rec.Refs {
		if !l.namesDerived(ref.SourceID) {
			continue
		}
		named := ref.Entity + "\x00" + ref.SourceID
		l.buf = appendString(appendPos(l.buf[:0], pos{p.a, uint64(i)}), named)
		if err := l.rj.add(s.ctx, l.rj.of(named), l.buf); err != nil {
			return err
		}
	}
	return nil
}

// linkKeyText is a link key as one string: entity, kind and key.
func linkKeyText(k mapspec.LinkKey) string {
	kind := "n\x00"
	if k.Email {
		kind = "e\x00"
	}
	return k.Entity + "\x00" + kind + k.Key
}

// resolveLinks decides every derived person's link, key partition by key
// partition, joins the links with the references naming the people, and
// readies the cursors writeRecords reads. It returns how many people were
// linked.
//
// Errors: the store's; ErrDamaged.
func (s *Shuffle) resolveLinks() (int, error) {
	l := s.link
	for _, p := range []*parts{l.lk, l.rj} {
		if err := p.flush(s.ctx); err != nil {
			return 0, err
		}
	}
	n := l.lk.n()
	drop := newParts(s.store, "ldrop", n, s.seed)
	lmap := newParts(s.store, "lmap", n, s.seed)
	type listed struct {
		at      pos
		sid, id string
		count   int // records with a name key
	}
	type wanted struct {
		at        pos
		key, name string // the key text; the person as the references name them
	}
	linked := 0
	for j := range n {
		firsts := map[string]listed{}
		var want []wanted
		err := l.lk.each(s.ctx, j, func(f *frame) error {
			p, text, sid, id, kind := f.pos(), f.str(), f.str(), f.str(), f.uvarint()
			switch kind {
			case lkListed:
				cur, ok := firsts[text]
				if !ok || p.less(cur.at) {
					firsts[text] = listed{p, sid, id, cur.count + 1}
				} else {
					cur.count++
					firsts[text] = cur
				}
			case lkWanted:
				entity, _, _ := strings.Cut(text, "\x00")
				want = append(want, wanted{p, text, entity + "\x00" + sid})
			default:
				return ErrDamaged
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
		var dropped []pos
		for _, w := range want {
			to, ok := firsts[w.key]
			// By e-mail, the first listed record with it; by name, the only one.
			if !ok || !isEmailKey(w.key) && to.count != 1 {
				continue
			}
			dropped = append(dropped, w.at)
			b := appendString(appendString(appendString(nil, w.name), to.sid), to.id)
			if err := lmap.add(s.ctx, lmap.of(w.name), b); err != nil {
				return 0, err
			}
		}
		slices.SortFunc(dropped, comparePos)
		for _, p := range dropped {
			if err := drop.add(s.ctx, j, appendPos(nil, p)); err != nil {
				return 0, err
			}
		}
		if err := drop.flushOne(s.ctx, j); err != nil {
			return 0, err
		}
		linked += len(dropped)
	}
	if err := lmap.flush(s.ctx); err != nil {
		return 0, err
	}
	if err := s.joinLinks(lmap); err != nil {
		return 0, err
	}
	var err error
	if l.drop, err = s.cursor([]string{"ldrop"}, n); err != nil {
		return 0, err
	}
	l.rewrite, err = s.cursor([]string{"lrw"}, n)
	return linked, err
}

// isEmailKey reports whether a key text is an e-mail's.
func isEmailKey(text string) bool {
	_, rest, _ := strings.Cut(text, "\x00")
	return strings.HasPrefix(rest, "e\x00")
}

// joinLinks writes, person partition by person partition, each reference
// naming a linked person with the listed record's source id and id, as a
// sorted run of the references' positions (lrw).
//
// Errors: the store's; ErrDamaged.
func (s *Shuffle) joinLinks(lmap *parts) error {
	l := s.link
	n := lmap.n()
	out := newParts(s.store, "lrw", n, s.seed)
	type rewrite struct {
		at      pos
		sid, id string
	}
	for j := range n {
		to := map[string][2]string{}
		if err := lmap.each(s.ctx, j, func(f *frame) error {
			name, sid, id := f.str(), f.str(), f.str()
			to[name] = [2]string{sid, id}
			return nil
		}); err != nil {
			return err
		}
		var rws []rewrite
		if len(to) > 0 {
			if err := l.rj.each(s.ctx, j, func(f *frame) error {
				p, named := f.pos(), f.str()
				if t, ok := to[named]; ok {
					rws = append(rws, rewrite{p, t[0], t[1]})
				}
				return nil
			}); err != nil {
				return err
			}
		}
		slices.SortFunc(rws, func(x, y rewrite) int { return comparePos(x.at, y.at) })
		for _, r := range rws {
			if err := out.add(s.ctx, j, appendString(appendString(appendPos(nil, r.at), r.sid), r.id)); err != nil {
				return err
			}
		}
		if err := out.flushOne(s.ctx, j); err != nil {
			return err
		}
	}
	return nil
}

// linkRecord applies the links to the record written at p: false when it
// is a derived person linked to a listed record (not written), else its
// references to linked people rewritten.
//
// Errors: those of reading the resolution.
func (s *Shuffle) linkRecord(p pos, rec *mapspec.Record) (bool, error) {
	l := s.link
	if l == nil {
		return true, nil
	}
	gone, err := l.drop.has(p)
	if err != nil || gone {
		return false, err
	}
	for i := range rec.Refs {
		f, ok, err := l.rewrite.at(pos{p.a, uint64(i)})
		if err != nil {
			return false, err
		}
		if !ok {
			continue
		}
		sid, id := f.str(), f.str()
		if f.err {
			return false, ErrDamaged
		}
		rec.Relink(i, sid)
		rec.Refs[i].ID = id
	}
	return true, nil
}
