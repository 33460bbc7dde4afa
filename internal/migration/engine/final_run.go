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
// the final's artifacts, and returns the run that points at it.
//
// Errors: as putManifest.
func (s *Final) putFinalManifest(ctx context.Context, m *cutover.Migration, chunks []cutover.Chunk) (*ChunkRun, error) {
	items := make([]ChunkItem, len(chunks))
	for i, c := range chunks {
		items[i] = ChunkItem{MigrationID: m.ID, Round: m.Round, Index: c.Index}
	}
	slices.SortFunc(items, func(a, b ChunkItem) int { return a.Index - b.Index })
	key := finalPrefix(m) + finalManifestName
	if err := s.putManifest(ctx, key, items); err != nil {
		return nil, err
	}
	run := s.chunking.chunkRun(key, finalPrefix(m)+finalResultsName, len(items))
	return &run, nil
}

// keepResults records on m's final plan where the latest Distributed Map
// run wrote its results; "" (a step run by hand) keeps what is recorded.
func keepResults(m *cutover.Migration, key string) {
	if key != "" && m.FinalPlan != nil {
		m.FinalPlan.Results = key
	}
}
