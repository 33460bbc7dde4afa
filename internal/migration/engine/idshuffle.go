package engine

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"hash/fnv"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/pass"
)

// The id shuffle keeps source ids unique across the chunks of an extract,
// as one pass over the whole extract keeps them: the first row with an id
// becomes the record, and every later row with it is rejected as a
// duplicate, whichever chunk it is in. Chunks run in parallel, so no chunk
// can know what the others hold; the state machine runs two Distributed
// Maps before the chunks (statemachine/migration.asl.json):
//
//  1. keys: each chunk maps its rows into nothing and stores the ids of
//     the records it would write, spread over the partitions by a hash of
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
// A mapping that merges records by a dedupe key, links people named inline
// or checks references still runs as one chunk (planExtract), so it needs
// no shuffle; nor does an extract of one chunk.

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
}

// ShuffleResult is one keys or resolve child's answer: the chunk's ids
// stored (keys), or the partition's ids claimed by an earlier chunk than a
// row's own (resolve).
type ShuffleResult struct {
	Index   int `json:"index"`
	Keys    int `json:"keys"`
	Claimed int `json:"claimed"`
}

// idShuffle is where one extract's shuffle lives and how it is cut.
type idShuffle struct {
	prefix string // the phase's artifacts + "shuffle/"
	parts  int
	chunks int
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

// run writes the manifest of partitions under the shuffle's prefix and
// returns its ShuffleRun; results go under resultsPrefix (a name the
// state machine's policy lets its ResultWriter write under).
//
// Errors: as putManifest.
func (s *base) putShuffle(ctx context.Context, sh idShuffle, migrationID string, round int, resultsPrefix string) (*ShuffleRun, error) {
	items := make([]ChunkItem, sh.parts)
	for i := range items {
		items[i] = ChunkItem{MigrationID: migrationID, Round: round, Index: i}
	}
	key := sh.prefix + partitionsManifestName
	if err := s.putManifest(ctx, key, items); err != nil {
		return nil, err
	}
	return &ShuffleRun{Manifest: key, Partitions: sh.parts, KeysResults: resultsPrefix + "/keys", ResolveResults: resultsPrefix + "/resolve"}, nil
}

// partitionsManifestName is the partition manifest's name; the state
// machine's policy in template.yaml grants reading it: keep them in step.
const partitionsManifestName = "partitions.jsonl"

// emitKeys maps chunk's rows as p reads them into nothing and stores the
// ids of the records they would become, one object per partition.
//
// Errors: as pass.Run; as Files.Put.
func (s *base) emitKeys(ctx context.Context, sh idShuffle, chunk int, p pass.Pass, open cutover.Opener) (*ShuffleResult, error) {
	p.Spot, p.KeepReview, p.KeepSource, p.Claimed = nil, false, false, nil
	ids := &idSink{}
	if _, err := pass.Run(ctx, p, open, ids, discardPuts{}); err != nil {
		return nil, err
	}
	bufs := make([]bytes.Buffer, sh.parts)
	for _, k := range ids.keys {
		b := &bufs[sh.partition(k)]
		b.WriteString(k)
		b.WriteByte('\n')
	}
	for i := range bufs {
		if err := s.files.Put(ctx, sh.keysKey(i, chunk), "text/plain; charset=utf-8", bufs[i].Bytes()); err != nil {
			return nil, err
		}
	}
	return &ShuffleResult{Index: chunk, Keys: len(ids.keys)}, nil
}

// resolvePartition reads partition part's ids chunk by chunk, in chunk
// order, and stores for each chunk the ids an earlier chunk holds.
//
// Errors: ENOTFOUND (the keys step did not run for a chunk) or
// EUNAVAILABLE from storage; as Files.Put.
func (s *base) resolvePartition(ctx context.Context, sh idShuffle, part int) (*ShuffleResult, error) {
	first := map[string]struct{}{}
	claimed := 0
	for c := 0; c < sh.chunks; c++ {
		var out bytes.Buffer
		err := s.eachLine(ctx, sh.keysKey(part, c), func(k string) {
			if _, held := first[k]; held {
				out.WriteString(k)
				out.WriteByte('\n')
				claimed++
				return
			}
			first[k] = struct{}{}
		})
		if err != nil {
			return nil, err
		}
		if err := s.files.Put(ctx, sh.claimedKey(c, part), "text/plain; charset=utf-8", out.Bytes()); err != nil {
			return nil, err
		}
	}
	return &ShuffleResult{Index: part, Claimed: claimed}, nil
}

// claimedFor is the resolution for chunk: the records earlier chunks hold.
//
// Errors: ENOTFOUND when a partition was not resolved; EINVALID for a
// line that names no record; EUNAVAILABLE from storage.
func (s *base) claimedFor(ctx context.Context, sh idShuffle, chunk int) ([]pass.Claim, error) {
	var out []pass.Claim
	var bad error
	for p := 0; p < sh.parts; p++ {
		err := s.eachLine(ctx, sh.claimedKey(chunk, p), func(k string) {
			entity, id, ok := bytes.Cut([]byte(k), []byte("#"))
			if !ok && bad == nil {
				bad = cutover.Errorf(cutover.EINVALID, "The id shuffle's resolution for chunk %d holds a line that names no record.", chunk)
			}
			out = append(out, pass.Claim{Entity: string(entity), ID: string(id)})
		})
		if err != nil {
			return nil, err
		}
	}
	return out, bad
}

// eachLine calls fn with each line of the stored object at key.
//
// Errors: as Files.Open; EUNAVAILABLE when reading stops midway.
func (s *base) eachLine(ctx context.Context, key string, fn func(string)) error {
	rc, err := s.files.Open(ctx, key)
	if err != nil {
		return err
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if len(sc.Bytes()) > 0 {
			fn(sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		return cutover.Wrap(cutover.EUNAVAILABLE, err, "The id shuffle's file %s could not be read.", key)
	}
	return nil
}

// recordKeysFailure records on the migration, for MarkFailed to keep,
// why a chunk's keys step failed once its retries were spent (what the
// state machine caught): a Distributed Map's own failure says only that
// a child failed. The migration fails: the chunks' ids are not known, so
// no chunk may run.
//
// Errors: ENOTFOUND for an unknown chunk; EUNAVAILABLE from storage.
func (s *base) recordKeysFailure(ctx context.Context, migrationID, step, extract string, caught *migration.StepError, chunk func() (*cutover.Chunk, error)) error {
	c, err := chunk()
	if err != nil {
		return err
	}
	why := "the step failed."
	if caught != nil {
		why = migration.FailureReason(*caught)
	}
	s.RecordStepFailure(ctx, migrationID, step, fmt.Sprintf("Part %d (%s) of the %s could not be checked for source ids repeated in other parts: %s", c.Index+1, c.FileName, extract, why))
	return nil
}

// idSink is the keys step's destination: it writes nothing and keeps the
// id ("entity#id") of every record it is given, in order.
type idSink struct{ keys []string }

var _ cutover.Sink = (*idSink)(nil)

func (s *idSink) Write(_ context.Context, recs []cutover.Record) ([]cutover.Refusal, error) {
	for _, r := range recs {
		s.keys = append(s.keys, r.Entity+"#"+r.ID)
	}
	return nil, nil
}

// discardPuts drops the keys step's rejects files: the chunk's own run
// writes them.
type discardPuts struct{}

var _ cutover.Putter = discardPuts{}

func (discardPuts) Put(context.Context, string, string, []byte) error { return nil }
