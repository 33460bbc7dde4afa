package engine

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
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
	Type         string
	ItemsPath    string
	ItemSelector map[string]string
	ItemReader   *struct {
		Resource     string
		ReaderConfig struct{ InputType string }
		Parameters   map[string]string
	}
	MaxConcurrencyPath             string
	ToleratedFailurePercentagePath string
	ToleratedFailurePercentage     *float64
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
	Next, Default  string
	End            bool
	Catch          []struct {
		ErrorEquals []string
		Next        string
	}
	Choices []struct {
		Variable     string
		IsPresent    *bool
		IsNull       *bool
		StringEquals string
		Next         string
	}
}

// pastPlanning is where a planning step's Next leads once planning is
// done: past its planning choice (TestPlanning?, PreflightPlanning?).
func pastPlanning(states map[string]aslState, next string) string {
	if strings.HasSuffix(next, "Planning?") {
		return states[next].Default
	}
	return next
}

// readASL reads the state machine's definition.
func readASL(t *testing.T) map[string]aslState {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "statemachine", "migration.asl.json"))
	if err != nil {
		t.Fatal(err)
	}
	var asl struct{ States map[string]aslState }
	if err := json.Unmarshal(raw, &asl); err != nil {
		t.Fatal(err)
	}
	return asl.States
}

// The test and the final migration run the id shuffle's two Distributed
// Maps between their plan and their chunks when, and only when, the plan
// has one; every path names a field the Go types write, and each child
// asks its Lambda for the action the engine answers.
func TestTheStateMachineShufflesIdsBeforeTheChunks(t *testing.T) {
	states := readASL(t)
	if !slices.Contains(jsonKeys(t, ChunkRun{Shuffle: &ShuffleRun{}}), "shuffle") {
		t.Fatal("ChunkRun does not write its shuffle as \"shuffle\"")
	}
	shuffleKeys, resultKeys := jsonKeys(t, ShuffleRun{AliasesResults: "set", LinksResults: "set"}), jsonKeys(t, ShuffleResult{})
	for _, ph := range []struct{ prefix, plan, run, chunks, keys, resolve, aliases, links string }{
		{"Test", "TestPlan", "$.testPlan.run", "TestChunks", TestKeys, TestResolve, TestAliases, TestLinks},
		{"Final", "PlanFinal", "$.plan.run", "MigrateChunks", FinalKeys, FinalResolve, FinalAliases, FinalLinks},
	} {
		choice, keys, resolve := states[ph.prefix+"Shuffle?"], states[ph.prefix+"Keys"], states[ph.prefix+"Resolve"]
		// The alias round, and the links round after it (which needs it),
		// run when, and only when, the run has their results.
		aliases, links := states[ph.prefix+"Aliases"], states[ph.prefix+"Links"]
		for _, r := range []struct{ name, field, next string }{
			{"Aliases", "aliasesResults", ph.chunks},
			{"Links", "linksResults", ph.chunks},
		} {
			ch, round := states[ph.prefix+r.name+"?"], states[ph.prefix+r.name]
			if len(ch.Choices) != 1 || ch.Default != r.next {
				t.Fatalf("%s%s? chooses %+v else %q; want the round or %s", ph.prefix, r.name, ch.Choices, ch.Default, r.next)
			}
			if c := ch.Choices[0]; c.Variable != ph.run+".shuffle."+r.field || c.IsPresent == nil || !*c.IsPresent || c.Next != ph.prefix+r.name {
				t.Fatalf("%s%s? chooses %+v; want %s.shuffle.%s present -> %s%s", ph.prefix, r.name, c, ph.run, r.field, ph.prefix, r.name)
			}
			if f := round.ToleratedFailurePercentage; f == nil || *f != 0 {
				t.Fatalf("%s%s tolerates %v; want no failure, explicitly", ph.prefix, r.name, f)
			}
		}
		next := pastPlanning(states, states[ph.plan].Next)
		if next == "TestReset" { // the test round resets TEST first
			next = states[next].Next
		}
		if next != ph.prefix+"Shuffle?" || len(choice.Choices) != 1 || choice.Default != ph.chunks {
			t.Fatalf("%s goes to %q, which chooses %+v else %q; want a choice of the shuffle or %s", ph.plan, next, choice.Choices, choice.Default, ph.chunks)
		}
		if c := choice.Choices[0]; c.Variable != ph.run+".shuffle" || c.IsPresent == nil || !*c.IsPresent || c.Next != ph.prefix+"Keys" {
			t.Fatalf("%sShuffle? chooses %+v; want %s.shuffle present -> %sKeys", ph.prefix, c, ph.run, ph.prefix)
		}
		for _, m := range []struct {
			name     string
			st       aslState
			manifest string // the ItemReader's key, a field of the plan's run
			results  string // the ResultWriter's prefix, a field of its shuffle
			action   string
			next     string
		}{
			{ph.prefix + "Keys", keys, "manifest", "shuffle.keysResults", ph.keys, ph.prefix + "Resolve"},
			{ph.prefix + "Resolve", resolve, "shuffle.manifest", "shuffle.resolveResults", ph.resolve, ph.prefix + "Aliases?"},
			{ph.prefix + "Aliases", aliases, "shuffle.manifest", "shuffle.aliasesResults", ph.aliases, ph.prefix + "Links?"},
			{ph.prefix + "Links", links, "shuffle.manifest", "shuffle.linksResults", ph.links, ph.chunks},
		} {
			st := m.st
			switch {
			case st.Type != "Map" || st.ItemProcessor == nil || st.ItemProcessor.ProcessorConfig.Mode != "DISTRIBUTED":
				t.Fatalf("%s is not a Distributed Map: %+v", m.name, st)
			case st.ItemReader == nil || st.ItemReader.ReaderConfig.InputType != "JSONL" || st.ItemReader.Parameters["Key.$"] != ph.run+"."+m.manifest:
				t.Fatalf("%s reads %+v; want the JSON Lines at %s.%s", m.name, st.ItemReader, ph.run, m.manifest)
			case st.MaxConcurrencyPath != ph.run+".concurrency" || st.ToleratedFailurePercentagePath != "":
				t.Fatalf("%s runs at %q tolerating %q; want the run's concurrency and no failure", m.name, st.MaxConcurrencyPath, st.ToleratedFailurePercentagePath)
			case st.ResultWriter == nil || st.ResultWriter.Parameters["Prefix.$"] != ph.run+"."+m.results:
				t.Fatalf("%s writes its results %+v; want under %s.%s", m.name, st.ResultWriter, ph.run, m.results)
			case st.Next != m.next:
				t.Fatalf("%s goes to %q; want %s", m.name, st.Next, m.next)
			}
			if ph.prefix == "Final" && m.action == FinalKeys {
				// A chunk whose keys cannot be stored pauses the final for ops:
				// its child fails with ShuffleFailed, which the emulator's Map
				// passes on, and AWS's Map run reports as exceeding the
				// tolerated failure (none).
				// A pre-flight's dry run fails instead (ShuffleRetry? chooses).
				park, retry := states["AwaitShuffleRetry"], states["ShuffleRetry?"]
				if len(retry.Choices) != 1 || retry.Choices[0].Variable != "$.plan.run.phase" || retry.Choices[0].Next != "OwnExecution?" || retry.Default != "AwaitShuffleRetry" {
					t.Fatalf("ShuffleRetry? chooses %+v else %q; want a pre-flight's run to fail, the final's to park", retry.Choices, retry.Default)
				}
				if len(st.Catch) < 2 || st.Catch[0].Next != "ShuffleRetry?" || !slices.Equal(st.Catch[0].ErrorEquals, []string{"ShuffleFailed", "States.ExceedToleratedFailureThreshold"}) ||
					park.Next != "FinalKeys" || park.Parameters.Payload["kind"] != "chunks" {
					t.Fatalf("FinalKeys catches %+v; AwaitShuffleRetry %+v: want a failed child to park for ops (kind chunks) and run the shuffle again", st.Catch, park)
				}
			}
			for _, f := range []string{m.manifest, m.results} {
				if f, ok := strings.CutPrefix(f, "shuffle."); ok && !slices.Contains(shuffleKeys, f) {
					t.Fatalf("%s reads the shuffle's %q; ShuffleRun has %v", m.name, f, shuffleKeys)
				}
			}
			var child aslState
			for name, cs := range st.ItemProcessor.States {
				if cs.Parameters.Payload["action"] == m.action {
					child = cs
					if cs.Parameters.Payload["index.$"] != "$.index" || cs.Parameters.Payload["migrationId.$"] != "$.migrationId" {
						t.Errorf("%s passes %v; want the manifest line's index and migration", name, cs.Parameters.Payload)
					}
				}
			}
			if child.ResultSelector == nil {
				t.Fatalf("%s has no child asking for %q", m.name, m.action)
			}
			for k, p := range child.ResultSelector {
				f := strings.TrimSuffix(k, ".$")
				if p != "$.Payload.shuffle."+f || !slices.Contains(resultKeys, f) {
					t.Errorf("%s's child selects %s from %s; ShuffleResult has %v", m.name, k, p, resultKeys)
				}
			}
		}
	}
}

// Every planning step of the state machine says it runs the links round
// (TestStep.LinksRound, FinalStep.LinksRound, by the field's own name), so
// an extract that needs it is planned in chunks; an execution of an
// older definition, which does not say so, plans such an extract as one.
func TestThePlanningStepsSayTheStateMachineRunsTheLinksRound(t *testing.T) {
	states := readASL(t)
	for _, st := range []struct {
		name string
		keys []string
	}{
		{"TestPlan", jsonKeys(t, TestStep{LinksRound: true})},
		{"Preflight", jsonKeys(t, FinalStep{LinksRound: true})},
		{"GoLivePreflight", jsonKeys(t, FinalStep{LinksRound: true})},
		{"PlanFinal", jsonKeys(t, FinalStep{LinksRound: true})},
	} {
		if !slices.Contains(st.keys, "linksRound") || states[st.name].Parameters.Payload["linksRound"] != true {
			t.Errorf("%s passes %v; want linksRound true, a field of its step (%v)", st.name, states[st.name].Parameters.Payload, st.keys)
		}
	}
}

// The state machine runs the final's chunks as a Distributed Map over the
// plan's manifest, and every path it reads names a field the final
// migration's Go types write: a renamed field would fail only on AWS, or
// in the slow end-to-end tests.
func TestTheStateMachineRunsTheFinalsChunksFromTheManifest(t *testing.T) {
	states := readASL(t)
	plan, chunks, finish := states["PlanFinal"], states["MigrateChunks"], states["FinishFinal"]
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

// The pre-flight is a dry run through the final's own Maps: both phases'
// first steps answer with a run (or a decision), which becomes the plan the
// Maps read; every child hands its item's phase to the Lambda; after the
// Maps a run that names a phase goes to PreflightFinish, whose answer
// (held, phase) leads on from the phase that ran.
func TestTheStateMachineDryRunsThePreflightThroughTheFinalsMaps(t *testing.T) {
	states := readASL(t)
	if !slices.Contains(jsonKeys(t, ChunkItem{}), "phase") || !slices.Contains(jsonKeys(t, ChunkRun{Phase: "x"}), "phase") {
		t.Fatal("a manifest line or a run does not carry its phase as \"phase\"")
	}
	answer := jsonKeys(t, FinalOutput{Run: &ChunkRun{}, Phase: "x"})
	for _, k := range []string{"run", "held", "phase"} {
		if !slices.Contains(answer, k) {
			t.Fatalf("FinalOutput has no %q (it has %v)", k, answer)
		}
	}
	for name, phase := range map[string]string{"Preflight": cutover.PreflightAtSubmit, "GoLivePreflight": cutover.PreflightAtGoLive} {
		st := states[name]
		if st.Parameters.Payload["action"] != FinalPreflight || st.Parameters.Payload["phase"] != phase || pastPlanning(states, st.Next) != "PreflightPlanned?" || path(st.ResultPath) != "$.plan" ||
			st.ResultSelector["run.$"] != "$.Payload.run" || st.ResultSelector["held.$"] != "$.Payload.held" || st.ResultSelector["phase.$"] != "$.Payload.phase" {
			t.Fatalf("%s: %+v; want the %s pre-flight's run, held and phase at $.plan (where the final's Maps read a run), then PreflightPlanned?", name, st, phase)
		}
	}
	choice := readChoices(t)
	if p := choice.States["PreflightPlanned?"]; len(p.Choices) != 1 || p.Choices[0].Variable != "$.plan.run.chunks" || p.Choices[0].NumericGreaterThan == nil || *p.Choices[0].NumericGreaterThan != 0 ||
		p.Choices[0].Next != "FinalShuffle?" || p.Default != "PreflightDecided?" {
		t.Fatalf("PreflightPlanned? chooses %+v else %q; want a run with chunks through the final's Maps", p.Choices, p.Default)
	}
	for _, name := range []string{"Held?", "HeldAtGoLive?"} {
		if c := states[name].Choices; len(c) != 1 || c[0].Variable != "$.plan.held" {
			t.Fatalf("%s reads %+v; want the pre-flight's answer at $.plan.held", name, c)
		}
	}
	for _, m := range []string{"FinalKeys", "FinalResolve", "MigrateChunks", "MergePartitions"} {
		for name, child := range states[m].ItemProcessor.States {
			if child.Type == "Task" && child.Parameters.Payload["phase.$"] != "$.phase" {
				t.Errorf("%s's %s passes phase as %v; want the item's", m, name, child.Parameters.Payload["phase.$"])
			}
		}
	}
	dry, finish := states["DryRun?"], states["PreflightFinish"]
	if len(dry.Choices) != 1 || dry.Choices[0].Variable != "$.plan.run.phase" || dry.Choices[0].Next != "PreflightFinish" || dry.Default != "FinishFinal" ||
		states["MergePartitions"].Next != "ComparePlan" || states["FinalMerges?"].Default != "ComparePlan" || states["ComparePartitions"].Next != "DryRun?" {
		t.Fatalf("DryRun? chooses %+v else %q; want a pre-flight's run to PreflightFinish after both Maps", dry.Choices, dry.Default)
	}
	if finish.Parameters.Payload["action"] != FinalPreflightFinish || finish.Parameters.Payload["phase.$"] != "$.plan.run.phase" ||
		path(finish.ResultPath) != "$.plan" || finish.ResultSelector["held.$"] != "$.Payload.held" || finish.ResultSelector["phase.$"] != "$.Payload.phase" || finish.Next != "PreflightDecided?" {
		t.Fatalf("PreflightFinish %+v", finish)
	}
	d := choice.States["PreflightDecided?"]
	if len(d.Choices) != 1 || d.Choices[0].Variable != "$.plan.phase" || d.Choices[0].StringEquals != cutover.PreflightAtSubmit || d.Choices[0].Next != "Held?" || d.Default != "HeldAtGoLive?" {
		t.Fatalf("PreflightDecided? chooses %+v else %q; want submitted -> Held?, else HeldAtGoLive?", d.Choices, d.Default)
	}
}

// TEST is reset before a round's chunks, and expired after Complete, a
// slice a step: each Map reads the slices from the field the Go types
// write, each child asks for the action its Lambda answers with the slice,
// and an expiry that fails is recorded, never failing a live migration.
func TestTheStateMachineResetsAndExpiresTestASliceAtATime(t *testing.T) {
	states := readASL(t)
	plan, reset := states["TestPlan"], states["TestReset"]
	if pastPlanning(states, plan.Next) != "TestReset" || plan.ResultSelector["reset.$"] != "$.Payload.reset" || path(plan.ResultPath) != "$.testPlan" ||
		!slices.Contains(jsonKeys(t, TestOutput{Reset: []string{""}}), "reset") {
		t.Fatalf("TestPlan selects %v into %q and goes to %q; want the slices to reset at $.testPlan.reset, then TestReset", plan.ResultSelector, path(plan.ResultPath), plan.Next)
	}
	complete, expire := states["Complete"], states["ExpireTest"]
	if complete.Next != "ExpireTest" || complete.ResultSelector["expire.$"] != "$.Payload.expire" || path(complete.ResultPath) != "$.completion" ||
		!slices.Contains(jsonKeys(t, migration.CompleteOutput{}), "expire") {
		t.Fatalf("Complete selects %v into %q and goes to %q; want the slices to expire at $.completion.expire, then ExpireTest", complete.ResultSelector, path(complete.ResultPath), complete.Next)
	}
	for _, m := range []struct {
		name, items, next, action string
		st                        aslState
	}{
		{"TestReset", "$.testPlan.reset", "TestShuffle?", TestReset, reset},
		{"ExpireTest", "$.completion.expire", "", migration.CompleteExpire, expire},
	} {
		st := m.st
		if st.Type != "Map" || st.ItemsPath != m.items || st.ItemProcessor == nil || st.ItemProcessor.ProcessorConfig.Mode != "INLINE" || st.Next != m.next || path(st.ResultPath) != "(none)" {
			t.Fatalf("%s: %+v; want an inline Map over %s, then %q", m.name, st, m.items, m.next)
		}
		if st.ItemSelector["prefix.$"] != "$$.Map.Item.Value" || st.ItemSelector["migrationId.$"] != "$.migrationId" {
			t.Fatalf("%s gives its children %v; want the slice as prefix, and the migration", m.name, st.ItemSelector)
		}
		found := false
		for name, cs := range st.ItemProcessor.States {
			if cs.Parameters.Payload["action"] != m.action {
				continue
			}
			found = true
			if cs.Parameters.Payload["prefix.$"] != "$.prefix" || !slices.Contains(jsonKeys(t, TestStep{Prefix: "0"}), "prefix") || !slices.Contains(jsonKeys(t, migration.CompleteStep{Prefix: "0"}), "prefix") {
				t.Fatalf("%s passes %v; want the slice as prefix", name, cs.Parameters.Payload)
			}
			if m.name == "ExpireTest" {
				deferred := st.ItemProcessor.States["ExpiryDeferred"]
				if len(cs.Catch) != 1 || cs.Catch[0].Next != "ExpiryDeferred" || deferred.Parameters.Payload["action"] != migration.CompleteExpireDeferred ||
					len(deferred.Catch) != 1 || st.ItemProcessor.States[deferred.Catch[0].Next].Type != "Pass" {
					t.Fatalf("%s catches %+v, then %+v: want every failure recorded as deferred, and even that failing to end the child", name, cs.Catch, deferred)
				}
			}
		}
		if !found {
			t.Fatalf("%s has no child asking for %q", m.name, m.action)
		}
	}
}

// The test and the final migration run their merge partitions as a
// second Distributed Map after the chunks when, and only when, the plan
// has them: it reads the plan's merges manifest, writes its results under
// the merges' prefix, runs each partition as the chunk action (a merge
// partition is a chunk of the plan), catches a partition's failure as a
// chunk's, and goes on to the finish step.
func TestTheStateMachineMergesAfterTheChunks(t *testing.T) {
	states := readASL(t)
	if !slices.Contains(jsonKeys(t, ChunkRun{Merges: &MergeRun{}}), "merges") {
		t.Fatal("ChunkRun does not write its merge partitions as \"merges\"")
	}
	mergeKeys := jsonKeys(t, MergeRun{})
	for _, ph := range []struct{ prefix, run, chunks, merges, finish, action, failed string }{
		{"Test", "$.testPlan.run", "TestChunks", "TestMerge", "TestComparePlan", TestChunk, TestChunkFailed},
		{"Final", "$.plan.run", "MigrateChunks", "MergePartitions", "ComparePlan", FinalChunk, FinalChunkFailed},
	} {
		choice := states[ph.prefix+"Merges?"]
		if states[ph.chunks].Next != ph.prefix+"Merges?" || len(choice.Choices) != 1 || choice.Default != ph.finish {
			t.Fatalf("%s goes to %q, which chooses %+v else %q; want a choice of the merges or %s", ph.chunks, states[ph.chunks].Next, choice.Choices, choice.Default, ph.finish)
		}
		if c := choice.Choices[0]; c.Variable != ph.run+".merges" || c.IsPresent == nil || !*c.IsPresent || c.Next != ph.merges {
			t.Fatalf("%sMerges? chooses %+v; want %s.merges present -> %s", ph.prefix, c, ph.run, ph.merges)
		}
		st, chunks := states[ph.merges], states[ph.chunks]
		switch {
		case st.Type != "Map" || st.ItemProcessor == nil || st.ItemProcessor.ProcessorConfig.Mode != "DISTRIBUTED":
			t.Fatalf("%s is not a Distributed Map: %+v", ph.merges, st)
		case st.ItemReader == nil || st.ItemReader.ReaderConfig.InputType != "JSONL" || st.ItemReader.Parameters["Key.$"] != ph.run+".merges.manifest":
			t.Fatalf("%s reads %+v; want the JSON Lines at %s.merges.manifest", ph.merges, st.ItemReader, ph.run)
		case st.MaxConcurrencyPath != chunks.MaxConcurrencyPath || st.ToleratedFailurePercentagePath != chunks.ToleratedFailurePercentagePath:
			t.Fatalf("%s runs at %q tolerating %q; want the chunks' settings", ph.merges, st.MaxConcurrencyPath, st.ToleratedFailurePercentagePath)
		case st.ResultWriter == nil || st.ResultWriter.Parameters["Prefix.$"] != ph.run+".merges.resultsPrefix":
			t.Fatalf("%s writes its results %+v; want under %s.merges.resultsPrefix", ph.merges, st.ResultWriter, ph.run)
		case st.Next != ph.finish:
			t.Fatalf("%s goes to %q; want %s", ph.merges, st.Next, ph.finish)
		case ph.prefix == "Final" && (st.ResultPath == nil || *st.ResultPath == "$.chunkResults"):
			t.Fatalf("%s keeps its results at %v, over the chunks' that FinishFinal records", ph.merges, st.ResultPath)
		}
		for _, f := range []string{"manifest", "resultsPrefix"} {
			if !slices.Contains(mergeKeys, f) {
				t.Fatalf("%s reads the merges' %q; MergeRun has %v", ph.merges, f, mergeKeys)
			}
		}
		actions := map[string]string{}
		for name, cs := range st.ItemProcessor.States {
			if a, ok := cs.Parameters.Payload["action"].(string); ok {
				actions[a] = name
				if cs.Parameters.Payload["index.$"] != "$.index" || cs.Parameters.Payload["migrationId.$"] != "$.migrationId" {
					t.Errorf("%s passes %v; want the manifest line's index and migration", name, cs.Parameters.Payload)
				}
			}
		}
		run, failed := states[ph.merges].ItemProcessor.States[actions[ph.action]], actions[ph.failed]
		if actions[ph.action] == "" || failed == "" || len(run.Catch) == 0 || run.Catch[0].Next != failed {
			t.Fatalf("%s's children ask for %v; want %q caught into %q", ph.merges, actions, ph.action, ph.failed)
		}
		for name := range st.ItemProcessor.States {
			if _, clash := chunks.ItemProcessor.States[name]; clash || states[name].Type != "" {
				t.Errorf("%s's state %s has another state's name", ph.merges, name)
			}
		}
	}
}

// After the chunks and merge partitions (of the final or of a pre-flight's
// dry run, before DryRun? sends them to their finish step; of the test,
// before TestFinish), the snapshots are compared (the test's merged) in key
// ranges: the plan step keeps the Lambda's CompareRun at its own path
// (every field the state selects is one CompareRun always writes; the
// final's hands the run on whole, for its phase); the choice runs the
// ranges only when some were planned; the Map is a Distributed Map over
// the plan's manifest that tolerates no failure, hands each child its item
// (and the final's its phase), writes its results under the plan's prefix
// and goes on to the finish step; a failure of either goes where the
// finish steps' do.
func TestTheStateMachineComparesInKeyRanges(t *testing.T) {
	states := readASL(t)
	keys := jsonKeys(t, CompareRun{})
	if !slices.Contains(jsonKeys(t, FinalStep{Run: &ChunkRun{}}), "run") || !slices.Contains(jsonKeys(t, FinalOutput{Compare: &CompareRun{}}), "compare") ||
		!slices.Contains(jsonKeys(t, TestOutput{Compare: &CompareRun{}}), "compare") {
		t.Fatal("FinalStep does not read \"run\", or an output does not write \"compare\"")
	}
	choice := readChoices(t)
	item := jsonKeys(t, ChunkItem{})
	for _, ph := range []struct{ prefix, at, action, partition, finish string }{
		{"", "$.compare", FinalComparePlan, FinalComparePartition, "DryRun?"},
		{"Test", "$.testCompare", TestComparePlan, TestComparePartition, "TestFinish"},
	} {
		plan := states[ph.prefix+"ComparePlan"]
		if plan.Parameters.Payload["action"] != ph.action || path(plan.ResultPath) != ph.at || plan.Next != ph.prefix+"Compares?" ||
			(ph.prefix == "" && plan.Parameters.Payload["run.$"] != "$.plan.run") {
			t.Fatalf("%sComparePlan %+v; want %s (the final's given $.plan.run), its answer at %s, then %sCompares?", ph.prefix, plan, ph.action, ph.at, ph.prefix)
		}
		for k, v := range plan.ResultSelector {
			f := strings.TrimSuffix(k, ".$")
			if v != "$.Payload.compare."+f || !slices.Contains(keys, f) {
				t.Errorf("%sComparePlan selects %s from %s; CompareRun always writes %v", ph.prefix, k, v, keys)
			}
		}
		if len(plan.ResultSelector) != 4 {
			t.Errorf("%sComparePlan selects %v; want manifest, resultsPrefix, partitions and concurrency", ph.prefix, plan.ResultSelector)
		}
		if c := choice.States[ph.prefix+"Compares?"]; len(c.Choices) != 1 || c.Choices[0].Variable != ph.at+".partitions" || c.Choices[0].NumericGreaterThan == nil ||
			*c.Choices[0].NumericGreaterThan != 0 || c.Choices[0].Next != ph.prefix+"ComparePartitions" || c.Default != ph.finish {
			t.Fatalf("%sCompares? chooses %+v else %q; want ranges planned -> %sComparePartitions, else %s", ph.prefix, c.Choices, c.Default, ph.prefix, ph.finish)
		}
		name := ph.prefix + "ComparePartitions"
		st := states[name]
		switch {
		case st.Type != "Map" || st.ItemProcessor == nil || st.ItemProcessor.ProcessorConfig.Mode != "DISTRIBUTED":
			t.Fatalf("%s is not a Distributed Map: %+v", name, st)
		case st.ItemReader == nil || st.ItemReader.ReaderConfig.InputType != "JSONL" || st.ItemReader.Parameters["Key.$"] != ph.at+".manifest":
			t.Fatalf("%s reads %+v; want the JSON Lines at %s.manifest", name, st.ItemReader, ph.at)
		case st.MaxConcurrencyPath != ph.at+".concurrency" || st.ToleratedFailurePercentage == nil || *st.ToleratedFailurePercentage != 0:
			t.Fatalf("%s runs at %q tolerating %v; want the plan's concurrency and no failure", name, st.MaxConcurrencyPath, st.ToleratedFailurePercentage)
		case st.ResultWriter == nil || st.ResultWriter.Parameters["Prefix.$"] != ph.at+".resultsPrefix":
			t.Fatalf("%s writes its results %+v; want under %s.resultsPrefix", name, st.ResultWriter, ph.at)
		case st.Next != ph.finish || slices.Contains([]string{"$.chunkResults", "$.plan", "$.testPlan", "$"}, path(st.ResultPath)):
			t.Fatalf("%s goes to %q keeping its results at %q; want %s, not over the chunks' results or the plan", name, st.Next, path(st.ResultPath), ph.finish)
		}
		for _, n := range []string{ph.prefix + "ComparePlan", name} {
			if c := states[n].Catch; len(c) != 1 || c[0].Next != states["FinishFinal"].Catch[0].Next {
				t.Errorf("%s catches %+v; want where the finish steps' failures go", n, c)
			}
		}
		if len(st.ItemProcessor.States) != 1 {
			t.Fatalf("%s runs %d states; want one task", name, len(st.ItemProcessor.States))
		}
		for _, child := range st.ItemProcessor.States {
			p := child.Parameters.Payload
			if child.Type != "Task" || p["action"] != ph.partition || p["index.$"] != "$.index" || p["migrationId.$"] != "$.migrationId" || p["round.$"] != "$.round" ||
				(ph.prefix == "" && p["phase.$"] != "$.phase") {
				t.Fatalf("%s's child %+v; want %s with the item's migration, round, index (and the final's phase)", name, child, ph.partition)
			}
		}
		if plan.Parameters.Payload["migrationId.$"] != "$.migrationId" || plan.Parameters.Payload["round.$"] != "$.round" {
			t.Fatalf("%sComparePlan %+v; want the migration and round", ph.prefix, plan.Parameters.Payload)
		}
	}
	for _, k := range []string{"migrationId", "round", "index", "phase"} {
		if !slices.Contains(item, k) {
			t.Fatalf("a manifest line has no %q (it has %v)", k, item)
		}
	}
	if states["TestMerge"].Next != "TestComparePlan" {
		t.Fatalf("TestMerge goes to %q; want TestComparePlan", states["TestMerge"].Next)
	}
}

// aslChoices are the state machine's Choice states, as the tests read
// them beside aslState (whose Choices have no comparison operands).
type aslChoices struct {
	States map[string]struct {
		Choices []struct {
			Variable, StringEquals, Next string
			NumericGreaterThan           *float64
		}
		Default string
	}
}

func readChoices(t *testing.T) aslChoices {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "statemachine", "migration.asl.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c aslChoices
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// A large file is planned in parts: the test's and the pre-flight's
// planning steps answer the parts to run (always naming "planning", null
// when planning is done, so the selectors never miss a field); a choice
// runs them as a Distributed Map, none tolerated to fail, each child
// asking its Lambda for plan-part with its manifest line; then the same
// planning step again (the pre-flight's by its phase).
func TestTheStateMachinePlansLargeFilesInParts(t *testing.T) {
	states := readASL(t)
	// A pre-flight's answer always has a run (Preflight); the test's plan
	// answers none while its parts run.
	for _, out := range []any{TestOutput{}, FinalOutput{Run: &ChunkRun{}}} {
		for _, k := range []string{"planning", "run"} {
			if !slices.Contains(jsonKeys(t, out), k) {
				t.Fatalf("%T without a plan writes no %q: a ResultSelector naming it would fail", out, k)
			}
		}
	}
	if !slices.Contains(jsonKeys(t, TestOutput{}), "reset") {
		t.Fatal("TestOutput without slices writes no \"reset\"")
	}
	runKeys, partKeys := jsonKeys(t, PlanningRun{}), jsonKeys(t, PlanPart{})
	for _, k := range []string{"migrationId", "round"} {
		if !slices.Contains(partKeys, k) {
			t.Fatalf("a planning part does not carry %q", k)
		}
	}
	for _, ph := range []struct {
		steps          []string
		at, choice, mp string
		back           map[string]string // the phase the Map returns to each step by
	}{
		{[]string{"TestPlan"}, "$.testPlan", "TestPlanning?", "TestPlanParts", nil},
		{[]string{"Preflight", "GoLivePreflight"}, "$.plan", "PreflightPlanning?", "PreflightPlanParts", map[string]string{"Preflight": cutover.PreflightAtSubmit, "GoLivePreflight": cutover.PreflightAtGoLive}},
	} {
		for _, name := range ph.steps {
			if st := states[name]; st.Next != ph.choice || st.ResultSelector["planning.$"] != "$.Payload.planning" || path(st.ResultPath) != ph.at {
				t.Fatalf("%s selects %v into %s and goes to %q; want its planning at %s.planning, then %s", name, st.ResultSelector, path(st.ResultPath), st.Next, ph.at, ph.choice)
			}
		}
		c := states[ph.choice]
		if len(c.Choices) != 1 || c.Choices[0].Variable != ph.at+".planning" || c.Choices[0].IsNull == nil || *c.Choices[0].IsNull || c.Choices[0].Next != ph.mp {
			t.Fatalf("%s chooses %+v; want %s.planning not null -> %s", ph.choice, c.Choices, ph.at, ph.mp)
		}
		m := states[ph.mp]
		switch {
		case m.Type != "Map" || m.ItemProcessor == nil || m.ItemProcessor.ProcessorConfig.Mode != "DISTRIBUTED":
			t.Fatalf("%s is not a Distributed Map", ph.mp)
		case m.ItemReader == nil || m.ItemReader.ReaderConfig.InputType != "JSONL" || m.ItemReader.Parameters["Key.$"] != ph.at+".planning.manifest" || !slices.Contains(runKeys, "manifest"):
			t.Fatalf("%s reads %+v; want the JSONL manifest at %s.planning.manifest", ph.mp, m.ItemReader, ph.at)
		case m.MaxConcurrencyPath != ph.at+".planning.concurrency" || !slices.Contains(runKeys, "concurrency"):
			t.Fatalf("%s's concurrency is %q", ph.mp, m.MaxConcurrencyPath)
		case m.ToleratedFailurePercentage == nil || *m.ToleratedFailurePercentage != 0:
			t.Fatalf("%s tolerates %v failures; want none, said so", ph.mp, m.ToleratedFailurePercentage)
		case m.ResultWriter == nil || m.ResultWriter.Parameters["Prefix.$"] != ph.at+".planning.resultsPrefix" || !slices.Contains(runKeys, "resultsPrefix"):
			t.Fatalf("%s writes its results %+v", ph.mp, m.ResultWriter)
		case m.ResultPath == nil || *m.ResultPath != "":
			if m.ResultPath != nil {
				t.Fatalf("%s keeps its result at %q; want it discarded", ph.mp, *m.ResultPath)
			}
		}
		if len(m.Catch) != 1 || m.Catch[0].Next != "OwnExecution?" {
			t.Fatalf("%s catches %+v", ph.mp, m.Catch)
		}
		for name, child := range m.ItemProcessor.States {
			if p := child.Parameters.Payload; p["action"] != PlanPartAction || p["part.$"] != "$" || p["migrationId.$"] != "$.migrationId" || p["round.$"] != "$.round" || !child.End {
				t.Fatalf("%s's %s passes %v", ph.mp, name, p)
			}
		}
		if ph.back == nil {
			if m.Next != ph.steps[0] {
				t.Fatalf("%s goes on to %q; want %s again", ph.mp, m.Next, ph.steps[0])
			}
			continue
		}
		r := states[m.Next]
		if len(r.Choices) != 1 || r.Choices[0].Variable != ph.at+".phase" || r.Choices[0].StringEquals != ph.back["GoLivePreflight"] || r.Choices[0].Next != "GoLivePreflight" || r.Default != "Preflight" {
			t.Fatalf("%s goes on to %q, which chooses %+v else %q; want each pre-flight step again by its phase", ph.mp, m.Next, r.Choices, r.Default)
		}
	}
}
