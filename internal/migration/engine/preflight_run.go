package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/migration"
)

// The pre-flight's dry run runs as the final migration runs: Preflight
// plans the final extract's chunks with the final's planner and writes
// their manifests under the pre-flight's own prefix (one per phase,
// extract and go-live time, preflightPrefix), each item naming the phase;
// the state machine then runs the final's own Maps over them (the id
// shuffle, the chunks, the merge partitions), whose steps answer for the
// pre-flight when the item names a phase (dryRunStep): each chunk maps its
// rows into nothing but a snapshot, as the final chunk will map them into
// LIVE. FinishPreflight then compares the chunks' account and snapshots
// with the signed-off test migration. So no step of the pre-flight holds
// or reads more than a chunk or a partition, and its counts are the final
// migration's, chunk for chunk: it is the final without the writes.
//
// Its chunks are kept in S3 beside their artifacts (chunks/c-<index>.json),
// not in the chunk store: they write nothing, so an overwritten or
// repeated one costs only its time, and the final's chunks stay the
// final's.

// FinalPreflightFinish is the pre-flight's last action, after its chunks.
const FinalPreflightFinish = "preflight-finish"

// preflightPlan is a pre-flight's dry run as planned, kept beside it.
type preflightPlan struct {
	Phase string `json:"phase"`
	Rows  int    `json:"rows"`
	// Chunks counts the merge partitions (the last Merges of them).
	Chunks     int `json:"chunks"`
	Partitions int `json:"partitions,omitempty"`
	Merges     int `json:"merges,omitempty"`
	// Aliases says the id shuffle runs its alias round (idalias.go).
	Aliases bool `json:"aliases,omitempty"`
	// Links says it runs its links round after it (idlinks.go).
	Links bool `json:"links,omitempty"`
}

// preflightPrefix is where the pre-flight of m's final extract in phase
// runs: named by the phase, the extract (finalFingerprint) and the
// go-live time (the row rules' "today"), so that another extract's run
// never meets this one's chunks.
func preflightPrefix(m *cutover.Migration, phase string) string {
	h := sha256.Sum256(fmt.Appendf(nil, "%s\n%s\n%s", phase, finalFingerprint(m), m.GoLiveAt.UTC().Format(time.RFC3339Nano)))
	return fmt.Sprintf("%spreflight/%s-%s/", finalPrefix(m), phase, hex.EncodeToString(h[:8]))
}

// dryRun is one pre-flight's dry run, loaded for a step.
type dryRun struct {
	m      *cutover.Migration
	spec   *mapspec.Spec
	prefix string
	plan   preflightPlan
}

func (r *dryRun) chunkKey(i int) string { return fmt.Sprintf("%schunks/c-%06d.json", r.prefix, i) }

func (r *dryRun) chunkPrefix(i int) string { return fmt.Sprintf("%schunk-%06d/", r.prefix, i) }

// run is the dry run's id shuffle and merge partitions, as planned.
func (r *dryRun) run() extractRun {
	var out extractRun
	reading := r.plan.Chunks - r.plan.Merges
	if r.plan.Partitions > 0 {
		out.shuffle = &idShuffle{prefix: r.prefix + "shuffle/", parts: r.plan.Partitions, chunks: reading, rounds: rounds{aliases: r.plan.Aliases, links: r.plan.Links}}
	}
	if r.plan.Merges > 0 {
		out.spill = &spill{prefix: r.prefix + "shuffle/", chunks: reading, parts: r.plan.Merges}
	}
	return out
}

// planDryRun stores the planned chunks of m's final extract and their
// manifests under the pre-flight's prefix, and returns the run for the
// state machine. Planning again stores every chunk afresh.
//
// Errors: as putChunkRun; EUNAVAILABLE from storage.
func (s *Final) planDryRun(ctx context.Context, m *cutover.Migration, phase string, ex *extractPlan) (*ChunkRun, error) {
	r := &dryRun{m: m, prefix: preflightPrefix(m, phase), plan: preflightPlan{Phase: phase, Rows: ex.rows, Chunks: len(ex.chunks), Merges: ex.merges}}
	if ex.shuffles() {
		r.plan.Partitions, r.plan.Aliases, r.plan.Links = partitionsFor(ex.rows, s.chunking.PartitionRows), ex.aliases, ex.links
	}
	if err := s.putAll(ctx, len(ex.chunks), func(i int) (string, []byte) {
		body, _ := json.Marshal(keptChunk(&ex.chunks[i])) // a Chunk always marshals
		return r.chunkKey(i), body
	}); err != nil {
		return nil, err
	}
	if err := s.putJSON(ctx, r.prefix+"plan.json", "The pre-flight's plan", r.plan); err != nil {
		return nil, err
	}
	return s.putChunkRun(ctx, r.prefix, ChunkItem{MigrationID: m.ID, Round: m.Round, Phase: phase}, ex.chunks, r.plan.Partitions, rounds{aliases: r.plan.Aliases, links: r.plan.Links})
}

// dryRunOf loads the dry run a step of the pre-flight in names; like
// preflightOf, it answers (done) instead when the pre-flight is over.
//
// Errors: ECONFLICT when the migration is not scheduled for go-live, or
// no dry run of this phase was planned for its final extract (it changed
// meanwhile), or its mapping is not the signed-off one; EINVALID for an
// unknown phase; EUNAVAILABLE from storage.
func (s *Final) dryRunOf(ctx context.Context, in FinalStep) (*dryRun, *FinalOutput, error) {
	m, done, err := s.preflightOf(ctx, in)
	if err != nil || done != nil {
		return nil, done, err
	}
	spec, err := signedOffSpec(m)
	if err != nil {
		return nil, nil, err
	}
	r := &dryRun{m: m, spec: spec, prefix: preflightPrefix(m, in.Phase)}
	err = s.readArtifact(ctx, r.prefix+"plan.json", "pre-flight plan", &r.plan)
	if cutover.ErrorCode(err) == cutover.ENOTFOUND {
		return nil, nil, cutover.Errorf(cutover.ECONFLICT, "No pre-flight (%s) was planned for this final extract; it changed meanwhile.", in.Phase)
	}
	return r, nil, err
}

// dryChunk loads chunk i of the dry run.
//
// Errors: ECONFLICT for a chunk the plan does not have; as readArtifact.
func (s *Final) dryChunk(ctx context.Context, r *dryRun, i int) (*cutover.Chunk, error) {
	if i < 0 || i >= r.plan.Chunks {
		return nil, cutover.Errorf(cutover.ECONFLICT, "The pre-flight has %d part(s), not part %d.", r.plan.Chunks, i+1)
	}
	var c storedChunk
	if err := s.readArtifact(ctx, r.chunkKey(i), "pre-flight part", &c); err != nil {
		return nil, err
	}
	return c.chunk(), nil
}

// putDryChunk stores chunk c of the dry run over the one stored.
//
// Errors: as Files.Put.
func (s *Final) putDryChunk(ctx context.Context, r *dryRun, c *cutover.Chunk) error {
	return s.putJSON(ctx, r.chunkKey(c.Index), "The pre-flight's part", keptChunk(c))
}

// storedChunk is a chunk as the pre-flight keeps it in S3: every field,
// where a chunk's own JSON (the API's) leaves out how it is read and
// where its results are.
type storedChunk struct {
	cutover.Chunk
	HeaderEnd  int64    `json:"headerEnd"`
	LineOffset int      `json:"lineOffset"`
	Encoding   string   `json:"encoding,omitempty"`
	Delimiter  string   `json:"delimiter,omitempty"`
	Reports    string   `json:"reports,omitempty"`
	Rejects    []string `json:"rejects,omitempty"`
	Snapshot   string   `json:"snapshot,omitempty"`
}

func keptChunk(c *cutover.Chunk) storedChunk {
	return storedChunk{Chunk: *c, HeaderEnd: c.HeaderEnd, LineOffset: c.LineOffset, Encoding: c.Encoding, Delimiter: c.Delimiter, Reports: c.Reports, Rejects: c.Rejects, Snapshot: c.Snapshot}
}

func (sc *storedChunk) chunk() *cutover.Chunk {
	c := sc.Chunk
	c.HeaderEnd, c.LineOffset, c.Encoding, c.Delimiter, c.Reports, c.Rejects, c.Snapshot = sc.HeaderEnd, sc.LineOffset, sc.Encoding, sc.Delimiter, sc.Reports, sc.Rejects, sc.Snapshot
	return &c
}

// dryChunks loads every chunk of the dry run, in index order.
//
// Errors: EINTERNAL when one cannot be decoded; as getAll.
func (s *Final) dryChunks(ctx context.Context, r *dryRun) ([]cutover.Chunk, error) {
	bodies, err := s.getAll(ctx, r.plan.Chunks, r.chunkKey)
	if err != nil {
		return nil, err
	}
	out := make([]cutover.Chunk, len(bodies))
	for i, b := range bodies {
		var c storedChunk
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, cutover.Wrap(cutover.EINTERNAL, err, "Part %d of the pre-flight could not be read.", i+1)
		}
		out[i] = *c.chunk()
	}
	return out, nil
}

// dryRunStep runs one step of the final's Maps for the pre-flight in.Phase
// (its item named the phase): a keys, resolve, chunk or failure step of
// its dry run.
//
// Errors: EINVALID for an action the Maps do not run; as the step.
func (s *Final) dryRunStep(ctx context.Context, in FinalStep) (*FinalOutput, error) {
	r, done, err := s.dryRunOf(ctx, in)
	if err != nil {
		return nil, err
	}
	if done != nil {
		return nil, cutover.Errorf(cutover.ECONFLICT, "The pre-flight (%s) of this final extract is over.", in.Phase)
	}
	switch in.Action {
	case FinalKeys:
		sh := r.run().shuffle
		if sh == nil {
			return nil, cutover.Errorf(cutover.ECONFLICT, "The pre-flight's final extract is one part and has no id shuffle.")
		}
		c, err := s.dryChunk(ctx, r, in.Index)
		if err != nil {
			return nil, err
		}
		p, err := s.finalChunkPass(ctx, r.m, r.spec, *c)
		if err != nil {
			return nil, err
		}
		p.ArtifactsPrefix = r.chunkPrefix(c.Index)
		res, err := s.emitKeys(ctx, *sh, c.Index, p, chunkOpener{s.files, *c})
		return &FinalOutput{Shuffle: res}, err
	case FinalResolve, FinalAliases, FinalLinks:
		sh := r.run().shuffle
		if sh == nil {
			return nil, cutover.Errorf(cutover.ECONFLICT, "The pre-flight's final extract is one part and has no id shuffle.")
		}
		return partitionStep(ctx, *sh, in.Index, in.Action, s.roundStep(in.Action))
	case FinalChunk:
		return s.runDryChunk(ctx, r, in.Index)
	case FinalChunkFailed:
		c, err := s.dryChunk(ctx, r, in.Index)
		if err != nil {
			return nil, err
		}
		if c.Status == cutover.ChunkDone {
			return &FinalOutput{Chunk: chunkResult(c)}, nil
		}
		if c.Error == "" && in.Error != nil {
			c.Error = migration.FailureReason(*in.Error)
		}
		if c.Error == "" {
			c.Error = "The part failed."
		}
		c.Status, c.FinishedAt = cutover.ChunkFailed, s.Now()
		return &FinalOutput{Chunk: chunkResult(c)}, s.putDryChunk(ctx, r, c)
	case FinalKeysFailed:
		return &FinalOutput{}, s.recordKeysFailure(ctx, r.m.ID, "Preflight", "final extract (pre-flight)", in.Error, true, func() (*cutover.Chunk, error) {
			return s.dryChunk(ctx, r, in.Index)
		})
	}
	return nil, cutover.Errorf(cutover.EINVALID, "Unknown pre-flight action %q.", in.Action)
}

// runDryChunk runs chunk i of the dry run (or merges its merge partition)
// into nothing but a snapshot, as the final's chunk will run it into LIVE.
// Its rejects and review files are not stored: nobody reads them (the
// comparison counts), and they would be one more copy of the rows. A
// chunk that is done answers at once.
//
// Errors: as pass.Run and pass.Merge (the chunk records the message);
// EUNAVAILABLE from storage.
func (s *Final) runDryChunk(ctx context.Context, r *dryRun, i int) (*FinalOutput, error) {
	c, err := s.dryChunk(ctx, r, i)
	if err != nil {
		return nil, err
	}
	if c.Status == cutover.ChunkDone {
		return &FinalOutput{Chunk: chunkResult(c)}, nil
	}
	c.Status, c.Attempts, c.StartedAt, c.Error = cutover.ChunkRunning, c.Attempts+1, s.Now(), ""
	if err := s.putDryChunk(ctx, r, c); err != nil {
		return nil, err
	}
	var done *cutover.Chunk
	if c.Merge {
		// No read of every part's status first (one per part, for each
		// partition): the Map runs the partitions after the chunks; a chunk
		// that did not store its spill makes the read fail, and a failed
		// chunk fails the pre-flight in FinishPreflight whatever merged.
		done, err = s.mergeChunk(ctx, r.spec, *c, r.run().spill, nil, r.chunkPrefix(c.Index), nothing{}, discardPuts{})
	} else {
		p, perr := s.finalChunkPass(ctx, r.m, r.spec, *c)
		if err = perr; err == nil {
			p.ArtifactsPrefix = r.chunkPrefix(c.Index)
			done, err = s.readChunk(ctx, *c, p, r.run(), nothing{}, discardPuts{})
		}
	}
	if err != nil {
		c.Status, c.Error, c.FinishedAt = cutover.ChunkFailed, cutover.ErrorMessage(err), s.Now()
		if serr := s.putDryChunk(ctx, r, c); serr != nil {
			slog.WarnContext(ctx, "pre-flight part failure not recorded", "migration", r.m.ID, "chunk", c.Index, "code", cutover.ErrorCode(serr))
		}
		return nil, err
	}
	return &FinalOutput{Chunk: chunkResult(done)}, s.putDryChunk(ctx, r, done)
}

// nothing is the dry run's destination: it takes every record and writes
// none.
type nothing struct{}

var _ cutover.Sink = nothing{}

func (nothing) Write(context.Context, []cutover.Record) ([]cutover.Refusal, error) { return nil, nil }

// FinishPreflight compares the finished dry run with the signed-off test
// migration (compareDryRun), beside what the final extract's headers tell
// (preflightChecks), and decides whether go-live holds
// (decidePreflight). Its answer carries the phase, for the state machine
// to go on from the pre-flight that ran.
//
// Errors: EINTERNAL when a part of the dry run failed (naming the first
// and why; the migration fails, and ops resume it at the pre-flight), or
// the parts do not account for the extract; ECONFLICT as dryRunOf;
// EUNAVAILABLE from storage.
func (s *Final) FinishPreflight(ctx context.Context, in FinalStep) (*FinalOutput, error) {
	r, done, err := s.dryRunOf(ctx, in)
	if err != nil || done != nil {
		return done, err
	}
	chunks, err := s.dryChunks(ctx, r)
	if err != nil {
		return nil, err
	}
	if failed := retryable(chunks); len(failed) > 0 {
		f := failed[0]
		return nil, cutover.Errorf(cutover.EINTERNAL, "The pre-flight could not read %d of %d parts of the final extract; the first, part %d (%s): %s", len(failed), len(chunks), f.Index+1, f.FileName, f.Error)
	}
	rep, err := s.preflightChecks(ctx, r.m, r.spec)
	if err != nil {
		return nil, err
	}
	cmp, err := s.compared(ctx, dryScope(r, chunks))
	if err != nil {
		return nil, err
	}
	if err := s.compareDryRun(ctx, r.m, r.plan.Rows, chunks, cmp, rep); err != nil {
		return nil, err
	}
	return s.decidePreflight(ctx, r.m, in.Phase, rep)
}
