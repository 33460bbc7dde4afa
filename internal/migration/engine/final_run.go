package engine

import (
	"context"
	"slices"

	"github.com/cutover/cutover/internal/cutover"
)

// The final migration's chunks run as the state machine's Distributed Map
// (MigrateChunks in statemachine/migration.asl.json): PlanFinal writes the
// manifest the Map's ItemReader reads, each child execution runs one
// chunk and answers with its ChunkResult, and the Map's ResultWriter keeps
// those answers under the results prefix, one per chunk, where FinishFinal
// records them for ops (cutover.FinalPlan.Results).

// finalManifestName and finalResultsName are the manifest's and the
// results' places in a phase's artifacts. The state machine's policy in
// template.yaml grants reading artifacts/*/chunks.jsonl and writing under
// artifacts/*/chunk-results/: keep them in step.
const (
	finalManifestName = "chunks.jsonl"
	finalResultsName  = "chunk-results"
)

// ChunkResult is a chunk's outcome as its child execution answers it, and
// so one entry of the Distributed Map's results: which chunk, whether it
// is done, how often it ran, its counts and, when it failed, why. Every
// field is always present: the state machine selects each by path.
type ChunkResult struct {
	Index    int                 `json:"index"`
	Status   cutover.ChunkStatus `json:"status"`
	Attempts int                 `json:"attempts"`
	Counts   cutover.Counts      `json:"counts"`
	Error    string              `json:"error"`
}

// chunkResult is c's outcome.
func chunkResult(c *cutover.Chunk) *ChunkResult {
	return &ChunkResult{Index: c.Index, Status: c.Status, Attempts: c.Attempts, Counts: c.Counts, Error: c.Error}
}

// putFinalManifest writes the manifest of m's final chunks (one ChunkItem
// per chunk, in index order, so the same chunks give the same bytes) under
// the final's artifacts, and returns the run that points at it; with
// partitions, the id shuffle's too (with its later rounds rs).
//
// Errors: as putManifest.
func (s *Final) putFinalManifest(ctx context.Context, m *cutover.Migration, chunks []cutover.Chunk, partitions int, rs rounds) (*ChunkRun, error) {
	return s.putChunkRun(ctx, finalPrefix(m), ChunkItem{MigrationID: m.ID, Round: m.Round}, chunks, partitions, rs)
}

// putChunkRun writes the manifests of a final extract's chunks under
// prefix (the final's artifacts, or a pre-flight's), each line item with
// a chunk's index: the chunks that read, the id shuffle's partitions
// (with partitions) and the merge partitions (when chunks has some).
//
// Errors: as putManifest.
func (s *Final) putChunkRun(ctx context.Context, prefix string, item ChunkItem, chunks []cutover.Chunk, partitions int, rs rounds) (*ChunkRun, error) {
	chunks = slices.SortedFunc(slices.Values(chunks), func(a, b cutover.Chunk) int { return a.Index - b.Index })
	items := chunkItems(chunks, item, false)
	key := prefix + finalManifestName
	if err := s.putManifest(ctx, key, items); err != nil {
		return nil, err
	}
	run := s.chunking.chunkRun(key, prefix+finalResultsName, len(items))
	var err error
	if partitions > 0 {
		sh := idShuffle{prefix: prefix + "shuffle/", parts: partitions, chunks: len(items), rounds: rs}
		if run.Shuffle, err = s.putShuffle(ctx, sh, item, run.ResultsPrefix); err != nil {
			return nil, err
		}
	}
	if run.Merges, err = s.putMergeRun(ctx, prefix+"shuffle/", run.ResultsPrefix, item, chunks); err != nil {
		return nil, err
	}
	run.Phase = item.Phase
	return &run, nil
}

// finalShuffle is the final extract's id shuffle, if its plan has one.
func finalShuffle(m *cutover.Migration) *idShuffle {
	p := m.FinalPlan
	if p == nil || p.Partitions == 0 {
		return nil
	}
	return &idShuffle{prefix: finalPrefix(m) + "shuffle/", parts: p.Partitions, chunks: p.Chunks - p.Merges, rounds: rounds{aliases: p.Aliases, links: p.Links}}
}

// shufflingFinal loads the migration in names, which must be migrating
// its final extract with an id shuffle.
//
// Errors: ECONFLICT when it is not.
func (s *Final) shufflingFinal(ctx context.Context, in FinalStep) (*cutover.Migration, idShuffle, error) {
	m, err := s.Store().GetMigration(ctx, in.MigrationID)
	if err != nil {
		return nil, idShuffle{}, err
	}
	if m.Status != cutover.StatusFinalMigrating {
		return nil, idShuffle{}, cutover.Errorf(cutover.ECONFLICT, "The final migration's id shuffle cannot run while the migration is %s.", m.Status)
	}
	sh := finalShuffle(m)
	if sh == nil {
		return nil, idShuffle{}, cutover.Errorf(cutover.ECONFLICT, "The final extract is one chunk and has no id shuffle.")
	}
	return m, *sh, nil
}

// FinalChunkKeys is the id shuffle's keys step for one final chunk: it
// stores the ids of the records the chunk's rows become, by partition. A
// chunk that is done runs it too: the chunks after it need its claims.
//
// Errors: ECONFLICT when the final extract is not being migrated with a
// shuffle, or the mapping is not the signed-off one; ENOTFOUND for an
// unknown chunk; as pass.Run; EUNAVAILABLE from storage.
func (s *Final) FinalChunkKeys(ctx context.Context, in FinalStep) (*FinalOutput, error) {
	m, sh, err := s.shufflingFinal(ctx, in)
	if err != nil {
		return nil, err
	}
	spec, err := signedOffSpec(m)
	if err != nil {
		return nil, err
	}
	c, err := s.chunks.GetChunk(ctx, m.ID, in.Index)
	if err != nil {
		return nil, err
	}
	p, err := s.finalChunkPass(ctx, m, spec, *c)
	if err != nil {
		return nil, err
	}
	res, err := s.emitKeys(ctx, sh, c.Index, p, chunkOpener{s.files, *c})
	if err != nil {
		return nil, err
	}
	return &FinalOutput{Shuffle: res}, nil
}

// ResolveFinalPartition is the id shuffle's resolve step for partition
// in.Index of the final extract.
//
// Errors: ECONFLICT when the final extract is not being migrated with a
// shuffle, or the partition is not one of it; ENOTFOUND when a chunk's
// keys were not stored; EUNAVAILABLE from storage.
func (s *Final) ResolveFinalPartition(ctx context.Context, in FinalStep) (*FinalOutput, error) {
	_, sh, err := s.shufflingFinal(ctx, in)
	if err != nil {
		return nil, err
	}
	return partitionStep(ctx, sh, in.Index, FinalResolve, s.resolvePartition)
}

// ResolveFinalAliases is the id shuffle's alias step (idalias.go) for key
// partition in.Index of the final extract.
//
// Errors: ECONFLICT when the final extract is not being migrated with a
// shuffle with an alias round, or the partition is not one of it;
// ENOTFOUND when a partition was not resolved; EINVALID for damaged
// survivors or keys; EUNAVAILABLE from storage.
func (s *Final) ResolveFinalAliases(ctx context.Context, in FinalStep) (*FinalOutput, error) {
	_, sh, err := s.shufflingFinal(ctx, in)
	if err != nil {
		return nil, err
	}
	return partitionStep(ctx, sh, in.Index, FinalAliases, s.resolveAliases)
}

// ResolveFinalLinks is the id shuffle's links step (idlinks.go) for link
// partition in.Index of the final extract.
//
// Errors: ECONFLICT when the final extract is not being migrated with a
// shuffle with a links round, or the partition is not one of it;
// ENOTFOUND when a keys or alias step did not run; EINVALID for damaged
// link keys; EUNAVAILABLE from storage.
func (s *Final) ResolveFinalLinks(ctx context.Context, in FinalStep) (*FinalOutput, error) {
	_, sh, err := s.shufflingFinal(ctx, in)
	if err != nil {
		return nil, err
	}
	return partitionStep(ctx, sh, in.Index, FinalLinks, s.resolveLinks)
}

// roundStep is the step of the id shuffle's round action names
// (FinalResolve, FinalAliases or FinalLinks).
func (s *base) roundStep(action string) func(context.Context, idShuffle, int) (*ShuffleResult, error) {
	switch action {
	case FinalAliases:
		return s.resolveAliases
	case FinalLinks:
		return s.resolveLinks
	}
	return s.resolvePartition
}

// partitionStep runs step for partition part of a final extract's id
// shuffle sh (the final's or a pre-flight's dry run's), the step of the
// round action names (FinalResolve, FinalAliases or FinalLinks).
//
// Errors: ECONFLICT when sh has no such round or partition; as step.
func partitionStep(ctx context.Context, sh idShuffle, part int, action string, step func(context.Context, idShuffle, int) (*ShuffleResult, error)) (*FinalOutput, error) {
	if part < 0 || part >= sh.parts {
		return nil, cutover.Errorf(cutover.ECONFLICT, "The final extract's id shuffle has %d partition(s), not partition %d.", sh.parts, part)
	}
	if err := sh.lacks(action); err != nil {
		return nil, err
	}
	res, err := step(ctx, sh, part)
	if err != nil {
		return nil, err
	}
	return &FinalOutput{Shuffle: res}, nil
}

// keepResults records on m's final plan where the latest Distributed Map
// run wrote its results; "" (a step run by hand) keeps what is recorded.
func keepResults(m *cutover.Migration, key string) {
	if key != "" && m.FinalPlan != nil {
		m.FinalPlan.Results = key
	}
}
