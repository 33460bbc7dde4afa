package engine

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// jsonKeys are the JSON names of v's fields, as the state machine reads them.
func jsonKeys(t *testing.T, v any) []string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return slices.Sorted(maps.Keys(m))
}

// path is a state's ResultPath; "(none)" when it has none (null, or absent).
func path(p *string) string {
	if p == nil {
		return "(none)"
	}
	return *p
}

type aslState struct {
	Type       string
	ItemsPath  string
	ItemReader *struct {
		Resource     string
		ReaderConfig struct{ InputType string }
		Parameters   map[string]string
	}
	MaxConcurrencyPath             string
	ToleratedFailurePercentagePath string
	ItemProcessor                  *struct {
		ProcessorConfig struct{ Mode, ExecutionType string }
		States          map[string]aslState
	}
	ResultWriter *struct {
		Resource   string
		Parameters map[string]string
	}
	Parameters     struct{ Payload map[string]any }
	ResultSelector map[string]string
	ResultPath     *string
}

// The state machine runs the final's chunks as a Distributed Map over the
// plan's manifest, and every path it reads names a field the final
// migration's Go types write: a renamed field would fail only on AWS, or
// in the slow end-to-end tests.
func TestTheStateMachineRunsTheFinalsChunksFromTheManifest(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "statemachine", "migration.asl.json"))
	if err != nil {
		t.Fatal(err)
	}
	var asl struct{ States map[string]aslState }
	if err := json.Unmarshal(raw, &asl); err != nil {
		t.Fatal(err)
	}
	plan, chunks, finish := asl.States["PlanFinal"], asl.States["MigrateChunks"], asl.States["FinishFinal"]
	if got := plan.ResultSelector; len(got) != 1 || got["run.$"] != "$.Payload.run" || !slices.Contains(jsonKeys(t, FinalOutput{Run: &ChunkRun{}}), "run") || path(plan.ResultPath) != "$.plan" {
		t.Fatalf("PlanFinal selects %v into %q; want only the plan's run, at $.plan.run", got, path(plan.ResultPath))
	}
	run := func(field string) string { return "$.plan.run." + field }
	runKeys := jsonKeys(t, ChunkRun{})
	for _, k := range []string{"manifest", "resultsPrefix", "concurrency", "toleratedFailurePercentage"} {
		if !slices.Contains(runKeys, k) {
			t.Fatalf("ChunkRun has no field %q (it has %v)", k, runKeys)
		}
	}
	switch {
	case chunks.Type != "Map" || chunks.ItemsPath != "" || chunks.ItemProcessor == nil ||
		chunks.ItemProcessor.ProcessorConfig.Mode != "DISTRIBUTED" || chunks.ItemProcessor.ProcessorConfig.ExecutionType != "STANDARD":
		t.Fatalf("MigrateChunks is not a Distributed Map of standard children reading no list from the payload: %+v", chunks)
	case chunks.ItemReader == nil || chunks.ItemReader.Resource != "arn:aws:states:::s3:getObject" || chunks.ItemReader.ReaderConfig.InputType != "JSONL" ||
		chunks.ItemReader.Parameters["Bucket"] != "${UploadsBucket}" || chunks.ItemReader.Parameters["Key.$"] != run("manifest"):
		t.Fatalf("MigrateChunks' ItemReader %+v; want the JSON Lines manifest at %s", chunks.ItemReader, run("manifest"))
	case chunks.MaxConcurrencyPath != run("concurrency") || chunks.ToleratedFailurePercentagePath != run("toleratedFailurePercentage"):
		t.Fatalf("MigrateChunks runs at %q tolerating %q; want the plan's run", chunks.MaxConcurrencyPath, chunks.ToleratedFailurePercentagePath)
	case chunks.ResultWriter == nil || chunks.ResultWriter.Resource != "arn:aws:states:::s3:putObject" ||
		chunks.ResultWriter.Parameters["Bucket"] != "${UploadsBucket}" || chunks.ResultWriter.Parameters["Prefix.$"] != run("resultsPrefix"):
		t.Fatalf("MigrateChunks' ResultWriter %+v; want the plan's results prefix", chunks.ResultWriter)
	case chunks.ResultSelector["key.$"] != "$.ResultWriterDetails.Key" || path(chunks.ResultPath) != "$.chunkResults" ||
		finish.Parameters.Payload["results.$"] != "$.chunkResults.key" || !slices.Contains(jsonKeys(t, FinalStep{Results: "k"}), "results"):
		t.Fatalf("FinishFinal is not told where the Map's results are: map %v into %q, finish %v", chunks.ResultSelector, path(chunks.ResultPath), finish.Parameters.Payload)
	}

	// A child's input is one manifest line; its output, the chunk's outcome.
	item := jsonKeys(t, ChunkItem{})
	outcome := jsonKeys(t, ChunkResult{})
	for _, name := range []string{"MigrateChunk", "ChunkFailed"} {
		st := chunks.ItemProcessor.States[name]
		for _, k := range item {
			if st.Parameters.Payload[k+".$"] != "$."+k {
				t.Errorf("%s passes %s as %v; want the manifest line's %q", name, k, st.Parameters.Payload[k+".$"], "$."+k)
			}
		}
		var selected []string
		for k, path := range st.ResultSelector {
			selected = append(selected, k[:len(k)-2])
			if path != "$.Payload.chunk."+k[:len(k)-2] {
				t.Errorf("%s selects %s from %s", name, k, path)
			}
		}
		if slices.Sort(selected); !slices.Equal(selected, outcome) || path(st.ResultPath) != "$" {
			t.Errorf("%s outputs %v at %q; want the chunk's outcome %v as the child's output", name, selected, path(st.ResultPath), outcome)
		}
	}
}
