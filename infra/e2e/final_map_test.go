package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfnt "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/cutover/cutover/infra/stack"
)

// longestArray is the length of the longest JSON array anywhere in v.
func longestArray(v any) int {
	n := 0
	switch x := v.(type) {
	case []any:
		n = len(x)
		for _, e := range x {
			n = max(n, longestArray(e))
		}
	case map[string]any:
		for _, e := range x {
			n = max(n, longestArray(e))
		}
	}
	return n
}

// jsonLines reads an object of JSON Lines from the uploads bucket.
func jsonLines(t *testing.T, s3c *s3.Client, bucket, key string) []json.RawMessage {
	t.Helper()
	obj, err := s3c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("get s3://%s/%s: %v", bucket, key, err)
	}
	defer obj.Body.Close()
	body, err := io.ReadAll(obj.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out []json.RawMessage
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			if !json.Valid(line) {
				t.Fatalf("s3://%s/%s: a line that is not JSON: %q", bucket, key, line)
			}
			out = append(out, append(json.RawMessage(nil), line...))
		}
	}
	return out
}

// chunkResults reads a Distributed Map run's results (the ResultWriter's
// JSON Lines, one child's answer each) and fails the test unless each
// chunk answered once.
func chunkResults(t *testing.T, s3c *s3.Client, bucket, key string) map[int]chunkView {
	t.Helper()
	out := map[int]chunkView{}
	for _, line := range jsonLines(t, s3c, bucket, key) {
		var r chunkView
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		if _, dup := out[r.Index]; dup {
			t.Fatalf("s3://%s/%s answers for chunk %d twice", bucket, key, r.Index)
		}
		out[r.Index] = r
	}
	return out
}

// The final migration's chunks run as a Distributed Map over a manifest in
// S3, on the emulator, after the id shuffle's two (the extract repeats two
// source ids in later chunks: each is one record in LIVE and one rejected
// row, in the test migration too): the execution's payload never carries the chunks
// (its output has no list as long as the chunk store), the manifest has one
// line per chunk of the chunk store, the Map run is the deployment's
// (ChunkConcurrency) with one item per chunk, its ResultWriter keeps one
// result per chunk where the final plan says, and the state machine's
// executions are the service's own: no child execution floods the list
// ops and the sweep read.
func TestFinalChunksRunAsADistributedMapOverAManifest(t *testing.T) {
	ms := ownStack(t, "finalmap", 5*time.Minute, stack.Options{
		Parameters: map[string]string{"FinalChunkBytes": "2048", "ChunkConcurrency": "3", "FinalCompareBytes": "4096"},
	})
	ctx := ctxT(t)
	cfg := stackConfig(t, ms)
	sf := sfn.NewFromConfig(cfg)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	bucket := ms.Names["UploadsBucket"]
	a := api{t: t, base: ms.APIURL}
	box := mailbox{t: t, endpoint: ms.Endpoint}
	ops := ms.MintOpsToken("ops@vendor.test", time.Hour)

	id, key := a.create(ops, "hooli", "Hooli", "hooli.test", "gavin")
	var ids []int
	for i := 1; i <= 400; i++ {
		ids = append(ids, i)
	}
	const distinct = 400
	ids = append(ids, 3, 200) // repeats, in the last chunk, of ids in the first and a middle one
	named := func(i int) string { return fmt.Sprintf("Person %d", i) }
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/checklist", key, map[string]any{"counts": map[string]int{"contact": distinct}})
	a.upload(id, key, "contacts.csv", "test", extract(ids, named))
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
	tested := a.waitStatus(id, key, "awaiting_review", 1)
	if c := tested.Migration.Test; c == nil || c.Read != len(ids) || c.Migrated != distinct || c.Rejected != 2 {
		t.Fatalf("the test migration counts %+v; want %d read, %d migrated, the 2 repeats rejected", tested.Migration.Test, len(ids), distinct)
	}
	v := a.goLive(box, id, key, "gavin@hooli.test", extract(ids, named))

	arn := aws.String(executionARN(ms.ARNs["MigrationStateMachine"], v.Migration.ExecutionName))
	exec, err := sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: arn})
	for deadline := time.Now().Add(30 * time.Second); err == nil && exec.Status == sfnt.ExecutionStatusRunning && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
		exec, err = sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: arn})
	}
	if err != nil || exec.Status != sfnt.ExecutionStatusSucceeded {
		t.Fatalf("execution: %v %v", exec, err)
	}

	var detail struct {
		Migration struct {
			FinalPlan struct {
				Chunks, Rows      int
				Manifest, Results string
			} `json:"finalPlan"`
		} `json:"migration"`
		Chunks []chunkView `json:"chunks"`
	}
	a.must(http.StatusOK, "GET", "/ops/migrations/"+id, ops, nil).decode(t, &detail)
	chunks, plan := detail.Chunks, detail.Migration.FinalPlan
	if len(chunks) < 5 || plan.Chunks != len(chunks) || plan.Rows != len(ids) {
		t.Fatalf("%d chunks, plan %+v; 2 KiB chunks of a %d-row extract should give at least 5", len(chunks), plan, len(ids))
	}

	// The payload: where the manifest is and how to run it, never the chunks.
	var out struct {
		Plan struct {
			Run struct {
				Manifest, ResultsPrefix string
				Chunks, Concurrency     int
			}
		}
	}
	var whole any
	if err := json.Unmarshal([]byte(aws.ToString(exec.Output)), &whole); err != nil {
		t.Fatalf("execution output %q: %v", aws.ToString(exec.Output), err)
	}
	if n := longestArray(whole); n >= len(chunks) {
		t.Fatalf("the execution's payload holds a list of %d (%d chunks): %s", n, len(chunks), aws.ToString(exec.Output))
	}
	_ = json.Unmarshal([]byte(aws.ToString(exec.Output)), &out)
	run := out.Plan.Run
	if run.Manifest == "" || run.Manifest != plan.Manifest || run.Chunks != len(chunks) || run.Concurrency != 3 {
		t.Fatalf("the payload's run %+v; want the manifest %q of %d chunks at the deployment's concurrency 3", run, plan.Manifest, len(chunks))
	}

	// The manifest: one line per chunk of the chunk store, what each child gets.
	lines := jsonLines(t, s3c, bucket, run.Manifest)
	if len(lines) != len(chunks) {
		t.Fatalf("the manifest has %d lines; the chunk store %d chunks", len(lines), len(chunks))
	}
	for i, c := range chunks {
		if want := fmt.Sprintf(`{"migrationId":%q,"round":1,"index":%d,"phase":""}`, id, c.Index); string(lines[i]) != want {
			t.Fatalf("manifest line %d is %s; want %s", i+1, lines[i], want)
		}
	}

	// The Map runs: distributed, at the deployment's concurrency, one item
	// per chunk, three of them: the pre-flight's dry run at submission and
	// at go-live, then the final's own, over the same chunks. The execution
	// also holds the test migration's Map run (TestChunks); a Map run's ARN
	// names its state (…:mapRun:<machine>/<state>:<id>).
	runs, err := sf.ListMapRuns(ctx, &sfn.ListMapRunsInput{ExecutionArn: arn})
	if err != nil {
		t.Fatal(err)
	}
	mapRuns := func(state string) []*string {
		var arns []*string
		for _, r := range runs.MapRuns {
			if strings.Contains(aws.ToString(r.MapRunArn), "/"+state+":") {
				arns = append(arns, r.MapRunArn)
			}
		}
		return arns
	}
	finals := mapRuns("MigrateChunks")
	if len(finals) != 3 {
		t.Fatalf("%d Map run(s) of MigrateChunks among %d; want three: the two pre-flights' dry runs and the final's", len(finals), len(runs.MapRuns))
	}
	for _, a := range finals {
		mr, err := sf.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: a})
		if err != nil {
			t.Fatal(err)
		}
		if mr.Status != sfnt.MapRunStatusSucceeded || mr.MaxConcurrency != 3 || mr.ItemCounts == nil || mr.ItemCounts.Total != int64(len(chunks)) || mr.ItemCounts.Succeeded != int64(len(chunks)) {
			t.Fatalf("map run %s, concurrency %d, items %+v; want %d succeeded at 3", mr.Status, mr.MaxConcurrency, mr.ItemCounts, len(chunks))
		}
	}

	// The ResultWriter's output: one result per chunk, where the plan says.
	if plan.Results == "" || !strings.HasPrefix(plan.Results, run.ResultsPrefix+"/") {
		t.Fatalf("the plan keeps the results at %q; want under %s/", plan.Results, run.ResultsPrefix)
	}
	results := chunkResults(t, s3c, bucket, plan.Results)
	read := 0
	for _, r := range results {
		if r.Status != "done" || r.Attempts != 1 {
			t.Fatalf("result %+v: want every chunk done at its first attempt", r)
		}
		read += r.Counts.Read
	}
	if len(results) != len(chunks) || read != len(ids) {
		t.Fatalf("%d results reading %d rows; want one per each of the %d chunks, reading %d", len(results), read, len(chunks), len(ids))
	}

	// The repeats: one record each in LIVE (read with the SDK), the first
	// row's, and one rejected row each; the id shuffle ran as two Map runs
	// before the chunks (each pre-flight's and the final's), one item per
	// chunk and one per partition.
	if c := v.Migration.Final; c == nil || c.Read != len(ids) || c.Migrated != distinct || c.Rejected != 2 {
		t.Fatalf("the final counts %+v; want %d read, %d migrated, the 2 repeats rejected", v.Migration.Final, len(ids), distinct)
	}
	held := map[string]int{}
	for _, it := range liveItems(t, dynamodb.NewFromConfig(cfg), ms.Names["LiveRecordsTable"], "hooli") {
		held[it.sourceID]++
	}
	if len(held) != distinct || held["3"] != 1 || held["200"] != 1 {
		t.Fatalf("LIVE holds %d source ids (3: %d, 200: %d); want each of the %d once", len(held), held["3"], held["200"], distinct)
	}
	// The tenant's records are spread over its 64 shard keys, hooli#00 to
	// hooli#63 (README "LIVE spreads a tenant over 64 keys").
	keys := map[string]bool{}
	for _, it := range partitionItems(t, dynamodb.NewFromConfig(cfg), ms.Names["LiveRecordsTable"], "hooli") {
		pk := it["PK"].(*ddb.AttributeValueMemberS).Value
		shard, ok := strings.CutPrefix(pk, "hooli#")
		if n, err := strconv.Atoi(shard); !ok || len(shard) != 2 || err != nil || n >= 64 {
			t.Fatalf("a LIVE record is under the key %q; want hooli#00 to hooli#63", pk)
		}
		keys[pk] = true
	}
	if len(keys) < 32 {
		t.Fatalf("LIVE's %d records are under %d keys; want them spread over most of the 64", distinct, len(keys))
	}
	var withShuffle struct {
		Plan struct {
			Run struct{ Shuffle struct{ Partitions int } }
		}
	}
	_ = json.Unmarshal([]byte(aws.ToString(exec.Output)), &withShuffle)
	shuffle := withShuffle.Plan.Run.Shuffle
	for state, items := range map[string]int{"FinalKeys": len(chunks), "FinalResolve": shuffle.Partitions} {
		arns := mapRuns(state)
		if len(arns) != 3 || items == 0 {
			t.Fatalf("%d Map run(s) of %s, the plan's shuffle %+v; want three (two pre-flights, the final), over %d item(s)", len(arns), state, shuffle, items)
		}
		for _, a := range arns {
			mr, err := sf.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: a})
			if err != nil {
				t.Fatal(err)
			}
			if mr.Status != sfnt.MapRunStatusSucceeded || mr.ItemCounts == nil || mr.ItemCounts.Succeeded != int64(items) {
				t.Fatalf("%s's Map run %s with items %+v; want %d succeeded", state, mr.Status, mr.ItemCounts, items)
			}
		}
	}

	// After the chunks, the snapshots are compared in key ranges (4 KiB of
	// snapshot each here): a Map run of ComparePartitions for each
	// pre-flight and for the final, and the test snapshot merged in one of
	// TestComparePartitions, over several ranges, all succeeded;
	// the final's delta against the test (the same rows) is empty, and
	// LIVE was read back against the ranges' holdings.
	compares := mapRuns("ComparePartitions")
	if len(compares) != 3 || len(mapRuns("TestComparePartitions")) != 1 {
		t.Fatalf("%d Map run(s) of ComparePartitions, %d of TestComparePartitions; want three (two pre-flights, the final) and the test's", len(compares), len(mapRuns("TestComparePartitions")))
	}
	for _, a := range append(compares, mapRuns("TestComparePartitions")...) {
		mr, err := sf.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: a})
		if err != nil {
			t.Fatal(err)
		}
		if mr.Status != sfnt.MapRunStatusSucceeded || mr.ItemCounts == nil || mr.ItemCounts.Total < 4 || mr.ItemCounts.Succeeded != mr.ItemCounts.Total {
			t.Fatalf("ComparePartitions' Map run %s with items %+v; want several key ranges, all succeeded", mr.Status, mr.ItemCounts)
		}
	}
	var report struct {
		Delta struct {
			Entities []struct {
				Entity                   string
				Before, After, Unchanged int
			}
		}
	}
	a.must(http.StatusOK, "GET", "/migrations/"+id+"/final-report", key, nil).decode(t, &report)
	if e := report.Delta.Entities; len(e) != 1 || e[0].Before != distinct || e[0].After != distinct || e[0].Unchanged != distinct {
		t.Fatalf("the final report's delta %+v; want the %d contacts of the test, unchanged", e, distinct)
	}

	// The state machine's executions are the service's own, one for this
	// migration: a Distributed Map's children do not flood the list.
	list, err := sf.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(ms.ARNs["MigrationStateMachine"])})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range list.Executions {
		names = append(names, aws.ToString(e.Name))
	}
	if len(names) != 1 || names[0] != v.Migration.ExecutionName {
		t.Fatalf("the state machine lists executions %v; want only %s", names, v.Migration.ExecutionName)
	}
}
