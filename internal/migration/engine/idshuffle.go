package engine

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/pass"
	"github.com/cutover/cutover/internal/pipeline"
	"github.com/cutover/cutover/internal/schema"
	"golang.org/x/sync/errgroup"
)

// The id shuffle keeps source ids unique across the chunks of an extract,
// as one pass over the whole extract keeps them: the first row with an id
// becomes the record, and every later row with it is rejected as a
// duplicate, whichever chunk it is in. Chunks run in parallel, so no chunk
// can know what the others hold; the state machine runs two Distributed
// Maps before the chunks (statemachine/migration.asl.json):
//
//  1. keys: each chunk maps its rows into nothing and stores the ids of
//     the rows it would keep, spread over the partitions by a hash of
//     the id (keys/p-<partition>/c-<chunk>, one object for every pair, an
//     empty one too: a missing object is a step not run, never "no ids");
//  2. resolve: each partition reads its ids chunk by chunk in order, keeps
//     the first chunk's claim on each id, and stores for each chunk the ids
//     an earlier chunk claimed (claimed/c-<chunk>/p-<partition>);
//  3. the chunks then run as before, each given its claimed ids
//     (pass.Pass.Claimed), so its rows with those ids are duplicates.
//
// No step holds more than a chunk's ids or a partition's. Every object's
// name is fixed by the plan, and its bytes by the extract, so a retried or
// resumed step writes the same objects again.
//
// A mapping that merges records by a dedupe key stores each id with the
// key its row was kept under ("entity#id\t"+quoted key), and a chunk's
// claims carry it (pass.Claim): a later row with the id and the same key
// merges into the record (in its merge partition, merges.go), as one pass
// merges it. References ride along: the keys step also stores the id of
// each record a reference names (a refMark line, in that id's
// partition), and the resolve step returns to each chunk the named
// records no chunk holds (pass.Elsewhere), so a chunk resolves its
// references wherever their records are. An extract of one chunk needs
// no shuffle.
//
// People named inline ride along too (inlinelink.go): the keys they are
// linked to a listed record by go to that key's partition, which decides
// the links for every chunk at once.
//
// The keys step runs a chunk without the ids earlier chunks hold, so it
// may keep a row the chunk's own run rejects (its id is an earlier
// chunk's) or reject one that run merges (its id and dedupe key are an
// earlier chunk's). The later rounds judge what such rows carry by their
// ids' first claims: the records they become (the alias round's
// survivors; the links round's rows, idlinks.go), and the people they
// name (the alias round decides which chunk derives each, idnaming.go);
// the references of a row the keys step rejects are stored too, so the
// chunk's run finds their orphans and aliases if it merges the row.
//
// References to an entity whose records merge across source ids
// (mergeDifferentIds) need one more Map, the alias round (idalias.go): a
// reference to a record merged away means the record it merged into,
// which the keys' first claims decide over every chunk. People named
// inline who may be such records need one more after it, the links round
// (idlinks.go): they are linked by what merging left in the records.

// DefaultPartitionRows is how many rows one partition of the id shuffle
// is planned for when the deployment does not say: its ids (about 70
// bytes each in a Go map) stay a few tens of megabytes.
const DefaultPartitionRows = 200_000

// maxPartitions bounds the partitions of one extract: every chunk writes
// an object per partition.
const maxPartitions = 1000

// ShuffleRun tells the state machine how to run an extract's id shuffle:
// the keys Map reads the chunk manifest (ChunkRun.Manifest), the resolve
// Map this manifest of partitions, one ChunkItem per partition (its Index
// the partition).
type ShuffleRun struct {
	Manifest       string `json:"manifest"`
	Partitions     int    `json:"partitions"`
	KeysResults    string `json:"keysResults"`    // the keys Map's ResultWriter prefix
	ResolveResults string `json:"resolveResults"` // the resolve Map's
	// AliasesResults is the alias round's (idalias.go), over the same
	// manifest of partitions; absent when the extract needs none.
	AliasesResults string `json:"aliasesResults,omitempty"`
	// LinksResults is the links round's (idlinks.go), over the same
	// manifest of partitions, after the alias round; absent when the
	// extract needs none.
	LinksResults string `json:"linksResults,omitempty"`
}

// ShuffleResult is one keys, resolve, aliases or links child's answer:
// the chunk's ids stored (keys), the partition's ids claimed by an
// earlier chunk than a row's own (resolve), the references to records
// merged into another that the partition's keys resolve and the people
// named inline whom an earlier chunk derives (aliases: Aliased and
// Claimed), or the people named inline its link keys link to a listed
// record (links).
type ShuffleResult struct {
	Index   int `json:"index"`
	Keys    int `json:"keys"`
	Claimed int `json:"claimed"`
	Aliased int `json:"aliased"`
	Linked  int `json:"linked"`
}

// idShuffle is where one extract's shuffle lives and how it is cut.
type idShuffle struct {
	prefix string // the phase's artifacts + "shuffle/"
	parts  int
	chunks int
	rounds
}

// rounds are the id shuffle's rounds after the resolve round that an
// extract needs.
type rounds struct {
	// aliases says the shuffle runs its alias round (idalias.go): the
	// keys carry the place of each record whose entity merges across
	// source ids, and the chunks read their aliases; with people named
	// inline, the round decides which chunk derives each (idnaming.go).
	aliases bool
	// links says the shuffle runs its links round (idlinks.go) after the
	// alias round: people are named inline of an entity whose records
	// merge across source ids.
	links bool
}

// lacks returns why sh cannot run the step of the round action names
// (the test's actions and the final's share their names), or nil.
//
// Errors: ECONFLICT for the alias or links round of a shuffle without it.
func (sh idShuffle) lacks(action string) error {
	switch {
	case action == FinalAliases && !sh.aliases:
		return cutover.Errorf(cutover.ECONFLICT, "This id shuffle has no alias round: no reference names records merged across source ids.")
	case action == FinalLinks && !sh.links:
		return cutover.Errorf(cutover.ECONFLICT, "This id shuffle has no links round: nobody is named inline who may be a record merged across source ids.")
	}
	return nil
}

// partitionsFor is how many partitions an extract of rows needs at
// perPartition rows each (0: DefaultPartitionRows).
func partitionsFor(rows, perPartition int) int {
	if perPartition <= 0 {
		perPartition = DefaultPartitionRows
	}
	return min(max((rows+perPartition-1)/perPartition, 1), maxPartitions)
}

func (sh idShuffle) keysKey(part, chunk int) string {
	return fmt.Sprintf("%skeys/p-%05d/c-%06d", sh.prefix, part, chunk)
}

func (sh idShuffle) claimedKey(chunk, part int) string {
	return fmt.Sprintf("%sclaimed/c-%06d/p-%05d", sh.prefix, chunk, part)
}

// partition spreads ids by FNV-1a: stable across processes, unlike
// maphash, since every chunk's Lambda must put an id in the same place.
func (sh idShuffle) partition(key string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int(h.Sum32() % uint32(sh.parts))
}

// putShuffle writes the manifest of partitions under the shuffle's prefix
// (a line per partition: item with the partition as its index) and
// returns its ShuffleRun; results go under resultsPrefix (a name the
// state machine's policy lets its ResultWriter write under).
//
// Errors: as putManifest.
func (s *base) putShuffle(ctx context.Context, sh idShuffle, item ChunkItem, resultsPrefix string) (*ShuffleRun, error) {
	items := make([]ChunkItem, sh.parts)
	for i := range items {
		item.Index = i
		items[i] = item
	}
	key := sh.prefix + partitionsManifestName
	if err := s.putManifest(ctx, key, items); err != nil {
		return nil, err
	}
	run := &ShuffleRun{Manifest: key, Partitions: sh.parts, KeysResults: resultsPrefix + "/keys", ResolveResults: resultsPrefix + "/resolve"}
	if sh.aliases {
		run.AliasesResults = resultsPrefix + "/aliases"
	}
	if sh.links {
		run.LinksResults = resultsPrefix + "/links"
	}
	return run, nil
}

// partitionsManifestName is the partition manifest's name; the state
// machine's policy in template.yaml grants reading it: keep them in step.
const partitionsManifestName = "partitions.jsonl"

// emitKeys maps chunk's rows as p reads them into nothing and stores the
// ids of the records they would become, what they reference, and the
// people they name (the rows it rejects as repeats too: the later rounds
// judge them), one object per partition.
//
// Errors: as pass.Run; as Files.Put.
func (s *base) emitKeys(ctx context.Context, sh idShuffle, chunk int, p pass.Pass, open cutover.Opener) (*ShuffleResult, error) {
	p.Spot, p.KeepReview, p.KeepSource, p.Claimed, p.Elsewhere = nil, false, false, nil, nil
	bufs := make([]bytes.Buffer, sh.parts)
	keys := 0
	linked := mapspec.InlineEntities(p.Spec, schema.Default())
	across := map[string]bool{}
	if sh.aliases {
		across = mapspec.MergesAcross(p.Spec)
	}
	// With the alias round, it decides who derives each person named
	// inline (idnaming.go): the keys name them on their rows' lines.
	people := sh.aliases && len(linked) > 0
	stored := map[string]bool{} // the people whose link keys the chunk stored
	place := 0                  // the record's place among those the chunk spills: its merge partition's order
	linkKeys := func(rec *mapspec.Record, key string) {
		switch {
		case linked[rec.Entity] && across[rec.Entity] && sh.links:
			sh.emitMergedLinkKeys(bufs, chunk, rec, key, place)
		case linked[rec.Entity]:
			sh.emitLinkKeys(bufs, rec)
		}
	}
	// The rows kept and not spilled yet, with the people they name, and
	// those people (spilled before their row when first in the chunk): a
	// person is known by the row that derives them, never by their id.
	naming := map[*mapspec.Record][]*mapspec.Record{}
	derived := map[*mapspec.Record]bool{}
	p.Kept = func(rec *mapspec.Record, named []*mapspec.Record) {
		if len(named) > 0 {
			naming[rec] = named
			for _, d := range named {
				derived[d] = true
			}
		}
	}
	refs := func(rec *mapspec.Record, key string, kept bool, named []*mapspec.Record) {
		for _, d := range named {
			if people {
				sh.emitNaming(bufs, rec, key, kept, d.Entity+"#"+d.ID)
			}
		}
		for _, ref := range rec.Refs { // the records it names, to find those no chunk holds
			if slices.ContainsFunc(named, func(d *mapspec.Record) bool { return d.Entity == ref.Entity && d.SourceID == ref.SourceID }) && (people || !kept) {
				continue // a person it names: on the naming lines, or (a repeat's) claimed by the rows kept
			}
			target := ref.Entity + "#" + cutover.RecordID(p.TenantID, ref.Entity, ref.SourceID)
			t := &bufs[sh.partition(target)]
			t.WriteString(refMark + target + "\n")
		}
	}
	p.Spill = func(rec *mapspec.Record, key string, _ *pipeline.Sighting) error {
		place++
		id := rec.Entity + "#" + rec.ID
		if derived[rec] && people {
			delete(derived, rec)
			if !stored[id] {
				stored[id] = true
				linkKeys(rec, key)
			}
			return nil // who derives them is decided by the rows naming them
		}
		linkKeys(rec, key)
		b := &bufs[sh.partition(id)]
		b.WriteString(id)
		if key != "" {
			b.WriteByte('\t')
			b.WriteString(strconv.Quote(key))
			if across[rec.Entity] {
				b.WriteByte('\t')
				b.WriteString(strconv.Itoa(place))
			}
		}
		b.WriteByte('\n')
		keys++
		named := naming[rec]
		delete(naming, rec)
		for _, d := range named { // spilled before it, or derived earlier in the chunk
			delete(derived, d)
		}
		refs(rec, key, true, named)
		return nil
	}
	// A row this run rejects as a repeat may merge into its id's record
	// in the chunk's own run, given the ids earlier chunks hold: its
	// references, the people it names and (with the links round) its
	// link keys are judged by its id's first claim.
	p.Repeated = func(rec *mapspec.Record, key string, named []*mapspec.Record) {
		if sh.links && key != "" && linked[rec.Entity] && across[rec.Entity] {
			place++
			sh.emitMergedLinkKeys(bufs, chunk, rec, key, place)
		}
		refs(rec, key, false, named)
		for _, d := range named {
			if id := d.Entity + "#" + d.ID; people && !stored[id] {
				stored[id] = true
				linkKeys(d, "")
			}
		}
	}
	if _, err := pass.Run(ctx, p, open, nil, discardPuts{}); err != nil {
		return nil, err
	}
	err := s.putAll(ctx, sh.parts, func(i int) (string, []byte) { return sh.keysKey(i, chunk), bufs[i].Bytes() })
	if err != nil {
		return nil, err
	}
	return &ShuffleResult{Index: chunk, Keys: keys}, nil
}

// resolvePartition reads partition part's ids chunk by chunk, in chunk
// order, and stores for each chunk the ids an earlier chunk holds.
//
// Errors: ENOTFOUND (the keys step did not run for a chunk) or
// EUNAVAILABLE from storage; as Files.Put.
func (s *base) resolvePartition(ctx context.Context, sh idShuffle, part int) (*ShuffleResult, error) {
	keys, err := s.getAll(ctx, sh.chunks, func(c int) string { return sh.keysKey(part, c) })
	if err != nil {
		return nil, err
	}
	type claim struct {
		chunk int
		line  string // the first row's line: its id and dedupe key
	}
	first := map[string]claim{}
	claimed := 0
	outs := make([]bytes.Buffer, sh.chunks)
	named := make([]map[string]bool, sh.chunks) // per chunk, the records its references name
	links := newLinkResolver()
	var surv *survivors
	if sh.aliases {
		surv = newSurvivors(sh)
	}
	var unkeyedLines []keysLine  // the links round's records kept without a key (idlinks.go)
	namers := naming{surv: surv} // the rows naming people (idnaming.go)
	var bad error
	firstOf := func(id string) (int, string, bool) {
		held, ok := first[id]
		_, quoted, _ := strings.Cut(held.line, "\t")
		return held.chunk, quoted, ok
	}
	// In chunk order: the first chunk with an id keeps it.
	for c, body := range keys {
		eachLine(body, func(line string) {
			if strings.HasPrefix(line, unkeyedMark) {
				unkeyedLines = append(unkeyedLines, keysLine{c, line})
				return
			}
			if strings.HasPrefix(line, namingMark) {
				if err := namers.judge(c, line, firstOf); err != nil && bad == nil {
					bad = err
				}
				return
			}
			if isLinksRoundLine(line) {
				return // the alias and links rounds' (idlinks.go)
			}
			if isLinkLine(line) {
				if err := links.add(c, line); err != nil && bad == nil {
					bad = err
				}
				return
			}
			if target, ok := strings.CutPrefix(line, refMark); ok {
				if named[c] == nil {
					named[c] = map[string]bool{}
				}
				named[c][target] = true
				return
			}
			id, _, _ := strings.Cut(line, "\t")
			held, ok := first[id]
			switch {
			case !ok:
				if pl, placed := placedLine(line); placed && surv != nil {
					surv.claim(c, pl)
					line = pl.line // the claim a later chunk is told of has no place
				}
				first[id] = claim{c, line}
			case held.chunk != c: // a row of the chunk itself is its own pass's to judge
				outs[c].WriteString(held.line)
				outs[c].WriteByte('\n')
				claimed++
			}
		})
		keys[c] = nil
	}
	for _, u := range unkeyedLines { // once every chunk's ids are known: the first with each
		if surv == nil || !sh.links {
			bad = cmp.Or(bad, errLinksRoundLine) // no chunk of an extract without the round writes them
			break
		}
		err := surv.passUnkeyed(u.chunk, u.line, func(id string) (int, bool) { held, ok := first[id]; return held.chunk, ok })
		bad = cmp.Or(bad, err)
	}
	if bad != nil {
		return nil, cutover.Wrap(cutover.EINVALID, bad, "The id shuffle's keys for partition %d are damaged.", part)
	}
	links.resolve(outs)
	for c, targets := range named { // once every chunk's ids are known: those no chunk holds
		for _, target := range slices.Sorted(maps.Keys(targets)) {
			_, held := first[target]
			switch {
			case !held && surv != nil:
				surv.unheld(c, target) // unless a person: the alias round knows who is derived (idnaming.go)
			case !held:
				outs[c].WriteString(refMark + target + "\n")
			case surv != nil:
				surv.named(c, target)
			}
		}
	}
	err = s.putAll(ctx, sh.chunks, func(c int) (string, []byte) { return sh.claimedKey(c, part), outs[c].Bytes() })
	if err != nil {
		return nil, err
	}
	if surv != nil {
		if err := surv.put(ctx, s, part); err != nil {
			return nil, err
		}
	}
	return &ShuffleResult{Index: part, Claimed: claimed}, nil
}

// refMark starts a line of the id shuffle that names a record a
// reference points at, not a record a row becomes: in the keys, a
// reference of the chunk's; in the resolution, one no chunk holds.
const refMark = "?"

// claimedFor is the resolution for chunk: the records earlier chunks hold,
// and what the chunk's references need (pass.Elsewhere).
//
// Errors: ENOTFOUND when a partition was not resolved; EINVALID for a
// line that names no record; EUNAVAILABLE from storage.
func (s *base) claimedFor(ctx context.Context, sh idShuffle, chunk int) ([]pass.Claim, *pass.Elsewhere, error) {
	bodies, err := s.getAll(ctx, sh.parts, func(p int) string { return sh.claimedKey(chunk, p) })
	if err != nil {
		return nil, nil, err
	}
	var out []pass.Claim
	var bad error
	elsewhere := &pass.Elsewhere{Missing: map[string]bool{}, Linked: map[string]string{}}
	if sh.aliases {
		if out, err = s.aliasesFor(ctx, sh, chunk, elsewhere); err != nil { // and the people an earlier chunk derives
			return nil, nil, err
		}
	}
	if sh.links {
		if err := s.linkedFor(ctx, sh, chunk, elsewhere); err != nil {
			return nil, nil, err
		}
	}
	for _, body := range bodies {
		eachLine(body, func(line string) {
			if target, ok := strings.CutPrefix(line, refMark); ok {
				elsewhere.Missing[target] = true
				return
			}
			if isLinkLine(line) {
				if err := addLink(elsewhere, line); err != nil && bad == nil {
					bad = cutover.Wrap(cutover.EINVALID, err, "The id shuffle's resolution for chunk %d holds a damaged link.", chunk)
				}
				return
			}
			k, quoted, keyed := strings.Cut(line, "\t")
			entity, id, ok := strings.Cut(k, "#")
			key, err := "", error(nil)
			if keyed {
				key, err = strconv.Unquote(quoted)
			}
			if (!ok || err != nil) && bad == nil {
				bad = cutover.Errorf(cutover.EINVALID, "The id shuffle's resolution for chunk %d holds a line that names no record.", chunk)
			}
			out = append(out, pass.Claim{Entity: entity, ID: id, Key: key})
		})
	}
	return out, elsewhere, bad
}

// shuffleIO is how many of the shuffle's objects one step reads or writes
// at once: a partition reads an object per chunk, a chunk writes one per
// partition, and one at a time would leave a step of hundreds waiting on
// S3's latency.
const shuffleIO = 16

// getAll reads the n objects key(0..n-1), shuffleIO at a time, whole:
// each is one chunk's share of one partition.
//
// Errors: as Files.Open (ENOTFOUND: a step that did not run); EUNAVAILABLE
// when reading stops midway.
func (s *base) getAll(ctx context.Context, n int, key func(int) string) ([][]byte, error) {
	out := make([][]byte, n)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(shuffleIO)
	for i := range n {
		g.Go(func() (err error) {
			out[i], err = s.readAll(ctx, key(i))
			return err
		})
	}
	return out, g.Wait()
}

// readAll reads the artifact at key whole.
//
// Errors: as Files.Open (ENOTFOUND: a step that did not run); EUNAVAILABLE
// when reading stops midway.
func (s *base) readAll(ctx context.Context, key string) ([]byte, error) {
	rc, err := s.files.Open(ctx, key)
	return drain(key, rc, err)
}

// drain reads rc, opened for key (or not: err), to its end and closes it.
// It reads what one step of a run stored for another (the id shuffle's
// objects, a chunk's spill, a range's result), never an upload, so a
// missing object is said to be that, not a file to upload again.
//
// Errors: err, ENOTFOUND saying an earlier step's results are missing;
// EUNAVAILABLE when reading stops midway.
func drain(key string, rc io.ReadCloser, err error) ([]byte, error) {
	if cutover.ErrorCode(err) == cutover.ENOTFOUND {
		return nil, cutover.Wrap(cutover.ENOTFOUND, err, "What an earlier step of this run stored for this one is missing: that step did not finish (or its results have expired), so this step cannot run.")
	}
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, cutover.Wrap(cutover.EUNAVAILABLE, err, "The file %s could not be read.", key)
	}
	return b, nil
}

// putAll stores the n objects obj(0..n-1), shuffleIO at a time.
//
// Errors: as Files.Put.
func (s *base) putAll(ctx context.Context, n int, obj func(int) (string, []byte)) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(shuffleIO)
	for i := range n {
		g.Go(func() error {
			key, body := obj(i)
			return s.files.Put(ctx, key, "text/plain; charset=utf-8", body)
		})
	}
	return g.Wait()
}

// eachLine calls fn with each non-empty line of body.
func eachLine(body []byte, fn func(string)) {
	for len(body) > 0 {
		line, rest, _ := bytes.Cut(body, []byte("\n"))
		if len(line) > 0 {
			fn(string(line))
		}
		body = rest
	}
}

// recordKeysFailure records on the migration why a chunk's keys step
// failed once its retries were spent (what the state machine caught): a
// Distributed Map's own failure says only that a child failed. No chunk
// may run without every chunk's ids: a test round fails (MarkFailed keeps
// this reason); a final migration pauses for ops (AwaitShuffleRetry), and
// the customer is told that much, not the storage detail, which the
// execution's history keeps.
//
// Errors: ENOTFOUND for an unknown chunk; EUNAVAILABLE from storage.
func (s *base) recordKeysFailure(ctx context.Context, migrationID, step, extract string, caught *migration.StepError, detail bool, chunk func() (*cutover.Chunk, error)) error {
	c, err := chunk()
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Part %d (%s) of the %s could not be checked for source ids repeated in other parts", c.Index+1, c.FileName, extract)
	switch {
	case !detail:
		msg += ". Our team has been alerted and will run it again."
	case caught != nil:
		msg += ": " + migration.FailureReason(*caught)
	default:
		msg += "."
	}
	s.RecordStepFailure(ctx, migrationID, step, msg)
	return nil
}

// discardPuts drops the rejects and review files of a keys step (the
// chunk's own run writes them) and of a pre-flight's dry run.
type discardPuts struct{}

var _ cutover.Putter = discardPuts{}

func (discardPuts) Put(context.Context, string, string, []byte) error { return nil }
