package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cutover/cutover/infra/stack"
)

// faults stands between the functions and the emulator and does to the
// final migration what production can: it throttles some LIVE writes,
// kills the FinalMigrate process in the middle of a chunk, and fails every
// read of one chunk of the final extract while broken.
type faults struct {
	st        *stack.Stack
	liveTable atomic.Value // string: the LIVE table's name, once known
	killAt    int64        // the LIVE transaction (1-based) during which the process is killed
	lastByte  atomic.Value // string: "-N", how the failing reads' Range header ends (the final file's last byte)
	broken    atomic.Bool
	letPass   atomic.Int64 // while broken, how many more reads of the range still succeed

	liveCalls, throttled, killed, refusedReads atomic.Int64
}

func (f *faults) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		table, _ := f.liveTable.Load().(string)
		if table != "" && r.Header.Get("X-Amz-Target") == "DynamoDB_20120810.TransactWriteItems" {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			if bytes.Contains(body, []byte(`"`+table+`"`)) {
				switch n := f.liveCalls.Add(1); {
				case n == f.killAt:
					// The process making this very write is lost: Kill
					// would take the longest-running invocation, which
					// may be another chunk's (or the broken one's).
					local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
					if local != nil && f.st.KillCaller("FinalMigrateFunction", r.RemoteAddr, local.String()) == nil {
						f.killed.Add(1)
					}
					http.Error(w, "killed", http.StatusBadGateway)
					return
				case n%3 == 0:
					f.throttled.Add(1)
					w.Header().Set("Content-Type", "application/x-amz-json-1.0")
					w.WriteHeader(http.StatusBadRequest)
					_, _ = io.WriteString(w, `{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput (injected)."}`)
					return
				}
			}
		}
		if end, _ := f.lastByte.Load().(string); f.broken.Load() && r.Method == http.MethodGet && end != "" && strings.HasSuffix(r.Header.Get("Range"), end) && f.letPass.Add(-1) < 0 {
			// Refused at once (403 is not an error the SDK retries), so the
			// broken chunk's invocations are brief.
			f.refusedReads.Add(1)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>injected</Message></Error>`)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// extract is a contacts export: ids, emails and names; one name in 50
// has a quoted line break, so chunk boundaries meet quoted newlines.
func extract(ids []int, name func(int) string) []byte {
	var b bytes.Buffer
	b.WriteString("Id,Email,Name\r\n")
	for _, i := range ids {
		n := name(i)
		if i%50 == 25 {
			n = "\"" + n + "\nsecond line\""
		}
		fmt.Fprintf(&b, "%d,person%d@example.test,%s\r\n", i, i, n)
	}
	return b.Bytes()
}

type liveItem struct{ sourceID, writtenAt, fields string }

func liveItems(t *testing.T, db *dynamodb.Client, table, tenant string) map[string]liveItem {
	t.Helper()
	out := map[string]liveItem{}
	for _, it := range partitionItems(t, db, table, tenant) {
		fields, _ := json.Marshal(it["fields"])
		out[it["SK"].(*ddb.AttributeValueMemberS).Value] = liveItem{
			sourceID:  it["sourceId"].(*ddb.AttributeValueMemberS).Value,
			writtenAt: it["writtenAt"].(*ddb.AttributeValueMemberS).Value,
			fields:    string(fields),
		}
	}
	return out
}

type chunkView struct {
	Index    int    `json:"index"`
	Start    int64  `json:"start"`
	End      int64  `json:"end"`
	Status   string `json:"status"`
	Attempts int    `json:"attempts"`
	Error    string `json:"error"`
	Counts   struct{ Read, Migrated int }
}

// The final migration at scale, on the emulator: the extract is divided
// into chunks that run in a Map state; one chunk's process is
// killed midway, a third of the LIVE writes are throttled, and one chunk
// cannot read its part of the extract: first not even for the id
// shuffle's keys step, which pauses the final for ops before any chunk
// runs; then (after ops retry) only for the chunk's own run, until ops
// retry again. LIVE ends with
// exactly one record per source record, the chunks that finished are not
// run again, the final step run twice changes nothing, and the delta
// report finds the planted adds, removes and edits.
func TestFinalMigrationSurvivesCrashesThrottlingAndFailedChunks(t *testing.T) {
	f := &faults{killAt: 5}
	fs := ownStack(t, "final", 5*time.Minute, stack.Options{
		Parameters: map[string]string{"FinalChunkBytes": "8192"}, FunctionTraffic: f.wrap,
	})
	ctx := ctxT(t)
	f.st = fs
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(fs.Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")), config.WithBaseEndpoint(fs.Endpoint))
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
	a := api{t: t, base: fs.APIURL}
	box := mailbox{t: t, endpoint: fs.Endpoint}
	ops := fs.MintOpsToken("ops@vendor.test", time.Hour)

	id, key := a.create(ops, "initech", "Initech", "initech.test", "bill")

	// The test extract: 2,000 contacts.
	var testIDs []int
	for i := 1; i <= 2000; i++ {
		testIDs = append(testIDs, i)
	}
	named := func(i int) string { return fmt.Sprintf("Person %d", i) }
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/checklist", key, map[string]any{"counts": map[string]int{"contact": 2004}})
	a.upload(id, key, "contacts.csv", "test", extract(testIDs, named))
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
	a.reviewAll(id, key, 1)
	a.waitStatus(id, key, "awaiting_signoff", 1)
	a.must(http.StatusOK, "POST", "/signoff", box.signOffLink("bill@initech.test", 1), map[string]any{"decision": "approve"})
	a.waitStatus(id, key, "awaiting_final", 1)

	// The final extract, pulled later: 1-7 were deleted in the old CRM,
	// 100-104 were renamed, 2001-2011 are new.
	var finalIDs []int
	for i := 8; i <= 2011; i++ {
		finalIDs = append(finalIDs, i)
	}
	renamed := func(i int) string {
		if i >= 100 && i <= 104 {
			return fmt.Sprintf("Person %d (married)", i)
		}
		return named(i)
	}
	finalCSV := extract(finalIDs, renamed)
	finalID := a.upload(id, key, "contacts-final.csv", "final", finalCSV)
	f.liveTable.Store(fs.Names["LiveRecordsTable"])
	// The last chunk ends with the file: fail every read of it until ops
	// retry, after the pre-flights' (at submission and at go-live, each a
	// dry run of the same chunks: its keys step and its chunk read the
	// range once each) and the submission's plan in parts (its last range
	// scanned, then its last chunk checked).
	f.lastByte.Store(fmt.Sprintf("-%d", len(finalCSV)-1))
	f.letPass.Store(6)
	f.broken.Store(true)
	goLive := time.Now().Add(3 * time.Second).UTC().Truncate(time.Second).Add(time.Second)
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/final", key, map[string]any{"goLiveAt": goLive.Format(time.RFC3339), "fileIds": []string{finalID}})

	// The broken chunk's keys step exhausts its retries: the migration
	// waits for ops before any chunk ran, telling the customer which part.
	blocked := a.waitStatus(id, key, "final_blocked", 1)
	if time.Now().Before(goLive) {
		t.Fatal("the final migration ran before its go-live time")
	}
	if r := blocked.Migration.Failure; r == nil || r.Step != "FinalKeys" || !strings.Contains(r.Reason, "of the final extract could not be checked for source ids repeated in other parts. Our team has been alerted") {
		t.Fatalf("blocked at the id shuffle with %+v", blocked.Migration.Failure)
	}
	var early struct {
		Chunks []chunkView `json:"chunks"`
	}
	a.must(http.StatusOK, "GET", "/ops/migrations/"+id, ops, nil).decode(t, &early)
	for _, c := range early.Chunks {
		if c.Status != "pending" || f.liveCalls.Load() != 0 {
			t.Fatalf("chunk %d is %s, %d LIVE writes: no chunk may run before the shuffle", c.Index, c.Status, f.liveCalls.Load())
		}
	}
	// Ops retry: the keys step reads the chunk this time, its own run does not.
	f.letPass.Store(1)
	a.must(http.StatusAccepted, "POST", "/ops/migrations/"+id+"/retry", ops, nil)
	a.waitStatus(id, key, "final_migrating", 1)
	blocked = a.waitStatus(id, key, "final_blocked", 1)
	if blocked.Migration.Failure == nil || !strings.Contains(blocked.Migration.Failure.Reason, "Our team has been alerted") {
		t.Fatalf("blocked without a reason: %+v", blocked.Migration.Failure)
	}
	var detail struct {
		Migration struct {
			FinalPlan struct{ Results string } `json:"finalPlan"`
		} `json:"migration"`
		Chunks []chunkView `json:"chunks"`
	}
	a.must(http.StatusOK, "GET", "/ops/migrations/"+id, ops, nil).decode(t, &detail)
	chunks := detail.Chunks
	if len(chunks) < 5 {
		t.Fatalf("%d chunks; the 8 KiB chunk size should give at least 5", len(chunks))
	}
	last := chunks[len(chunks)-1]
	if last.Status != "failed" || last.Error == "" || last.End != int64(len(finalCSV)) {
		t.Fatalf("the last chunk: %+v", last)
	}
	// The Distributed Map's results, where the plan says, tell ops the same.
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	results := chunkResults(t, s3c, fs.Names["UploadsBucket"], detail.Migration.FinalPlan.Results)
	if len(results) != len(chunks) || results[last.Index].Status != "failed" || results[last.Index].Error == "" || results[0].Status != "done" {
		t.Fatalf("the Map's results %+v; want the %d chunks, the last failed with its reason", results, len(chunks))
	}
	attempts := map[int]int{}
	for _, c := range chunks[:len(chunks)-1] {
		if c.Status != "done" {
			t.Fatalf("chunk %d is %s (%s); only the last should have failed", c.Index, c.Status, c.Error)
		}
		attempts[c.Index] = c.Attempts
	}
	opsTold := false
	for i := 0; i < 40 && !opsTold; i++ {
		for _, m := range box.all() {
			opsTold = opsTold || m.Subject == "Final migration paused: chunks failed" && strings.Contains(m.Body, "/ops/migrations/"+id+"/retry")
		}
		if !opsTold {
			time.Sleep(250 * time.Millisecond)
		}
	}
	if !opsTold {
		t.Fatal("ops were not mailed about the paused final migration")
	}
	if f.killed.Load() != 1 || f.throttled.Load() == 0 || f.refusedReads.Load() == 0 {
		t.Fatalf("faults: %d killed, %d throttled, %d reads refused", f.killed.Load(), f.throttled.Load(), f.refusedReads.Load())
	}
	reran := 0
	for _, n := range attempts {
		if n > 1 {
			reran++
		}
	}
	if reran != 1 {
		t.Fatalf("attempts per chunk %v: exactly the killed chunk should have run twice", attempts)
	}

	// The first chunk's record of being done is lost (as if its process
	// died after its last write): it runs again, in full, and must change
	// none of the live records it wrote the first time.
	table := fs.Names["LiveRecordsTable"]
	before := liveItems(t, db, table, "initech")
	_, err = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(fs.Names["MigrationsTable"]),
		Key:                       map[string]ddb.AttributeValue{"PK": &ddb.AttributeValueMemberS{Value: "MIG#" + id}, "SK": &ddb.AttributeValueMemberS{Value: "CHUNK#000000"}},
		UpdateExpression:          aws.String("SET #s = :p"),
		ExpressionAttributeNames:  map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":p": &ddb.AttributeValueMemberS{Value: "pending"}},
	})
	if err != nil {
		t.Fatal(err)
	}

	// Ops retry; only the failed chunk (and the one whose record was lost) runs again.
	f.broken.Store(false)
	a.must(http.StatusNotFound, "POST", "/ops/migrations/m-nosuchthing/retry", ops, nil)
	a.must(http.StatusAccepted, "POST", "/ops/migrations/"+id+"/retry", ops, nil)
	v := a.waitStatus(id, key, "live", 1)
	a.must(http.StatusConflict, "POST", "/ops/migrations/"+id+"/retry", ops, nil)
	a.must(http.StatusOK, "GET", "/ops/migrations/"+id, ops, nil).decode(t, &detail)
	for _, c := range detail.Chunks[:len(detail.Chunks)-1] {
		want := attempts[c.Index]
		if c.Index == 0 {
			want++
		}
		if c.Attempts != want {
			t.Fatalf("chunk %d has %d attempts after the retry, want %d", c.Index, c.Attempts, want)
		}
	}
	if c := v.Migration.Final; c == nil || c.Read != len(finalIDs) || c.Migrated != len(finalIDs) {
		t.Fatalf("final counts %+v, want %d read and migrated", v.Migration.Final, len(finalIDs))
	}
	// The retry ran the whole manifest again: every chunk's result is done.
	for _, r := range chunkResults(t, s3c, fs.Names["UploadsBucket"], detail.Migration.FinalPlan.Results) {
		if r.Status != "done" {
			t.Fatalf("after the retry the Map's results hold chunk %d %s (%s)", r.Index, r.Status, r.Error)
		}
	}

	// LIVE holds exactly one record per source record of the final extract,
	// and the first chunk, run twice, changed nothing it had written.
	live := liveItems(t, db, table, "initech")
	if len(before) == 0 {
		t.Fatal("nothing was live before the retry")
	}
	for k, it := range before {
		if live[k] != it {
			t.Fatalf("live record %s changed when its chunk ran again: %+v became %+v", k, it, live[k])
		}
	}
	var got []string
	for _, it := range live {
		got = append(got, it.sourceID)
	}
	var want []string
	for _, i := range finalIDs {
		want = append(want, fmt.Sprint(i))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("LIVE holds %d records, want exactly the %d of the final extract", len(got), len(want))
	}

	// The final step run again, chunk by chunk and to the finish, changes nothing.
	lc := lambda.NewFromConfig(cfg)
	fn := fs.Names["FinalMigrateFunction"]
	for _, payload := range []string{
		fmt.Sprintf(`{"action":"chunk","migrationId":%q,"round":1,"index":0}`, id),
		fmt.Sprintf(`{"action":"chunk","migrationId":%q,"round":1,"index":%d}`, id, last.Index),
		fmt.Sprintf(`{"action":"finish","migrationId":%q,"round":1}`, id),
		fmt.Sprintf(`{"action":"plan","migrationId":%q,"round":1}`, id),
	} {
		out, err := lc.Invoke(ctx, &lambda.InvokeInput{FunctionName: &fn, Payload: []byte(payload)})
		if err != nil || out.FunctionError != nil {
			t.Fatalf("invoke %s: %v %s", payload, err, out.Payload)
		}
	}
	again := liveItems(t, db, table, "initech")
	if len(again) != len(live) {
		t.Fatalf("LIVE went from %d to %d records", len(live), len(again))
	}
	for k, it := range live {
		if again[k] != it {
			t.Fatalf("live record %s changed: %+v became %+v", k, it, again[k])
		}
	}

	// The delta report: 11 added, 7 removed, 5 renamed; the final
	// reconciliation against the checklist; the full CSV downloads.
	var rep struct {
		Counts struct{ Read, Migrated int }
		Chunks int
		Delta  struct {
			Entities []struct {
				Entity                                            string
				Before, After, Added, Removed, Changed, Unchanged int
				Examples                                          []struct {
					Kind, SourceID string
					Fields         []struct{ Field, Before, After string }
				}
			}
		}
		DeltaURL string `json:"deltaUrl"`
		Workbook struct {
			Reconciliation []struct{ Entity, Status string }
		}
	}
	a.must(http.StatusOK, "GET", "/migrations/"+id+"/final-report", key, nil).decode(t, &rep)
	if len(rep.Delta.Entities) != 1 {
		t.Fatalf("delta %+v", rep.Delta)
	}
	d := rep.Delta.Entities[0]
	if d.Before != 2000 || d.After != 2004 || d.Added != 11 || d.Removed != 7 || d.Changed != 5 || d.Unchanged != 1988 {
		t.Fatalf("delta %+v", d)
	}
	for _, e := range d.Examples {
		n, _ := strconv.Atoi(e.SourceID)
		if e.Kind == "changed" && (len(e.Fields) != 1 || e.Fields[0].Field != "full_name" || e.Fields[0].After != renamed(n)) {
			t.Fatalf("a changed example that was not planted: %+v", e)
		}
	}
	if len(rep.Workbook.Reconciliation) != 1 || rep.Workbook.Reconciliation[0].Status != "match" || rep.Chunks != len(chunks) {
		t.Fatalf("final reconciliation %+v over %d chunks", rep.Workbook.Reconciliation, rep.Chunks)
	}
	resp, err := http.Get(rep.DeltaURL)
	if err != nil {
		t.Fatal(err)
	}
	csv, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("delta download: %d", resp.StatusCode)
	}
	for _, line := range []string{"contact,removed,1,", "contact,removed,7,", "contact,added,2011,"} {
		if !strings.Contains(string(csv), line) {
			t.Fatalf("the delta CSV lacks %q:\n%.800s", line, csv)
		}
	}
	for i := 100; i <= 104; i++ {
		if line := fmt.Sprintf("contact,changed,%d,full_name,Person %d,Person %d (married)", i, i, i); !strings.Contains(string(csv), line) {
			t.Fatalf("the delta CSV lacks %q:\n%.800s", line, csv)
		}
	}
	t.Logf("%d chunks; %d LIVE transactions, %d throttled, %d killed; %d chunk reads refused", len(chunks), f.liveCalls.Load(), f.throttled.Load(), f.killed.Load(), f.refusedReads.Load())
}
