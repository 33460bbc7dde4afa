package webhook_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination"
	"github.com/cutover/cutover/internal/destination/webhook"
)

func newDest(t *testing.T, r *receiver, cfg webhook.Config, l webhook.Ledger, opts ...webhook.Option) *webhook.Destination {
	t.Helper()
	cfg.BaseURL = r.srv.URL + "/api/"
	cfg.Key = r.key
	opts = append([]webhook.Option{webhook.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	d, err := webhook.New(cfg, convert, l, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func byID(res []cutover.DeliveryResult) []cutover.DeliveryResult {
	out := slices.Clone(res)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func TestBatchesAreSignedAndKeyedByTheirRecords(t *testing.T) {
	r := newReceiver(t)
	d := newDest(t, r, webhook.Config{}, newLedger())
	recs := records(3, 10)
	res, err := d.Deliverer(target).Deliver(context.Background(), recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || r.requests() != 1 {
		t.Fatalf("%d results, %d requests", len(res), r.requests())
	}
	b, h := r.batches[0], r.headers[0]
	var sent []destination.Record
	for _, r := range []cutover.Record{recs[2], recs[0], recs[1]} { // the key does not depend on the order
		rec, _ := convert(r)
		sent = append(sent, rec)
	}
	want, err := destination.BatchKey(target, sent)
	if err != nil {
		t.Fatal(err)
	}
	if b.ID != want || h.Get(destination.HeaderIdempotencyKey) != want || h.Get(destination.HeaderID) != want {
		t.Errorf("batch id %q, Idempotency-Key %q, webhook-id %q; want %q", b.ID, h.Get(destination.HeaderIdempotencyKey), h.Get(destination.HeaderID), want)
	}
	if b.TenantID != "ac/me" || b.MigrationID != "m1" || b.Environment != cutover.EnvLive {
		t.Errorf("batch target %+v", b)
	}
	if got := r.paths[0]; got != "/api/tenants/ac%2Fme/records?" {
		t.Errorf("path %q", got)
	}
	if b.Records[0].Fields["first_name"] != "Ann" || b.Records[0].SourceID != recs[0].SourceID {
		t.Errorf("record %+v", b.Records[0])
	}
}

func TestBatchesHoldAtMostMaxRecords(t *testing.T) {
	r := newReceiver(t)
	d := newDest(t, r, webhook.Config{MaxRecords: 2}, newLedger())
	res, err := d.Deliverer(target).Deliver(context.Background(), records(5, 10))
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, b := range r.batches {
		sizes = append(sizes, len(b.Records))
	}
	if !slices.Equal(sizes, []int{2, 2, 1}) || len(res) != 5 || len(r.stored) != 5 {
		t.Errorf("batch sizes %v, %d results, %d stored", sizes, len(res), len(r.stored))
	}
}

func TestBatchesHoldAtMostMaxBytesAndAnOversizedRecordIsRejected(t *testing.T) {
	r := newReceiver(t)
	const maxBytes = 2000
	var bodies []int
	r.fault = func(_ int, b destination.Batch) (int, http.Header, string, bool) {
		body, _ := json.Marshal(b)
		bodies = append(bodies, len(body))
		return 0, nil, "", false
	}
	d := newDest(t, r, webhook.Config{MaxBytes: maxBytes}, newLedger())
	recs := append(records(10, 300), records(11, 3000)[10]) // the last one cannot fit any batch
	res, err := d.Deliverer(target).Deliver(context.Background(), recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(bodies) < 2 {
		t.Errorf("%d batches; 10 records of ~400 bytes need more than one under %d bytes", len(bodies), maxBytes)
	}
	for _, n := range bodies {
		if n > maxBytes {
			t.Errorf("a batch of %d bytes, over %d", n, maxBytes)
		}
	}
	if len(r.stored) != 10 || r.stored[recs[10].ID] != 0 {
		t.Errorf("stored %d records; the oversized one %d times", len(r.stored), r.stored[recs[10].ID])
	}
	if len(res) != 11 {
		t.Fatalf("%d results", len(res))
	}
	for _, x := range res {
		if x.ID == recs[10].ID && (x.Outcome != cutover.Rejected || !strings.Contains(x.Reason, "2000 bytes")) {
			t.Errorf("the oversized record: %+v", x)
		}
	}
}

func TestA429IsRetriedAfterItsRetryAfter(t *testing.T) {
	now := time.Now().Truncate(time.Second) // signatures carry it: the receiver checks it against its clock
	for name, retryAfter := range map[string]string{
		"seconds":   "2",
		"HTTP date": now.Add(2 * time.Second).Format(http.TimeFormat),
	} {
		t.Run(name, func(t *testing.T) {
			r := newReceiver(t)
			r.fault = func(n int, _ destination.Batch) (int, http.Header, string, bool) {
				if n == 1 {
					return http.StatusTooManyRequests, http.Header{"Retry-After": {retryAfter}}, "slow down", false
				}
				return 0, nil, "", false
			}
			var s sleeps
			d := newDest(t, r, webhook.Config{}, newLedger(), webhook.WithSleep(s.sleep), webhook.WithClock(func() time.Time { return now }))
			res, err := d.Deliverer(target).Deliver(context.Background(), records(2, 1))
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != 2 || r.requests() != 2 || !slices.Equal(s.d, []time.Duration{2 * time.Second}) {
				t.Errorf("%d results, %d requests, waits %v; want 2, 2, [2s]", len(res), r.requests(), s.d)
			}
		})
	}
}

func TestA5xxIsRetriedWithJitteredBackoffUnderTheSameID(t *testing.T) {
	r := newReceiver(t)
	r.fault = func(n int, _ destination.Batch) (int, http.Header, string, bool) {
		if n <= 2 {
			return http.StatusInternalServerError, nil, "oops", false
		}
		return 0, nil, "", false
	}
	var s sleeps
	var asked []time.Duration
	jitter := func(d time.Duration) time.Duration { asked = append(asked, d); return d / 2 }
	d := newDest(t, r, webhook.Config{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}, newLedger(),
		webhook.WithSleep(s.sleep), webhook.WithJitter(jitter))
	if _, err := d.Deliverer(target).Deliver(context.Background(), records(2, 1)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(asked, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}) ||
		!slices.Equal(s.d, []time.Duration{50 * time.Millisecond, 100 * time.Millisecond}) {
		t.Errorf("jitter asked for %v, slept %v", asked, s.d)
	}
	ids := map[string]bool{}
	for _, h := range r.headers {
		ids[h.Get(destination.HeaderID)+" "+h.Get(destination.HeaderIdempotencyKey)] = true
	}
	if len(r.headers) != 3 || len(ids) != 1 {
		t.Errorf("%d attempts under %d ids; a retry is the same message", len(r.headers), len(ids))
	}
}

func TestFullJitterStaysWithinTheBackoff(t *testing.T) {
	r := newReceiver(t)
	r.fault = func(int, destination.Batch) (int, http.Header, string, bool) {
		return http.StatusBadGateway, nil, "", false
	}
	var s sleeps
	d := newDest(t, r, webhook.Config{MaxAttempts: 8, BaseDelay: 10 * time.Millisecond, MaxDelay: 40 * time.Millisecond}, newLedger(), webhook.WithSleep(s.sleep))
	_, err := d.Deliverer(target).Deliver(context.Background(), records(1, 1))
	if cutover.ErrorCode(err) != cutover.EUNAVAILABLE {
		t.Fatalf("err %v", err)
	}
	if len(s.d) != 7 {
		t.Fatalf("%d waits for 8 attempts", len(s.d))
	}
	for i, w := range s.d {
		if w < 0 || w > min(10*time.Millisecond<<i, 40*time.Millisecond) {
			t.Errorf("wait %d: %v", i, w)
		}
	}
}

func TestGivingUpAfterMaxAttemptsIsUnavailable(t *testing.T) {
	r := newReceiver(t)
	r.fault = func(int, destination.Batch) (int, http.Header, string, bool) {
		return http.StatusServiceUnavailable, nil, "", false
	}
	var s sleeps
	l := newLedger()
	d := newDest(t, r, webhook.Config{MaxAttempts: 3}, l, webhook.WithSleep(s.sleep))
	_, err := d.Deliverer(target).Deliver(context.Background(), records(2, 1))
	if cutover.ErrorCode(err) != cutover.EUNAVAILABLE || !strings.Contains(cutover.ErrorMessage(err), "3 attempts") {
		t.Errorf("err %v", err)
	}
	if r.requests() != 3 || l.writes != 0 {
		t.Errorf("%d requests, %d ledger writes", r.requests(), l.writes)
	}
}

func TestTransportErrorsAreRetried(t *testing.T) {
	r := newReceiver(t)
	r.fault = func(n int, _ destination.Batch) (int, http.Header, string, bool) {
		if n == 1 {
			return -1, nil, "", false // hang up
		}
		return 0, nil, "", false
	}
	var s sleeps
	d := newDest(t, r, webhook.Config{}, newLedger(), webhook.WithSleep(s.sleep))
	res, err := d.Deliverer(target).Deliver(context.Background(), records(2, 1))
	if err != nil || len(res) != 2 || len(s.d) != 1 {
		t.Errorf("err %v, %d results, %d waits", err, len(res), len(s.d))
	}
}

func TestA4xxFailsAtOnceAsInvalid(t *testing.T) {
	r := newReceiver(t)
	r.fault = func(int, destination.Batch) (int, http.Header, string, bool) {
		return http.StatusBadRequest, nil, `{"error":"no"}`, false
	}
	var s sleeps
	d := newDest(t, r, webhook.Config{}, newLedger(), webhook.WithSleep(s.sleep))
	_, err := d.Deliverer(target).Deliver(context.Background(), records(2, 1))
	if cutover.ErrorCode(err) != cutover.EINVALID || !strings.Contains(cutover.ErrorMessage(err), "400") {
		t.Errorf("err %v", err)
	}
	if r.requests() != 1 || len(s.d) != 0 {
		t.Errorf("%d requests, %d waits", r.requests(), len(s.d))
	}
	// A receiver that cannot verify the signature says 401: the message
	// points at the shared secret.
	r.fault = func(int, destination.Batch) (int, http.Header, string, bool) {
		return http.StatusUnauthorized, nil, "", false
	}
	_, err = d.Deliverer(target).Deliver(context.Background(), records(2, 1))
	if cutover.ErrorCode(err) != cutover.EINVALID || !strings.Contains(cutover.ErrorMessage(err), "signing secret") || r.requests() != 2 {
		t.Errorf("401: %v after %d requests", err, r.requests())
	}
}

func TestAnAnswerThatBreaksTheContractIsInvalid(t *testing.T) {
	for name, answer := range map[string]func(destination.Batch, []cutover.DeliveryResult) []cutover.DeliveryResult{
		"a missing id": func(_ destination.Batch, res []cutover.DeliveryResult) []cutover.DeliveryResult { return res[1:] },
		"a foreign id": func(_ destination.Batch, res []cutover.DeliveryResult) []cutover.DeliveryResult {
			res[0].ID = "someone-else"
			return res
		},
		"an id twice": func(_ destination.Batch, res []cutover.DeliveryResult) []cutover.DeliveryResult {
			return append(res[:1], res[0], res[1])
		},
		"an unknown status": func(_ destination.Batch, res []cutover.DeliveryResult) []cutover.DeliveryResult {
			res[0].Outcome = "maybe"
			return res
		},
	} {
		t.Run(name, func(t *testing.T) {
			r := newReceiver(t)
			r.answer = answer
			l := newLedger()
			d := newDest(t, r, webhook.Config{}, l)
			_, err := d.Deliverer(target).Deliver(context.Background(), records(2, 1))
			if cutover.ErrorCode(err) != cutover.EINVALID || !strings.Contains(cutover.ErrorMessage(err), "broke the contract") {
				t.Errorf("err %v", err)
			}
			if l.writes != 0 {
				t.Errorf("%d ledger writes of a broken answer", l.writes)
			}
		})
	}
	t.Run("not JSON", func(t *testing.T) {
		r := newReceiver(t)
		r.fault = func(int, destination.Batch) (int, http.Header, string, bool) {
			return http.StatusOK, nil, "<html>", true
		}
		d := newDest(t, r, webhook.Config{}, newLedger())
		if _, err := d.Deliverer(target).Deliver(context.Background(), records(2, 1)); cutover.ErrorCode(err) != cutover.EINVALID {
			t.Errorf("err %v", err)
		}
	})
}

// The delivery ledger makes delivery exactly once: a chunk that crashed
// after the destination stored its records but before the ledger recorded
// them sends them again under the same idempotency key (the destination
// answers as it did), and a chunk delivered in full sends nothing again.
// What the destination stored is counted by the destination.
func TestTheLedgerDeliversEachRecordOnce(t *testing.T) {
	r := newReceiver(t)
	recs := records(6, 1)
	r.reject[recs[4].ID] = "the destination's own rule"
	crash := true
	l := newLedger()
	var s sleeps
	d := newDest(t, r, webhook.Config{MaxRecords: 3, MaxAttempts: 2}, l, webhook.WithSleep(s.sleep))
	// The first run: batch 1 delivered and recorded; batch 2 stored by the
	// destination, then its answer lost every time (the chunk dies).
	r.fault = func(n int, _ destination.Batch) (int, http.Header, string, bool) {
		if crash && n >= 2 {
			return http.StatusInternalServerError, nil, "stored, then crashed", true
		}
		return 0, nil, "", false
	}
	if _, err := d.Deliverer(target).Deliver(context.Background(), recs); cutover.ErrorCode(err) != cutover.EUNAVAILABLE {
		t.Fatalf("the crashed run: %v", err)
	}
	if len(l.results) != 3 {
		t.Fatalf("the ledger holds %d results after the first batch", len(l.results))
	}
	// The retried chunk.
	crash = false
	before := r.requests()
	first, err := d.Deliverer(target).Deliver(context.Background(), recs)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.requests() - before; got != 1 {
		t.Errorf("the retry sent %d batches; only the unrecorded one should go again", got)
	}
	for _, rec := range recs {
		want := 1
		if rec.ID == recs[4].ID {
			want = 0
		}
		if r.stored[rec.ID] != want {
			t.Errorf("the destination stored %s %d times, want %d", rec.ID, r.stored[rec.ID], want)
		}
	}
	if len(first) != 6 {
		t.Fatalf("%d results", len(first))
	}
	for _, x := range first {
		if x.ID == recs[4].ID {
			if x.Outcome != cutover.Rejected || x.Reason != "the destination's own rule" {
				t.Errorf("the rejected record: %+v", x)
			}
		} else if x.Outcome != cutover.Created {
			t.Errorf("%+v, want created (the destination's answer to that batch)", x)
		}
	}
	// Delivered in full: again sends nothing and answers the same.
	before = r.requests()
	again, err := d.Deliverer(target).Deliver(context.Background(), recs)
	if err != nil {
		t.Fatal(err)
	}
	if r.requests() != before {
		t.Errorf("a delivered chunk sent %d more requests", r.requests()-before)
	}
	if !slices.Equal(byID(again), byID(first)) {
		t.Errorf("results differ:\n%v\n%v", byID(again), byID(first))
	}
	// Another target is another ledger partition: its records go. So is
	// another test round: a corrected round re-delivers the same ids.
	other := target
	other.Env, other.Round = cutover.EnvTest, 1
	if _, err := d.Deliverer(other).Deliver(context.Background(), recs[:1]); err != nil || r.requests() != before+1 {
		t.Errorf("another environment: %v, %d requests", err, r.requests()-before)
	}
	other.Round = 2
	if _, err := d.Deliverer(other).Deliver(context.Background(), recs[:1]); err != nil || r.requests() != before+2 {
		t.Errorf("another test round: %v, %d requests", err, r.requests()-before)
	}
}

func TestDeliveringNothingSendsNothing(t *testing.T) {
	r := newReceiver(t)
	d := newDest(t, r, webhook.Config{}, newLedger())
	if res, err := d.Deliverer(target).Deliver(context.Background(), nil); err != nil || len(res) != 0 || r.requests() != 0 {
		t.Errorf("%v %v %d", res, err, r.requests())
	}
}

func TestAnIDTwiceInOneDeliveryIsRefused(t *testing.T) {
	r := newReceiver(t)
	d := newDest(t, r, webhook.Config{}, newLedger())
	recs := records(2, 1)
	recs[1].ID = recs[0].ID
	if _, err := d.Deliverer(target).Deliver(context.Background(), recs); err == nil || r.requests() != 0 {
		t.Errorf("err %v, %d requests", err, r.requests())
	}
}

func TestHoldingsAreReadSignedAndRetried(t *testing.T) {
	r := newReceiver(t)
	var sum destination.IDChecksum
	sum.Add("a")
	r.counts = `{"entities":{"contact":{"count":3,"idChecksum":"` + sum.String() + `"}}}`
	r.fault = func(n int, _ destination.Batch) (int, http.Header, string, bool) {
		if n == 1 {
			return http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}}, "", false
		}
		return 0, nil, "", false
	}
	var s sleeps
	d := newDest(t, r, webhook.Config{}, newLedger(), webhook.WithSleep(s.sleep))
	got, err := d.Holdings(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	if got["contact"] != (cutover.Holding{Count: 3, IDChecksum: sum.String()}) || len(got) != 1 {
		t.Errorf("holdings %+v", got)
	}
	if r.paths[1] != "/api/tenants/ac%2Fme/migrations/m1/counts?environment=live&round=0" || !slices.Equal(s.d, []time.Duration{time.Second}) {
		t.Errorf("paths %v, waits %v", r.paths, s.d)
	}
	if r.headers[0].Get(destination.HeaderID) != r.headers[1].Get(destination.HeaderID) {
		t.Error("a retried read-back is another message")
	}
	for _, bad := range []string{`{}`, `nope`, `{"entities":{"contact":{"count":-1,"idChecksum":"` + sum.String() + `"}}}`, `{"entities":{"contact":{"count":1,"idChecksum":"xyz"}}}`} {
		r.counts = bad
		r.fault = nil
		if _, err := d.Holdings(context.Background(), target); cutover.ErrorCode(err) != cutover.EINVALID {
			t.Errorf("counts %s: %v", bad, err)
		}
	}
}

func TestNewRefusesABadConfiguration(t *testing.T) {
	k := key(t)
	for name, cfg := range map[string]webhook.Config{
		"no URL":            {Key: k},
		"a relative URL":    {BaseURL: "/api", Key: k},
		"another scheme":    {BaseURL: "ftp://x", Key: k},
		"no key":            {BaseURL: "https://x"},
		"negative records":  {BaseURL: "https://x", Key: k, MaxRecords: -1},
		"a URL with query":  {BaseURL: "https://x/?a=1", Key: k},
		"a tiny byte limit": {BaseURL: "https://x", Key: k, MaxBytes: 10},
	} {
		if _, err := webhook.New(cfg, convert, newLedger()); cutover.ErrorCode(err) != cutover.EINVALID {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := webhook.New(webhook.Config{BaseURL: "https://x", Key: k}, nil, newLedger()); err == nil {
		t.Error("no converter accepted")
	}
}

func TestABadTargetIsRefused(t *testing.T) {
	r := newReceiver(t)
	d := newDest(t, r, webhook.Config{}, newLedger())
	for _, tg := range []cutover.Target{{Env: "prod", TenantID: "a", MigrationID: "m"}, {Env: cutover.EnvTest, MigrationID: "m", Round: 1}, {Env: cutover.EnvTest, TenantID: "a", Round: 1}, {Env: cutover.EnvTest, TenantID: "a", MigrationID: "m"}, {Env: cutover.EnvLive, TenantID: "a", MigrationID: "m", Round: 1}} {
		if _, err := d.Deliverer(tg).Deliver(context.Background(), records(1, 1)); cutover.ErrorCode(err) != cutover.EINVALID {
			t.Errorf("%+v: %v", tg, err)
		}
		if _, err := d.Holdings(context.Background(), tg); cutover.ErrorCode(err) != cutover.EINVALID {
			t.Errorf("holdings %+v: %v", tg, err)
		}
	}
	if r.requests() != 0 {
		t.Errorf("%d requests", r.requests())
	}
}
