package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/delta"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/pass"
	"github.com/cutover/cutover/internal/pipeline"
	"github.com/cutover/cutover/internal/tabular"
)

// DefaultChunkBytes is how much of a final file one chunk reads when the
// service does not say: small enough that a chunk Lambda finishes in a
// minute or two, large enough that the per-chunk overhead is noise.
const DefaultChunkBytes = 32 << 20

// liveBatch is how many records a chunk hands LIVE at a time: enough for
// several transactions of 100 in flight at once.
const liveBatch = 800

// The final migration's actions, one Lambda for all of them.
const (
	FinalPlan        = "plan"         // validate the extract, take the tenant lock, plan chunks
	FinalChunk       = "chunk"        // migrate one chunk into LIVE
	FinalChunkFailed = "chunk-failed" // the state machine caught a chunk's failure
	FinalFinish      = "finish"       // account for every chunk; the final report and the delta
	FinalKeys        = "keys"         // the id shuffle: store one chunk's record ids by partition
	FinalResolve     = "resolve"      // the id shuffle: resolve one partition's ids
	FinalAliases     = "aliases"      // the id shuffle's alias round: one partition's keys' survivors (idalias.go)
	FinalLinks       = "links"        // the id shuffle's links round: one partition's link keys (idlinks.go)
	FinalKeysFailed  = "keys-failed"  // the state machine caught a keys step's failure
)

// FinalStep is the input of the final migration's Lambda.
type FinalStep struct {
	Action      string               `json:"action"`
	MigrationID string               `json:"migrationId"`
	Round       int                  `json:"round"`
	Index       int                  `json:"index"`             // the chunk, for chunk, chunk-failed and keys; the partition, for resolve
	Error       *migration.StepError `json:"error,omitempty"`   // what the state machine caught, for chunk-failed
	Part        *PlanPart            `json:"part,omitempty"`    // for plan-part
	Phase       string               `json:"phase,omitempty"`   // the pre-flight's (cutover.PreflightAtSubmit or PreflightAtGoLive); any step with one is of its dry run
	Results     string               `json:"results,omitempty"` // for finish: the key of the Distributed Map's results (its ResultWriter's), kept for ops
	// Run is the run compare-plan follows (the state's, whose phase may be
	// absent, so that it cannot be handed on by path alone).
	Run *ChunkRun `json:"run,omitempty"`
	// LinksRound, on a planning step, says the state machine runs the id
	// shuffle's links round (idlinks.go): its definition since 2026-12-06
	// passes it. An execution started before keeps the definition it
	// started with, which has no such round, so an extract that would need
	// it is planned as one chunk, as it was then (and refused above
	// MaxWholeRows rows).
	LinksRound bool `json:"linksRound,omitempty"`
}

// ID returns the migration id, for logs and failure records.
func (in FinalStep) ID() string { return in.MigrationID }

// RecordsItsOwnFailure implements lambdastep.SelfRecording: a chunk keeps
// its failure on the chunk, for ops.
func (in FinalStep) RecordsItsOwnFailure() bool {
	return in.Action == FinalChunk || in.Action == FinalChunkFailed || in.Action == FinalKeysFailed
}

// FinalOutput is what the final migration's actions return to the state
// machine: where the manifest of chunks to run is (plan; never the chunks
// themselves, so the state's payload does not grow with the extract), a
// chunk's outcome (chunk, chunk-failed: the Distributed Map's result for
// it), whether failed chunks wait for ops (finish), and counts.
type FinalOutput struct {
	Run    *ChunkRun       `json:"run,omitempty"`
	Chunk  *ChunkResult    `json:"chunk,omitempty"`
	Retry  bool            `json:"retry"`
	Counts *cutover.Counts `json:"counts,omitempty"`
	Held   bool            `json:"held"` // the pre-flight holds go-live: the state machine waits for re-approval
	// Phase is the pre-flight's that answered (Preflight, FinishPreflight),
	// for the state machine to go on from it.
	Phase string `json:"phase,omitempty"`
	// Shuffle is a keys or resolve step's answer.
	Shuffle *ShuffleResult `json:"shuffle,omitempty"`
	// Compare is compare-plan's answer: the key ranges to compare
	// (compare.go).
	Compare *CompareRun `json:"compare,omitempty"`
	// Planning, when not nil, is a pre-flight's parts of its plan, which
	// the state machine runs before the pre-flight again (planscan.go).
	Planning *PlanningRun `json:"planning"`
}

// Final runs one action of the final migration.
//
// Errors: EINVALID for an unknown action; as the action otherwise.
func (s *Final) Final(ctx context.Context, in FinalStep) (*FinalOutput, error) {
	if in.Action == FinalComparePlan && in.Run != nil {
		in.Phase = in.Run.Phase
	}
	switch in.Action {
	case FinalComparePlan:
		return s.PlanCompare(ctx, in)
	case FinalComparePartition:
		return s.ComparePartition(ctx, in)
	case PlanPartAction: // a pre-flight's planning part
		if in.Part == nil {
			return nil, cutover.Errorf(cutover.EINVALID, "A planning step names no part.")
		}
		return &FinalOutput{}, s.RunPlanPart(ctx, in.MigrationID, *in.Part)
	}
	if in.Phase != "" && in.Action != FinalPreflight && in.Action != FinalPreflightFinish {
		return s.dryRunStep(ctx, in) // a step of the final's Maps, for a pre-flight's dry run
	}
	switch in.Action {
	case FinalPlan:
		return s.PlanFinal(ctx, in)
	case FinalChunk:
		return s.MigrateChunk(ctx, in)
	case FinalChunkFailed:
		c, err := s.RecordChunkFailure(ctx, in)
		if err != nil {
			return nil, err
		}
		return &FinalOutput{Chunk: chunkResult(c)}, nil
	case FinalFinish:
		return s.FinishFinal(ctx, in)
	case FinalPreflight:
		return s.Preflight(ctx, in)
	case FinalPreflightFinish:
		return s.FinishPreflight(ctx, in)
	case FinalKeys:
		return s.FinalChunkKeys(ctx, in)
	case FinalResolve:
		return s.ResolveFinalPartition(ctx, in)
	case FinalAliases:
		return s.ResolveFinalAliases(ctx, in)
	case FinalLinks:
		return s.ResolveFinalLinks(ctx, in)
	case FinalKeysFailed:
		return &FinalOutput{}, s.recordKeysFailure(ctx, in.MigrationID, "FinalKeys", "final extract", in.Error, false, func() (*cutover.Chunk, error) {
			return s.chunks.GetChunk(ctx, in.MigrationID, in.Index)
		})
	}
	return nil, cutover.Errorf(cutover.EINVALID, "Unknown final-migration action %q.", in.Action)
}

// signedOffSpec returns the mapping that was signed off, refusing any other.
//
// Errors: ECONFLICT when the mapping is not the signed-off one; EINVALID
// when it does not parse.
func signedOffSpec(m *cutover.Migration) (*mapspec.Spec, error) {
	if m.SignOff == nil || m.SignOff.MappingHash != m.MappingHash || m.SignOff.MappingVersion != m.MappingVersion {
		return nil, cutover.Errorf(cutover.ECONFLICT, "The final migration runs only the mapping that was signed off; this mapping (version %d) was not.", m.MappingVersion)
	}
	spec, err := mapspec.Parse([]byte(m.Mapping))
	if err != nil {
		return nil, err
	}
	if spec.Hash() != m.SignOff.MappingHash {
		return nil, cutover.Errorf(cutover.ECONFLICT, "The stored mapping does not match the signed-off hash; refusing to migrate.")
	}
	return spec, nil
}

// PlanFinal divides the final extract into chunks at record boundaries
// (never inside a quoted field): the chunks its go-live pre-flight planned
// and dry-ran, or, when that pre-flight ran none, by reading the whole
// extract once. Either way every file was read to its end and fit the
// signed-off mapping, so a malformed extract fails before the tenant is
// locked or a record is written. It then takes the tenant's live lock and
// writes the chunks' manifest for the state machine's Distributed Map (one line
// per chunk, see putFinalManifest); it answers with the ChunkRun that
// points at it, never the chunks. Planning again answers with the chunks
// already planned, in the same manifest, byte for byte.
//
// It starts only after the go-live pre-flight of exactly this extract
// passed or was re-approved (preflightCleared).
//
// Errors: ECONFLICT when another migration took the tenant live, the
// mapping is not the signed-off one, or the go-live pre-flight did not
// clear this extract; EINVALID when there is no final
// extract or a file cannot be read or does not fit (the message names the
// file and line); EUNAVAILABLE from storage.
func (s *Final) PlanFinal(ctx context.Context, in FinalStep) (*FinalOutput, error) {
	m, err := s.Store().GetMigration(ctx, in.MigrationID)
	if err != nil {
		return nil, err
	}
	if m.Status == cutover.StatusLive && m.Final != nil {
		// Live already: every chunk is done, and each returns at once.
		chunks, err := s.chunks.ListChunks(ctx, m.ID)
		if err != nil {
			return nil, err
		}
		run, err := s.putFinalManifest(ctx, m, chunks, 0, rounds{}) // nothing left to shuffle
		if err != nil {
			return nil, err
		}
		return &FinalOutput{Run: run, Counts: m.Final}, nil
	}
	if m.Status != cutover.StatusScheduled && (m.Status != cutover.StatusFinalMigrating || m.Round != in.Round) {
		return nil, cutover.Errorf(cutover.ECONFLICT, "The final migration cannot start while the migration is %s.", m.Status)
	}
	spec, err := signedOffSpec(m)
	if err != nil {
		return nil, err
	}
	if err := preflightCleared(m); err != nil {
		return nil, err // nothing locked, nothing written
	}
	if err := s.RefuseIfLive(ctx, m); err != nil {
		return nil, err
	}
	chunks, err := s.chunks.ListChunks(ctx, m.ID)
	if err != nil {
		return nil, err
	}
	var plan *cutover.FinalPlan
	if m.FinalPlan != nil {
		p := *m.FinalPlan // a copy: compared with the stored plan below
		plan = &p
	}
	if plan == nil || len(chunks) != plan.Chunks {
		// Not planned yet, or a planning run died before it recorded its
		// plan: plan again. The same extract gives the same chunks, and the
		// chunks stored already are kept.
		old := m.FinalPlan
		if chunks, plan, err = s.planFinalChunks(ctx, m, spec, in.LinksRound); err != nil {
			return nil, err // nothing has reached LIVE, nor is the tenant locked
		}
		if old != nil {
			// What a recorded plan named stays: its results, and the LIVE
			// layout any record it wrote has.
			plan.Results, plan.LiveShards = old.Results, old.LiveShards
		}
	}
	holder, err := s.Store().TakeTenantLock(ctx, cutover.TenantLock{TenantID: m.TenantID, MigrationID: m.ID, TakenAt: s.Now()})
	if err != nil {
		return nil, err
	}
	if holder.MigrationID != m.ID {
		return nil, s.AlreadyLive(ctx, holder)
	}
	if _, err := s.BeginStep(ctx, migration.StepInput{MigrationID: m.ID, Round: in.Round}, cutover.StatusFinalMigrating, cutover.StatusScheduled); err != nil {
		return nil, err
	}
	// The freeze: the vendor's product may go into maintenance now.
	starting := cutover.NewLifecycleEvent(cutover.EventFinalStarting, m, in.Round, "", s.Now())
	starting.GoLiveAt = m.GoLiveAt
	s.Announce(ctx, starting)
	if err := s.chunks.PlanChunks(ctx, m.ID, chunks); err != nil {
		return nil, err
	}
	run, err := s.putFinalManifest(ctx, m, chunks, plan.Partitions, rounds{aliases: plan.Aliases, links: plan.Links})
	if err != nil {
		return nil, err // the plan is not recorded: planning again writes it
	}
	plan.Manifest = run.Manifest
	if m.FinalPlan == nil || *m.FinalPlan != *plan {
		if _, err := s.Update(ctx, m.ID, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
			cur.FinalPlan = plan
			return []cutover.AuditEvent{s.Event(migration.System, "final.planned", fmt.Sprintf("%d rows in %s", plan.Rows, partsDetail(plan.Chunks, plan.Merges)))}, nil
		}); err != nil {
			return nil, err
		}
	}
	return &FinalOutput{Run: run}, nil
}

// planFinalChunks plans m's final extract: the chunks the go-live
// pre-flight dry-ran (preflightCleared found it cleared this extract), so
// the final runs exactly what was checked without reading the whole
// extract again at go-live; failing that (the pre-flight was decided
// without a dry run), by reading it.
//
// Errors: as planChecked.
func (s *Final) planFinalChunks(ctx context.Context, m *cutover.Migration, spec *mapspec.Spec, linksRound bool) ([]cutover.Chunk, *cutover.FinalPlan, error) {
	ex, _, err := s.planChecked(ctx, m, spec, cutover.PreflightAtGoLive, "", linksRound)
	if err != nil {
		return nil, nil, err
	}
	plan := &cutover.FinalPlan{Chunks: len(ex.chunks), Rows: ex.rows, Merges: ex.merges, LiveShards: cutover.LiveShards}
	if ex.shuffles() {
		plan.Partitions, plan.Aliases, plan.Links = partitionsFor(ex.rows, s.chunking.PartitionRows), ex.aliases, ex.links
	}
	return ex.chunks, plan, nil
}

// planChecked plans m's final extract as the dry run of the pre-flight
// in phase planned it (the same files, matches, mapping and go-live time:
// preflightPrefix), its chunks pending again; or, when that pre-flight
// ran none or phase is "", by reading the whole extract (planExtract):
// in parts, as the pre-flight in phase parts plans it, when parts is not
// "" (the parts are then answered first, and no plan).
//
// Errors: EINVALID when there is no final extract or a file cannot be
// read or does not fit (the message names the file and line);
// EUNAVAILABLE from storage.
func (s *Final) planChecked(ctx context.Context, m *cutover.Migration, spec *mapspec.Spec, phase, parts string, linksRound bool) (*extractPlan, *PlanningRun, error) {
	files := m.FinalFiles()
	if len(files) == 0 {
		return nil, nil, cutover.Errorf(cutover.EINVALID, "There is no final extract.")
	}
	var err error = cutover.Errorf(cutover.ENOTFOUND, "No pre-flight is named.")
	r := &dryRun{m: m, spec: spec, prefix: preflightPrefix(m, phase)}
	if phase != "" {
		err = s.readArtifact(ctx, r.prefix+"plan.json", "pre-flight plan", &r.plan)
	}
	var checked []cutover.Chunk
	if err == nil {
		checked, err = s.dryChunks(ctx, r)
	}
	if err == nil {
		ex := &extractPlan{chunks: make([]cutover.Chunk, len(checked)), rows: r.plan.Rows, merges: r.plan.Merges, aliases: r.plan.Aliases, links: r.plan.Links}
		for i, c := range checked {
			ex.chunks[i] = cutover.Chunk{
				Index: c.Index, FileID: c.FileID, FileName: c.FileName, Start: c.Start, End: c.End, HeaderEnd: c.HeaderEnd,
				LineOffset: c.LineOffset, Encoding: c.Encoding, Delimiter: c.Delimiter, Merge: c.Merge, Status: cutover.ChunkPending,
			}
		}
		return ex, nil, nil
	}
	if cutover.ErrorCode(err) != cutover.ENOTFOUND {
		return nil, nil, err
	}
	in := extractInput{spec: spec, choose: matchedEntry(m), files: files, chunkBytes: s.chunkBytes, whole: "every final file", mergeRows: s.chunking.MergeRows, linksRound: linksRound, wholeRows: s.chunking.WholeRows}
	if parts != "" {
		in.parts, in.item, in.concurrency = preflightPrefix(m, parts), PlanPart{MigrationID: m.ID, Round: m.Round, Phase: parts}, s.chunking.concurrency()
	}
	return s.planExtract(ctx, in)
}

// finalPrefix is where the final migration's artifacts go.
func finalPrefix(m *cutover.Migration) string { return pass.ArtifactsPrefix(m.ID, "final", m.Round) }

// testSnapshotKey is where the test migration of a round kept its records.
func testSnapshotKey(id string, round int) string {
	return pass.ArtifactsPrefix(id, "test", round) + "snapshot.jsonl"
}

// MigrateChunk migrates one chunk into LIVE and answers with its outcome.
// A chunk that is done answers at once without reading anything (a retry
// of the Distributed Map runs the whole manifest again). Writes are
// create-only, so a chunk that crashed midway and runs again converges on
// the same records.
//
// Errors: ECONFLICT when the migration is not migrating its final extract
// or the mapping is not the signed-off one; ENOTFOUND for an unknown
// chunk; as pass.Run otherwise (the chunk records the message).
func (s *Final) MigrateChunk(ctx context.Context, in FinalStep) (*FinalOutput, error) {
	m, err := s.Store().GetMigration(ctx, in.MigrationID)
	if err != nil {
		return nil, err
	}
	c, err := s.chunks.GetChunk(ctx, m.ID, in.Index)
	if err != nil {
		return nil, err
	}
	if c.Status == cutover.ChunkDone {
		return &FinalOutput{Chunk: chunkResult(c)}, nil
	}
	if m.Status != cutover.StatusFinalMigrating {
		return nil, cutover.Errorf(cutover.ECONFLICT, "Chunk %d cannot run while the migration is %s.", c.Index, m.Status)
	}
	spec, err := signedOffSpec(m)
	if err != nil {
		return nil, err
	}
	c.Status, c.Attempts, c.StartedAt, c.Error = cutover.ChunkRunning, c.Attempts+1, s.Now(), ""
	if err := s.chunks.SaveChunk(ctx, m.ID, c); err != nil {
		return nil, err
	}
	run := s.runChunk
	if c.Merge {
		run = s.runMerge
	}
	done, err := run(ctx, m, spec, *c)
	if err != nil {
		c.Status, c.Error, c.FinishedAt = cutover.ChunkFailed, cutover.ErrorMessage(err), s.Now()
		if serr := s.chunks.SaveChunk(ctx, m.ID, c); serr != nil {
			slog.WarnContext(ctx, "chunk failure not recorded", "migration", m.ID, "chunk", c.Index, "code", cutover.ErrorCode(serr))
		}
		return nil, err
	}
	if err := s.chunks.SaveChunk(ctx, m.ID, done); err != nil && cutover.ErrorCode(err) != cutover.ECONFLICT {
		return nil, err // ECONFLICT: another run of it finished first, with the same records
	}
	return &FinalOutput{Chunk: chunkResult(done)}, nil
}

// finalChunkPass is how chunk c of the final extract is read (its file or
// byte range, with the signed-off test's inference and the go-live
// "today"), which its keys step and its run share.
func (s *Final) finalChunkPass(ctx context.Context, m *cutover.Migration, spec *mapspec.Spec, c cutover.Chunk) (pass.Pass, error) {
	files, read, err := chunkFiles(m.FinalFiles(), m, c, tabular.Options{MaxXLSX: s.ReadLimits})
	if err != nil {
		return pass.Pass{}, err
	}
	inferred, err := s.signedOffInference(ctx, m) // every chunk reads dates and phones as the signed-off test did
	if err != nil {
		return pass.Pass{}, err
	}
	return pass.Pass{
		TenantID: m.TenantID, Spec: spec, Files: files, ArtifactsPrefix: fmt.Sprintf("%schunk-%06d/", finalPrefix(m), c.Index),
		Now: m.GoLiveAt, Choose: matchedEntry(m), Read: read, BatchSize: liveBatch, Market: m.Market, Inferred: inferred,
	}, nil
}

// runChunk maps a chunk's rows into LIVE, given the ids earlier chunks
// hold when the extract is shuffled, and keeps its account, its rejects
// and a snapshot of its records.
func (s *Final) runChunk(ctx context.Context, m *cutover.Migration, spec *mapspec.Spec, c cutover.Chunk) (*cutover.Chunk, error) {
	p, err := s.finalChunkPass(ctx, m, spec, c)
	if err != nil {
		return nil, err
	}
	return s.readChunk(ctx, c, p, extractRun{shuffle: finalShuffle(m), spill: finalSpill(m)}, newDeliverySink(s.dest.Deliverer(liveTarget(m))), s.files)
}

// extractRun is how a final extract was planned beyond its chunks: its id
// shuffle and its merge partitions, when it has them.
type extractRun struct {
	shuffle *idShuffle
	spill   *spill
}

// readChunk runs chunk c as p reads it into sink, after the id shuffle of
// run (the ids earlier chunks hold, the records its references need) and
// spilling to run's merge partitions, with its rejects and review files
// given to put, and returns the chunk done with its account and a
// snapshot of what sink took.
func (s *Final) readChunk(ctx context.Context, c cutover.Chunk, p pass.Pass, run extractRun, sink cutover.Sink, put cutover.Putter) (*cutover.Chunk, error) {
	var err error
	if run.shuffle != nil {
		if p.Claimed, p.Elsewhere, err = s.claimedFor(ctx, *run.shuffle, c.Index); err != nil {
			return nil, err
		}
	}
	var spilled *spiller
	if run.spill != nil {
		if spilled, err = newSpiller(*run.spill, c.Index); err != nil {
			return nil, err
		}
		defer spilled.close()
		p.Spill = spilled.add
	}
	snap := delta.NewSnapshot()
	res, err := pass.Run(ctx, p, chunkOpener{s.files, c}, snapshotSink{sink, snap}, put)
	if err != nil {
		return nil, err
	}
	if spilled != nil {
		if err := s.putSpill(ctx, spilled); err != nil {
			return nil, err
		}
	}
	return s.chunkDone(ctx, c, p.ArtifactsPrefix, snap, res.Reports, res.Rejects, res.Counts)
}

// chunkDone keeps a final chunk's (or merge partition's) snapshot and
// returns the chunk done with its account.
//
// Errors: as putSnapshot; EINTERNAL when the reports cannot be encoded.
func (s *Final) chunkDone(ctx context.Context, c cutover.Chunk, prefix string, snap *delta.Snapshot, reps []*pipeline.Report, rejects []pass.RejectsFile, counts cutover.Counts) (*cutover.Chunk, error) {
	c.Snapshot = prefix + "snapshot.jsonl"
	if err := s.putSnapshot(ctx, c.Snapshot, snap); err != nil {
		return nil, err
	}
	reports, err := json.Marshal(reps)
	if err != nil {
		return nil, cutover.Wrap(cutover.EINTERNAL, err, "The chunk's report could not be encoded.")
	}
	c.Counts, c.Reports, c.Rejects = counts, string(reports), nil
	c.Counts.RejectsKey = ""
	for _, r := range rejects {
		c.Rejects = append(c.Rejects, r.Key)
	}
	c.Status, c.FinishedAt = cutover.ChunkDone, s.Now()
	return &c, nil
}

// finalSpill is where the final extract's chunks spill their records for
// merging, if its plan merges across chunks.
func finalSpill(m *cutover.Migration) *spill {
	p := m.FinalPlan
	if p == nil || p.Merges == 0 {
		return nil
	}
	return &spill{prefix: finalPrefix(m) + "shuffle/", chunks: p.Chunks - p.Merges, parts: p.Merges}
}

// runMerge merges one merge partition of the final extract's spilled
// records into LIVE, once every chunk that reads is done.
func (s *Final) runMerge(ctx context.Context, m *cutover.Migration, spec *mapspec.Spec, c cutover.Chunk) (*cutover.Chunk, error) {
	chunks, err := s.chunks.ListChunks(ctx, m.ID)
	if err != nil {
		return nil, err
	}
	prefix := fmt.Sprintf("%schunk-%06d/", finalPrefix(m), c.Index)
	return s.mergeChunk(ctx, spec, c, finalSpill(m), chunks, prefix, newDeliverySink(s.dest.Deliverer(liveTarget(m))), s.files)
}

// mergeChunk merges merge partition c of sp into sink, once every chunk
// of chunks that reads is done (nil: not checked), and returns it done
// with its account and a snapshot of what sink took; its artifacts go
// under prefix, its rejects file to put.
//
// Errors: ECONFLICT when the plan has no merge partitions, or a chunk that
// reads is not done; as pass.Merge; EUNAVAILABLE from storage.
func (s *Final) mergeChunk(ctx context.Context, spec *mapspec.Spec, c cutover.Chunk, sp *spill, chunks []cutover.Chunk, prefix string, sink cutover.Sink, put cutover.Putter) (*cutover.Chunk, error) {
	if sp == nil {
		return nil, cutover.Errorf(cutover.ECONFLICT, "The final extract's plan has no merge partitions, not chunk %d.", c.Index)
	}
	spilled, err := s.mergeInput(ctx, *sp, c.Index-sp.chunks, chunks)
	if err != nil {
		return nil, err
	}
	snap := delta.NewSnapshot()
	res, err := pass.Merge(ctx, pass.MergeInput{Spec: spec, Spilled: spilled, ArtifactsPrefix: prefix, BatchSize: liveBatch}, snapshotSink{sink, snap}, put)
	if err != nil {
		return nil, err
	}
	return s.chunkDone(ctx, c, prefix, snap, res.Reports, res.Rejects, res.Counts)
}

// chunkOpener opens a chunk's part of a file: the file's header bytes
// followed by the chunk's byte range, or the whole file.
type chunkOpener struct {
	files Files
	c     cutover.Chunk
}

func (o chunkOpener) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if o.c.End <= 0 {
		return o.files.Open(ctx, key)
	}
	head, err := o.files.OpenRange(ctx, key, 0, o.c.HeaderEnd)
	if err != nil {
		return nil, err
	}
	body, err := o.files.OpenRange(ctx, key, o.c.Start, o.c.End)
	if err != nil {
		_ = head.Close()
		return nil, err
	}
	return multiReadCloser{io.MultiReader(head, body), []io.Closer{head, body}}, nil
}

type multiReadCloser struct {
	io.Reader
	closers []io.Closer
}

func (m multiReadCloser) Close() error {
	var first error
	for _, c := range m.closers {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// snapshotSink writes records on and keeps each the destination took in
// a snapshot, so the final migration can be compared with the test
// migration, and LIVE's read-back expects no record it refused.
type snapshotSink struct {
	cutover.Sink
	snap *delta.Snapshot
}

func (s snapshotSink) Write(ctx context.Context, recs []cutover.Record) ([]cutover.Refusal, error) {
	refused, err := s.Sink.Write(ctx, recs)
	if err != nil {
		return nil, err
	}
	no := make(map[string]bool, len(refused))
	for _, r := range refused {
		no[r.Entity+"\x00"+r.ID] = true
	}
	for _, r := range recs {
		if !no[r.Entity+"\x00"+r.ID] {
			s.snap.Add(delta.FromRecord(r))
		}
	}
	return refused, nil
}

// RecordChunkFailure marks a chunk failed with what the state machine
// caught, once its retries are spent, and returns the chunk as recorded.
// The chunk's own message, when it recorded one, is kept.
//
// Errors: ENOTFOUND; EUNAVAILABLE from storage.
func (s *Final) RecordChunkFailure(ctx context.Context, in FinalStep) (*cutover.Chunk, error) {
	c, err := s.chunks.GetChunk(ctx, in.MigrationID, in.Index)
	if err != nil {
		return nil, err
	}
	if c.Status == cutover.ChunkDone {
		return c, nil
	}
	if c.Error == "" && in.Error != nil {
		c.Error = migration.FailureReason(*in.Error)
	}
	if c.Error == "" {
		c.Error = "The chunk failed."
	}
	c.Status, c.FinishedAt = cutover.ChunkFailed, s.Now()
	err = s.chunks.SaveChunk(ctx, in.MigrationID, c)
	if cutover.ErrorCode(err) == cutover.ECONFLICT {
		return s.chunks.GetChunk(ctx, in.MigrationID, in.Index) // it finished meanwhile
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

func planned(m *cutover.Migration) int {
	if m.FinalPlan == nil {
		return 0
	}
	return m.FinalPlan.Chunks
}

// retryable lists the chunks that are not done.
func retryable(chunks []cutover.Chunk) []cutover.Chunk {
	var out []cutover.Chunk
	for _, c := range chunks {
		if c.Status != cutover.ChunkDone {
			out = append(out, c)
		}
	}
	return out
}

// FinishFinal accounts for every chunk. When some failed it parks the
// migration for ops (Retry in the output) with the failures on record;
// the chunks that are done are not run again. Either way it keeps where
// the Distributed Map wrote its results (in.Results) on the final plan,
// so ops can read every chunk's outcome of the latest run. When all are done it checks
// that every row is accounted for, and stores the final report: the
// reconciliation against the checklist, the issues and rejects, the
// unmapped columns, and the delta against the signed-off test extract.
// Before it records the migration as migrated, it reads LIVE back: the
// destination must hold, per entity, exactly the distinct records the
// chunks wrote (from their snapshots).
//
// Errors: EINTERNAL when the chunks on record are not the ones planned, or
// their rows do not add up to the extract's or do not balance, or LIVE's
// read-back differs (naming the entity and both counts); EINVALID
// when a stored snapshot is malformed; ENOTFOUND when a chunk's snapshot is
// missing; EUNAVAILABLE from storage.
func (s *Final) FinishFinal(ctx context.Context, in FinalStep) (*FinalOutput, error) {
	m, err := s.Store().GetMigration(ctx, in.MigrationID)
	if err != nil {
		return nil, err
	}
	if m.Final != nil && (m.Status == cutover.StatusLive || m.Status == cutover.StatusFinalMigrating) {
		return &FinalOutput{Counts: m.Final}, nil
	}
	chunks, err := s.chunks.ListChunks(ctx, m.ID)
	if err != nil {
		return nil, err
	}
	if m.FinalPlan == nil || len(chunks) != m.FinalPlan.Chunks || len(chunks) == 0 {
		return nil, cutover.Errorf(cutover.EINTERNAL, "The final migration has %d chunk(s) on record, not the %d planned.", len(chunks), planned(m))
	}
	if failed := retryable(chunks); len(failed) > 0 {
		// The customer reads the reason; the chunks' own errors are for ops.
		reason := fmt.Sprintf("%d of %d parts of the final migration did not finish. Our team has been alerted and will run them again; the parts that finished are not run twice.",
			len(failed), len(chunks))
		detail := fmt.Sprintf("%d of %d chunks failed; the first, chunk %d of %s: %s", len(failed), len(chunks), failed[0].Index, failed[0].FileName, failed[0].Error)
		_, err := s.Update(ctx, m.ID, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
			cur.Failure = &cutover.Failure{Step: string(cutover.StatusFinalMigrating), Reason: reason, At: s.Now()}
			keepResults(cur, in.Results)
			return []cutover.AuditEvent{s.Event(migration.System, "final.blocked", detail)}, nil
		})
		return &FinalOutput{Retry: true}, err
	}
	cmp, err := s.compared(ctx, finalScope(m, chunks))
	if err != nil {
		return nil, err
	}
	report, err := s.finalReport(ctx, m, chunks, cmp)
	if err != nil {
		return nil, err
	}
	counts := report.Counts
	if counts.Read != m.FinalPlan.Rows {
		return nil, cutover.Errorf(cutover.EINTERNAL, "The chunks read %d rows; the final extract has %d.", counts.Read, m.FinalPlan.Rows)
	}
	if err := s.readBackLive(ctx, m, chunks, cmp); err != nil {
		return nil, err
	}
	_, err = s.Update(ctx, m.ID, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		cur.Final, cur.FinalReport, cur.Failure = &counts, report.Summary, nil
		keepResults(cur, in.Results)
		return []cutover.AuditEvent{s.Event(migration.System, "final.migrated", migration.CountsDetail(counts)+" in "+partsDetail(len(chunks), m.FinalPlan.Merges))}, nil
	})
	return &FinalOutput{Counts: &counts}, err
}

// liveTarget is where m's final migration writes: with the LIVE layout
// its plan recorded.
func liveTarget(m *cutover.Migration) cutover.Target {
	t := cutover.Target{Env: cutover.EnvLive, TenantID: m.TenantID, MigrationID: m.ID}
	if m.FinalPlan != nil {
		t.LiveShards = m.FinalPlan.LiveShards
	}
	return t
}

// readBackLive compares what LIVE holds of m with what its chunks wrote
// (and seals the delivery when the destination closes its deliveries),
// by their snapshots: the whole migration at once, after its last chunk,
// because the destination reports a migration's holdings, not a chunk's.
// What the chunks wrote is cmp's holdings, added up from the key ranges,
// and what LIVE holds the ranges' read-back when the destination reads
// by key range (else it is asked for the whole here); without a
// comparison in key ranges (nil) the snapshots are streamed.
//
// Errors: as readBack; ENOTFOUND when a chunk's snapshot is missing;
// EINVALID when one is malformed; EUNAVAILABLE from storage.
func (s *Final) readBackLive(ctx context.Context, m *cutover.Migration, chunks []cutover.Chunk, cmp *comparison) error {
	if cmp != nil {
		return readBackAndSeal(ctx, s.dest, liveTarget(m), cmp.Holdings, cmp.heldRead())
	}
	snaps := make([]io.Reader, 0, len(chunks))
	for _, c := range chunks {
		if c.Snapshot == "" {
			return cutover.Errorf(cutover.ENOTFOUND, "Chunk %d of the final migration kept no snapshot to read LIVE back with.", c.Index)
		}
		rc, err := s.files.Open(ctx, c.Snapshot)
		if err != nil {
			return err
		}
		defer rc.Close()
		snaps = append(snaps, rc)
	}
	want, err := snapshotHoldings(snaps)
	if err != nil {
		return err
	}
	return readBackAndSeal(ctx, s.dest, liveTarget(m), want, readBackFound{})
}

// chooser picks the signed-off mapping's entry for a table of the final
// extract (pass.Pass.Choose).
type chooser = func(spec *mapspec.Spec, name string, header []string) (mapspec.FileSpec, error)
