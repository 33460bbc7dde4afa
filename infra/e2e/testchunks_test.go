package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cutover/cutover/infra/stack"
)

// Issue 15, item 1 (the test half): on a stack whose chunks are 2 KiB, a
// test extract of a few hundred contacts, mapped without dedupe or
// references, is planned into several chunks that run as a Distributed
// Map: the execution has a Map Run, the Map's ResultWriter wrote one
// result per line of the manifest (each a chunk's counts), TEST holds one
// record per migrated row (read with the SDK), and the workbook's counts
// are the rows of the file, counted here from the file itself.
func TestTestMigrationRunsItsChunksAsADistributedMap(t *testing.T) {
	t.Parallel()
	cs := ownStack(t, "testmap", 5*time.Minute, stack.Options{Parameters: map[string]string{"FinalChunkBytes": "2048"}})
	cfg := stackConfig(t, cs)
	a := api{t: t, base: cs.APIURL}
	ops := cs.MintOpsToken("ana@vendor.test", time.Hour)
	id, key := a.create(ops, "chunky", "Chunky Lettings", "chunky.test", "boss")

	var b bytes.Buffer
	b.WriteString("Contact ID,Email,First Name,Last Name\n")
	for i := 1; i <= 400; i++ {
		email := fmt.Sprintf("person%d@chunky.test", i)
		if i%25 == 0 {
			email = "" // no e-mail and no name: rejected
			fmt.Fprintf(&b, "%d,,,\n", i)
			continue
		}
		fmt.Fprintf(&b, "%d,%s,Person,Number %d\n", i, email, i)
	}
	extract := b.Bytes()
	rows := bytes.Count(extract, []byte("\n")) - 1 // counted from the file, header left out
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/checklist", key, map[string]any{"counts": map[string]int{"contact": rows}})
	fileID := a.upload(id, key, "contacts.csv", "test", extract)
	mapping := contactsMapping(fileID, false)
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/mapping", key, map[string]any{"mapping": mapping})
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
	v := a.waitStatus(id, key, "awaiting_review", 1)

	// The manifest the Map read, and what its ResultWriter wrote.
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	get := func(k string) []byte {
		out, err := s3c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(cs.Names["UploadsBucket"]), Key: aws.String(k)})
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		defer out.Body.Close()
		body, err := io.ReadAll(out.Body)
		if err != nil {
			t.Fatal(err)
		}
		return body
	}
	prefix := fmt.Sprintf("artifacts/%s/round-1/test/", id)
	manifest := strings.Split(strings.TrimSpace(string(get(prefix+"chunks.jsonl"))), "\n")
	if len(manifest) < 4 {
		t.Fatalf("the manifest has %d chunk(s), want the %d-byte file in 2 KiB chunks", len(manifest), len(extract))
	}
	var results []struct {
		Index  int `json:"index"`
		Result struct {
			Index  int `json:"index"`
			Counts struct{ Read, Migrated, Rejected int }
		} `json:"result"`
	}
	if err := json.Unmarshal(get(prefix+"chunk-results/result.json"), &results); err != nil {
		t.Fatalf("the Map's results: %v", err)
	}
	if len(results) != len(manifest) {
		t.Fatalf("the Map wrote %d results for %d chunks", len(results), len(manifest))
	}
	read, seen := 0, map[int]bool{}
	for _, r := range results {
		if r.Result.Index != r.Index || seen[r.Index] || r.Result.Counts.Read == 0 {
			t.Fatalf("result %+v: want each chunk once, with its counts", r)
		}
		seen[r.Index] = true
		read += r.Result.Counts.Read
	}
	if read != rows {
		t.Fatalf("the chunks read %d rows; the file has %d", read, rows)
	}

	// The execution ran them as a Distributed Map: it has a Map Run, the
	// chunks' one, the id shuffle's two before it (the extract is several
	// chunks), and the test snapshot's merge in key ranges after it; and
	// before all of them the plan's two in parts (the file is more than
	// two chunks): its ranges scanned, then the chunks stitched from them
	// checked, one part a chunk.
	if states := mapRunStates(t, cs, v.Migration.ExecutionName); !slices.Equal(states, []string{"TestChunks", "TestComparePartitions", "TestKeys", "TestPlanParts", "TestPlanParts", "TestResolve"}) {
		t.Fatalf("the execution has the Map runs of %v; want the plan's two in parts, the test migration's chunks, its id shuffle's two and its snapshot's merge", states)
	}
	scans := strings.Split(strings.TrimSpace(string(get(prefix+"planning/scan.jsonl"))), "\n")
	checks := strings.Split(strings.TrimSpace(string(get(prefix+"planning/check.jsonl"))), "\n")
	if want := (len(extract) - len("Contact ID,Email,First Name,Last Name\n") + 2047) / 2048; len(scans) != want || len(checks) != len(manifest) {
		t.Fatalf("the plan in parts scanned %d ranges (want %d of 2 KiB after the header) and checked %d chunks (the manifest has %d)", len(scans), want, len(checks), len(manifest))
	}

	// The counts, the workbook and TEST agree with the file.
	rejected := rows / 25
	if c := v.Migration.Test; c == nil || c.Read != rows || c.Rejected != rejected || c.Migrated != rows-rejected {
		t.Fatalf("round 1 counts = %+v, want %d read, %d rejected", v.Migration.Test, rows, rejected)
	}
	var wb struct {
		Reconciliation []struct {
			Entity           string
			Rows, Migrated   int
			Rejected, Merged int
		} `json:"reconciliation"`
		Issues struct {
			RejectsFiles []struct{ File, URL string } `json:"rejectsFiles"`
		} `json:"issues"`
		SpotChecks []struct{ File string } `json:"spotChecks"`
	}
	a.must(http.StatusOK, "GET", "/migrations/"+id+"/workbook", key, nil).decode(t, &wb)
	if len(wb.Reconciliation) != 1 || wb.Reconciliation[0].Rows != rows || wb.Reconciliation[0].Migrated != rows-rejected {
		t.Fatalf("the workbook reconciles %+v, want %d rows", wb.Reconciliation, rows)
	}
	if len(wb.Issues.RejectsFiles) < 2 || len(wb.SpotChecks) == 0 {
		t.Fatalf("the workbook lists %d rejects file(s) and %d spot check(s): want one per chunk with rejects, and a sample", len(wb.Issues.RejectsFiles), len(wb.SpotChecks))
	}
	held := records(t, dynamodb.NewFromConfig(cfg), cs.Names["TestRecordsTable"], id)
	if len(held) != rows-rejected {
		t.Fatalf("TEST holds %d records, want %d", len(held), rows-rejected)
	}
}
