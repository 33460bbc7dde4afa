package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/delta"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/pass"
	"github.com/cutover/cutover/internal/pipeline"
	"github.com/cutover/cutover/internal/schema"
	"github.com/cutover/cutover/internal/tabular"
	"github.com/cutover/cutover/internal/workbook"
)

// The test migration is a rehearsal of the final one: its extract is
// planned into chunks by the final's planner (planExtract), each chunk is
// migrated into TEST by the final's per-chunk reading (a byte range read
// with the whole file's encoding, delimiter and line offset), as one child
// of a Distributed Map, and a last step merges the chunks' results into
// the workbook. No step holds more than a chunk: a chunk's results live in
// S3 and in the chunk store, never in the state machine's payload, and the
// test snapshot is written as a streaming merge of the chunks' snapshots.

// The test migration's actions, one Lambda (testmigrate) for all of them.
const (
	TestPlan        = "plan"         // plan the chunks, write the manifest
	TestReset       = "reset"        // delete one slice of the migration's TEST records
	TestChunk       = "chunk"        // migrate one chunk into TEST
	TestChunkFailed = "chunk-failed" // the state machine caught a chunk's failure
	TestFinish      = "finish"       // merge the chunks into the workbook; read TEST back
	TestKeys        = "keys"         // the id shuffle: store one chunk's record ids by partition
	TestResolve     = "resolve"      // the id shuffle: resolve one partition's ids
	TestAliases     = "aliases"      // the id shuffle's alias round: one partition's keys' survivors (idalias.go)
	TestLinks       = "links"        // the id shuffle's links round: one partition's link keys (idlinks.go)
	TestKeysFailed  = "keys-failed"  // the state machine caught a keys step's failure
	// The test snapshot merged in key ranges (compare.go), after the
	// chunks: plan the ranges, merge one.
	TestComparePlan      = "compare-plan"
	TestComparePartition = "compare-partition"
)

// TestStep is the input of the test migration's Lambda.
type TestStep struct {
	Action      string               `json:"action"`
	MigrationID string               `json:"migrationId"`
	Round       int                  `json:"round"`
	Index       int                  `json:"index"`            // the chunk, for chunk, chunk-failed and keys; the partition, for resolve
	Prefix      string               `json:"prefix,omitempty"` // the slice of TEST records, for reset (cutover.RecordIDPrefixes)
	Error       *migration.StepError `json:"error,omitempty"`  // what the state machine caught, for chunk-failed
	Part        *PlanPart            `json:"part,omitempty"`   // for plan-part
	// LinksRound, on a planning step, says the state machine runs the id
	// shuffle's links round (idlinks.go): its definition since 2026-12-06
	// passes it. An execution started before keeps the definition it
	// started with, which has no such round, so an extract that would need
	// it is planned as one chunk, as it was then (and refused above
	// MaxWholeRows rows).
	LinksRound bool `json:"linksRound,omitempty"`
}

// ID returns the migration id, for logs and failure records.
func (in TestStep) ID() string { return in.MigrationID }

// RecordsItsOwnFailure implements lambdastep.SelfRecording: a chunk keeps
// its failure on the chunk (chunks run in parallel, and a failure the next
// attempt cures must not show on the migration); the finish step names
// it on the migration.
func (in TestStep) RecordsItsOwnFailure() bool {
	return in.Action == TestChunk || in.Action == TestChunkFailed || in.Action == TestKeysFailed
}

// TestOutput is what the test migration's actions return to the state
// machine: where the chunks' manifest is, how to run it and the slices of
// TEST to reset (plan), a chunk's counts (chunk: one result per chunk in
// the Map's ResultWriter output), the round's counts (finish).
type TestOutput struct {
	Run *ChunkRun `json:"run"`
	// Reset is the slices of TEST records (plan) the state machine resets,
	// a step each, before any chunk runs.
	Reset []string `json:"reset"`
	// Planning, when not nil, is the parts of the plan the state machine
	// runs before planning again (planscan.go); Run and Reset are then
	// nil.
	Planning *PlanningRun    `json:"planning"`
	Index    int             `json:"index"`
	Counts   *cutover.Counts `json:"counts,omitempty"`
	Shuffle  *ShuffleResult  `json:"shuffle,omitempty"` // keys and resolve
	Compare  *CompareRun     `json:"compare,omitempty"` // compare-plan
}

// TestConfig is the test migration's settings.
type TestConfig struct {
	// ChunkBytes is how much of a file one chunk reads; 0 means
	// DefaultChunkBytes (the final migration's setting: the test rehearses
	// it).
	ChunkBytes int64
	// Chunking is how the Distributed Map runs the chunks.
	Chunking Chunking
	// CompareBytes is how much of the chunks' snapshots one key range of
	// the test snapshot's merge reads (the final's setting); 0 means
	// DefaultCompareBytes.
	CompareBytes int64
}

// Test runs one action of the test migration.
//
// Errors: EINVALID for an unknown action; as the action otherwise.
func (s *TestRun) Test(ctx context.Context, in TestStep) (*TestOutput, error) {
	switch in.Action {
	case TestPlan:
		return s.PlanTest(ctx, in)
	case TestReset:
		return &TestOutput{}, s.ResetTest(ctx, in)
	case TestChunk:
		return s.MigrateTestChunk(ctx, in)
	case TestChunkFailed:
		return &TestOutput{Index: in.Index}, s.RecordTestChunkFailure(ctx, in)
	case TestFinish:
		return s.FinishTest(ctx, in)
	case TestComparePlan:
		sc, err := s.compareScopeOf(ctx, in, true)
		if err != nil {
			return nil, err
		}
		run, err := s.planCompare(ctx, sc, s.chunking, s.compareBytes)
		return &TestOutput{Compare: run}, err
	case TestComparePartition:
		sc, err := s.compareScopeOf(ctx, in, false)
		if err != nil {
			return nil, err
		}
		var plan testPlan
		if err := s.readArtifact(ctx, testPlanKey(sc.m.ID, in.Round), "test migration's plan", &plan); err != nil {
			return nil, err
		}
		return &TestOutput{Index: in.Index}, s.comparePartition(ctx, sc, in.Index, readBackIn(s.dest, testTarget(sc.m, in.Round, plan)))
	case TestKeys:
		return s.TestChunkKeys(ctx, in)
	case PlanPartAction:
		if in.Part == nil {
			return nil, cutover.Errorf(cutover.EINVALID, "A planning step names no part.")
		}
		return &TestOutput{}, s.RunPlanPart(ctx, in.MigrationID, *in.Part)
	case TestResolve:
		return s.ResolveTestPartition(ctx, in)
	case TestAliases:
		return s.ResolveTestAliases(ctx, in)
	case TestLinks:
		return s.ResolveTestLinks(ctx, in)
	case TestKeysFailed:
		return &TestOutput{Index: in.Index}, s.recordKeysFailure(ctx, in.MigrationID, "TestKeys", "test extract", in.Error, true, func() (*cutover.Chunk, error) {
			return s.chunks.GetTestChunk(ctx, in.MigrationID, in.Round, in.Index)
		})
	}
	return nil, cutover.Errorf(cutover.EINVALID, "Unknown test-migration action %q.", in.Action)
}

// testPlan is what every chunk of a round reads the same way, kept beside
// the round's artifacts: the spot checks' seed, "today" of the row rules,
// and what the finish step checks the chunks against.
type testPlan struct {
	Seed   uint64    `json:"seed"`
	Now    time.Time `json:"now"`
	Rows   int       `json:"rows"`
	Chunks int       `json:"chunks"`
	// Partitions is the id shuffle's (idshuffle.go); 0 when the round
	// is one chunk and needs none.
	Partitions int `json:"partitions,omitempty"`
	// Merges is how many merge partitions (merges.go) follow the Chunks
	// that read; 0 when records do not merge across chunks.
	Merges int `json:"merges,omitempty"`
	// Aliases says the id shuffle runs its alias round (idalias.go).
	Aliases bool `json:"aliases,omitempty"`
	// Links says it runs its links round after it (idlinks.go).
	Links bool `json:"links,omitempty"`
	// TestShards is the round's Target.TestShards (cutover.TestShards
	// when planned); 0 for a round planned before.
	TestShards int `json:"testShards,omitempty"`
}

// testSpill is where a round's chunks spill their records for merging.
func testSpill(id string, round int, plan testPlan) spill {
	return spill{prefix: testPrefix(id, round) + "shuffle/", chunks: plan.Chunks, parts: plan.Merges}
}

func testPrefix(id string, round int) string { return pass.ArtifactsPrefix(id, "test", round) }

func testPlanKey(id string, round int) string { return testPrefix(id, round) + "plan.json" }

func testChunkPrefix(id string, round, index int) string {
	return fmt.Sprintf("%schunk-%06d/", testPrefix(id, round), index)
}

// PlanTest starts a round's test migration: it moves the migration to
// test-migrating, reads every file of the round to its end
// and plans its chunks as the final migration would, infers each mapping
// entry's phone region and date formats once from its file's first rows
// (stored as the round's inference: every chunk reads with it, and the
// final migration reads its extract with it after sign-off), and writes
// the chunk manifest the Distributed Map reads. It returns the slices of
// TEST the state machine then resets (ResetTest): the earlier round's
// records or this round's, whichever are more. Planning again (a retried
// step) resets TEST again and runs every chunk again.
//
// Errors: ECONFLICT when the migration is not mapped for this round;
// EINVALID when the mapping does not parse, or a file cannot be read or
// does not fit it (naming the file and line); EUNAVAILABLE from storage.
func (s *TestRun) PlanTest(ctx context.Context, in TestStep) (*TestOutput, error) {
	m, err := s.BeginStep(ctx, migration.StepInput{MigrationID: in.MigrationID, Round: in.Round}, cutover.StatusTestMigrating, cutover.StatusMapping)
	if err != nil {
		return nil, err
	}
	spec, err := mapspec.Parse([]byte(m.Mapping))
	if err != nil {
		return nil, err
	}
	before := 0 // the records an earlier round (or this one, planned again) may have left
	if m.Test != nil {
		before = m.Test.Read + m.Test.Derived
	}
	plan := testPlan{Seed: newSeed(), Now: s.Now(), TestShards: cutover.TestShards}
	ex, planning, err := s.planExtract(ctx, extractInput{
		spec: spec, choose: pass.ByName, files: m.TestFiles(in.Round), chunkBytes: s.chunkBytes, whole: "every test file", mergeRows: s.chunking.MergeRows, linksRound: in.LinksRound, wholeRows: s.chunking.WholeRows,
		infer: &inferAt{tenant: m.TenantID, market: m.Market, now: plan.Now},
		parts: testPrefix(m.ID, in.Round), item: PlanPart{MigrationID: m.ID, Round: in.Round}, concurrency: s.chunking.concurrency(),
	})
	if err != nil || planning != nil {
		return &TestOutput{Planning: planning}, err // the parts run first, then this step again
	}
	if !ex.now.IsZero() {
		plan.Now = ex.now // what the first of the planning steps inferred with
	}
	plan.Rows, plan.Chunks, plan.Merges = ex.rows, ex.reading(), ex.merges
	if ex.shuffles() {
		plan.Partitions, plan.Aliases, plan.Links = partitionsFor(plan.Rows, s.chunking.PartitionRows), ex.aliases, ex.links
	}
	if err := s.putJSON(ctx, testInferenceKey(m.ID, in.Round), "The test migration's inferred formats", ex.inferred); err != nil {
		return nil, err
	}
	if err := s.putJSON(ctx, testPlanKey(m.ID, in.Round), "The test migration's plan", plan); err != nil {
		return nil, err
	}
	if err := s.chunks.ReplanTestChunks(ctx, m.ID, in.Round, ex.chunks); err != nil {
		return nil, err
	}
	item := ChunkItem{MigrationID: m.ID, Round: in.Round}
	items := chunkItems(ex.chunks, item, false)
	key := testPrefix(m.ID, in.Round) + "chunks.jsonl"
	if err := s.putManifest(ctx, key, items); err != nil {
		return nil, err
	}
	run := s.chunking.chunkRun(key, testPrefix(m.ID, in.Round)+"chunk-results", len(items))
	if plan.Partitions > 0 {
		if run.Shuffle, err = s.putShuffle(ctx, testShuffle(m.ID, in.Round, plan), item, run.ResultsPrefix); err != nil {
			return nil, err
		}
	}
	if run.Merges, err = s.putMergeRun(ctx, testPrefix(m.ID, in.Round)+"shuffle/", run.ResultsPrefix, item, ex.chunks); err != nil {
		return nil, err
	}
	return &TestOutput{Run: &run, Reset: cutover.RecordIDPrefixes(max(before, plan.Rows))}, nil
}

// ResetTest deletes one slice of the migration's TEST records (those
// whose id begins with in.Prefix), before the round's chunks write theirs.
//
// Errors: ECONFLICT when the round is not test migrating; EUNAVAILABLE
// from storage.
func (s *TestRun) ResetTest(ctx context.Context, in TestStep) error {
	m, err := s.testingRound(ctx, in)
	if err != nil {
		return err
	}
	return s.test.ResetSegment(ctx, m.ID, schema.Default().EntityNames(), in.Prefix)
}

// putJSON stores v as a JSON artifact; what names it in the error.
//
// Errors: EINTERNAL when v cannot be encoded (a bug); as Files.Put.
func (s *base) putJSON(ctx context.Context, key, what string, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return cutover.Wrap(cutover.EINTERNAL, err, "%s could not be encoded.", what)
	}
	return s.files.Put(ctx, key, "application/json", body)
}

// testChunkResult is what a chunk keeps for the finish step, in S3 beside
// its rejects and review files and its snapshot: everything the workbook
// is built from.
type testChunkResult struct {
	Reports            []*pipeline.Report          `json:"reports"`
	Rejects            []pass.RejectsFile          `json:"rejects"`
	Reviews            []pass.RejectsFile          `json:"reviews"`
	PossibleDuplicates []mapspec.PossibleDuplicate `json:"possibleDuplicates"`
	Entries            map[string]mapspec.FileSpec `json:"entries"`
	Samples            workbook.Samples            `json:"samples"`
}

// MigrateTestChunk migrates one chunk of the round's test extract into
// TEST, with the round's inference, seed and "today", and keeps its
// results and its records' snapshot in S3. A chunk that is done returns
// its counts without reading anything; one that crashed midway runs again
// and converges on the same records (their ids are deterministic).
//
// Errors: ECONFLICT when the migration is not test-migrating this round;
// ENOTFOUND for an unknown chunk; as pass.Run otherwise (the chunk
// records the message).
func (s *TestRun) MigrateTestChunk(ctx context.Context, in TestStep) (*TestOutput, error) {
	m, err := s.Store().GetMigration(ctx, in.MigrationID)
	if err != nil {
		return nil, err
	}
	c, err := s.chunks.GetTestChunk(ctx, m.ID, in.Round, in.Index)
	if err != nil {
		return nil, err
	}
	if c.Status == cutover.ChunkDone {
		return &TestOutput{Index: c.Index, Counts: &c.Counts}, nil
	}
	if m.Status != cutover.StatusTestMigrating || m.Round != in.Round {
		return nil, cutover.Errorf(cutover.ECONFLICT, "Test chunk %d of round %d cannot run while the migration is %s (round %d).", c.Index, in.Round, m.Status, m.Round)
	}
	c.Status, c.Attempts, c.StartedAt, c.Error = cutover.ChunkRunning, c.Attempts+1, s.Now(), ""
	if err := s.chunks.SaveTestChunk(ctx, m.ID, in.Round, c); err != nil {
		return nil, err
	}
	run := s.runTestChunk
	if c.Merge {
		run = s.runTestMerge
	}
	done, err := run(ctx, m, in.Round, *c)
	if err != nil {
		c.Status, c.Error, c.FinishedAt = cutover.ChunkFailed, cutover.ErrorMessage(err), s.Now()
		if serr := s.chunks.SaveTestChunk(ctx, m.ID, in.Round, c); serr != nil {
			slog.WarnContext(ctx, "test chunk failure not recorded", "migration", m.ID, "round", in.Round, "chunk", c.Index, "code", cutover.ErrorCode(serr))
		}
		return nil, err
	}
	if err := s.chunks.SaveTestChunk(ctx, m.ID, in.Round, done); err != nil && cutover.ErrorCode(err) != cutover.ECONFLICT {
		return nil, err // ECONFLICT: another run of it finished first, with the same records
	}
	return &TestOutput{Index: done.Index, Counts: &done.Counts}, nil
}

// testShuffle is where a round's id shuffle lives (idshuffle.go).
func testShuffle(id string, round int, plan testPlan) idShuffle {
	return idShuffle{prefix: testPrefix(id, round) + "shuffle/", parts: plan.Partitions, chunks: plan.Chunks, rounds: rounds{aliases: plan.Aliases, links: plan.Links}}
}

// testChunkPass is how chunk c of the round is read (its file or byte
// range, with the round's inference and "today"), which its keys step and
// its run share, and the round's plan.
func (s *TestRun) testChunkPass(ctx context.Context, m *cutover.Migration, round int, c cutover.Chunk) (pass.Pass, testPlan, error) {
	var plan testPlan
	spec, err := mapspec.Parse([]byte(m.Mapping))
	if err != nil {
		return pass.Pass{}, plan, err
	}
	if err := s.readArtifact(ctx, testPlanKey(m.ID, round), "test migration's plan", &plan); err != nil {
		return pass.Pass{}, plan, err
	}
	var inferred map[string]*mapspec.Inference
	if err := s.readArtifact(ctx, testInferenceKey(m.ID, round), "test migration's inferred formats", &inferred); err != nil {
		return pass.Pass{}, plan, err
	}
	files, read, err := chunkFiles(m.TestFiles(round), m, c, tabular.Options{MaxXLSX: s.ReadLimits})
	if err != nil {
		return pass.Pass{}, plan, err
	}
	return pass.Pass{
		TenantID: m.TenantID, Spec: spec, Files: files, ArtifactsPrefix: testChunkPrefix(m.ID, round, c.Index), Now: plan.Now, Market: m.Market,
		KeepReview: true, KeepSource: true, Read: read, Inferred: inferred,
	}, plan, nil
}

// testingRound loads the migration in names, which must be test
// migrating that round.
//
// Errors: ECONFLICT when it is not; ENOTFOUND.
func (s *TestRun) testingRound(ctx context.Context, in TestStep) (*cutover.Migration, error) {
	m, err := s.Store().GetMigration(ctx, in.MigrationID)
	if err != nil {
		return nil, err
	}
	if m.Status != cutover.StatusTestMigrating || m.Round != in.Round {
		return nil, cutover.Errorf(cutover.ECONFLICT, "The test migration of round %d is not running (the migration is %s, round %d).", in.Round, m.Status, m.Round)
	}
	return m, nil
}

// testingChunk loads the chunk in names, of a migration that is test
// migrating that round.
//
// Errors: ECONFLICT when it is not; ENOTFOUND for an unknown chunk.
func (s *TestRun) testingChunk(ctx context.Context, in TestStep) (*cutover.Migration, *cutover.Chunk, error) {
	m, err := s.testingRound(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.chunks.GetTestChunk(ctx, m.ID, in.Round, in.Index)
	if err != nil {
		return nil, nil, err
	}
	return m, c, nil
}

// TestChunkKeys is the id shuffle's keys step for one test chunk: it
// stores the ids of the records the chunk's rows become, by partition.
//
// Errors: ECONFLICT when the round is not test migrating or is not
// shuffled; ENOTFOUND for an unknown chunk; as pass.Run; EUNAVAILABLE
// from storage.
func (s *TestRun) TestChunkKeys(ctx context.Context, in TestStep) (*TestOutput, error) {
	m, c, err := s.testingChunk(ctx, in)
	if err != nil {
		return nil, err
	}
	p, plan, err := s.testChunkPass(ctx, m, in.Round, *c)
	if err != nil {
		return nil, err
	}
	if plan.Partitions == 0 {
		return nil, cutover.Errorf(cutover.ECONFLICT, "Round %d's test migration is one chunk and has no id shuffle.", in.Round)
	}
	res, err := s.emitKeys(ctx, testShuffle(m.ID, in.Round, plan), c.Index, p, chunkOpener{s.files, *c})
	if err != nil {
		return nil, err
	}
	return &TestOutput{Index: c.Index, Shuffle: res}, nil
}

// ResolveTestPartition is the id shuffle's resolve step for partition
// in.Index of the round's test extract.
//
// Errors: ECONFLICT when the round is not test migrating or the partition
// is not one of its shuffle's; ENOTFOUND when a chunk's keys were not
// stored; EUNAVAILABLE from storage.
func (s *TestRun) ResolveTestPartition(ctx context.Context, in TestStep) (*TestOutput, error) {
	return s.testPartitionStep(ctx, in, TestResolve)
}

// ResolveTestAliases is the id shuffle's alias step (idalias.go) for key
// partition in.Index of the round's test extract.
//
// Errors: ECONFLICT when the round is not test migrating, its shuffle has
// no alias round or the partition is not one of it; ENOTFOUND when a
// partition was not resolved; EINVALID for damaged survivors or keys;
// EUNAVAILABLE from storage.
func (s *TestRun) ResolveTestAliases(ctx context.Context, in TestStep) (*TestOutput, error) {
	return s.testPartitionStep(ctx, in, TestAliases)
}

// ResolveTestLinks is the id shuffle's links step (idlinks.go) for link
// partition in.Index of the round's test extract.
//
// Errors: ECONFLICT when the round is not test migrating, its shuffle has
// no links round or the partition is not one of it; ENOTFOUND when a
// keys or alias step did not run; EINVALID for damaged link keys;
// EUNAVAILABLE from storage.
func (s *TestRun) ResolveTestLinks(ctx context.Context, in TestStep) (*TestOutput, error) {
	return s.testPartitionStep(ctx, in, TestLinks)
}

// testPartitionStep runs the step of the round action names (TestResolve,
// TestAliases or TestLinks) for partition in.Index of the round's id
// shuffle.
//
// Errors: ECONFLICT when the round is not test migrating, has no such
// round or the partition is not one of it; as the step.
func (s *TestRun) testPartitionStep(ctx context.Context, in TestStep, action string) (*TestOutput, error) {
	m, err := s.testingRound(ctx, in)
	if err != nil {
		return nil, err
	}
	var plan testPlan
	if err := s.readArtifact(ctx, testPlanKey(m.ID, in.Round), "test migration's plan", &plan); err != nil {
		return nil, err
	}
	if in.Index < 0 || in.Index >= plan.Partitions {
		return nil, cutover.Errorf(cutover.ECONFLICT, "Round %d's id shuffle has %d partition(s), not partition %d.", in.Round, plan.Partitions, in.Index)
	}
	sh := testShuffle(m.ID, in.Round, plan)
	if err := sh.lacks(action); err != nil {
		return nil, err
	}
	res, err := s.roundStep(action)(ctx, sh, in.Index)
	if err != nil {
		return nil, err
	}
	return &TestOutput{Index: in.Index, Shuffle: res}, nil
}

// runTestChunk maps a chunk's rows into TEST: the pass the test migration
// ran over the whole extract, over the chunk's part of it, given the ids
// earlier chunks hold when the round is shuffled.
func (s *TestRun) runTestChunk(ctx context.Context, m *cutover.Migration, round int, c cutover.Chunk) (*cutover.Chunk, error) {
	p, plan, err := s.testChunkPass(ctx, m, round, c)
	if err != nil {
		return nil, err
	}
	if plan.Partitions > 0 {
		if p.Claimed, p.Elsewhere, err = s.claimedFor(ctx, testShuffle(m.ID, round, plan), c.Index); err != nil {
			return nil, err
		}
	}
	prefix := p.ArtifactsPrefix
	sampler := workbook.NewSampler(plan.Seed, m.SpotCheckIDs)
	p.Spot = sampler
	var spilled *spiller
	if plan.Merges > 0 {
		if spilled, err = newSpiller(testSpill(m.ID, round, plan), c.Index); err != nil {
			return nil, err
		}
		defer spilled.close()
		p.Spill = spilled.add
	}
	snap := delta.NewSnapshot()
	res, err := pass.Run(ctx, p, chunkOpener{s.files, c}, snapshotSink{newDeliverySink(s.dest.Deliverer(testTarget(m, round, plan))), snap}, s.files)
	if err != nil {
		return nil, err
	}
	if spilled != nil {
		if err := s.putSpill(ctx, spilled); err != nil {
			return nil, err
		}
	}
	c.Snapshot = prefix + "snapshot.jsonl"
	if err := s.putSnapshot(ctx, c.Snapshot, snap); err != nil {
		return nil, err
	}
	result := testChunkResult{
		Reports: res.Reports, Rejects: res.Rejects, Reviews: res.Reviews, PossibleDuplicates: res.PossibleDuplicates,
		Entries: res.Entries, Samples: sampler.Samples(),
	}
	return s.testChunkDone(ctx, c, prefix, result, res.Counts)
}

// testChunkDone keeps a test chunk's (or merge partition's) results for
// the finish step and returns the chunk done with its counts.
//
// Errors: as putJSON.
func (s *TestRun) testChunkDone(ctx context.Context, c cutover.Chunk, prefix string, result testChunkResult, counts cutover.Counts) (*cutover.Chunk, error) {
	if err := s.putJSON(ctx, prefix+"results.json", "The chunk's results", result); err != nil {
		return nil, err
	}
	c.Counts, c.Reports, c.Rejects = counts, prefix+"results.json", nil
	c.Counts.RejectsKey = ""
	for _, r := range result.Rejects {
		c.Rejects = append(c.Rejects, r.Key)
	}
	c.Status, c.FinishedAt = cutover.ChunkDone, s.Now()
	return &c, nil
}

// testTarget is where round's test migration writes.
func testTarget(m *cutover.Migration, round int, plan testPlan) cutover.Target {
	return cutover.Target{Env: cutover.EnvTest, TenantID: m.TenantID, MigrationID: m.ID, Round: round, TestShards: plan.TestShards}
}

// runTestMerge merges one merge partition of the round's spilled records
// into TEST, once every chunk that reads is done, and keeps what merging
// changed as the partition's results.
func (s *TestRun) runTestMerge(ctx context.Context, m *cutover.Migration, round int, c cutover.Chunk) (*cutover.Chunk, error) {
	var plan testPlan
	if err := s.readArtifact(ctx, testPlanKey(m.ID, round), "test migration's plan", &plan); err != nil {
		return nil, err
	}
	spec, err := mapspec.Parse([]byte(m.Mapping))
	if err != nil {
		return nil, err
	}
	chunks, err := s.chunks.ListTestChunks(ctx, m.ID, round)
	if err != nil {
		return nil, err
	}
	sp := testSpill(m.ID, round, plan)
	spilled, err := s.mergeInput(ctx, sp, c.Index-plan.Chunks, chunks)
	if err != nil {
		return nil, err
	}
	prefix := testChunkPrefix(m.ID, round, c.Index)
	snap := delta.NewSnapshot()
	sink := snapshotSink{newDeliverySink(s.dest.Deliverer(testTarget(m, round, plan))), snap}
	sampler := workbook.NewSampler(plan.Seed, m.SpotCheckIDs) // the chunks sampled no record: only here is it known whether it merged
	res, err := pass.Merge(ctx, pass.MergeInput{Spec: spec, Spilled: spilled, ArtifactsPrefix: prefix, Watch: sampler.Watch, Refused: sampler.Refused}, sink, s.files)
	if err != nil {
		return nil, err
	}
	c.Snapshot = prefix + "snapshot.jsonl"
	if err := s.putSnapshot(ctx, c.Snapshot, snap); err != nil {
		return nil, err
	}
	result := testChunkResult{
		Reports: res.Reports, Rejects: res.Rejects, PossibleDuplicates: res.PossibleDuplicates,
		Entries: map[string]mapspec.FileSpec{}, Samples: sampler.Samples(),
	}
	return s.testChunkDone(ctx, c, prefix, result, res.Counts)
}

// chunkFiles is what a chunk reads: its file (or every file, for the one
// chunk of a mapping that holds records), and for a byte range of a file,
// the whole file's reading (encoding, delimiter, line offset), not
// checked for binary data again (the planner read it whole as text;
// tabular.Options.Chunk).
//
// Errors: EINTERNAL when the chunk names a file the migration does not have.
func chunkFiles(all []cutover.File, m *cutover.Migration, c cutover.Chunk, read tabular.Options) ([]cutover.File, tabular.Options, error) {
	if c.FileID == "" {
		return all, read, nil
	}
	f := m.FileByID(c.FileID)
	if f == nil {
		return nil, read, cutover.Errorf(cutover.EINTERNAL, "Chunk %d names a file the migration does not have.", c.Index)
	}
	if c.End > 0 {
		read = tabular.Options{Encoding: c.Encoding, LineOffset: c.LineOffset, MaxXLSX: read.MaxXLSX, Chunk: true}
		if d := []rune(c.Delimiter); len(d) == 1 {
			read.Delimiter = d[0]
		}
	}
	return []cutover.File{*f}, read, nil
}

// RecordTestChunkFailure marks a test chunk failed with what the state
// machine caught, once its retries are spent; the chunk's own message,
// when it recorded one, is kept. The finish step names it.
//
// Errors: ENOTFOUND; EUNAVAILABLE from storage.
func (s *TestRun) RecordTestChunkFailure(ctx context.Context, in TestStep) error {
	c, err := s.chunks.GetTestChunk(ctx, in.MigrationID, in.Round, in.Index)
	if err != nil {
		return err
	}
	if c.Status == cutover.ChunkDone {
		return nil
	}
	if c.Error == "" && in.Error != nil {
		c.Error = migration.FailureReason(*in.Error)
	}
	if c.Error == "" {
		c.Error = "The chunk failed."
	}
	c.Status, c.FinishedAt = cutover.ChunkFailed, s.Now()
	err = s.chunks.SaveTestChunk(ctx, in.MigrationID, in.Round, c)
	if cutover.ErrorCode(err) == cutover.ECONFLICT {
		return nil // it finished meanwhile
	}
	return err
}
