package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cutover/cutover/infra/lambdarunner"
	"github.com/cutover/cutover/infra/stack"
	"github.com/cutover/cutover/internal/cutover"
)

// overlapHold stands between the functions and the emulator and holds the
// final migration's first LIVE write until the runner has counted a second
// FinalMigrate invocation in flight: the chunks are made to overlap (if
// they can), never merely hoped to.
type overlapHold struct {
	st                      atomic.Pointer[stack.Stack]
	liveTable               atomic.Value // string: the LIVE table's name
	once                    sync.Once
	overlapped, heldTooLong atomic.Bool
	liveWrites              atomic.Int64
}

func (h *overlapHold) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		table, _ := h.liveTable.Load().(string)
		if table != "" && r.Header.Get("X-Amz-Target") == "DynamoDB_20120810.TransactWriteItems" {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			if bytes.Contains(body, []byte(`"`+table+`"`)) {
				h.liveWrites.Add(1)
				h.once.Do(h.holdForASecondChunk)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// holdForASecondChunk waits until the runner counts two FinalMigrate
// invocations in flight, or a minute passes (then the test fails: the
// chunks did not overlap).
func (h *overlapHold) holdForASecondChunk() {
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, peak, err := h.st.Load().Concurrency("FinalMigrateFunction"); err == nil && peak >= 2 {
			h.overlapped.Store(true)
			return
		}
	}
	h.heldTooLong.Store(true)
}

// The chunks of one final migration run at once, in processes of their
// own, and lose nothing to each other. The first LIVE write is held until
// the runner itself has counted a second chunk invocation in flight; then
// everything is checked apart from the migration's own accounting: LIVE
// holds exactly one record per row of the final extract, every chunk record
// is done after one attempt, the chunks' byte ranges tile the file, their
// counts add up to the rows, and each chunk's snapshot in S3 holds exactly
// the records it counted, together exactly LIVE's.
func TestChunksOfAFinalMigrationOverlapAndLoseNothing(t *testing.T) {
	t.Parallel()
	h := &overlapHold{}
	fs := ownStack(t, "overlap", 5*time.Minute, stack.Options{
		Parameters: map[string]string{"FinalChunkBytes": "2048"}, FunctionTraffic: h.wrap,
	})
	h.st.Store(fs)
	cfg := stackConfig(t, fs)
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	a := api{t: t, base: fs.APIURL}
	box := mailbox{t: t, endpoint: fs.Endpoint}
	ops := fs.MintOpsToken("ops@vendor.test", time.Hour)

	id, key := a.create(ops, "parallel", "Parallel", "parallel.test", "ada")
	var ids []int
	for i := 1; i <= 600; i++ {
		ids = append(ids, i)
	}
	named := func(i int) string { return fmt.Sprintf("Person %d", i) }
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/checklist", key, map[string]any{"counts": map[string]int{"contact": len(ids)}})
	a.upload(id, key, "contacts.csv", "test", extract(ids, named))
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
	a.reviewAll(id, key, 1)
	a.waitStatus(id, key, "awaiting_signoff", 1)
	a.must(http.StatusOK, "POST", "/signoff", box.signOffLink("ada@parallel.test", 1), map[string]any{"decision": "approve"})
	a.waitStatus(id, key, "awaiting_final", 1)

	finalCSV := extract(ids, named)
	finalID := a.upload(id, key, "contacts-final.csv", "final", finalCSV)
	h.liveTable.Store(fs.Names["LiveRecordsTable"])
	goLive := time.Now().Add(2 * time.Second).UTC().Truncate(time.Second).Add(time.Second)
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/final", key, map[string]any{"goLiveAt": goLive.Format(time.RFC3339), "fileIds": []string{finalID}})
	v := a.waitStatus(id, key, "live", 1)

	// The runner saw chunks in flight at once, within its limit.
	procs, peak, err := fs.Concurrency("FinalMigrateFunction")
	if err != nil {
		t.Fatal(err)
	}
	if !h.overlapped.Load() || h.heldTooLong.Load() || peak < 2 {
		t.Fatalf("the chunks did not overlap: peak %d in flight, held a minute without a second: %v", peak, h.heldTooLong.Load())
	}
	if procs > lambdarunner.DefaultConcurrency || peak > lambdarunner.DefaultConcurrency {
		t.Fatalf("%d processes, %d in flight: more than the limit of %d", procs, peak, lambdarunner.DefaultConcurrency)
	}

	// LIVE, read directly: one record per row of the final extract.
	live := liveItems(t, db, fs.Names["LiveRecordsTable"], "parallel")
	liveIDs := map[string]bool{}
	bySource := map[string]int{}
	for sk, it := range live {
		liveIDs[sk] = true
		bySource[it.sourceID]++
	}
	if len(live) != len(ids) || len(bySource) != len(ids) {
		t.Fatalf("LIVE holds %d records of %d source ids; want %d", len(live), len(bySource), len(ids))
	}
	for _, i := range ids {
		if bySource[fmt.Sprint(i)] != 1 {
			t.Fatalf("source id %d is in LIVE %d times", i, bySource[fmt.Sprint(i)])
		}
	}

	// The chunk records, read directly.
	chunks := chunkRecords(t, db, fs.Names["MigrationsTable"], id)
	if len(chunks) < 4 {
		t.Fatalf("%d chunks; 2 KiB chunks of a %d byte extract should be many more", len(chunks), len(finalCSV))
	}
	var read, migrated int
	var next int64 = -1
	fromSnapshots := map[string]int{}
	for i, c := range chunks {
		if c.Index != i || c.Status != cutover.ChunkDone || c.Attempts != 1 || c.Error != "" {
			t.Fatalf("chunk %d: index %d, %s after %d attempts (%s); want done after one", i, c.Index, c.Status, c.Attempts, c.Error)
		}
		if next >= 0 && c.Start != next {
			t.Fatalf("chunk %d starts at byte %d; the one before ended at %d", i, c.Start, next)
		}
		next = c.End
		if !c.Counts.Balanced() || c.Counts.Rejected != 0 || c.Counts.Merged != 0 || c.Counts.Skipped != 0 {
			t.Fatalf("chunk %d counts %+v", i, c.Counts)
		}
		read += c.Counts.Read
		migrated += c.Counts.Migrated
		lines := snapshotIDs(t, s3c, fs.Names["UploadsBucket"], c.Snapshot)
		if len(lines) != c.Counts.Migrated {
			t.Fatalf("chunk %d counted %d migrated; its snapshot holds %d records", i, c.Counts.Migrated, len(lines))
		}
		for _, l := range lines {
			fromSnapshots[l]++
		}
	}
	if next != int64(len(finalCSV)) {
		t.Fatalf("the last chunk ends at byte %d of %d", next, len(finalCSV))
	}
	// The chunk records say so too: some two chunks were running at once.
	overlapping := false
	for i := range chunks {
		for j := i + 1; j < len(chunks); j++ {
			a, b := chunks[i], chunks[j]
			overlapping = overlapping || a.StartedAt.Before(b.FinishedAt) && b.StartedAt.Before(a.FinishedAt)
		}
	}
	if !overlapping {
		t.Fatal("no two chunk records' running times overlap")
	}
	if read != len(ids) || migrated != len(ids) {
		t.Fatalf("the chunks read %d and migrated %d rows; the extract has %d", read, migrated, len(ids))
	}
	if len(fromSnapshots) != len(ids) {
		t.Fatalf("the snapshots hold %d distinct records; want %d", len(fromSnapshots), len(ids))
	}
	for rec, n := range fromSnapshots {
		if n != 1 || !liveIDs[rec] {
			t.Fatalf("snapshot record %s: in %d snapshots, in LIVE: %v", rec, n, liveIDs[rec])
		}
	}

	// And the migration's own account agrees.
	if c := v.Migration.Final; c == nil || c.Read != len(ids) || c.Migrated != len(ids) {
		t.Fatalf("final counts %+v, want %d read and migrated", v.Migration.Final, len(ids))
	}
	t.Logf("%d chunks, %d in flight at most, %d processes; %d LIVE transactions", len(chunks), peak, procs, h.liveWrites.Load())
}

// chunkRecords reads a migration's chunk items straight from its table, in
// index order.
func chunkRecords(t *testing.T, db *dynamodb.Client, table, id string) []cutover.Chunk {
	t.Helper()
	var out []cutover.Chunk
	p := dynamodb.NewQueryPaginator(db, &dynamodb.QueryInput{
		TableName: &table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("PK = :p AND begins_with(SK, :c)"),
		ExpressionAttributeValues: map[string]ddb.AttributeValue{
			":p": &ddb.AttributeValueMemberS{Value: "MIG#" + id}, ":c": &ddb.AttributeValueMemberS{Value: "CHUNK#"},
		},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var batch []cutover.Chunk
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &batch); err != nil {
			t.Fatal(err)
		}
		out = append(out, batch...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}

// snapshotIDs reads a chunk's snapshot (JSON lines) from S3 and returns
// each line's key, "entity#id", as LIVE's sort keys name records.
func snapshotIDs(t *testing.T, s3c *s3.Client, bucket, key string) []string {
	t.Helper()
	if key == "" {
		t.Fatal("a done chunk names no snapshot")
	}
	obj, err := s3c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("snapshot %s: %v", key, err)
	}
	defer obj.Body.Close()
	var out []string
	sc := bufio.NewScanner(obj.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var rec struct {
			Key string `json:"k"` // entity#id (internal/delta.Entry)
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil || !strings.Contains(rec.Key, "#") {
			t.Fatalf("snapshot %s line %q: %v", key, sc.Text(), err)
		}
		out = append(out, rec.Key)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
