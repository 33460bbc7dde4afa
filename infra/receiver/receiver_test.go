package receiver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination"
)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// rig is a receiver on a real listener with its SQLite file in a temp dir.
type rig struct {
	t   *testing.T
	srv *httptest.Server
	db  string
	key []byte
}

func newRig(t *testing.T) *rig {
	t.Helper()
	key, err := destination.Key(secret)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "receiver.db")
	store, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(key, store, Options{Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(func() {
		srv.Close() // waits for requests still running (a slow one)
		if err := store.Close(); err != nil {
			t.Error(err)
		}
	})
	return &rig{t: t, srv: srv, db: path, key: key}
}

// batchOf is a batch of recs for a target; a test batch is of round 1.
func batchOf(tenant, migration, env string, recs ...destination.Record) destination.Batch {
	return batchOfRound(tenant, migration, env, testRound(env), recs...)
}

func batchOfRound(tenant, migration, env string, round int, recs ...destination.Record) destination.Batch {
	t := cutover.Target{Env: env, TenantID: tenant, MigrationID: migration, Round: round}
	key, err := destination.BatchKey(t, recs)
	if err != nil {
		panic(err) // the tests' records always encode
	}
	return destination.Batch{ID: key, TenantID: tenant, MigrationID: migration, Environment: env, Round: round, Records: recs}
}

// testRound is the round the helpers use: 1 in test, 0 in live.
func testRound(env string) int {
	if env == cutover.EnvTest {
		return 1
	}
	return 0
}

func rec(id, entity, source string) destination.Record {
	return destination.Record{ID: id, Entity: entity, SourceID: source, Fields: map[string]any{
		"name": "N " + id, "tags": []any{"a", "b"}, "fee": map[string]any{"amount": 1250.5, "currency": "GBP"},
	}}
}

// response is one answer: status, headers and body.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) results(t *testing.T) []cutover.DeliveryResult {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var br destination.BatchResult
	if err := json.Unmarshal(r.body, &br); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	return br.Results
}

// errorCode checks the body is {"error":{"code","message"}} with a message
// and returns the code.
func (r response) errorCode(t *testing.T) string {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("status %d, not an error body: %s", r.status, r.body)
	}
	return e.Error.Code
}

// send signs body (with key, unless nil) and POSTs it to the tenant's
// records endpoint; edit may change the request before it is sent.
func (g *rig) send(client *http.Client, tenant string, body []byte, key []byte, idemKey string, edit func(*http.Request)) (response, error) {
	req, err := http.NewRequest(http.MethodPost, g.srv.URL+"/tenants/"+tenant+"/records", bytes.NewReader(body))
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if key != nil {
		destination.SetHeaders(req.Header, key, "msg_"+idemKey, time.Now(), body)
	}
	if idemKey != "" {
		req.Header.Set(destination.HeaderIdempotencyKey, idemKey)
	}
	if edit != nil {
		edit(req)
	}
	res, err := client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}, err
}

func (g *rig) post(b destination.Batch) response {
	g.t.Helper()
	body, err := json.Marshal(b)
	if err != nil {
		g.t.Fatal(err)
	}
	r, err := g.send(http.DefaultClient, b.TenantID, body, g.key, b.ID, nil)
	if err != nil {
		g.t.Fatal(err)
	}
	return r
}

func (g *rig) counts(tenant, migration, env string, key []byte) response {
	g.t.Helper()
	return g.countsOfRound(tenant, migration, env, testRound(env), key)
}

func (g *rig) countsOfRound(tenant, migration, env string, round int, key []byte) response {
	g.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, g.srv.URL+"/tenants/"+tenant+"/migrations/"+migration+"/counts?environment="+env+"&round="+strconv.Itoa(round), nil)
	if key != nil {
		destination.SetHeaders(req.Header, key, "msg_counts", time.Now(), nil)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func (g *rig) setFaults(f string) {
	g.t.Helper()
	res, err := http.Post(g.srv.URL+"/admin/faults", "application/json", strings.NewReader(f))
	if err != nil {
		g.t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		g.t.Fatalf("faults %s: %d %s", f, res.StatusCode, b)
	}
}

// stored reads, with its own connection and SQL, the ids the database holds
// for a tenant and environment, each with how many rows it has: the
// invariants are checked on what was written, not on the handler's answers.
func (g *rig) stored(tenant, env string) map[string]int {
	g.t.Helper()
	db, err := sql.Open("sqlite", g.db)
	if err != nil {
		g.t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT record_id, count(*) FROM records WHERE tenant_id = ? AND environment = ? GROUP BY record_id`, tenant, env)
	if err != nil {
		g.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			g.t.Fatal(err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		g.t.Fatal(err)
	}
	return out
}

func outcomes(rs []cutover.DeliveryResult) map[string]string {
	m := map[string]string{}
	for _, r := range rs {
		m[r.ID] = r.Outcome
	}
	return m
}

func wantStoredOnce(t *testing.T, got map[string]int, ids ...string) {
	t.Helper()
	if len(got) != len(ids) {
		t.Errorf("stored %v, want exactly %v", got, ids)
	}
	for _, id := range ids {
		if got[id] != 1 {
			t.Errorf("%s stored %d times, want once", id, got[id])
		}
	}
}

func TestSignatureIsRequired(t *testing.T) {
	g := newRig(t)
	b := batchOf("acme", "m1", cutover.EnvTest, rec("r1", "contact", "s1"))
	body, _ := json.Marshal(b)
	other, _ := destination.Key("whsec_" + strings.Repeat("QUFB", 8))
	cases := map[string]func() (response, error){
		"unsigned":    func() (response, error) { return g.send(http.DefaultClient, "acme", body, nil, b.ID, nil) },
		"another key": func() (response, error) { return g.send(http.DefaultClient, "acme", body, other, b.ID, nil) },
		"body changed after signing": func() (response, error) {
			return g.send(http.DefaultClient, "acme", body, g.key, b.ID, func(r *http.Request) {
				changed := bytes.Replace(body, []byte(`"r1"`), []byte(`"r9"`), 1)
				r.Body = io.NopCloser(bytes.NewReader(changed))
			})
		},
		"too old": func() (response, error) {
			return g.send(http.DefaultClient, "acme", body, nil, b.ID, func(r *http.Request) {
				destination.SetHeaders(r.Header, g.key, "msg_old", time.Now().Add(-destination.SignatureTolerance-time.Minute), body)
			})
		},
	}
	for name, f := range cases {
		r, err := f()
		if err != nil {
			t.Fatal(err)
		}
		if r.status != http.StatusUnauthorized || r.errorCode(t) != "unauthorized" {
			t.Errorf("%s: %d %s, want 401", name, r.status, r.body)
		}
	}
	if got := g.stored("acme", cutover.EnvTest); len(got) != 0 {
		t.Fatalf("refused requests stored %v", got)
	}
	if r := g.counts("acme", "m1", cutover.EnvTest, nil); r.status != http.StatusUnauthorized {
		t.Errorf("unsigned counts: %d %s", r.status, r.body)
	}

	rs := g.post(b).results(t)
	if len(rs) != 1 || rs[0] != (cutover.DeliveryResult{ID: "r1", Outcome: cutover.Created}) {
		t.Fatalf("signed batch: %+v", rs)
	}
	wantStoredOnce(t, g.stored("acme", cutover.EnvTest), "r1")
}

func TestRepeatedKeyGetsTheSameAnswerAndStoresOnce(t *testing.T) {
	g := newRig(t)
	b := batchOf("acme", "m1", cutover.EnvLive, rec("r1", "contact", "s1"), rec("r2", "contact", "s2"), rec("r3", "company", "s3"))
	first := g.post(b)
	if rs := first.results(t); len(rs) != 3 || rs[0].ID != "r1" || rs[2].ID != "r3" {
		t.Fatalf("one result per record, in order: %+v", rs)
	}
	for _, o := range outcomes(first.results(t)) {
		if o != cutover.Created {
			t.Fatalf("first delivery: %s", first.body)
		}
	}
	again := g.post(b)
	if again.status != first.status || !bytes.Equal(again.body, first.body) {
		t.Fatalf("a repeat answered %d %s, the first %d %s", again.status, again.body, first.status, first.body)
	}
	wantStoredOnce(t, g.stored("acme", cutover.EnvLive), "r1", "r2", "r3")

	// Another batch (another key) holding a record already there: exists.
	b2 := batchOf("acme", "m1", cutover.EnvLive, rec("r3", "company", "s3"), rec("r4", "company", "s4"))
	got := outcomes(g.post(b2).results(t))
	if got["r3"] != cutover.Existed || got["r4"] != cutover.Created {
		t.Fatalf("overlapping batch: %v", got)
	}
	wantStoredOnce(t, g.stored("acme", cutover.EnvLive), "r1", "r2", "r3", "r4")
	// The same id in another environment or tenant is another record.
	if got := outcomes(g.post(batchOf("acme", "m1", cutover.EnvTest, rec("r1", "contact", "s1"))).results(t)); got["r1"] != cutover.Created {
		t.Fatalf("same id in TEST: %v", got)
	}
	if got := outcomes(g.post(batchOf("other", "m9", cutover.EnvLive, rec("r1", "contact", "s1"))).results(t)); got["r1"] != cutover.Created {
		t.Fatalf("same id for another tenant: %v", got)
	}
}

func TestSameKeyWithAnotherBodyIs422(t *testing.T) {
	g := newRig(t)
	b := batchOf("acme", "m1", cutover.EnvLive, rec("r1", "contact", "s1"))
	g.post(b).results(t)
	changed := b
	changed.Records = []destination.Record{rec("r1", "contact", "s1")}
	changed.Records[0].Fields["name"] = "Someone else"
	r := g.post(changed)
	if r.status != http.StatusUnprocessableEntity || r.errorCode(t) != "idempotency_key_reused" {
		t.Fatalf("same key, other body: %d %s", r.status, r.body)
	}
	var name string
	db, _ := sql.Open("sqlite", g.db)
	defer db.Close()
	if err := db.QueryRow(`SELECT json_extract(fields, '$.name') FROM records WHERE record_id = 'r1'`).Scan(&name); err != nil || name != "N r1" {
		t.Fatalf("the first body's record was changed: %q %v", name, err)
	}
}

func TestBadBatchesAreRefusedWithAReason(t *testing.T) {
	g := newRig(t)
	good := batchOf("acme", "m1", cutover.EnvTest, rec("r1", "contact", "s1"))
	mutate := func(f func(*destination.Batch)) []byte {
		b := good
		b.Records = append([]destination.Record(nil), good.Records...)
		f(&b)
		body, _ := json.Marshal(b)
		return body
	}
	goodBody, _ := json.Marshal(good)
	big := make([]destination.Record, 0, 2000)
	for i := range 2000 {
		big = append(big, destination.Record{ID: fmt.Sprintf("r%d", i), Entity: "contact", Fields: map[string]any{"note": strings.Repeat("x", 600)}})
	}
	tooBig, _ := json.Marshal(destination.Batch{ID: good.ID, TenantID: "acme", MigrationID: "m1", Environment: cutover.EnvTest, Round: 1, Records: big})
	small := make([]destination.Record, 1001)
	for i := range small {
		small[i] = destination.Record{ID: fmt.Sprintf("r%d", i), Entity: "contact", Fields: map[string]any{}}
	}
	tooMany, _ := json.Marshal(destination.Batch{ID: good.ID, TenantID: "acme", MigrationID: "m1", Environment: cutover.EnvTest, Round: 1, Records: small})
	cases := []struct {
		name   string
		body   []byte
		key    string
		status int
		code   string
	}{
		{"not JSON", []byte(`{"batchId":`), good.ID, 400, "invalid"},
		{"data after the batch", append(append([]byte(nil), goodBody...), " {}"...), good.ID, 400, "invalid"},
		{"another tenant than the URL's", mutate(func(b *destination.Batch) { b.TenantID = "other" }), good.ID, 400, "invalid"},
		{"an unknown environment", mutate(func(b *destination.Batch) { b.Environment = "prod" }), good.ID, 400, "invalid"},
		{"no migration", mutate(func(b *destination.Batch) { b.MigrationID = "" }), good.ID, 400, "invalid"},
		{"a record without an id", mutate(func(b *destination.Batch) { b.Records[0].ID = "" }), good.ID, 400, "invalid"},
		{"a record without an entity", mutate(func(b *destination.Batch) { b.Records[0].Entity = "" }), good.ID, 400, "invalid"},
		{"no records", mutate(func(b *destination.Batch) { b.Records = nil }), good.ID, 400, "invalid"},
		{"no idempotency key", goodBody, "", 400, "invalid"},
		{"a key that is not the batch id", goodBody, "cut_other", 400, "invalid"},
		{"over 1 MB", tooBig, good.ID, 413, "too_large"},
		{"over 1000 records", tooMany, good.ID, 413, "too_large"},
	}
	for _, c := range cases {
		r, err := g.send(http.DefaultClient, "acme", c.body, g.key, c.key, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.status != c.status || r.errorCode(t) != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.status, r.body, c.status, c.code)
		}
	}
	if got := g.stored("acme", cutover.EnvTest); len(got) != 0 {
		t.Fatalf("refused batches stored %v", got)
	}
	if r := g.counts("acme", "m1", "prod", g.key); r.status != 400 || r.errorCode(t) != "invalid" {
		t.Errorf("counts of an unknown environment: %d %s", r.status, r.body)
	}
}

func TestFaultTooManyRequests(t *testing.T) {
	g := newRig(t)
	g.setFaults(`{"tooManyRequests": 2, "retryAfterSeconds": 7}`)
	b := batchOf("acme", "m1", cutover.EnvLive, rec("r1", "contact", "s1"))
	for i := range 2 {
		r := g.post(b)
		if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "7" || r.errorCode(t) != "rate_limited" {
			t.Fatalf("request %d: %d Retry-After %q %s", i, r.status, r.header.Get("Retry-After"), r.body)
		}
		if got := g.stored("acme", cutover.EnvLive); len(got) != 0 {
			t.Fatalf("a 429 stored %v", got)
		}
	}
	if got := outcomes(g.post(b).results(t)); got["r1"] != cutover.Created {
		t.Fatalf("after the 429s: %v", got)
	}
	wantStoredOnce(t, g.stored("acme", cutover.EnvLive), "r1")
}

func TestFaultServerErrorStoresNothing(t *testing.T) {
	g := newRig(t)
	g.setFaults(`{"serverErrors": 1}`)
	b := batchOf("acme", "m1", cutover.EnvLive, rec("r1", "contact", "s1"))
	if r := g.post(b); r.status != http.StatusInternalServerError || r.errorCode(t) != "internal" {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if got := g.stored("acme", cutover.EnvLive); len(got) != 0 {
		t.Fatalf("a 500 stored %v", got)
	}
	if got := outcomes(g.post(b).results(t)); got["r1"] != cutover.Created {
		t.Fatalf("the retry: %v", got)
	}
}

// A duplicate delivery: the batch is stored but the answer is lost (500),
// so the sender sends it again; the retry learns every record exists, and
// nothing is stored twice.
func TestFaultDuplicateDelivery(t *testing.T) {
	g := newRig(t)
	g.setFaults(`{"duplicates": 1}`)
	b := batchOf("acme", "m1", cutover.EnvLive, rec("r1", "contact", "s1"), rec("r2", "contact", "s2"))
	if r := g.post(b); r.status != http.StatusInternalServerError {
		t.Fatalf("%d %s", r.status, r.body)
	}
	wantStoredOnce(t, g.stored("acme", cutover.EnvLive), "r1", "r2")
	got := outcomes(g.post(b).results(t))
	if got["r1"] != cutover.Existed || got["r2"] != cutover.Existed {
		t.Fatalf("the retry: %v, want every record exists", got)
	}
	wantStoredOnce(t, g.stored("acme", cutover.EnvLive), "r1", "r2")
}

// A slow answer: the sender gives up, the receiver still stores; the
// sender's retry and the slow request converge to one record each.
func TestFaultSlowResponse(t *testing.T) {
	g := newRig(t)
	g.setFaults(`{"slow": 1, "delay": "1s"}`)
	b := batchOf("acme", "m1", cutover.EnvLive, rec("r1", "contact", "s1"))
	body, _ := json.Marshal(b)
	impatient := &http.Client{Timeout: 100 * time.Millisecond}
	if r, err := g.send(impatient, "acme", body, g.key, b.ID, nil); err == nil {
		t.Fatalf("a slow answer came in time: %d %s", r.status, r.body)
	}
	if got := outcomes(g.post(b).results(t)); got["r1"] != cutover.Created && got["r1"] != cutover.Existed {
		t.Fatalf("the retry: %v", got)
	}
	g.srv.Close() // waits for the slow request to finish
	wantStoredOnce(t, g.stored("acme", cutover.EnvLive), "r1")
}

func TestFaultRejectChosenRecords(t *testing.T) {
	g := newRig(t)
	g.setFaults(`{"rejectIds": ["r2"], "rejectSourceIds": ["s3"], "rejectReason": "email is already used by another member"}`)
	b := batchOf("acme", "m1", cutover.EnvTest, rec("r1", "contact", "s1"), rec("r2", "contact", "s2"), rec("r3", "contact", "s3"))
	for _, r := range g.post(b).results(t) {
		want := cutover.DeliveryResult{ID: r.ID, Outcome: cutover.Rejected, Reason: "email is already used by another member"}
		if r.ID == "r1" {
			want = cutover.DeliveryResult{ID: "r1", Outcome: cutover.Created}
		}
		if r != want {
			t.Errorf("%+v, want %+v", r, want)
		}
	}
	wantStoredOnce(t, g.stored("acme", cutover.EnvTest), "r1")
}

// checksum is the IDChecksum algorithm written out again, so the test does
// not check destination.IDChecksum with itself.
func checksum(ids []string) string {
	var x [16]byte
	for _, id := range ids {
		s := sha256.Sum256([]byte(id))
		for i := range x {
			x[i] ^= s[i]
		}
	}
	return hex.EncodeToString(x[:])
}

func (g *rig) storedIDs(tenant, migration, env, entity string) []string {
	g.t.Helper()
	db, _ := sql.Open("sqlite", g.db)
	defer db.Close()
	rows, err := db.Query(`SELECT record_id FROM records WHERE tenant_id = ? AND migration_id = ? AND environment = ? AND entity = ?`, tenant, migration, env, entity)
	if err != nil {
		g.t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		_ = rows.Scan(&id)
		ids = append(ids, id)
	}
	return ids
}

func (g *rig) countsOK(tenant, migration, env string) destination.Counts {
	g.t.Helper()
	r := g.counts(tenant, migration, env, g.key)
	if r.status != http.StatusOK {
		g.t.Fatalf("counts: %d %s", r.status, r.body)
	}
	var c destination.Counts
	if err := json.Unmarshal(r.body, &c); err != nil {
		g.t.Fatal(err)
	}
	return c
}

func TestCountsAreWhatIsStored(t *testing.T) {
	g := newRig(t)
	g.post(batchOf("acme", "m1", cutover.EnvTest, rec("c1", "contact", "s1"), rec("c2", "contact", "s2"), rec("k1", "company", "s3")))
	g.post(batchOf("acme", "m1", cutover.EnvTest, rec("c3", "contact", "s4")))
	g.post(batchOf("acme", "m1", cutover.EnvLive, rec("c9", "contact", "s9")))  // another environment
	g.post(batchOf("acme", "m2", cutover.EnvTest, rec("c8", "contact", "s8")))  // another migration
	g.post(batchOf("other", "m1", cutover.EnvTest, rec("c7", "contact", "s7"))) // another tenant
	c := g.countsOK("acme", "m1", cutover.EnvTest)
	if len(c.Entities) != 2 {
		t.Fatalf("entities %v", c.Entities)
	}
	for _, entity := range []string{"contact", "company"} {
		ids := g.storedIDs("acme", "m1", cutover.EnvTest, entity)
		want := cutover.Holding{Count: int64(len(ids)), IDChecksum: checksum(ids)}
		if c.Entities[entity] != want {
			t.Errorf("%s: %+v, want %+v (stored %v)", entity, c.Entities[entity], want, ids)
		}
	}
	if c.Entities["contact"].Count != 3 {
		t.Errorf("contacts %d, want 3", c.Entities["contact"].Count)
	}
	if empty := g.countsOK("acme", "m7", cutover.EnvLive); len(empty.Entities) != 0 {
		t.Errorf("a migration with nothing: %v", empty.Entities)
	}

	// A planted mismatch: one entity's count is one too many.
	g.setFaults(`{"countPlusOne": ["contact"]}`)
	c2 := g.countsOK("acme", "m1", cutover.EnvTest)
	if c2.Entities["contact"].Count != c.Entities["contact"].Count+1 || c2.Entities["company"] != c.Entities["company"] {
		t.Errorf("planted mismatch: %v, before %v", c2.Entities, c.Entities)
	}
}

// Two senders deliver overlapping batches at once: every record is stored
// once and reported created exactly once.
func TestConcurrentOverlappingBatchesStoreEachRecordOnce(t *testing.T) {
	g := newRig(t)
	const n = 60
	var mu sync.Mutex
	created := map[string]int{}
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := 0; i < n; i += 5 {
				// Worker 0 sends r0-r9, r5-r14, ...; worker 1 the same windows
				// shifted by 2, so every window overlaps the other's.
				var recs []destination.Record
				for j := i + 2*w; j < i+2*w+10 && j < n; j++ {
					recs = append(recs, rec(fmt.Sprintf("r%02d", j), "contact", ""))
				}
				b := batchOf("acme", "m1", cutover.EnvLive, recs...)
				body, _ := json.Marshal(b)
				r, err := g.send(http.DefaultClient, "acme", body, g.key, b.ID, nil)
				if err != nil || r.status != http.StatusOK {
					t.Errorf("%v %d %s", err, r.status, r.body)
					return
				}
				var br destination.BatchResult
				_ = json.Unmarshal(r.body, &br)
				mu.Lock()
				for _, res := range br.Results {
					if res.Outcome == cutover.Created {
						created[res.ID]++
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("r%02d", i)
	}
	wantStoredOnce(t, g.stored("acme", cutover.EnvLive), ids...)
	for _, id := range ids {
		if created[id] != 1 {
			t.Errorf("%s reported created %d times", id, created[id])
		}
	}
}

func TestAdminFaultsRefuseBadInput(t *testing.T) {
	g := newRig(t)
	for _, body := range []string{`{"tooManyRequests": -1}`, `{"delay": "soon"}`, `{"tooManyRequest": 1}`, `[`} {
		res, err := http.Post(g.srv.URL+"/admin/faults", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if r := (response{status: res.StatusCode, body: b}); r.status != 400 || r.errorCode(t) != "invalid" {
			t.Errorf("%s: %d %s", body, res.StatusCode, b)
		}
	}
	g.setFaults(`{"serverErrors": 3}`)
	res, err := http.Get(g.srv.URL + "/admin/faults")
	if err != nil {
		t.Fatal(err)
	}
	var f Faults
	_ = json.NewDecoder(res.Body).Decode(&f)
	res.Body.Close()
	if f.ServerErrors != 3 {
		t.Errorf("faults now %+v", f)
	}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodDelete, g.srv.URL+"/admin/faults", nil)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("clear: %v %v", res, err)
	}
	g.post(batchOf("acme", "m1", cutover.EnvTest, rec("r1", "contact", "s1"))).results(t)
}

func TestListingShowsWhatArrived(t *testing.T) {
	g := newRig(t)
	g.post(batchOf("acme", "m1", cutover.EnvTest, rec("r1", "contact", "s1")))
	res, err := http.Get(g.srv.URL + "/records?tenant=acme&environment=test")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Records []struct {
			TenantID    string         `json:"tenantId"`
			Environment string         `json:"environment"`
			MigrationID string         `json:"migrationId"`
			ID          string         `json:"id"`
			Entity      string         `json:"entity"`
			SourceID    string         `json:"sourceId"`
			Fields      map[string]any `json:"fields"`
		} `json:"records"`
	}
	if err := json.NewDecoder(res.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if len(list.Records) != 1 || list.Records[0].ID != "r1" || list.Records[0].MigrationID != "m1" ||
		list.Records[0].Fields["fee"].(map[string]any)["currency"] != "GBP" {
		t.Fatalf("listing %+v", list)
	}
	res, err = http.Get(g.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(page), "acme") || !strings.Contains(string(page), "r1") {
		t.Fatalf("page %d %s", res.StatusCode, page)
	}
}

// Money travels as an exact decimal; the receiver keeps the fields as sent,
// never through a float.
func TestFieldsAreStoredExactly(t *testing.T) {
	g := newRig(t)
	b := batchOf("acme", "m1", cutover.EnvLive, destination.Record{ID: "r1", Entity: "deal"})
	b.Records[0].Fields = map[string]any{
		"fee":  map[string]any{"amount": json.Number("12345678901234567.10"), "currency": "GBP"},
		"tags": []any{"a", "b"}, "open": true, "closes": "2026-12-31",
	}
	g.post(b).results(t)
	db, _ := sql.Open("sqlite", g.db)
	defer db.Close()
	var fields string
	if err := db.QueryRow(`SELECT fields FROM records WHERE record_id = 'r1'`).Scan(&fields); err != nil {
		t.Fatal(err)
	}
	if want := `{"closes":"2026-12-31","fee":{"amount":12345678901234567.10,"currency":"GBP"},"open":true,"tags":["a","b"]}`; fields != want {
		t.Fatalf("stored %s, want %s", fields, want)
	}
}

func TestUnknownPathsGetAJSONError(t *testing.T) {
	g := newRig(t)
	for _, path := range []string{"/nope", "/tenants/acme/record"} {
		res, err := http.Post(g.srv.URL+path, "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if r := (response{status: res.StatusCode, body: b}); r.status != 404 || r.errorCode(t) != "not_found" {
			t.Errorf("%s: %d %s", path, res.StatusCode, b)
		}
	}
}

// The admin endpoint is not signed, so only the receiver's own machine may
// use it, even when the receiver listens on every interface.
func TestAdminAnswersOnlyThisMachine(t *testing.T) {
	key, _ := destination.Key(secret)
	store, err := Open(filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	h := New(key, store, Options{Logger: slog.New(slog.DiscardHandler)})
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		req := httptest.NewRequest(method, "/admin/faults", strings.NewReader(`{"serverErrors": 5}`))
		req.RemoteAddr = "203.0.113.7:40000"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if r := (response{status: w.Code, body: w.Body.Bytes()}); r.status != http.StatusForbidden || r.errorCode(t) != "forbidden" {
			t.Errorf("%s from elsewhere: %d %s", method, w.Code, w.Body)
		}
	}
	if f := h.faults.get(); f.ServerErrors != 0 {
		t.Fatalf("a remote request set faults: %+v", f)
	}
}

// Each test round is its own data set: round 2 re-sends r1 with corrected
// values and it is created again for that round (not answered "exists"),
// counted apart from round 1; live is untouched by either; a test batch
// without a round, or a live one with one, is refused.
func TestTestRoundsAreTheirOwnDataSets(t *testing.T) {
	g := newRig(t)
	if got := outcomes(g.post(batchOfRound("acme", "m1", cutover.EnvTest, 1, rec("r1", "contact", "s1"))).results(t)); got["r1"] != cutover.Created {
		t.Fatalf("round 1: %v", got)
	}
	if got := outcomes(g.post(batchOfRound("acme", "m1", cutover.EnvTest, 2, rec("r1", "contact", "s1"))).results(t)); got["r1"] != cutover.Created {
		t.Fatalf("round 2 re-sending r1: %v, want created", got)
	}
	if got := outcomes(g.post(batchOfRound("acme", "m1", cutover.EnvTest, 2, rec("r1", "contact", "s1"), rec("r2", "contact", "s2"))).results(t)); got["r1"] != cutover.Existed || got["r2"] != cutover.Created {
		t.Fatalf("round 2 again: %v", got)
	}
	for round, want := range map[int]int64{1: 1, 2: 2, 3: 0} {
		r := g.countsOfRound("acme", "m1", cutover.EnvTest, round, g.key)
		var c destination.Counts
		if err := json.Unmarshal(r.body, &c); err != nil || r.status != http.StatusOK {
			t.Fatalf("round %d: %d %s", round, r.status, r.body)
		}
		if got := c.Entities["contact"].Count; got != want {
			t.Errorf("round %d holds %d contacts, want %d", round, got, want)
		}
	}
	if got := g.countsOK("acme", "m1", cutover.EnvLive).Entities["contact"].Count; got != 0 {
		t.Errorf("live holds %d contacts after test rounds", got)
	}
	for name, b := range map[string]destination.Batch{
		"test without a round": batchOfRound("acme", "m1", cutover.EnvTest, 0, rec("r9", "contact", "s9")),
		"live with a round":    batchOfRound("acme", "m1", cutover.EnvLive, 1, rec("r9", "contact", "s9")),
	} {
		if r := g.post(b); r.status != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", name, r.status, r.body)
		}
	}
}
