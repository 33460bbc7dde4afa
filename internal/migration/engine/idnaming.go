package engine

import (
	"bytes"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/cutover/cutover/internal/mapspec"
)

// Who derives a person named inline, across the chunks of an extract.
//
// One pass derives a person at the first row that names them and stays: a
// row rejected for repeating an earlier row's source id derives nobody,
// and a row that merges into its id's record (the same dedupe key) derives
// the people it names as a new row would. The keys step runs a chunk
// without the ids earlier chunks hold, so it cannot say which of its rows
// stay: it keeps a row whose id an earlier chunk holds (the chunk's own
// run rejects it, or merges it under the same key) and rejects one that
// repeats an id of its own chunk under another key (the chunk's run,
// given the earlier chunk's claim under this row's key, merges it). Each
// row's verdict is known only in its id's partition, once every chunk's
// ids are, so the alias round decides who derives each person:
//
//  1. keys: for each person a row names, a namingMark line in the row's
//     id partition: the row's record, whether the keys step kept it or
//     found it a repeat (pass.Pass.Repeated), its dedupe key, and the
//     person's record; no claim line for the person (a person is known
//     by the row that derives them, pass.Pass.Kept, never by an id that
//     merely starts as theirs do);
//  2. resolve: a partition of ids, knowing each id's first claim, judges
//     each naming row as the chunk's own run will (it stays when its
//     chunk holds the id first and the keys step kept it, or when an
//     earlier chunk holds it under the row's own dedupe key) and passes
//     on the people the rows that stay name, with their chunk, to the
//     survivors of the person's partition (personMark lines);
//  3. aliases: a partition of people takes each person's first chunk and
//     tells each later chunk naming them that the person is claimed (a
//     personMark line in its aliases);
//  4. the chunks read those claims with the others (pass.Pass.Claimed):
//     the first chunk whose rows name a person and stay derives them.
//
// A person's id is claimed by no chunk, so the resolve step cannot say
// whether a reference by id to one (a column holding "inline:...") names
// a record nobody writes: with the alias round it sends every reference
// to a record no chunk holds to the survivors of the record's partition
// (unheldMark lines), and the alias step finds it missing (pass.Elsewhere.
// Missing, an orphan) unless a row that stays names the person. One
// difference from one pass remains there: a person whom the chunks link
// to a listed record (inlinelink.go) is not written, and a reference by
// id to them still names their record, where one pass rewrites it to the
// listed record (only inline names are linked in chunks).
//
// The link keys of every person a row names, kept or a repeat, are stored
// as inlinelink.go and idlinks.go say, so a chunk whose merging row names
// a person knows their link too (a link to a chunk that derives nobody is
// never used); and so are the references of a repeat (refMark lines), so
// the record it merges into finds its orphans and aliases.
//
// An extract planned before this round decided people (a plan whose id
// shuffle has no alias round but names people inline) keeps the claims
// the keys step made: the person's first naming chunk in the keys' view.

// Marks of the lines that decide who derives a person.
const (
	namingMark = "*" // keys: a row naming a person, in the row's id partition
	personMark = "!" // survivors: a person a staying row names, and its chunk; aliases: a person claimed by an earlier chunk
)

// Flags of a namingMark line: what the keys step did with the row.
const (
	namingKept     = "k"
	namingRepeated = "r"
)

// errNamingLine is a line deciding who derives a person that does not
// parse.
var errNamingLine = errors.New("a line naming a person does not parse")

// isRecordName reports whether s names a record as the naming lines do:
// "entity#id", neither empty, on one field of a line.
func isRecordName(s string) bool {
	entity, id, ok := strings.Cut(s, "#")
	return ok && entity != "" && id != "" && !strings.ContainsAny(s, "\t\n")
}

// emitNaming adds to the partitions' buffers the namingMark line of the
// row rec (kept under key, "" for none, or found a repeat) naming the
// person whose record is person ("entity#id").
func (sh idShuffle) emitNaming(bufs []bytes.Buffer, rec *mapspec.Record, key string, kept bool, person string) {
	row := rec.Entity + "#" + rec.ID
	flag := namingKept
	if !kept {
		flag = namingRepeated
	}
	quoted := ""
	if key != "" {
		quoted = strconv.Quote(key)
	}
	bufs[sh.partition(row)].WriteString(namingMark + row + "\t" + flag + "\t" + quoted + "\t" + person + "\n")
}

// naming passes on, while a partition of ids is resolved chunk by chunk
// in chunk order, the people the rows that stay name. A naming line comes
// after its row's id line in its chunk's keys (the keys step writes a
// kept row's id line before its naming lines, and spills the row a
// repeat repeats before it is told of the repeat), so when it is read,
// its id's first claim is known: it is judged there, and nothing is kept
// but what it passes on.
type naming struct {
	surv  *survivors
	chunk int
	sent  map[string]bool // person + "\t" + chunk, once each, of the chunk being read
}

// keysLine is a line of a chunk's keys.
type keysLine struct {
	chunk int
	line  string
}

// judge judges the row of a namingMark line of chunk's keys by its id's
// first claim (first: its chunk and quoted key, "" for none), and passes
// the person it names on to the survivors when the row stays.
//
// Errors: errNamingLine for a line that does not parse, names a row no
// chunk holds yet, or comes from a chunk before its row's first claim;
// and for any line when the shuffle has no alias round (surv nil).
func (n *naming) judge(chunk int, line string, first func(id string) (chunk int, quoted string, ok bool)) error {
	if n.surv == nil {
		return errNamingLine // no chunk of an extract without the alias round writes them
	}
	if n.sent == nil || chunk != n.chunk {
		n.chunk, n.sent = chunk, map[string]bool{}
	}
	f := strings.Split(strings.TrimPrefix(line, namingMark), "\t")
	if len(f) != 4 || !isRecordName(f[0]) || !isRecordName(f[3]) || f[1] != namingKept && f[1] != namingRepeated {
		return errNamingLine
	}
	if f[2] != "" {
		if _, err := strconv.Unquote(f[2]); err != nil {
			return errNamingLine
		}
	}
	held, quoted, ok := first(f[0])
	if !ok || held > chunk {
		return errNamingLine
	}
	stays := held == chunk && f[1] == namingKept || held < chunk && f[2] != "" && f[2] == quoted
	pair := f[3] + "\t" + strconv.Itoa(chunk)
	if stays && !n.sent[pair] {
		n.sent[pair] = true
		n.surv.outs[n.surv.sh.partition(f[3])].WriteString(personMark + pair + "\n")
	}
	return nil
}

// claimPeople decides, for the personMark lines (without their mark) of
// a partition's survivors, each person's first chunk, and writes to each
// later chunk's aliases that the person is claimed; it returns how many
// claims it wrote, and the people some chunk derives.
//
// Errors: errNamingLine for a line that does not parse or names a chunk
// the extract does not have.
func claimPeople(lines []string, chunks int, outs []bytes.Buffer) (int, map[string]bool, error) {
	naming := map[string][]int{}
	for _, line := range lines {
		person, c, ok := strings.Cut(line, "\t")
		n, err := strconv.Atoi(c)
		if !ok || err != nil || n < 0 || n >= chunks || !isRecordName(person) {
			return 0, nil, errNamingLine
		}
		naming[person] = append(naming[person], n)
	}
	claimed := 0
	derived := make(map[string]bool, len(naming))
	for _, person := range slices.Sorted(maps.Keys(naming)) {
		derived[person] = true
		cs := slices.Compact(slices.Sorted(slices.Values(naming[person])))
		for _, c := range cs[1:] {
			outs[c].WriteString(personMark + person + "\n")
			claimed++
		}
	}
	return claimed, derived, nil
}

// missingFrom writes to each chunk's aliases the records its references
// name that no chunk holds (the unheldMark lines of a partition's
// survivors, without their mark: the record and the chunk), unless a
// chunk derives them (derived: a person named inline, whose id the keys
// step claims for no chunk). One pass finds such a reference an orphan
// only when nobody writes the record.
//
// Errors: errNamingLine for a line that does not parse or names a chunk
// the extract does not have.
func missingFrom(unheld []string, derived map[string]bool, chunks int, outs []bytes.Buffer) error {
	for _, line := range unheld {
		target, c, ok := strings.Cut(line, "\t")
		n, err := strconv.Atoi(c)
		if !ok || err != nil || n < 0 || n >= chunks || !isRecordName(target) {
			return errNamingLine
		}
		if !derived[target] {
			outs[n].WriteString(refMark + target + "\n")
		}
	}
	return nil
}
