package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cutover/cutover/infra/stack"
	"github.com/cutover/cutover/internal/benchdata"
)

// BenchmarkFinalMigration migrates a generated contacts export (ROWS rows,
// default 1,000,000) end to end on the local stack: a 1,000-row test
// extract is mapped with infra/bench/full.json and signed off, then the
// full extract goes live through the real state machine (plan, chunks,
// finish, complete). In the same run a bare
// loader writes the same rows into the same emulator's LIVE table with
// BatchWriteItem (25 items a call, 4 calls in flight, as many as the
// final migration's transactions) and nothing else: no
// mapping, no validation, no exactly-once, no report. It prints rows/s for
// both, their ratio, each chunk's rows/s and each Lambda's peak memory.
//
//	go test ./infra/e2e -run '^$' -bench FinalMigration -benchtime 1x -timeout 60m
func BenchmarkFinalMigration(b *testing.B) {
	rows := 1_000_000
	if s := os.Getenv("ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 2000 {
			b.Fatalf("ROWS=%q: want a number of at least 2000", s)
		}
		rows = n
	}
	var full, sample bytes.Buffer
	if err := benchdata.WriteContacts(&full, rows, 7); err != nil {
		b.Fatal(err)
	}
	if err := benchdata.WriteContacts(&sample, 1000, 7); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		// The bare loader goes first, into a smaller table. It runs once:
		// kumo keeps every item in memory (about 6 GB a million of these).
		bareWorkers := 4
		bareSecs := benchBare(b, full.Bytes(), bareWorkers)
		cutoverSecs, chunks := benchCutover(b, sample.Bytes(), full.Bytes())
		b.ReportMetric(float64(rows)/cutoverSecs, "cutover-rows/s")
		b.ReportMetric(float64(rows)/bareSecs, "bare-rows/s")
		b.ReportMetric(bareSecs/cutoverSecs, "ratio")
		b.Logf("%d rows (%d MB): cutover %.1f s (%.0f rows/s) in %d chunks; bare BatchWriteItem loader %.1f s (%.0f rows/s, %d calls in flight); ratio %.2f (target 0.8)",
			rows, full.Len()>>20, cutoverSecs, float64(rows)/cutoverSecs, len(chunks), bareSecs, float64(rows)/bareSecs, bareWorkers, bareSecs/cutoverSecs)
		for _, c := range chunks {
			secs := c.finished.Sub(c.started).Seconds()
			b.Logf("  chunk %d: %d rows in %.1f s (%.0f rows/s), %d attempt(s)", c.Index, c.Counts.Read, secs, float64(c.Counts.Read)/secs, c.Attempts)
		}
		for _, fn := range []string{"MappingFunction", "TestMigrateFunction", "FinalMigrateFunction", "CompleteFunction", "CustomerApiFunction"} {
			if rss, err := st.PeakRSS(fn); err == nil {
				b.Logf("  %s peak RSS %d MB", fn, rss>>20)
			}
		}
	}
}

type benchChunk struct {
	chunkView
	StartedAt  string `json:"startedAt"`
	FinishedAt string `json:"finishedAt"`
	started    time.Time
	finished   time.Time
}

// benchCutover runs the migration and returns the seconds from go-live to
// live, and the chunks.
func benchCutover(b *testing.B, sample, full []byte) (float64, []benchChunk) {
	t := b
	a := api{t: t, base: st.APIURL}
	box := mailbox{t: t, endpoint: st.Endpoint}
	ops := st.MintOpsToken("bench@vendor.test", time.Hour)
	run := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	id, key := a.create(ops, run, "Bench", "bench.test", run)
	coordinator := run + "@bench.test"
	// The mapping is the mapping benchmark's full path (infra/bench/full.json:
	// renames, trims, cases, day-first dates, emails validated, phones to
	// E.164, tags split), set before the first round as a customer would.
	spec, err := os.ReadFile(filepath.Join("..", "bench", "full.json"))
	if err != nil {
		b.Fatal(err)
	}
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/mapping", key, map[string]any{"mapping": json.RawMessage(spec)})
	a.upload(id, key, "contacts.csv", "test", sample)
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
	a.reviewAll(id, key, 1)
	a.waitStatus(id, key, "awaiting_signoff", 1)
	a.must(http.StatusOK, "POST", "/signoff", box.signOffLink(coordinator, 1), map[string]any{"decision": "approve"})
	a.waitStatus(id, key, "awaiting_final", 1)
	finalID := a.upload(id, key, "contacts-full.csv", "final", full)
	goLive := time.Now().Add(2 * time.Second).UTC().Truncate(time.Second).Add(time.Second)
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/final", key, map[string]any{"goLiveAt": goLive.Format(time.RFC3339), "fileIds": []string{finalID}})
	time.Sleep(time.Until(goLive))
	for {
		v := a.migration(id, key)
		if v.Migration.Status == "live" {
			break
		}
		if v.Migration.Status == "failed" || v.Migration.Status == "final_blocked" {
			b.Fatalf("the final migration stopped: %s %+v", v.Migration.Status, v.Migration.Failure)
		}
		time.Sleep(100 * time.Millisecond)
	}
	secs := time.Since(goLive).Seconds()
	v := a.migration(id, key)
	db := dynamodb.NewFromConfig(awsConfig(b), func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
	live := countItems(b, db, st.Names["LiveRecordsTable"], v.Migration.TenantID)
	b.Logf("final counts %+v; LIVE holds %d records for the tenant", *v.Migration.Final, live)
	if live != v.Migration.Final.Migrated {
		b.Fatalf("LIVE holds %d records, the final migration says %d", live, v.Migration.Final.Migrated)
	}
	var detail struct {
		Chunks []benchChunk `json:"chunks"`
	}
	a.must(http.StatusOK, "GET", "/ops/migrations/"+id, ops, nil).decode(t, &detail)
	for i := range detail.Chunks {
		c := &detail.Chunks[i]
		c.started, _ = time.Parse(time.RFC3339Nano, c.StartedAt)
		c.finished, _ = time.Parse(time.RFC3339Nano, c.FinishedAt)
	}
	return secs, detail.Chunks
}

// benchBare loads the rows into LIVE the plainest way: one item per row
// with the same key shape and the row's values as fields, BatchWriteItem.
func benchBare(b *testing.B, full []byte, workers int) float64 {
	return benchBareOn(b, st, full, workers)
}

// benchBareOn is benchBare into stack s's LIVE table.
func benchBareOn(b *testing.B, s *stack.Stack, full []byte, workers int) float64 {
	return bareLoad(b, s, full, workers, s.Names["LiveRecordsTable"], 0)
}

// bareLoad is benchBare into table of stack s, and returns the seconds it
// took. With round > 0 the table is a scratch table of its own, created
// for every round of that many rows and deleted after it, outside the
// clock: kumo holds every item in memory, so an extract larger than it
// can hold beside the journey's is loaded a round at a time (the rate of
// BatchWriteItem does not depend on what the table already holds).
func bareLoad(b *testing.B, s *stack.Stack, full []byte, workers int, table string, round int) float64 {
	db := dynamodb.NewFromConfig(stackConfig(b, s), func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
	ctx := context.Background()
	partition := fmt.Sprintf("bare-%d", time.Now().UnixNano())
	r := csv.NewReader(bytes.NewReader(full))
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		b.Fatal(err)
	}
	header = append([]string(nil), header...)
	now := time.Now().UTC().Format(time.RFC3339Nano)
	line, secs := 1, 0.0
	for done := false; !done; {
		if round > 0 {
			_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
				TableName: &table, BillingMode: ddb.BillingModePayPerRequest,
				AttributeDefinitions: []ddb.AttributeDefinition{{AttributeName: aws.String("PK"), AttributeType: ddb.ScalarAttributeTypeS}, {AttributeName: aws.String("SK"), AttributeType: ddb.ScalarAttributeTypeS}},
				KeySchema:            []ddb.KeySchemaElement{{AttributeName: aws.String("PK"), KeyType: ddb.KeyTypeHash}, {AttributeName: aws.String("SK"), KeyType: ddb.KeyTypeRange}},
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		start := time.Now()
		batches := make(chan []ddb.WriteRequest, 16)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var firstErr error
		for range workers {
			wg.Go(func() {
				for reqs := range batches {
					for len(reqs) > 0 {
						out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddb.WriteRequest{table: reqs}})
						if err != nil {
							mu.Lock()
							firstErr = err
							mu.Unlock()
							break
						}
						reqs = out.UnprocessedItems[table]
					}
				}
			})
		}
		var batch []ddb.WriteRequest
		for n := 0; round == 0 || n < round; n++ {
			rec, err := r.Read()
			if err == io.EOF {
				done = true
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			line++
			fields := make(map[string]ddb.AttributeValue, len(rec))
			for i, v := range rec {
				if v != "" && i < len(header) {
					fields[header[i]] = &ddb.AttributeValueMemberS{Value: v}
				}
			}
			sum := sha256.Sum256([]byte(partition + "\x00contact\x00" + rec[0]))
			id := hex.EncodeToString(sum[:16])
			batch = append(batch, ddb.WriteRequest{PutRequest: &ddb.PutRequest{Item: map[string]ddb.AttributeValue{
				"PK": &ddb.AttributeValueMemberS{Value: partition}, "SK": &ddb.AttributeValueMemberS{Value: "contact#" + id},
				"id": &ddb.AttributeValueMemberS{Value: id}, "entity": &ddb.AttributeValueMemberS{Value: "contact"},
				"sourceId": &ddb.AttributeValueMemberS{Value: rec[0]}, "sourceRow": &ddb.AttributeValueMemberN{Value: strconv.Itoa(line)},
				"fields": &ddb.AttributeValueMemberM{Value: fields}, "writtenAt": &ddb.AttributeValueMemberS{Value: now},
			}}})
			if len(batch) == 25 {
				batches <- batch
				batch = nil
			}
		}
		if len(batch) > 0 {
			batches <- batch
		}
		close(batches)
		wg.Wait()
		if firstErr != nil {
			b.Fatal(firstErr)
		}
		secs += time.Since(start).Seconds()
		if round > 0 {
			if _, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &table}); err != nil {
				b.Fatal(err)
			}
		}
	}
	return secs
}

// countItems counts a partition's items (for LIVE, a tenant's:
// partitionItems).
func countItems(b *testing.B, db *dynamodb.Client, table, partition string) int {
	n := 0
	in := partitionScan(table, partition)
	in.Select = ddb.SelectCount
	p := dynamodb.NewScanPaginator(db, in)
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		n += int(page.Count)
	}
	return n
}
