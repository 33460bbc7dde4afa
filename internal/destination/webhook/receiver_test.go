package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination"
)

// secret is the Standard Webhooks test vector's secret.
const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func key(t testing.TB) []byte {
	t.Helper()
	k, err := destination.Key(secret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var target = cutover.Target{Env: cutover.EnvLive, TenantID: "ac/me", MigrationID: "m1"}

// records makes n records whose note field has pad bytes.
func records(n, pad int) []cutover.Record {
	recs := make([]cutover.Record, n)
	for i := range recs {
		src := fmt.Sprintf("c-%04d", i)
		recs[i] = cutover.Record{
			ID: cutover.RecordID("acme", "contact", src), Entity: "contact", SourceID: src, SourceRow: i + 2,
			Fields: map[string]string{"first_name": "Ann", "note": strings.Repeat("x", pad)},
		}
	}
	return recs
}

// convert is the tests' converter: every field as a string. (Production
// wires the typed converter of internal/destination.)
func convert(r cutover.Record) (destination.Record, error) {
	f := make(map[string]any, len(r.Fields))
	for k, v := range r.Fields {
		f[k] = v
	}
	return destination.Record{ID: r.ID, Entity: r.Entity, SourceID: r.SourceID, Fields: f}, nil
}

// receiver is a destination speaking the contract, written for the tests:
// it verifies every request's signature, stores each record id once
// (counting how many times each was stored, independently of the client),
// answers a repeated Idempotency-Key with the answer it gave first, and
// lets a test fault any request.
type receiver struct {
	t   *testing.T
	key []byte
	srv *httptest.Server

	mu      sync.Mutex
	stored  map[string]int      // id → times stored (must stay ≤ 1)
	replies map[string][]byte   // Idempotency-Key → the answer given
	reject  map[string]string   // id → reason to reject it
	batches []destination.Batch // every POST received, in order
	headers []http.Header       // and its headers
	paths   []string            // every request's escaped path and query
	fault   func(n int, b destination.Batch) (status int, header http.Header, body string, afterStore bool)
	answer  func(b destination.Batch, results []cutover.DeliveryResult) []cutover.DeliveryResult
	counts  string // the body of a counts answer
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, key: key(t), stored: map[string]int{}, replies: map[string][]byte{}, reject: map[string]string{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	if err := destination.Verify(r.key, req.Header, body, time.Now()); err != nil {
		r.t.Errorf("%s %s: %v", req.Method, req.URL, err)
		http.Error(w, "signature", http.StatusUnauthorized)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.paths = append(r.paths, req.URL.EscapedPath()+"?"+req.URL.RawQuery)
	r.headers = append(r.headers, req.Header.Clone())
	if req.Method == http.MethodGet {
		r.batches = append(r.batches, destination.Batch{})
		if r.fault != nil {
			if status, h, b, _ := r.fault(len(r.batches), destination.Batch{}); status != 0 {
				writeReply(w, status, h, b)
				return
			}
		}
		_, _ = io.WriteString(w, r.counts)
		return
	}
	var b destination.Batch
	if err := json.Unmarshal(body, &b); err != nil {
		r.t.Errorf("a batch that is not JSON: %v", err)
		http.Error(w, "json", http.StatusBadRequest)
		return
	}
	r.batches = append(r.batches, b)
	status, h, fbody, afterStore := 0, http.Header(nil), "", false
	if r.fault != nil {
		status, h, fbody, afterStore = r.fault(len(r.batches), b)
	}
	if status == -1 { // hang up without an answer
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			_ = conn.Close()
		}
		return
	}
	if status != 0 && !afterStore {
		writeReply(w, status, h, fbody)
		return
	}
	key := req.Header.Get(destination.HeaderIdempotencyKey)
	reply, seen := r.replies[key]
	if !seen {
		var res []cutover.DeliveryResult
		for _, rec := range b.Records {
			switch {
			case r.reject[rec.ID] != "":
				res = append(res, cutover.DeliveryResult{ID: rec.ID, Outcome: cutover.Rejected, Reason: r.reject[rec.ID]})
			case r.stored[rec.ID] > 0:
				res = append(res, cutover.DeliveryResult{ID: rec.ID, Outcome: cutover.Existed})
			default:
				r.stored[rec.ID]++
				res = append(res, cutover.DeliveryResult{ID: rec.ID, Outcome: cutover.Created})
			}
		}
		if r.answer != nil {
			res = r.answer(b, res)
		}
		reply, _ = json.Marshal(destination.BatchResult{Results: res})
		r.replies[key] = reply
	}
	if status != 0 {
		writeReply(w, status, h, fbody)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(reply)
}

func writeReply(w http.ResponseWriter, status int, h http.Header, body string) {
	for k, v := range h {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func (r *receiver) requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.batches)
}

// memLedger is an in-memory delivery ledger: the first result stored for
// an id wins.
type memLedger struct {
	mu      sync.Mutex
	results map[string]cutover.DeliveryResult // target/id → result
	writes  int
}

func newLedger() *memLedger { return &memLedger{results: map[string]cutover.DeliveryResult{}} }

func ledgerKey(t cutover.Target, id string) string {
	return fmt.Sprintf("%s\x00%s\x00%s\x00%d\x00%s", t.Env, t.TenantID, t.MigrationID, t.Round, id)
}

func (l *memLedger) Delivered(_ context.Context, t cutover.Target, ids []string) (map[string]cutover.DeliveryResult, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]cutover.DeliveryResult{}
	for _, id := range ids {
		if r, ok := l.results[ledgerKey(t, id)]; ok {
			out[id] = r
		}
	}
	return out, nil
}

func (l *memLedger) Record(_ context.Context, t cutover.Target, results []cutover.DeliveryResult) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range results {
		l.writes++
		if _, ok := l.results[ledgerKey(t, r.ID)]; !ok {
			l.results[ledgerKey(t, r.ID)] = r
		}
	}
	return nil
}

// sleeps records the waits the adapter asked for, without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return nil
}
