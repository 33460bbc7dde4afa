package engine

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/cutover/cutover/internal/cutover"
)

// The test and the final migration run their chunks as a Step Functions
// Distributed Map. The planning step writes a manifest, one JSON line per
// chunk, to the uploads bucket; the Map's ItemReader reads it there, so the
// state's payload never grows with the extract, and the Map's ResultWriter
// writes the children's results under the plan's results prefix.

// ChunkItem is one line of a chunk manifest: what the Distributed Map
// hands one child execution.
type ChunkItem struct {
	MigrationID string `json:"migrationId"`
	Round       int    `json:"round"`
	Index       int    `json:"index"`
	// Phase is the pre-flight's phase when the item is a chunk of its dry
	// run, "" for the final migration's own (preflight_run.go). Always
	// present: the final's Maps, which run both, hand it on by path.
	Phase string `json:"phase"`
}

// Chunking is how a deployment runs a plan's chunks (template parameters
// ChunkConcurrency and ChunkToleratedFailurePercentage).
type Chunking struct {
	// Concurrency is how many chunks run at once (the Map's
	// MaxConcurrency); 0 means DefaultChunkConcurrency.
	Concurrency int
	// ToleratedFailurePercentage is the share of child executions that
	// may fail before the Map run fails. A chunk's failure is caught in its
	// child and recorded on the chunk, so a child fails only when even
	// that record could not be made.
	ToleratedFailurePercentage int
	// PartitionRows is how many rows one partition of the id shuffle is
	// planned for; 0 means DefaultPartitionRows.
	PartitionRows int
	// MergeRows is how many records one merge partition is planned for
	// (merges.go); 0 means DefaultMergeRows.
	MergeRows int
	// WholeRows is how many rows an extract may have that needs the
	// links round, planned for a state machine without it (plan.go); 0
	// means MaxWholeRows.
	WholeRows int
}

// DefaultChunkConcurrency is how many chunks run at once when the
// deployment does not say.
const DefaultChunkConcurrency = 10

// ChunkRun tells the state machine where a plan's manifest is and how to
// run it: the Distributed Map reads these fields by path.
type ChunkRun struct {
	Manifest                   string `json:"manifest"`      // the manifest's key in the uploads bucket
	ResultsPrefix              string `json:"resultsPrefix"` // where the Map's ResultWriter writes
	Chunks                     int    `json:"chunks"`        // lines in the manifest
	Concurrency                int    `json:"concurrency"`   // the Map's MaxConcurrencyPath
	ToleratedFailurePercentage int    `json:"toleratedFailurePercentage"`
	// Shuffle, when set, is the id shuffle the state machine runs before
	// the chunks (idshuffle.go): an extract of several chunks.
	Shuffle *ShuffleRun `json:"shuffle,omitempty"`
	// Merges, when set, are the merge partitions the state machine runs
	// after the chunks (merges.go): records merged by dedupe key across
	// chunks.
	Merges *MergeRun `json:"merges,omitempty"`
	// Phase, when set, makes the run a pre-flight's dry run of the final
	// extract (preflight_run.go): after its chunks the state machine goes
	// to PreflightFinish, not FinishFinal.
	Phase string `json:"phase,omitempty"`
}

// chunkRun is the ChunkRun for a manifest at key with n chunks, results
// under prefix.
func (c Chunking) chunkRun(key, prefix string, n int) ChunkRun {
	return ChunkRun{Manifest: key, ResultsPrefix: prefix, Chunks: n, Concurrency: c.concurrency(), ToleratedFailurePercentage: c.ToleratedFailurePercentage}
}

// concurrency is how many children of a Map run at once.
func (c Chunking) concurrency() int {
	if c.Concurrency <= 0 {
		return DefaultChunkConcurrency
	}
	return c.Concurrency
}

// putManifest stores items as JSON Lines at key. Planning again writes
// the same bytes: the chunks of one extract do not change.
//
// Errors: EINTERNAL when an item cannot be encoded; as Files.Put.
func (s *base) putManifest(ctx context.Context, key string, items []ChunkItem) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, it := range items {
		if err := enc.Encode(it); err != nil {
			return cutover.Wrap(cutover.EINTERNAL, err, "The chunk manifest could not be encoded.")
		}
	}
	return s.files.Put(ctx, key, "application/x-ndjson", buf.Bytes())
}
