package engine

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pass"
)

// People named inline, across the chunks of an extract. One pass links a
// derived person to a listed record of the same entity after reading every
// record (mapspec.LinkInline): by e-mail, to the first listed record with
// it; else by name, to the only listed record with it. The id shuffle
// decides the same links in bounded memory:
//
//   - keys: each chunk stores, for every listed record of an entity people
//     are derived of, a listedMark line per key it can be linked by
//     (mapspec.ListedLinkKeys), and for every person it derives (and,
//     with the alias round, every person a row it rejects for repeating
//     an id names: the chunk's own run may merge the row, idnaming.go) a
//     derivedMark line with the one key they are looked up by
//     (mapspec.DerivedLinkKey), each in the partition of the key;
//   - resolve: a partition, reading its chunks in order, knows every
//     listed record of its keys in record order, so it decides every
//     link of its keys and tells each chunk its own (a linkMark line);
//   - the chunk's pass then fills the references of the people it names
//     with the listed record's source id (pass.Elsewhere.Linked), and
//     derives only the people no listed record is.
//
// A person named in several chunks has one id (made from what identifies
// them), so the id shuffle's claims keep them to the first chunk whose
// rows that stay name them (idnaming.go), as one pass derives them once.
//
// Two differences from one pass remain, both about rows that repeat a
// source id (the ids and the keys are partitioned apart, so a key's
// partition cannot know which of its rows repeat one):
//
//   - a row that repeats a source id an earlier chunk holds is a rejected
//     duplicate, yet its e-mail addresses and name were stored as keys of
//     the listed record: a person named with them can be linked to that
//     record, where one pass would derive them;
//   - a row that merges into an earlier row's record (the same source id
//     and dedupe key) adds its e-mail addresses to that record: "the first
//     listed record with an address" is then decided at the later row's
//     place in the file, where one pass decides it at the record's first.

// Marks that start the lines of the links, beside refMark's.
const (
	listedMark  = "@" // keys: a listed record's link key and source id
	derivedMark = "&" // keys: a derived person's link key and source id
	linkMark    = "=" // resolution: a derived person's source id and the listed one's
)

// isLinkLine reports whether line is one of the links' lines.
func isLinkLine(line string) bool {
	return strings.HasPrefix(line, listedMark) || strings.HasPrefix(line, derivedMark) || strings.HasPrefix(line, linkMark)
}

// linkKeyText is k as its partition and its lines name it: entity, kind
// ("e" for an e-mail, "n" for a name) and the key, tab-separated.
func linkKeyText(k mapspec.LinkKey) string {
	kind := "n"
	if k.Email {
		kind = "e"
	}
	return k.Entity + "\t" + kind + "\t" + k.Key
}

// emitLinkKeys adds rec's link lines to the partitions' buffers: a
// derived person's lookup key, or each of a listed record's keys.
func (sh idShuffle) emitLinkKeys(bufs []bytes.Buffer, rec *mapspec.Record) {
	line := func(mark string, k mapspec.LinkKey) {
		text := linkKeyText(k)
		b := &bufs[sh.partition(text)]
		b.WriteString(mark + text + "\t" + strconv.Quote(rec.SourceID) + "\n")
	}
	if mapspec.IsDerived(rec) {
		if k, ok := mapspec.DerivedLinkKey(rec); ok {
			line(derivedMark, k)
		}
		return
	}
	for _, k := range mapspec.ListedLinkKeys(rec) {
		line(listedMark, k)
	}
}

// errLinkLine is a link line that does not parse.
var errLinkLine = errors.New("a link line does not parse")

// splitLinkLine parses a listedMark or derivedMark line (mark already
// known) into its key text and source id.
func splitLinkLine(line string) (key, sourceID string, err error) {
	i := strings.LastIndexByte(line, '\t')
	if i < 0 {
		return "", "", errLinkLine
	}
	sid, err := strconv.Unquote(line[i+1:])
	if err != nil {
		return "", "", errLinkLine
	}
	return line[1:i], sid, nil
}

// linkResolver decides one partition's links.
type linkResolver struct {
	first  map[string]string   // an e-mail key: the first listed record's source id
	names  map[string][]string // a name key: the distinct listed source ids (at most two)
	wanted []linkWanted        // derived people, in chunk order
}

type linkWanted struct {
	chunk    int
	key, sid string
}

func newLinkResolver() *linkResolver {
	return &linkResolver{first: map[string]string{}, names: map[string][]string{}}
}

// add takes one link line of chunk's keys, in order.
//
// Errors: errLinkLine for a line that does not parse, or is not a
// listedMark or derivedMark line.
func (l *linkResolver) add(chunk int, line string) error {
	listed := strings.HasPrefix(line, listedMark)
	if !listed && !strings.HasPrefix(line, derivedMark) {
		return errLinkLine
	}
	key, sid, err := splitLinkLine(line)
	if err != nil {
		return err
	}
	if listed {
		l.listed(key, sid)
	} else {
		l.want(chunk, key, sid)
	}
	return nil
}

// listed takes the listed record sid's link key (a key text), in record
// order: the first with an e-mail is the one it links to.
func (l *linkResolver) listed(key, sid string) {
	if isEmailKey(key) {
		if _, ok := l.first[key]; !ok {
			l.first[key] = sid
		}
	} else if ids := l.names[key]; len(ids) < 2 && !slices.Contains(ids, sid) {
		l.names[key] = append(ids, sid)
	}
}

// want takes a derived person of chunk, looked up by key.
func (l *linkResolver) want(chunk int, key, sid string) {
	l.wanted = append(l.wanted, linkWanted{chunk, key, sid})
}

// isEmailKey reports whether a key text is an e-mail's.
func isEmailKey(key string) bool {
	_, rest, _ := strings.Cut(key, "\t")
	return strings.HasPrefix(rest, "e\t")
}

// resolve writes each chunk's links to its resolution: a linkMark line
// per derived person linked to a listed record.
func (l *linkResolver) resolve(outs []bytes.Buffer) {
	for _, w := range l.wanted {
		to, ok := l.first[w.key]
		if !isEmailKey(w.key) {
			ids := l.names[w.key]
			to, ok = "", len(ids) == 1
			if ok {
				to = ids[0]
			}
		}
		if !ok {
			continue
		}
		entity, _, _ := strings.Cut(w.key, "\t")
		outs[w.chunk].WriteString(linkMark + entity + "\t" + strconv.Quote(w.sid) + "\t" + strconv.Quote(to) + "\n")
	}
}

// addLink adds a linkMark line of a chunk's resolution to e.Linked.
//
// Errors: errLinkLine for a line that does not parse.
func addLink(e *pass.Elsewhere, line string) error {
	entity, rest, ok := strings.Cut(strings.TrimPrefix(line, linkMark), "\t")
	if !ok || !strings.HasPrefix(line, linkMark) {
		return errLinkLine
	}
	from, to, ok := strings.Cut(rest, "\t")
	if !ok {
		return errLinkLine
	}
	var err error
	if from, err = strconv.Unquote(from); err != nil {
		return errLinkLine
	}
	if to, err = strconv.Unquote(to); err != nil {
		return errLinkLine
	}
	e.Linked[entity+"\x00"+from] = to
	return nil
}
