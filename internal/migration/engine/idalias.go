package engine

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/pass"
)

// The id shuffle's alias round: references to records merged away under
// another source id, across chunks.
//
// An entity whose file spec turns mergeDifferentIds on merges rows that
// share a dedupe key whatever their source ids: the first record of a key
// survives, and a reference to a later one's source id means the survivor
// (one pass's mapspec.Merger aliases it). Chunks run apart, and the merge
// partitions merge after every chunk has written its references, so which
// record a key keeps is decided before the chunks run, over every chunk,
// by one more Distributed Map between the resolve Map and the chunks:
//
//  1. keys: a chunk stores each record of such an entity with its key and
//     where in the chunk it is (its place among the records the chunk
//     spills, which is the order its merge partition adds them in);
//  2. resolve: a partition of ids keeps each id's first claim, as before
//     (a later row of the id under another key is a rejected duplicate,
//     so only the first claim's key counts), and stores it in the
//     survivors of its key's partition (survivors/p-<key partition>/
//     r-<id partition>), with the references of each chunk to a record
//     keyed so (a refMark line: the chunk, the record and its key);
//  3. aliases (this file): a partition of keys finds each key's survivor,
//     the first record in chunk order and then in place, as the merge
//     partition adds them, and stores for each chunk the records its
//     references name that merged into another (aliases/c-<chunk>/
//     p-<key partition>: the record and the survivor's id);
//  4. the chunks resolve such a reference to the survivor
//     (pass.Elsewhere.Aliases).
//
// No step holds more than a partition's records and references, or a
// chunk's aliases. Every object's name is fixed by the plan and its bytes
// by the extract, so a step run again writes the same objects. People
// named inline who may be such records are linked a round later
// (idlinks.go): this round merges their link keys. It also decides which
// chunk derives each person named inline (idnaming.go), so it runs for
// every extract in chunks that names people, and, knowing who is derived,
// which records the chunks' references name that nobody writes (the
// resolve round's, without it).

func (sh idShuffle) survivorsKey(keyPart, idPart int) string {
	return fmt.Sprintf("%ssurvivors/p-%05d/r-%05d", sh.prefix, keyPart, idPart)
}

func (sh idShuffle) aliasKey(chunk, keyPart int) string {
	return fmt.Sprintf("%saliases/c-%06d/p-%05d", sh.prefix, chunk, keyPart)
}

// placed is a keys line of a record whose entity merges across source
// ids, split: the line without its place, the record ("entity#id"), its
// quoted key, and its place among the chunk's records.
type placed struct {
	line, id, quoted, place string
}

// placedLine splits a keys line; ok is false for a line without a place.
func placedLine(line string) (p placed, ok bool) {
	id, rest, keyed := strings.Cut(line, "\t")
	if !keyed {
		return placed{}, false
	}
	quoted, place, ok := strings.Cut(rest, "\t")
	if !ok {
		return placed{}, false
	}
	return placed{line: id + "\t" + quoted, id: id, quoted: quoted, place: place}, true
}

// group is the key a placed record merges by: its entity and key.
func (p placed) group() string {
	entity, _, _ := strings.Cut(p.id, "#")
	return entity + "\t" + p.quoted
}

// survivors collects, while a partition of ids is resolved, what the
// alias round needs: each id's first claim with a place, and the
// references to such records, by the partition of their key.
type survivors struct {
	sh   idShuffle
	outs []bytes.Buffer // by key partition
	held map[string]placed
}

func newSurvivors(sh idShuffle) *survivors {
	return &survivors{sh: sh, outs: make([]bytes.Buffer, sh.parts), held: map[string]placed{}}
}

// claim notes that chunk holds p's id first.
func (s *survivors) claim(chunk int, p placed) {
	s.held[p.id] = p
	fmt.Fprintf(&s.outs[s.sh.partition(p.group())], "%s\t%s\t%d\t%s\n", p.id, p.quoted, chunk, p.place)
}

// unheld notes that chunk's references name target, which no chunk holds
// as a record: the alias round finds it missing unless it is a person a
// row that stays derives (idnaming.go).
func (s *survivors) unheld(chunk int, target string) {
	fmt.Fprintf(&s.outs[s.sh.partition(target)], "%s%s\t%d\n", unheldMark, target, chunk)
}

// unheldMark starts a survivors line naming a record no chunk holds, and
// the chunk whose references name it.
const unheldMark = "_"

// named notes that chunk's references name target, which a chunk holds.
func (s *survivors) named(chunk int, target string) {
	if p, ok := s.held[target]; ok {
		fmt.Fprintf(&s.outs[s.sh.partition(p.group())], "%s%s\t%s\t%d\n", refMark, target, p.quoted, chunk)
	}
}

// put stores the survivors of id partition part, one object per key
// partition, an empty one too (a missing one is a step not run).
//
// Errors: as Files.Put.
func (s *survivors) put(ctx context.Context, b *base, part int) error {
	return b.putAll(ctx, s.sh.parts, func(q int) (string, []byte) { return s.sh.survivorsKey(q, part), s.outs[q].Bytes() })
}

// resolveAliases is the alias round's step for key partition part: it
// finds each key's surviving record and stores, for each chunk, the
// records its references name that merged into another, with the
// survivor's id; with a links round, each merged record's link keys too
// (mergeLinkKeys).
//
// Errors: ENOTFOUND (a resolve or keys step did not run) or EUNAVAILABLE
// from storage; EINVALID for damaged survivors or keys; as Files.Put.
func (s *base) resolveAliases(ctx context.Context, sh idShuffle, part int) (*ShuffleResult, error) {
	bodies, err := s.getAll(ctx, sh.parts, func(p int) string { return sh.survivorsKey(part, p) })
	if err != nil {
		return nil, err
	}
	type first struct {
		chunk, place int
		id           string
	}
	type need struct {
		target, group string
		chunk         int
	}
	kept := map[string]first{}
	claims := map[string]string{} // the quoted key of each id's first claim (idlinks.go)
	var listed []string           // records kept without a key, for the links round (idlinks.go)
	var needs []need
	var people []string // the people rows that stay name, and their chunks (idnaming.go)
	var unheld []string // the records no chunk holds that references name, and their chunks
	var bad error
	for _, body := range bodies {
		eachLine(body, func(line string) {
			if rest, ok := strings.CutPrefix(line, unheldMark); ok {
				unheld = append(unheld, rest)
				return
			}
			if strings.HasPrefix(line, placedMark) {
				listed = append(listed, line)
				return
			}
			if person, ok := strings.CutPrefix(line, personMark); ok {
				people = append(people, person)
				return
			}
			target, isNeed := strings.CutPrefix(line, refMark)
			f := strings.Split(target, "\t")
			entity, _, _ := strings.Cut(f[0], "#")
			nums := make([]int, 0, 2)
			for _, v := range f[min(2, len(f)):] {
				n, err := strconv.Atoi(v)
				if err != nil {
					break
				}
				nums = append(nums, n)
			}
			if isNeed && (len(f) != 3 || len(nums) != 1) || !isNeed && (len(f) != 4 || len(nums) != 2) {
				bad = cutover.Errorf(cutover.EINVALID, "The id shuffle's survivors for partition %d are damaged.", part)
				return
			}
			if isNeed {
				needs = append(needs, need{target: f[0], group: entity + "\t" + f[1], chunk: nums[0]})
				return
			}
			c, at := nums[0], nums[1]
			if sh.links {
				claims[f[0]] = f[1]
			}
			g := entity + "\t" + f[1]
			if k, ok := kept[g]; !ok || c < k.chunk || c == k.chunk && at < k.place {
				kept[g] = first{chunk: c, place: at, id: f[0]}
			}
		})
	}
	if bad != nil {
		return nil, bad
	}
	outs := make([]bytes.Buffer, sh.chunks)
	aliased := 0
	for _, n := range needs {
		k, ok := kept[n.group]
		if !ok || n.chunk < 0 || n.chunk >= sh.chunks {
			return nil, cutover.Errorf(cutover.EINVALID, "The id shuffle's survivors for partition %d name a record no chunk holds.", part)
		}
		if k.id != n.target {
			_, id, _ := strings.Cut(k.id, "#")
			outs[n.chunk].WriteString(n.target + "\t" + id + "\n")
			aliased++
		}
	}
	claimed, derived, err := claimPeople(people, sh.chunks, outs)
	if err == nil {
		err = missingFrom(unheld, derived, sh.chunks, outs)
	}
	if err != nil {
		return nil, cutover.Wrap(cutover.EINVALID, err, "The id shuffle's survivors for partition %d are damaged.", part)
	}
	if err := s.putAll(ctx, sh.chunks, func(c int) (string, []byte) { return sh.aliasKey(c, part), outs[c].Bytes() }); err != nil {
		return nil, err
	}
	if sh.links {
		if err := s.mergeLinkKeys(ctx, sh, part, claims, listed); err != nil {
			return nil, err
		}
	}
	return &ShuffleResult{Index: part, Aliased: aliased, Claimed: claimed}, nil
}

// aliasesFor reads chunk's aliases from every key partition into e: the
// id a record its references name merged into, by "entity#id"
// (e.Aliases), and the records they name that no chunk holds, people no
// row that stays derives included (e.Missing); and returns the people it
// names whom an earlier chunk derives (idnaming.go).
//
// Errors: ENOTFOUND when a partition's alias step did not run; EINVALID
// for a damaged line; EUNAVAILABLE from storage.
func (s *base) aliasesFor(ctx context.Context, sh idShuffle, chunk int, e *pass.Elsewhere) ([]pass.Claim, error) {
	bodies, err := s.getAll(ctx, sh.parts, func(p int) string { return sh.aliasKey(chunk, p) })
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	var claims []pass.Claim
	var bad error
	for _, body := range bodies {
		eachLine(body, func(line string) {
			if target, ok := strings.CutPrefix(line, refMark); ok {
				if !isRecordName(target) {
					bad = cutover.Errorf(cutover.EINVALID, "The id shuffle's aliases for chunk %d hold a line that names no record.", chunk)
				}
				e.Missing[target] = true
				return
			}
			if person, ok := strings.CutPrefix(line, personMark); ok {
				entity, id, _ := strings.Cut(person, "#")
				if !isRecordName(person) {
					bad = cutover.Errorf(cutover.EINVALID, "The id shuffle's aliases for chunk %d hold a line that names no record.", chunk)
				}
				claims = append(claims, pass.Claim{Entity: entity, ID: id})
				return
			}
			target, id, ok := strings.Cut(line, "\t")
			if !ok || id == "" {
				bad = cutover.Errorf(cutover.EINVALID, "The id shuffle's aliases for chunk %d hold a line that names no record.", chunk)
				return
			}
			out[target] = id
		})
	}
	e.Aliases = out
	return claims, bad
}
