package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
)

// outputJSON is what the state machine receives from a final-migration
// action: the handler's answer, encoded as Lambda encodes it.
func outputJSON(t *testing.T, out *FinalOutput) map[string]json.RawMessage {
	t.Helper()
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	return fields
}

// planRun is the ChunkRun a plan answered with (its "run" field, which
// the state machine's Distributed Map reads by path).
func planRun(t *testing.T, out *FinalOutput) ChunkRun {
	t.Helper()
	var run ChunkRun
	raw, ok := outputJSON(t, out)["run"]
	if !ok {
		t.Fatalf("the plan answered no run: %+v", out)
	}
	if err := json.Unmarshal(raw, &run); err != nil {
		t.Fatal(err)
	}
	return run
}

// manifestItems reads the manifest the way the Map's ItemReader does
// (JSON Lines), and fails the test unless every line is a ChunkItem and
// nothing else.
func manifestItems(t *testing.T, svc *Service, key string) []ChunkItem {
	t.Helper()
	body, ok := files(svc)[key]
	if !ok {
		t.Fatalf("no manifest at %s", key)
	}
	var items []ChunkItem
	for i, line := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		var it ChunkItem
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&it); err != nil {
			t.Fatalf("manifest line %d %q: %v", i+1, line, err)
		}
		items = append(items, it)
	}
	return items
}

// The plan hands the state machine a manifest in S3, one line per chunk
// of the chunk store, instead of the chunks themselves: the state's
// payload does not grow with the extract.
func TestPlanFinalWritesTheChunkManifest(t *testing.T) {
	svc, store, _ := finalService(t, 8)
	ctx := context.Background()
	id := signedOff(t, svc, store, "acme")
	cleared(t, svc, id)

	out, err := svc.PlanFinal(ctx, FinalStep{Action: FinalPlan, MigrationID: id, Round: 1})
	if err != nil {
		t.Fatal(err)
	}
	if raw, ok := outputJSON(t, out)["chunks"]; ok {
		t.Fatalf("the plan's output carries the chunks (%s): the state payload would grow with the extract", raw)
	}
	run := planRun(t, out)
	prefix := "artifacts/" + id + "/round-1/final/"
	if !strings.HasPrefix(run.Manifest, prefix) || !strings.HasSuffix(run.Manifest, ".jsonl") {
		t.Fatalf("manifest at %q; want a JSON Lines object under the final's artifacts %s", run.Manifest, prefix)
	}
	if !strings.HasPrefix(run.ResultsPrefix, prefix) || strings.HasPrefix(run.Manifest, run.ResultsPrefix) {
		t.Fatalf("results under %q; want a prefix of their own under %s, apart from the manifest %s", run.ResultsPrefix, prefix, run.Manifest)
	}
	if run.Concurrency != DefaultChunkConcurrency || run.ToleratedFailurePercentage != 0 {
		t.Fatalf("run %+v; want the default concurrency %d and no tolerated failure when the deployment says nothing", run, DefaultChunkConcurrency)
	}

	chunks, err := svc.FinalChunks(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) < 2 {
		t.Fatalf("%d chunks; 8-byte chunks should give several", len(chunks))
	}
	items := manifestItems(t, svc, run.Manifest)
	if len(items) != len(chunks) || run.Chunks != len(chunks) {
		t.Fatalf("the manifest has %d lines and the run says %d; the chunk store holds %d chunks", len(items), run.Chunks, len(chunks))
	}
	for i, c := range chunks {
		if want := (ChunkItem{MigrationID: id, Round: 1, Index: c.Index}); items[i] != want {
			t.Fatalf("manifest line %d is %+v; want %+v", i+1, items[i], want)
		}
	}

	// Planning again (a retried step, an ops retry) writes the same bytes,
	// also when the plan was never recorded (the planning run died).
	first := files(svc)[run.Manifest]
	delete(files(svc), run.Manifest)
	again, err := svc.PlanFinal(ctx, FinalStep{Action: FinalPlan, MigrationID: id, Round: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r := planRun(t, again); !reflect.DeepEqual(r, run) || files(svc)[run.Manifest] != first {
		t.Fatalf("re-plan: run %+v, manifest %q; want %+v and %q", r, files(svc)[run.Manifest], run, first)
	}
	m := store.migs[id]
	m.FinalPlan = nil
	store.migs[id] = m
	delete(files(svc), run.Manifest)
	if _, err := svc.PlanFinal(ctx, FinalStep{Action: FinalPlan, MigrationID: id, Round: 1}); err != nil {
		t.Fatal(err)
	}
	if files(svc)[run.Manifest] != first {
		t.Fatalf("re-plan of an unrecorded plan wrote %q; want %q", files(svc)[run.Manifest], first)
	}
}

// The deployment's ChunkConcurrency and ChunkToleratedFailurePercentage
// reach the Map through the run.
func TestPlanFinalRunsAtTheDeploymentsConcurrency(t *testing.T) {
	svc, store, _ := finalService(t, 8)
	svc.Chunking = Chunking{Concurrency: 3, ToleratedFailurePercentage: 5}
	id := signedOff(t, svc, store, "acme")
	cleared(t, svc, id)
	out, err := svc.PlanFinal(context.Background(), FinalStep{Action: FinalPlan, MigrationID: id, Round: 1})
	if err != nil {
		t.Fatal(err)
	}
	if run := planRun(t, out); run.Concurrency != 3 || run.ToleratedFailurePercentage != 5 {
		t.Fatalf("run %+v; want concurrency 3 and 5%% tolerated", run)
	}
}

// chunkLine is one line of the Map's results: what a chunk's child
// execution answered.
type chunkLine struct {
	Index    int            `json:"index"`
	Status   string         `json:"status"`
	Attempts int            `json:"attempts"`
	Counts   cutover.Counts `json:"counts"`
	Error    string         `json:"error"`
}

func chunkOutput(t *testing.T, out *FinalOutput) chunkLine {
	t.Helper()
	raw, ok := outputJSON(t, out)["chunk"]
	if !ok {
		t.Fatalf("the chunk's action answered no chunk: %+v", out)
	}
	var r chunkLine
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"index", "status", "attempts", "counts", "error"} {
		if !strings.Contains(string(raw), `"`+f+`":`) {
			t.Fatalf("the chunk's answer %s lacks %q, which the state machine selects", raw, f)
		}
	}
	return r
}

// Each chunk's child execution answers with the chunk's outcome, which the
// Map's ResultWriter keeps (one line per chunk), and FinishFinal records
// where the latest run's results are, for ops.
func TestChunkOutcomesAreTheMapsResults(t *testing.T) {
	svc, store, _ := finalService(t, 8)
	ctx := context.Background()
	id := signedOff(t, svc, store, "acme")
	cleared(t, svc, id)
	plan, err := svc.Final(ctx, FinalStep{Action: FinalPlan, MigrationID: id, Round: 1})
	if err != nil {
		t.Fatal(err)
	}
	run := planRun(t, plan)
	if err := runFinalShuffle(svc, &run); err != nil {
		t.Fatal(err)
	}
	items := manifestItems(t, svc, run.Manifest)
	read := 0
	for _, it := range items[:len(items)-1] {
		out, err := svc.Final(ctx, FinalStep{Action: FinalChunk, MigrationID: it.MigrationID, Round: it.Round, Index: it.Index})
		if err != nil {
			t.Fatal(err)
		}
		r := chunkOutput(t, out)
		if r.Index != it.Index || r.Status != string(cutover.ChunkDone) || r.Attempts != 1 || r.Error != "" {
			t.Fatalf("chunk %d answered %+v", it.Index, r)
		}
		read += r.Counts.Read
	}
	if read == 0 {
		t.Fatal("the chunks' answers count no rows")
	}
	last := items[len(items)-1]
	out, err := svc.Final(ctx, FinalStep{
		Action: FinalChunkFailed, MigrationID: id, Round: 1, Index: last.Index,
		Error: &migration.StepError{Error: "States.TaskFailed", Cause: `{"errorMessage":"gave up"}`},
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := chunkOutput(t, out); r.Index != last.Index || r.Status != string(cutover.ChunkFailed) || r.Error == "" {
		t.Fatalf("the failed chunk answered %+v", r)
	}

	var finish FinalStep
	results := fmt.Sprintf("artifacts/%s/round-1/final/chunk-results/run-1/manifest.json", id)
	if err := json.Unmarshal(fmt.Appendf(nil, `{"action":"finish","migrationId":%q,"round":1,"results":%q}`, id, results), &finish); err != nil {
		t.Fatal(err)
	}
	if out, err := svc.Final(ctx, finish); err != nil || !out.Retry {
		t.Fatalf("finish with a failed chunk: %+v, %v; want a retry", out, err)
	}
	m, _ := json.Marshal(store.migs[id].FinalPlan)
	if !strings.Contains(string(m), fmt.Sprintf(`"results":%q`, results)) {
		t.Fatalf("the final plan %s does not say where the chunks' results are", m)
	}
}
