package shuffle

import (
	"errors"
	"io"
	"slices"
	"strings"
)

// References to records merged across source ids. An entity whose file
// spec turns mergeDifferentIds on merges rows that share a dedupe key
// whatever their source ids, and a reference to a record merged away
// means the record it merged into (mapspec.Merger's aliases). The second
// run sets each reference before any record is merged, so Resolve also
// decides which record each such key keeps:
//
//   - each id partition sends each id's first row (a later row of the id
//     under another key is a duplicate, so only the first counts), with
//     its position, and each reference to such an id, to the partition of
//     the id's entity and key (grp);
//   - each key partition then finds every key's first row, which is the
//     record mapspec.Merger keeps (the second run adds records in row
//     order), and writes, sorted by the reference's position, the
//     references naming another record of the key, with the survivor's
//     id (alias): the second run reads them as it reads the orphans.
//
// Memory is one partition's ids or keys at a time.

// grp frame kinds: a key's row, or a reference to one.
const (
	grpRow = iota
	grpRef
)

// aliasing is what Resolve collects for the alias round.
type aliasing struct {
	across map[string]bool // entities whose records merge across source ids
	grp    *parts
	buf    []byte
}

// entityOf is the entity of an "entity#id".
func entityOf(id string) string {
	e, _, _ := strings.Cut(id, "#")
	return e
}

// aliasNote notes, when id's entity merges across source ids, id's first
// row (grpRow, at p) or a reference to id (grpRef, at p: the row and the
// reference's index), id's first row kept under key, in the partition of
// id's entity and key.
//
// Errors: the store's.
func (s *Shuffle) aliasNote(a *aliasing, kind uint64, p pos, id, key string) error {
	if a == nil || key == "" || !a.across[entityOf(id)] {
		return nil
	}
	a.buf = appendUvarint(appendString(appendString(appendPos(a.buf[:0], p), id), key), kind)
	return a.grp.add(s.ctx, a.grp.of(entityOf(id)+"\x00"+key), a.buf)
}

// resolveAliases finds each key's surviving record, partition by
// partition of a.grp, and readies the cursor of the references that name
// another record of their key.
//
// Errors: the store's; ErrDamaged.
func (s *Shuffle) resolveAliases(a *aliasing) error {
	if err := a.grp.flush(s.ctx); err != nil {
		return err
	}
	n := a.grp.n()
	out := newParts(s.store, "alias", n, s.seed)
	type row struct {
		at pos
		id string
	}
	type named struct {
		at      pos
		id, grp string
	}
	for i := 0; i < n; i++ {
		first := map[string]row{} // entity, key -> its first row
		var refs []named
		err := a.grp.each(s.ctx, i, func(f *frame) error {
			p, id, key, kind := f.pos(), f.str(), f.str(), f.uvarint()
			g := entityOf(id) + "\x00" + key
			switch kind {
			case grpRow:
				if r, ok := first[g]; !ok || p.less(r.at) {
					first[g] = row{p, id}
				}
			case grpRef:
				refs = append(refs, named{p, id, g})
			default:
				return ErrDamaged
			}
			return nil
		})
		if err != nil {
			return err
		}
		// The id partitions sent their references one after another:
		// sorted here, so each key partition's aliases are a sorted run.
		slices.SortFunc(refs, func(x, y named) int {
			if x.at == y.at {
				return 0
			}
			if x.at.less(y.at) {
				return -1
			}
			return 1
		})
		for _, r := range refs {
			kept, ok := first[r.grp]
			if !ok {
				return ErrDamaged // the named id's own row is in its key's partition
			}
			if kept.id == r.id {
				continue
			}
			_, survivor, _ := strings.Cut(kept.id, "#")
			if err := out.add(s.ctx, i, appendString(appendPos(nil, r.at), survivor)); err != nil {
				return err
			}
		}
		if err := out.flushOne(s.ctx, i); err != nil {
			return err
		}
	}
	var err error
	s.aliases, err = s.cursor([]string{"alias"}, n)
	return err
}

// value returns the string the runs hold at p, if they hold p; every
// later call must ask a position no lower than p.
//
// Errors: those of the runs; ErrDamaged.
func (c *cursor) value(p pos) (string, bool, error) {
	f, ok, err := c.at(p)
	if err != nil || !ok {
		return "", false, err
	}
	v := f.str()
	if f.err {
		return "", false, ErrDamaged
	}
	return v, true, nil
}

// at returns the fields the runs hold at p (after its position), if they
// hold p, valid until the next call; every later call must ask a position
// no lower than p.
//
// Errors: those of the runs.
func (c *cursor) at(p pos) (*frame, bool, error) {
	for !c.done {
		if c.head == nil {
			q, f, err := c.m.next()
			if errors.Is(err, io.EOF) {
				c.done = true
				return nil, false, nil
			}
			if err != nil {
				return nil, false, err
			}
			c.head, c.f = &q, f
		}
		if !c.head.less(p) {
			if *c.head != p {
				return nil, false, nil
			}
			return c.f, true, nil
		}
		c.head = nil
	}
	return nil, false, nil
}
