package engine

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pass"
)

// The id shuffle's links round: people named inline who may be records of
// an entity that merges across source ids, across chunks.
//
// One pass links a person named inline to a listed record of their entity
// by what merging left in the records (mapspec.LinkInline runs after
// mapspec.Merger): by e-mail, to the first record, in record order, whose
// addresses hold it; else by name, to the only record with it. Where the
// entity merges across source ids (mergeDifferentIds), a record holds the
// addresses of every row merged into it, takes each part of its name from
// the first row that has it, and stands at its first row's place: all
// known only once every chunk's rows of its dedupe key are. So the links
// of such an entity are decided a round after inlinelink.go decides the
// others', by one more Distributed Map between the alias round and the
// chunks:
//
//  1. keys: a chunk stores, for each row of such an entity kept under a
//     dedupe key, a memberMark line in the partition of that key (its
//     record, key, place, source id, name and e-mail addresses), and so
//     for each row it rejects for repeating an id under a key (the
//     chunk's own run, given the ids earlier chunks hold, may merge it:
//     pass.Pass.Repeated); for each row kept without a key, an
//     unkeyedMark line per link key (its record, then a placedMark line:
//     source id, chunk and place) in the partition of its id; and for
//     each person it derives or a row it rejects as a repeat names, a
//     wantedMark line in the partition of their link key;
//  2. resolve: a partition of ids, knowing each id's first claim, passes
//     on the placedMark line of each row kept without a key that is its
//     id's first (a later one is a rejected duplicate), with the
//     survivors, to the partition of the link key;
//  3. aliases: a partition of dedupe keys, knowing each id's first claim,
//     merges the rows of each of its keys whose id's first claim is under
//     that key (the others are rejected duplicates) in chunk order and
//     place, as the merge partitions will, and stores each merged
//     record's link keys as placedMark lines (the first row's source id,
//     chunk and place), and the placedMark lines resolve passed on, in
//     the partition of the link key (links/p-<link partition>/a-<key
//     partition>);
//  4. links (this file's Map): a partition of link keys orders every
//     listed record of its keys by chunk and place, decides each link of
//     its keys by LinkInline's rule, and stores for each chunk its own
//     (linked/c-<chunk>/p-<partition>, linkMark lines);
//  5. the chunks read them with the links decided before
//     (pass.Elsewhere.Linked).
//
// A person is linked to the first row's source id, the merged record's,
// which no alias changes. Only rows that become records (or merge into
// one) are listed, so neither of inlinelink.go's two differences from one
// pass remains for such an entity. No step holds more than a partition's
// lines. Every object's name is fixed by the plan and its bytes by the
// extract, so a step run again writes the same objects.

// Marks that start the links round's lines in the keys, and (placedMark)
// in the survivors and what the alias round stores for it.
const (
	memberMark  = "%" // a row kept under a dedupe key, in the key's partition
	unkeyedMark = "+" // a row kept without one: its record and a placedMark line, in the id's partition
	placedMark  = "^" // a listed record's link key, with its source id, chunk and place
	wantedMark  = "~" // a derived person's link key and source id
)

// isLinksRoundLine reports whether a keys line is the links round's.
func isLinksRoundLine(line string) bool {
	return strings.HasPrefix(line, memberMark) || strings.HasPrefix(line, unkeyedMark) || strings.HasPrefix(line, wantedMark)
}

func (sh idShuffle) mergedLinksKey(linkPart, keyPart int) string {
	return fmt.Sprintf("%slinks/p-%05d/a-%05d", sh.prefix, linkPart, keyPart)
}

func (sh idShuffle) linkedKey(chunk, part int) string {
	return fmt.Sprintf("%slinked/c-%06d/p-%05d", sh.prefix, chunk, part)
}

// placedLinkLine is a placedMark line: a listed record's link key text,
// its source id, and where its first row is.
func placedLinkLine(text, sourceID string, chunk, place int) string {
	return placedMark + text + "\t" + strconv.Quote(sourceID) + "\t" + strconv.Itoa(chunk) + "\t" + strconv.Itoa(place) + "\n"
}

// emitMergedLinkKeys adds to the partitions' buffers the links round's
// lines of rec, the place-th record chunk keeps, under key ("" for none):
// rec's entity merges across source ids and people are named inline of
// it.
func (sh idShuffle) emitMergedLinkKeys(bufs []bytes.Buffer, chunk int, rec *mapspec.Record, key string, place int) {
	switch {
	case mapspec.IsDerived(rec):
		if k, ok := mapspec.DerivedLinkKey(rec); ok {
			text := linkKeyText(k)
			bufs[sh.partition(text)].WriteString(wantedMark + text + "\t" + strconv.Quote(rec.SourceID) + "\n")
		}
	case key == "":
		id := rec.Entity + "#" + rec.ID
		for _, k := range mapspec.ListedLinkKeys(rec) {
			bufs[sh.partition(id)].WriteString(unkeyedMark + id + "\t" + placedLinkLine(linkKeyText(k), rec.SourceID, chunk, place))
		}
	default:
		quoted := strconv.Quote(key)
		b := &bufs[sh.partition(rec.Entity+"\t"+quoted)] // placed.group's partition
		fmt.Fprintf(b, "%s%s#%s\t%s\t%d\t%s", memberMark, rec.Entity, rec.ID, quoted, place, strconv.Quote(rec.SourceID))
		for _, name := range mapspec.NameFields {
			b.WriteByte('\t')
			if v, ok := rec.Get(name); ok {
				b.WriteString(strconv.Quote(v.Str))
			} else {
				b.WriteString(absentPart)
			}
		}
		for _, k := range mapspec.ListedLinkKeys(rec) {
			if k.Email {
				b.WriteString("\t" + strconv.Quote(k.Key))
			}
		}
		b.WriteByte('\n')
	}
}

// absentPart stands for a name field a row does not have (a present one
// is quoted, so never this).
const absentPart = "-"

// errLinksRoundLine is a links round's line that does not parse.
var errLinksRoundLine = errors.New("a line of the links round does not parse")

// member is a memberMark line, parsed.
type member struct {
	id, entity   string // "entity#id"; the entity
	quoted       string // the dedupe key, quoted
	group        string // entity and quoted key (placed.group)
	chunk, place int
	sourceID     string
	name         [len(mapspec.NameFields)]*string
	emails       []string // link keys
}

// parseMember parses a memberMark line of chunk.
//
// Errors: errLinksRoundLine.
func parseMember(chunk int, line string) (member, error) {
	f := strings.Split(strings.TrimPrefix(line, memberMark), "\t")
	if len(f) < 4+len(mapspec.NameFields) {
		return member{}, errLinksRoundLine
	}
	entity, id, ok := strings.Cut(f[0], "#")
	place, err := strconv.Atoi(f[2])
	if _, kerr := strconv.Unquote(f[1]); !ok || entity == "" || id == "" || err != nil || place < 1 || kerr != nil {
		return member{}, errLinksRoundLine
	}
	m := member{id: f[0], entity: entity, quoted: f[1], group: entity + "\t" + f[1], chunk: chunk, place: place}
	if m.sourceID, err = strconv.Unquote(f[3]); err != nil {
		return member{}, errLinksRoundLine
	}
	for i := range m.name {
		if v := f[4+i]; v != absentPart {
			s, err := strconv.Unquote(v)
			if err != nil {
				return member{}, errLinksRoundLine
			}
			m.name[i] = &s
		}
	}
	for _, v := range f[4+len(mapspec.NameFields):] {
		e, err := strconv.Unquote(v)
		if err != nil {
			return member{}, errLinksRoundLine
		}
		m.emails = append(m.emails, e)
	}
	return m, nil
}

// mergeLinkKeys is the alias round's part of the links round for key
// partition part: it merges the rows of each of the partition's dedupe
// keys whose id's first claim (claims: the quoted key, by "entity#id") is
// under that key, and stores each merged record's link keys, and the
// placedMark lines of records kept without a key that the resolve round
// passed on (listed), in the partition of the link key.
//
// Errors: ENOTFOUND (a keys step did not run) or EUNAVAILABLE from
// storage; EINVALID for damaged keys or lines; as Files.Put.
func (s *base) mergeLinkKeys(ctx context.Context, sh idShuffle, part int, claims map[string]string, listed []string) error {
	bodies, err := s.getAll(ctx, sh.chunks, func(c int) string { return sh.keysKey(part, c) })
	if err != nil {
		return err
	}
	groups := map[string][]member{}
	var bad error
	for c, body := range bodies {
		eachLine(body, func(line string) {
			if !strings.HasPrefix(line, memberMark) {
				return
			}
			m, err := parseMember(c, line)
			if err != nil {
				bad = cmp.Or(bad, err)
				return
			}
			if claims[m.id] == m.quoted { // else its id is another key's: a rejected duplicate
				groups[m.group] = append(groups[m.group], m)
			}
		})
		bodies[c] = nil
	}
	if bad != nil {
		return cutover.Wrap(cutover.EINVALID, bad, "The id shuffle's keys for partition %d are damaged.", part)
	}
	outs := make([]bytes.Buffer, sh.parts)
	for _, line := range listed {
		p, err := parsePlacedLink(line, sh.chunks)
		if err != nil {
			return cutover.Wrap(cutover.EINVALID, err, "The id shuffle's survivors for partition %d are damaged.", part)
		}
		outs[sh.partition(p.key)].WriteString(line + "\n")
	}
	for _, g := range slices.Sorted(maps.Keys(groups)) { // sorted: a step run again writes the same bytes
		ms := groups[g] // in chunk order, and in place in a chunk: as the merge partition adds them
		first := ms[0]  // the record the others merge into
		var name [len(mapspec.NameFields)]*string
		var emails []string
		for _, m := range ms {
			for i, v := range m.name {
				if name[i] == nil {
					name[i] = v
				}
			}
			for _, e := range m.emails {
				if !slices.Contains(emails, e) {
					emails = append(emails, e)
				}
			}
		}
		keys := make([]mapspec.LinkKey, 0, len(emails)+1)
		for _, e := range emails {
			keys = append(keys, mapspec.LinkKey{Entity: first.entity, Email: true, Key: e})
		}
		if n := mapspec.NameOf(name); n != "" {
			keys = append(keys, mapspec.LinkKey{Entity: first.entity, Key: n})
		}
		for _, k := range keys {
			text := linkKeyText(k)
			outs[sh.partition(text)].WriteString(placedLinkLine(text, first.sourceID, first.chunk, first.place))
		}
	}
	return s.putAll(ctx, sh.parts, func(p int) (string, []byte) { return sh.mergedLinksKey(p, part), outs[p].Bytes() })
}

// placedLink is a placedMark line, parsed.
type placedLink struct {
	key, sourceID string
	chunk, place  int
}

// parsePlacedLink parses a placedMark line of an extract of chunks chunks.
//
// Errors: errLinksRoundLine.
func parsePlacedLink(line string, chunks int) (placedLink, error) {
	f := strings.Split(strings.TrimPrefix(line, placedMark), "\t")
	if len(f) != 6 || !strings.HasPrefix(line, placedMark) {
		return placedLink{}, errLinksRoundLine
	}
	key := strings.Join(f[:3], "\t")
	sid, err1 := strconv.Unquote(f[3])
	chunk, err2 := strconv.Atoi(f[4])
	place, err3 := strconv.Atoi(f[5])
	if err := errors.Join(err1, err2, err3); err != nil || !validKeyText(key) || chunk < 0 || chunk >= chunks || place < 1 {
		return placedLink{}, errLinksRoundLine
	}
	return placedLink{key: key, sourceID: sid, chunk: chunk, place: place}, nil
}

// validKeyText reports whether key is a link key's text (linkKeyText):
// an entity, "e" or "n", and a key that is not empty.
func validKeyText(key string) bool {
	f := strings.Split(key, "\t")
	return len(f) == 3 && f[0] != "" && (f[1] == "e" || f[1] == "n") && f[2] != ""
}

// passUnkeyed adds to the survivors the placedMark line of an unkeyedMark
// line of chunk, kept without a dedupe key, when first says chunk holds
// its id's first claim (a later row with it is a rejected duplicate).
//
// Errors: errLinksRoundLine for a line that does not parse.
func (s *survivors) passUnkeyed(chunk int, line string, first func(id string) (int, bool)) error {
	id, placed, ok := strings.Cut(strings.TrimPrefix(line, unkeyedMark), "\t")
	p, err := parsePlacedLink(placed, s.sh.chunks)
	if entity, rest, named := strings.Cut(id, "#"); !ok || err != nil || !named || entity == "" || rest == "" || p.chunk != chunk {
		return errLinksRoundLine
	}
	if c, held := first(id); held && c == chunk {
		q := s.sh.partition(p.key)
		s.outs[q].WriteString(placed + "\n")
	}
	return nil
}

// resolveLinks is the links round's step for link partition part: it
// orders every listed record of its link keys (what the alias round
// stored: merged records, and records kept without a key) by chunk and
// place, decides the links of the people the chunks derive by
// LinkInline's rule, and stores each chunk's.
//
// Errors: ENOTFOUND (a keys or alias step did not run) or EUNAVAILABLE
// from storage; EINVALID for damaged lines; as Files.Put.
func (s *base) resolveLinks(ctx context.Context, sh idShuffle, part int) (*ShuffleResult, error) {
	keys, err := s.getAll(ctx, sh.chunks, func(c int) string { return sh.keysKey(part, c) })
	if err != nil {
		return nil, err
	}
	merged, err := s.getAll(ctx, sh.parts, func(a int) string { return sh.mergedLinksKey(part, a) })
	if err != nil {
		return nil, err
	}
	var listed []placedLink
	l := newLinkResolver()
	var bad error
	for c, body := range keys {
		eachLine(body, func(line string) {
			if !strings.HasPrefix(line, wantedMark) {
				return // the other rounds'
			}
			key, sid, err := splitLinkLine(line)
			if err != nil || !validKeyText(key) {
				bad = cmp.Or(bad, errLinksRoundLine)
				return
			}
			l.want(c, key, sid)
		})
		keys[c] = nil
	}
	for _, body := range merged {
		eachLine(body, func(line string) {
			p, err := parsePlacedLink(line, sh.chunks)
			if err != nil {
				bad = cmp.Or(bad, err)
				return
			}
			listed = append(listed, p)
		})
	}
	if bad != nil {
		return nil, cutover.Wrap(cutover.EINVALID, bad, "The id shuffle's link keys for partition %d are damaged.", part)
	}
	// Record order: a merged record stands at its first row's place.
	slices.SortStableFunc(listed, func(a, b placedLink) int { return cmp.Or(cmp.Compare(a.chunk, b.chunk), cmp.Compare(a.place, b.place)) })
	for _, p := range listed {
		l.listed(p.key, p.sourceID)
	}
	outs := make([]bytes.Buffer, sh.chunks)
	l.resolve(outs)
	linked := 0
	for _, o := range outs {
		linked += bytes.Count(o.Bytes(), []byte("\n"))
	}
	if err := s.putAll(ctx, sh.chunks, func(c int) (string, []byte) { return sh.linkedKey(c, part), outs[c].Bytes() }); err != nil {
		return nil, err
	}
	return &ShuffleResult{Index: part, Linked: linked}, nil
}

// linkedFor adds chunk's links decided by the links round to e.
//
// Errors: ENOTFOUND when a partition's links step did not run; EINVALID
// for a damaged line; EUNAVAILABLE from storage.
func (s *base) linkedFor(ctx context.Context, sh idShuffle, chunk int, e *pass.Elsewhere) error {
	bodies, err := s.getAll(ctx, sh.parts, func(p int) string { return sh.linkedKey(chunk, p) })
	if err != nil {
		return err
	}
	var bad error
	for _, body := range bodies {
		eachLine(body, func(line string) {
			if err := addLink(e, line); err != nil && bad == nil {
				bad = cutover.Wrap(cutover.EINVALID, err, "The id shuffle's links for chunk %d are damaged.", chunk)
			}
		})
	}
	return bad
}
