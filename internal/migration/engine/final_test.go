package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
)

// memChunks is an in-memory migration.ChunkStore with the DynamoDB one's rules: a
// planned chunk is created once, and a chunk that is done stays done.
type memChunks struct {
	mu     sync.Mutex
	chunks map[string]map[int]cutover.Chunk
}

func (c *memChunks) PlanChunks(_ context.Context, id string, cs []cutover.Chunk) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.chunks[id] == nil {
		c.chunks[id] = map[int]cutover.Chunk{}
	}
	for _, ch := range cs {
		if _, ok := c.chunks[id][ch.Index]; !ok {
			c.chunks[id][ch.Index] = ch
		}
	}
	return nil
}

func (c *memChunks) GetChunk(_ context.Context, id string, i int) (*cutover.Chunk, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, ok := c.chunks[id][i]
	if !ok {
		return nil, cutover.Errorf(cutover.ENOTFOUND, "no chunk %d", i)
	}
	return &ch, nil
}

func (c *memChunks) SaveChunk(_ context.Context, id string, ch *cutover.Chunk) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.chunks[id][ch.Index].Status == cutover.ChunkDone {
		return cutover.Errorf(cutover.ECONFLICT, "done")
	}
	c.chunks[id][ch.Index] = *ch
	return nil
}

func (c *memChunks) ListChunks(_ context.Context, id string) ([]cutover.Chunk, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []cutover.Chunk
	for _, i := range slices.Sorted(maps.Keys(c.chunks[id])) {
		out = append(out, c.chunks[id][i])
	}
	return out, nil
}

// failingRanges is a Files whose range reads fail while broken names them,
// once each has been read healthy times (the id shuffle's keys step reads
// a chunk before the chunk's own run does).
type failingRanges struct {
	objects
	mu      sync.Mutex
	broken  map[int64]bool // by start offset
	healthy int
	reads   map[int64]int
}

func (f *failingRanges) OpenRange(ctx context.Context, key string, start, end int64) (io.ReadCloser, error) {
	f.mu.Lock()
	if f.reads == nil {
		f.reads = map[int64]int{}
	}
	f.reads[start]++
	bad := f.broken[start] && f.reads[start] > f.healthy
	f.mu.Unlock()
	if bad {
		return nil, cutover.Errorf(cutover.EUNAVAILABLE, "storage is having a bad day")
	}
	return f.objects.OpenRange(ctx, key, start, end)
}

// noWholeReads refuses to open one file whole; its byte ranges still read.
type noWholeReads struct {
	objects
	key string
}

func (f noWholeReads) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if key == f.key {
		return nil, cutover.Errorf(cutover.EUNAVAILABLE, "%s was opened whole", key)
	}
	return f.objects.Open(ctx, key)
}

// capReads lets one file be opened whole but read no further than limit
// bytes: its header and first rows, never to its end.
type capReads struct {
	objects
	key   string
	limit int64
}

func (f capReads) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := f.objects.Open(ctx, key)
	if err != nil || key != f.key {
		return rc, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(io.LimitReader(rc, f.limit), errReader{cutover.Errorf(cutover.EUNAVAILABLE, "%s was read past %d bytes", key, f.limit)}), rc}, nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// mailer is a fake migration.Mailer built from a function field.
type mailer struct {
	SendFn func(to, subject, body string) error
}

func (m mailer) Send(_ context.Context, to, subject, body string) error {
	return m.SendFn(to, subject, body)
}

type discardTest struct{}

func (discardTest) ResetSegment(context.Context, string, []string, string) error { return nil }
func (discardTest) Writer(string) cutover.Sink                                   { return discardSink{} }

func (discardTest) ExpireSegment(context.Context, string, []string, string, time.Time) error {
	return nil
}

type discardSink struct{}

func (discardSink) Write(context.Context, []cutover.Record) ([]cutover.Refusal, error) {
	return nil, nil
}

func finalService(t testing.TB, chunkBytes int64) (*Service, *memStore, *liveTable) {
	t.Helper()
	store := newMemStore()
	svc, _ := newService(store)
	live := &liveTable{records: map[string]cutover.Record{}}
	svc.Files, svc.Live, svc.Test = objects{}, live, discardTest{}
	svc.Chunks = &memChunks{chunks: map[string]map[int]cutover.Chunk{}}
	svc.ChunkBytes = chunkBytes
	return svc, store, live
}

// withFinalExtract gives a signed-off migration a final extract.
func withFinalExtract(t *testing.T, svc *Service, store *memStore, id, body string) {
	t.Helper()
	m := store.migs[id]
	m.Files = append(m.Files, cutover.File{ID: "f9", Name: "final.csv", Key: "k-final-" + id, Purpose: cutover.PurposeFinal, Complete: true})
	m.FinalFileIDs = []string{"f9"}
	m.FinalMatches = []cutover.FinalMatch{{FileID: "f9", FileName: "final.csv", Table: "f9", Entry: "f1", Entity: "contact", Confirmed: true}}
	m.GoLiveAt = now0
	store.migs[id] = m
	files(svc)["k-final-"+id] = body
}

func files(svc *Service) objects {
	switch f := svc.Files.(type) {
	case objects:
		return f
	case *failingRanges:
		return f.objects
	case *streamFiles:
		return f.objects
	case noWholeReads:
		return f.objects
	case capReads:
		return f.objects
	}
	panic("unknown Files")
}

// runFinal drives the final migration the way the state machine does:
// plan, every chunk of the plan's manifest (each retried up to three
// times), finish.
func runFinal(t *testing.T, svc *Service, id string) (*FinalOutput, error) {
	t.Helper()
	if held, err := goLivePreflight(t, svc, id); err != nil || held != nil {
		if err == nil {
			err = cutover.Errorf(cutover.ECONFLICT, "held: %v", held.Breaches)
		}
		return nil, err
	}
	return runPlannedFinal(t, svc, id)
}

// runPlannedFinal runs what the state machine runs after the go-live
// pre-flight: PlanFinal, the final's Maps, and Finish.
func runPlannedFinal(t *testing.T, svc *Service, id string) (*FinalOutput, error) {
	t.Helper()
	ctx := context.Background()
	plan, err := svc.Final(ctx, FinalStep{Action: FinalPlan, MigrationID: id, Round: 1})
	if err != nil {
		return nil, err
	}
	run := planRun(t, plan)
	if err := svc.finalChunks(ctx, &run); err != nil {
		return nil, err
	}
	return svc.Final(ctx, FinalStep{Action: FinalFinish, MigrationID: id, Round: 1})
}

// runFinalShuffle runs a final plan's id shuffle as the state machine does
// before the chunks.
func runFinalShuffle(svc *Service, run *ChunkRun) error {
	ctx := context.Background()
	return svc.shuffle(ctx, run, func(action string, it ChunkItem, caught *migration.StepError) error {
		_, err := svc.Final(ctx, FinalStep{Action: action, MigrationID: it.MigrationID, Round: it.Round, Index: it.Index, Phase: it.Phase, Error: caught})
		return err
	})
}

// goLivePreflight runs what the state machine runs before PlanFinal: the
// go-live pre-flight, after giving a fixture that never ran its test
// migration one (the baseline the pre-flight compares with). It returns
// the summary when go-live is held.
func goLivePreflight(t *testing.T, svc *Service, id string) (*cutover.PreflightSummary, error) {
	t.Helper()
	ctx := context.Background()
	m, err := svc.Store.GetMigration(ctx, id)
	if err != nil || m.Status != cutover.StatusScheduled {
		return nil, err // PlanFinal answers for any other status
	}
	if m.Workbook == nil {
		m.Status = cutover.StatusMapping
		if err := svc.Store.SaveMigration(ctx, m); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.TestMigrate(ctx, migration.StepInput{MigrationID: id, Round: m.Round}); err != nil {
			t.Fatal(err)
		}
		m, _ = svc.Store.GetMigration(ctx, id)
		m.Status = cutover.StatusScheduled
		if err := svc.Store.SaveMigration(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	out, err := svc.Final(ctx, FinalStep{Action: FinalPreflight, Phase: cutover.PreflightAtGoLive, MigrationID: id, Round: m.Round})
	if err != nil {
		return nil, err
	}
	if out.Held {
		m, _ = svc.Store.GetMigration(ctx, id)
		return m.Preflight, nil
	}
	return nil, nil
}

// cleared runs the go-live pre-flight and fails the test when it holds.
func cleared(t *testing.T, svc *Service, id string) {
	t.Helper()
	if held, err := goLivePreflight(t, svc, id); err != nil || held != nil {
		t.Fatalf("pre-flight: held %+v, err %v", held, err)
	}
}

func liveSourceIDs(live *liveTable) []string {
	var ids []string
	for _, r := range live.records {
		ids = append(ids, r.SourceID)
	}
	slices.Sort(ids)
	return ids
}

func TestFinalMigrationIsExactlyOnce(t *testing.T) {
	svc, store, live := finalService(t, 8)
	live.failAt = 2 // the second chunk's first attempt crashes on its record
	ctx := context.Background()
	id := signedOff(t, svc, store, "acme")

	out, err := runFinal(t, svc, id)
	if err != nil {
		t.Fatal(err)
	}
	c := out.Counts
	if got := liveSourceIDs(live); !slices.Equal(got, []string{"1", "2"}) || c.Migrated != 2 || c.Rejected != 1 || out.Retry {
		t.Fatalf("live holds %v, counts %+v, retry %v; want records 1 and 2 after the crash and retry", got, c, out.Retry)
	}
	chunks, _ := svc.FinalChunks(ctx, id)
	if len(chunks) != 3 || chunks[0].Attempts != 1 || chunks[1].Attempts != 2 || chunks[2].Attempts != 1 {
		t.Fatalf("%d chunks: want 3, the second (which crashed) run twice", len(chunks))
	}
	if err := svc.Complete(ctx, migration.StepInput{MigrationID: id, Round: 1}); err != nil {
		t.Fatal(err)
	}
	writes := live.writes
	if out2, err := runFinal(t, svc, id); err != nil || *out2.Counts != *c || live.writes != writes {
		t.Fatalf("a run after go-live must change nothing: %+v %v, writes %d -> %d", out2, err, writes, live.writes)
	}
	for _, i := range []int{0, 1, 2} { // the chunk step itself, run again
		if _, err := svc.MigrateChunk(ctx, FinalStep{MigrationID: id, Round: 1, Index: i}); err != nil || live.writes != writes {
			t.Fatalf("chunk %d again: %v, writes %d -> %d", i, err, writes, live.writes)
		}
	}

	// A second migration for the same tenant is refused, at go-live
	// scheduling and in the final step itself, and LIVE is unchanged.
	other := signedOff(t, svc, store, "acme")
	m, _ := store.GetMigration(ctx, other)
	m.Status, m.Pending = cutover.StatusAwaitingFinal, &cutover.PendingTask{Kind: cutover.TaskFinal, Token: "t"}
	if _, err := svc.SubmitFinal(ctx, m, FinalInput{GoLiveAt: now0.Add(time.Hour).Format(time.RFC3339)}); cutover.ErrorCode(err) != cutover.ECONFLICT ||
		!strings.Contains(cutover.ErrorMessage(err), "migration "+id+" went live on 2026-11-25T12:00:00Z") {
		t.Fatalf("second final scheduling: %v", err)
	}
	if _, err := runFinal(t, svc, other); cutover.ErrorCode(err) != cutover.ECONFLICT ||
		!strings.Contains(cutover.ErrorMessage(err), "duplicate every record") {
		t.Fatalf("second final step: %v", err)
	}
	if len(live.records) != 2 || live.writes != writes {
		t.Fatal("LIVE changed")
	}
}

func TestFinalMigrateRefusesAMappingThatWasNotSignedOff(t *testing.T) {
	svc, store, live := finalService(t, 0)
	id := signedOff(t, svc, store, "acme")
	m := store.migs[id]
	m.Mapping = strings.Replace(m.Mapping, `"target":"emails"`, `"target":"notes"`, 1)
	store.migs[id] = m
	if _, err := runFinal(t, svc, id); cutover.ErrorCode(err) != cutover.ECONFLICT {
		t.Fatalf("edited mapping: %v", err)
	}
	if len(store.locks) != 0 || live.writes != 0 {
		t.Fatal("the live lock was taken or LIVE written for a refused run")
	}
}

// A final extract that breaks halfway fails before anything reaches LIVE,
// and leaves the tenant unlocked and nothing planned.
func TestFinalMigrateChecksTheWholeExtractFirst(t *testing.T) {
	svc, store, live := finalService(t, 8)
	id := signedOff(t, svc, store, "acme")
	withFinalExtract(t, svc, store, id, "Id,Email,Name\n1,a@x.com,Ann\n2,b@x.com,\"Bo\n")
	held, err := goLivePreflight(t, svc, id)
	if err != nil || held == nil || len(held.Breaches) != 1 || held.Breaches[0].Rule != cutover.RuleUnreadable || !strings.Contains(held.Breaches[0].Detail, "line 3") {
		t.Fatalf("pre-flight held %+v, err %v", held, err)
	}
	if _, err := svc.PlanFinal(context.Background(), FinalStep{MigrationID: id, Round: 1}); cutover.ErrorCode(err) != cutover.ECONFLICT {
		t.Fatalf("plan of a held go-live: %v", err)
	}
	if chunks, _ := svc.FinalChunks(context.Background(), id); len(live.records) != 0 || live.writes != 0 || len(store.locks) != 0 || len(chunks) != 0 {
		t.Fatalf("LIVE got %d writes, %d locks, %d chunks from an extract that does not read", live.writes, len(store.locks), len(chunks))
	}
}

// Chunks cut at record boundaries, never inside a quoted field, and read
// the same records (with the same line numbers in the rejects) as one
// whole-file pass.
func TestChunksReadWhatTheWholeFileReads(t *testing.T) {
	var b strings.Builder
	b.WriteString("Id,Email,Name\n")
	for i := 1; i <= 60; i++ {
		switch {
		case i == 58:
			// Stray control characters in a field: few in the whole file,
			// most of a one-record chunk, which is no reason to call the
			// chunk binary (the whole file was read as text to plan it).
			fmt.Fprintf(&b, "%d,p%d@x.com,Name\x01\x02\x03\x04\x05\x06 %d\n", i, i, i)
			continue
		}
		switch i % 7 {
		case 0:
			fmt.Fprintf(&b, "%d,\"bad\nline %d\",\n", i, i) // rejected: no name, and the email is not one
		case 3:
			fmt.Fprintf(&b, "%d,p%d@x.com,\"Quote \"\"%d\"\", with, commas\"\n", i, i, i)
		default:
			fmt.Fprintf(&b, "%d,p%d@x.com,Name %d\r\n", i, i, i)
		}
	}
	extract := b.String()
	results := map[int64]string{}
	for _, size := range []int64{1 << 30, 40, 1} {
		svc, store, live := finalService(t, size)
		id := signedOff(t, svc, store, "acme")
		withFinalExtract(t, svc, store, id, extract)
		out, err := runFinal(t, svc, id)
		if err != nil {
			t.Fatalf("chunk bytes %d: %v", size, err)
		}
		chunks, _ := svc.FinalChunks(context.Background(), id)
		var rejects []string
		for _, c := range chunks {
			for _, k := range c.Rejects { // each with its header row; keep the rows
				_, rows, _ := strings.Cut(files(svc)[k], "\n")
				rejects = append(rejects, rows)
			}
		}
		var recs []string
		for _, r := range live.records {
			recs = append(recs, fmt.Sprintf("%s@%d=%v", r.SourceID, r.SourceRow, r.Fields))
		}
		slices.Sort(recs)
		results[size] = fmt.Sprintf("%+v\n%s\n%s", *out.Counts, strings.Join(recs, "\n"), strings.Join(rejects, ""))
		if size == 1 && len(chunks) != 60 {
			t.Fatalf("one-byte chunks: %d chunks, want one per record (60)", len(chunks))
		}
		if size == 1<<30 && len(chunks) != 1 {
			t.Fatalf("huge chunks: %d chunks, want 1", len(chunks))
		}
	}
	for _, size := range []int64{40, 1} {
		want, got := strings.Split(results[1<<30], "\n"), strings.Split(results[size], "\n")
		for i := range max(len(want), len(got)) {
			if i >= len(want) || i >= len(got) || want[i] != got[i] {
				t.Fatalf("%d-byte chunks differ from the whole-file run at line %d:\n%q\n%q", size, i, want[min(i, len(want)-1)], got[min(i, len(got)-1)])
			}
		}
	}
	if !strings.Contains(results[1<<30], "line 14\",,16,") {
		t.Fatalf("the rejects file does not give record 14 its line (16):\n%s", results[1<<30])
	}
}

// The final migration runs the chunks its go-live pre-flight dry-ran: it
// plans them without reading the whole extract again, cut where the
// pre-flight cut it, and they migrate what the pre-flight counted.
func TestTheFinalRunsTheChunksItsPreflightChecked(t *testing.T) {
	svc, store, live := finalService(t, 8)
	ctx := context.Background()
	id := signedOff(t, svc, store, "acme")
	cleared(t, svc, id)
	m, _ := store.GetMigration(ctx, id)
	var checked cutover.PreflightReport
	if err := json.Unmarshal([]byte(files(svc)[m.Preflight.ReportKey]), &checked); err != nil {
		t.Fatal(err)
	}
	var dry []string
	for k, body := range files(svc) {
		if strings.Contains(k, "/preflight/go-live-") && strings.Contains(k, "/chunks/c-") {
			var c storedChunk
			if err := json.Unmarshal([]byte(body), &c); err != nil {
				t.Fatal(err)
			}
			dry = append(dry, fmt.Sprintf("%d %s %d-%d", c.Index, c.FileID, c.Start, c.End))
		}
	}
	svc.Files = noWholeReads{objects: files(svc), key: m.FinalFiles()[0].Key}
	plan, err := svc.Final(ctx, FinalStep{Action: FinalPlan, MigrationID: id, Round: 1})
	if err != nil {
		t.Fatalf("planning the final, its extract unreadable whole: %v", err)
	}
	run := planRun(t, plan)
	if err := svc.finalChunks(ctx, &run); err != nil {
		t.Fatal(err)
	}
	out, err := svc.Final(ctx, FinalStep{Action: FinalFinish, MigrationID: id, Round: 1})
	if err != nil {
		t.Fatal(err)
	}
	chunks, _ := svc.Chunks.ListChunks(ctx, id)
	var planned []string
	for _, c := range chunks {
		planned = append(planned, fmt.Sprintf("%d %s %d-%d", c.Index, c.FileID, c.Start, c.End))
	}
	slices.Sort(dry)
	if len(dry) < 3 || !slices.Equal(dry, planned) {
		t.Fatalf("the final ran chunks %q; the pre-flight checked %q", planned, dry)
	}
	c1, c2 := checked.Counts, *out.Counts
	c1.RejectsKey, c2.RejectsKey = "", ""
	if c1 != c2 || len(live.records) != c2.Migrated || c2.Migrated == 0 {
		t.Fatalf("the pre-flight counted %+v; the final %+v, LIVE holds %d", c1, c2, len(live.records))
	}
}

// At go-live no step reads the whole final extract: the go-live
// pre-flight dry-runs the chunks the pre-flight at submission planned
// (same extract, same go-live time), and PlanFinal takes the go-live
// pre-flight's. Only their headers and first rows are read whole.
func TestGoLiveReadsNoWholeExtract(t *testing.T) {
	svc, store, live := finalService(t, 16<<10)
	ctx := context.Background()
	extract := mergingContacts(6000)
	id := clearedDedupe(t, svc, store, extract) // gives the fixture its test migration
	if _, err := svc.Preflight(ctx, FinalStep{Phase: cutover.PreflightAtSubmit, MigrationID: id, Round: 1}); err != nil {
		t.Fatal(err)
	}
	svc.Files = capReads{objects: files(svc), key: "k-final-" + id, limit: int64(len(extract)) / 3}
	out, err := svc.Preflight(ctx, FinalStep{Phase: cutover.PreflightAtGoLive, MigrationID: id, Round: 1})
	if err != nil || out.Held {
		t.Fatalf("the go-live pre-flight, the extract not readable to its end: %+v, %v; want it cleared", out, err)
	}
	parts := 0
	for k := range files(svc) {
		if strings.Contains(k, "/preflight/go-live-") && strings.Contains(k, "/chunks/c-") {
			parts++
		}
	}
	if parts < 3 {
		t.Fatalf("the go-live pre-flight ran %d parts; want the extract in chunks", parts)
	}
	fin, err := runPlannedFinal(t, svc, id)
	if err != nil || fin.Counts.Read != 6000 || len(live.records) != fin.Counts.Migrated {
		t.Fatalf("the final: %+v, %v; LIVE holds %d", fin, err, len(live.records))
	}
}

// A chunk whose retries are spent is recorded as failed; the migration
// waits for ops; a retry runs only the chunks that are not done.
func TestFailedChunksWaitForOpsAndOnlyTheyRunAgain(t *testing.T) {
	svc, store, live := finalService(t, 8)
	broken := &failingRanges{objects: objects{}, broken: map[int64]bool{}, healthy: 1}
	svc.Files = broken
	ctx := context.Background()
	id := signedOff(t, svc, store, "acme")
	var resumed []any
	svc.Flow = fakeFlow{ResumeFn: func(_ string, out any) error { resumed = append(resumed, out); return nil }}
	var mails []string
	svc.Mailer, svc.OpsEmail = mailer{SendFn: func(to, subject, body string) error { mails = append(mails, to+": "+subject+": "+body); return nil }}, "ops@vendor.test"

	cleared(t, svc, id)
	plan, err := svc.PlanFinal(ctx, FinalStep{MigrationID: id, Round: 1})
	if err != nil || plan.Run == nil || plan.Run.Chunks != 3 {
		t.Fatalf("plan %+v: %v", plan, err)
	}
	second, _ := svc.Chunks.GetChunk(ctx, id, 1)
	broken.broken[second.Start], broken.reads = true, nil // the pre-flight's reads were healthy
	out, err := runFinal(t, svc, id)
	if err != nil || !out.Retry {
		t.Fatalf("finish with a failed chunk: %+v %v", out, err)
	}
	m := store.migs[id]
	if m.Failure == nil || !strings.Contains(m.Failure.Reason, "1 of 3 parts") || strings.Contains(m.Failure.Reason, "bad day") || m.Final != nil {
		t.Fatalf("failure %+v, final %+v: the customer is told, without the storage detail", m.Failure, m.Final)
	}
	if audit := store.audit[id]; !strings.Contains(audit[len(audit)-1].Detail, "chunk 1 of c.csv: storage is having a bad day") {
		t.Fatalf("the audit trail lacks the failed chunk: %+v", audit[len(audit)-1])
	}
	if chunks, _ := svc.FinalChunks(ctx, id); chunks[1].Status != cutover.ChunkFailed || !strings.Contains(chunks[1].Error, "bad day") {
		t.Fatalf("ops do not see why the chunk failed: %+v", chunks[1])
	}
	if err := svc.Park(ctx, migration.ParkInput{StepInput: migration.StepInput{MigrationID: id, Round: 1}, Kind: cutover.TaskChunks, TaskToken: "tok"}); err != nil {
		t.Fatal(err)
	}
	if got := store.migs[id].Status; got != cutover.StatusFinalBlocked {
		t.Fatalf("status %s, want %s", got, cutover.StatusFinalBlocked)
	}
	if len(mails) != 1 || !strings.HasPrefix(mails[0], "ops@vendor.test: Final migration paused") || !strings.Contains(mails[0], "/ops/migrations/"+id+"/retry") {
		t.Fatalf("ops were not told: %q", mails)
	}
	broken.broken[second.Start] = false
	if _, err := svc.Retry(ctx, id, "ops:ana"); err != nil || len(resumed) != 1 || store.migs[id].Pending != nil {
		t.Fatalf("retry: %v (resumed %d, pending %+v)", err, len(resumed), store.migs[id].Pending)
	}
	if _, err := svc.Retry(ctx, id, "ops:ana"); cutover.ErrorCode(err) != cutover.ECONFLICT {
		t.Fatalf("a second retry: %v", err)
	}
	out, err = runFinal(t, svc, id)
	if err != nil || out.Retry || out.Counts.Migrated != 2 || out.Counts.Rejected != 1 {
		t.Fatalf("after the retry: %+v %v", out, err)
	}
	chunks, _ := svc.FinalChunks(ctx, id)
	if chunks[0].Attempts != 1 || chunks[2].Attempts != 1 || chunks[1].Attempts != 4 {
		t.Fatalf("attempts %d %d %d: the done chunks must not run again", chunks[0].Attempts, chunks[1].Attempts, chunks[2].Attempts)
	}
	if got := liveSourceIDs(live); !slices.Equal(got, []string{"1", "2"}) {
		t.Fatalf("live %v", got)
	}
}

// The delta report lists what was added, removed and changed since the
// signed-off test migration, by source id and field.
func TestFinalReportHasTheDeltaAgainstTheTestExtract(t *testing.T) {
	svc, store, _ := finalService(t, 16)
	ctx := context.Background()
	id := signedOff(t, svc, store, "acme")
	m := store.migs[id]
	m.Status = cutover.StatusMapping
	store.migs[id] = m
	if _, err := svc.TestMigrate(ctx, migration.StepInput{MigrationID: id, Round: 1}); err != nil {
		t.Fatal(err)
	}
	m = store.migs[id]
	m.Status, m.Checklist = cutover.StatusScheduled, map[string]int{"contact": 3}
	store.migs[id] = m
	// 1 is unchanged, 2 changed its name, 3 (rejected in the test) now
	// has a valid email, 4 is new; nothing was removed... but 2's email
	// changed too.
	withFinalExtract(t, svc, store, id, "Id,Email,Name\n1,a@x.com,Ann\n2,b2@x.com,Bob\n3,c@x.com,Cy\n4,d@x.com,Di\n")
	out, err := runFinal(t, svc, id)
	if err != nil {
		t.Fatal(err)
	}
	if out.Counts.Migrated != 4 {
		t.Fatalf("counts %+v", out.Counts)
	}
	m = store.migs[id]
	rep, err := svc.FinalReportFor(ctx, &m)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Delta.Entities) != 1 {
		t.Fatalf("delta %+v", rep.Delta)
	}
	d := rep.Delta.Entities[0]
	if d.Before != 2 || d.After != 4 || d.Added != 2 || d.Removed != 0 || d.Changed != 1 || d.Unchanged != 1 {
		t.Fatalf("delta %+v", d)
	}
	var changed []string
	for _, c := range d.Examples {
		if c.Kind == "changed" {
			for _, f := range c.Fields {
				changed = append(changed, c.SourceID+":"+f.Field+":"+f.Before+">"+f.After)
			}
		}
	}
	if got := strings.Join(changed, " "); got != "2:emails:b@x.com>b2@x.com 2:full_name:Bo>Bob" {
		t.Fatalf("changed fields %s", got)
	}
	csv := files(svc)[m.FinalReport.DeltaKey]
	if !strings.Contains(csv, "contact,added,4") || !strings.Contains(csv, "contact,changed,2") {
		t.Fatalf("delta CSV:\n%s", csv)
	}
	e := m.FinalReport.Entities
	if len(e) != 1 || e[0].Added != 2 || e[0].Changed != 1 || e[0].Status != "unexplained" {
		t.Fatalf("summary %+v: 4 live against a checklist of 3 is unexplained", e)
	}
	if e[0].Checklist == nil || *e[0].Checklist != 3 || e[0].Migrated != 4 {
		t.Fatalf("reconciliation %+v", e[0])
	}
}

// A planning run that dies after storing some chunks, before it recorded
// its plan, is planned again in full; a finish that finds fewer chunks than
// were planned refuses to go live.
func TestAnInterruptedPlanIsPlannedAgain(t *testing.T) {
	svc, store, live := finalService(t, 8)
	ctx := context.Background()
	id := signedOff(t, svc, store, "acme")
	cleared(t, svc, id)
	if _, err := svc.PlanFinal(ctx, FinalStep{MigrationID: id, Round: 1}); err != nil {
		t.Fatal(err)
	}
	chunks := svc.Chunks.(*memChunks)
	delete(chunks.chunks[id], 2) // the run died before storing the last chunk...
	m := store.migs[id]
	m.FinalPlan = nil // ...and before recording its plan
	store.migs[id] = m
	out, err := runFinal(t, svc, id)
	if err != nil || out.Counts.Read != 3 || out.Counts.Migrated != 2 || len(live.records) != 2 {
		t.Fatalf("after planning again: %+v %v, %d live", out, err, len(live.records))
	}

	other := signedOff(t, svc, store, "globex")
	cleared(t, svc, other)
	plan, err := svc.PlanFinal(ctx, FinalStep{MigrationID: other, Round: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := runFinalShuffle(svc, plan.Run); err != nil {
		t.Fatal(err)
	}
	delete(chunks.chunks[other], 2) // lost, with the plan on record
	for _, i := range []int{0, 1} {
		if _, err := svc.MigrateChunk(ctx, FinalStep{MigrationID: other, Round: 1, Index: i}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.FinishFinal(ctx, FinalStep{MigrationID: other, Round: 1}); cutover.ErrorCode(err) != cutover.EINTERNAL || store.migs[other].Final != nil {
		t.Fatalf("finish with a chunk missing: %v", err)
	}
}

// failingLive fails every write, as the LIVE destination does when
// storage keeps throttling.
type failingLive struct{ err error }

func (b failingLive) Writer(string, string) cutover.Sink { return failingSink(b) }

type failingSink struct{ err error }

func (f failingSink) Write(context.Context, []cutover.Record) ([]cutover.Refusal, error) {
	return nil, f.err
}

// A chunk whose writes fail is not done, however well it mapped.
func TestAChunkIsDoneOnlyWhenItsWritesLanded(t *testing.T) {
	svc, store, _ := finalService(t, 0)
	svc.Live = failingLive{err: cutover.Errorf(cutover.EUNAVAILABLE, "Storage kept throttling the LIVE environment.")}
	ctx := context.Background()
	id := signedOff(t, svc, store, "acme")
	cleared(t, svc, id)
	if _, err := svc.PlanFinal(ctx, FinalStep{MigrationID: id, Round: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.MigrateChunk(ctx, FinalStep{MigrationID: id, Round: 1, Index: 0}); cutover.ErrorCode(err) != cutover.EUNAVAILABLE {
		t.Fatalf("chunk: %v", err)
	}
	if c, _ := svc.Chunks.GetChunk(ctx, id, 0); c.Status != cutover.ChunkFailed || !strings.Contains(c.Error, "kept throttling") {
		t.Fatalf("chunk %+v", c)
	}
}

// The delta CSV grows with the extract (a row per changed field of every
// record), and so do the snapshots: they are streamed to storage in pieces
// as they are written (or, the whole delta, joined within storage from the
// key ranges' streamed CSVs), never handed over whole.
func TestTheDeltaAndSnapshotsAreStreamed(t *testing.T) {
	svc, store, _ := finalService(t, 0)
	svc.Thresholds = &cutover.Thresholds{FillDropPoints: 100, RejectRisePoints: 100}
	sf := &streamFiles{objects: files(svc), streamed: map[string]bool{}}
	svc.Files = sf
	id := signedOff(t, svc, store, "acme")
	const n = 8000
	var test, final strings.Builder
	test.WriteString("Id,Email,Name\n")
	final.WriteString("Id,Email,Name\n")
	for i := range n {
		fmt.Fprintf(&test, "%d,p%d@x.com,Ann %d\n", i, i, i)
		fmt.Fprintf(&final, "%d,p%d@x.com,Bea %d\n", i, i, i)
	}
	files(svc)["k-"+id] = test.String()
	withFinalExtract(t, svc, store, id, final.String())
	out, err := runFinal(t, svc, id)
	if err != nil {
		t.Fatal(err)
	}
	if out.Counts.Migrated != n {
		t.Fatalf("counts %+v", out.Counts)
	}
	m := store.migs[id]
	key := m.FinalReport.DeltaKey
	csv := files(svc)[key]
	if rows := strings.Count(csv, "\ncontact,changed,"); rows != n {
		t.Fatalf("%d changed rows in the delta CSV, want %d", rows, n)
	}
	sf.mu.Lock()
	defer sf.mu.Unlock()
	if !sf.streamed[key] || !sf.streamed[m.Workbook.Snapshot] {
		t.Fatalf("streamed %v: the delta and the test snapshot must be", sf.streamed)
	}
	if len(csv) < 4*maxPiece || sf.largest > maxPiece {
		t.Fatalf("a %d-byte delta arrived in pieces of up to %d bytes; want pieces of at most %d", len(csv), sf.largest, maxPiece)
	}
}

// maxPiece is the largest write a streamed artifact may arrive in here:
// the writers' own buffers, not the artifact.
const maxPiece = 64 << 10

// streamFiles refuses to store whole what grows with the extract (delta
// CSVs and snapshots), and records how the streamed artifacts arrived.
type streamFiles struct {
	objects
	mu       sync.Mutex
	streamed map[string]bool
	largest  int
}

func (f *streamFiles) Put(ctx context.Context, key, contentType string, body []byte) error {
	if strings.HasSuffix(key, "delta.csv") || strings.HasSuffix(key, "snapshot.jsonl") {
		return cutover.Errorf(cutover.EINTERNAL, "%s grows with the extract: it must be streamed", key)
	}
	return f.objects.Put(ctx, key, contentType, body)
}

func (f *streamFiles) Stream(_ context.Context, key, _ string, write func(io.Writer) error) error {
	var b strings.Builder
	if err := write(writerFunc(func(p []byte) (int, error) {
		f.mu.Lock()
		f.largest = max(f.largest, len(p))
		f.mu.Unlock()
		return b.Write(p)
	})); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objects[key] = b.String()
	f.streamed[key] = true
	return nil
}

// Compose joins the pieces within storage: no byte passes through the
// caller (a range's CSV or snapshot, streamed, is joined so).
func (f *streamFiles) Compose(ctx context.Context, key, contentType string, pieces []cutover.Piece) error {
	if err := f.objects.Compose(ctx, key, contentType, pieces); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.streamed[key] = true
	return nil
}

type writerFunc func([]byte) (int, error)

func (w writerFunc) Write(p []byte) (int, error) { return w(p) }

// A final writes LIVE in the layout its plan recorded: a new plan spreads
// the tenant's records over cutover.LiveShards keys; a plan recorded
// before LIVE was sharded (LiveShards 0), planned again, keeps every
// record under the tenant's one key, so a final resumed across the deploy
// that sharded LIVE never writes one record under two keys. The read-back
// reads the same layout.
func TestAFinalWritesLiveInTheLayoutItsPlanRecorded(t *testing.T) {
	for _, c := range []struct {
		name   string
		before *cutover.FinalPlan
		want   int
	}{
		{"planned now", nil, cutover.LiveShards},
		{"planned before LIVE was sharded", &cutover.FinalPlan{Chunks: -1, Results: "earlier"}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			svc, store, live := finalService(t, 8)
			id := signedOff(t, svc, store, "acme")
			if c.before != nil {
				m := store.migs[id]
				m.FinalPlan = c.before
				store.migs[id] = m
			}
			if _, err := runFinal(t, svc, id); err != nil {
				t.Fatal(err)
			}
			got, _ := store.GetMigration(context.Background(), id)
			if got.FinalPlan.LiveShards != c.want || len(live.records) != 2 {
				t.Fatalf("the plan %+v, LIVE holds %d; want %d shards, 2 records", got.FinalPlan, len(live.records), c.want)
			}
			if tg := svc.fake.writtenFor(t, cutover.EnvLive); tg.LiveShards != c.want {
				t.Errorf("LIVE was written for %+v; want %d shards", tg, c.want)
			}
		})
	}
}
