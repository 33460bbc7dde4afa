package receiver_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/infra/receiver"
	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination"
	"github.com/cutover/cutover/internal/destination/webhook"
)

// The HTTPS destination adapter against the reference receiver, both as
// they ship: the one contract, spoken by the two sides written apart. Under
// 429s, 500s, a batch stored whose answer was lost, and three records the
// destination refuses, every other record arrives exactly once (counted in
// the receiver's database, not from either side's answers), the refused
// ones are reported with the destination's reason and not stored, a second
// delivery after a "crash" sends nothing, and the read-back's counts and
// checksum are those of what the database holds.
func TestWebhookAdapterAndReferenceReceiverDeliverExactlyOnce(t *testing.T) {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	key, err := destination.Key(secret)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "receiver.db")
	store, err := receiver.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	refused := []string{"rec-0007", "rec-0512", "rec-1111"}
	srv := httptest.NewServer(receiver.New(key, store, receiver.Options{
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Faults: receiver.Faults{
			TooManyRequests: 2, ServerErrors: 2, Duplicates: 1,
			RejectIDs: refused, RejectReason: "this e-mail address belongs to another account",
		},
	}))
	t.Cleanup(srv.Close)

	ledger := &mapLedger{results: map[string]cutover.DeliveryResult{}}
	dest, err := webhook.New(webhook.Config{BaseURL: srv.URL, Key: key, MaxRecords: 500, MaxAttempts: 8}, plainFields, ledger,
		webhook.WithSleep(func(context.Context, time.Duration) error { return nil }))
	if err != nil {
		t.Fatal(err)
	}
	target := cutover.Target{Env: cutover.EnvLive, TenantID: "acme", MigrationID: "m1"}
	var recs []cutover.Record
	for i := range 1200 {
		recs = append(recs, cutover.Record{
			ID: fmt.Sprintf("rec-%04d", i), Entity: []string{"contact", "company"}[i%2], SourceID: fmt.Sprint(i),
			Fields: map[string]string{"name": fmt.Sprintf("Person %d", i)},
		})
	}

	results, err := dest.Deliverer(target).Deliver(context.Background(), recs)
	if err != nil {
		t.Fatal(err)
	}
	outcome := map[string]cutover.DeliveryResult{}
	for _, r := range results {
		outcome[r.ID] = r
	}
	if len(outcome) != len(recs) {
		t.Fatalf("%d results for %d records", len(outcome), len(recs))
	}
	for _, id := range refused {
		if r := outcome[id]; r.Outcome != cutover.Rejected || r.Reason != "this e-mail address belongs to another account" {
			t.Errorf("%s: %+v, want rejected with the destination's reason", id, r)
		}
	}

	// What the receiver's database holds, read on a connection of its own.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stored := map[string]int{}
	rows, err := db.Query(`SELECT record_id FROM records WHERE tenant_id = 'acme' AND environment = 'live'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		stored[id]++
	}
	rows.Close()
	if want := len(recs) - len(refused); len(stored) != want {
		t.Errorf("the receiver holds %d records, want %d", len(stored), want)
	}
	sums := map[string]*destination.IDChecksum{"contact": {}, "company": {}}
	counts := map[string]int64{}
	for _, r := range recs {
		n := stored[r.ID]
		switch {
		case outcome[r.ID].Outcome == cutover.Rejected:
			if n != 0 {
				t.Errorf("%s was refused but is stored", r.ID)
			}
		case n != 1:
			t.Errorf("%s is stored %d times", r.ID, n)
		default:
			if o := outcome[r.ID].Outcome; o != cutover.Created && o != cutover.Existed {
				t.Errorf("%s: %s", r.ID, o)
			}
			sums[r.Entity].Add(r.ID)
			counts[r.Entity]++
		}
	}

	// A crashed chunk delivers its records again: nothing is sent, and the
	// answers are the first ones.
	before := len(stored)
	again, err := dest.Deliverer(target).Deliver(context.Background(), recs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range again {
		if r != outcome[r.ID] {
			t.Errorf("%s: %+v the second time, %+v the first", r.ID, r, outcome[r.ID])
		}
	}
	var after int
	if err := db.QueryRow(`SELECT count(*) FROM records`).Scan(&after); err != nil || after != before {
		t.Errorf("after a second delivery the receiver holds %d records, before %d (%v)", after, before, err)
	}

	held, err := dest.Holdings(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	for entity, sum := range sums {
		if got, want := held[entity], (cutover.Holding{Count: counts[entity], IDChecksum: sum.String()}); got != want {
			t.Errorf("%s: the receiver reports %+v, its database holds %+v", entity, got, want)
		}
	}
}

// plainFields is the simplest converter: every field as text.
func plainFields(r cutover.Record) (destination.Record, error) {
	f := map[string]any{}
	for k, v := range r.Fields {
		f[k] = v
	}
	return destination.Record{ID: r.ID, Entity: r.Entity, SourceID: r.SourceID, Fields: f}, nil
}

// mapLedger is an in-memory delivery ledger (the DynamoDB one is tested on
// the emulator in internal/dynamostore): the first answer of an id wins.
type mapLedger struct {
	mu      sync.Mutex
	results map[string]cutover.DeliveryResult
}

func (l *mapLedger) key(t cutover.Target, id string) string {
	return fmt.Sprintf("%s\x00%s\x00%s\x00%d\x00%s", t.Env, t.TenantID, t.MigrationID, t.Round, id)
}

func (l *mapLedger) Delivered(_ context.Context, t cutover.Target, ids []string) (map[string]cutover.DeliveryResult, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]cutover.DeliveryResult{}
	for _, id := range ids {
		if r, ok := l.results[l.key(t, id)]; ok {
			out[id] = r
		}
	}
	return out, nil
}

func (l *mapLedger) Record(_ context.Context, t cutover.Target, results []cutover.DeliveryResult) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range results {
		if _, ok := l.results[l.key(t, r.ID)]; !ok {
			l.results[l.key(t, r.ID)] = r
		}
	}
	return nil
}

// Two final chunks running at once can both hold a record neither has
// delivered yet (a source id repeated across chunks), with different
// values (the rows differ). Their batches carry the same ids but not the
// same body: each must get its own idempotency key, so the receiver
// answers the second with "exists" instead of a 422 for a reused key.
// A retried identical batch keeps its key (the test above).
func TestBatchesWithTheSameIDsAndOtherValuesAreNotOneBatch(t *testing.T) {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	key, err := destination.Key(secret)
	if err != nil {
		t.Fatal(err)
	}
	store, err := receiver.Open(filepath.Join(t.TempDir(), "receiver.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	srv := httptest.NewServer(receiver.New(key, store, receiver.Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}))
	t.Cleanup(srv.Close)
	target := cutover.Target{Env: cutover.EnvLive, TenantID: "acme", MigrationID: "m1"}
	chunk := func(name string) []cutover.Record {
		return []cutover.Record{{ID: "rec-1", Entity: "contact", SourceID: "1", Fields: map[string]string{"name": name}}}
	}
	// Two chunks: two Lambdas, two ledgers that do not see each other's
	// pending batches yet.
	for i, name := range []string{"Ann Lee", "Ann Lee-Smith"} {
		dest, err := webhook.New(webhook.Config{BaseURL: srv.URL, Key: key, MaxRecords: 500, MaxAttempts: 2}, plainFields,
			&mapLedger{results: map[string]cutover.DeliveryResult{}}, webhook.WithSleep(func(context.Context, time.Duration) error { return nil }))
		if err != nil {
			t.Fatal(err)
		}
		res, err := dest.Deliverer(target).Deliver(context.Background(), chunk(name))
		if err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
		want := []string{cutover.Created, cutover.Existed}[i]
		if len(res) != 1 || res[0].Outcome != want {
			t.Fatalf("chunk %d: %+v, want %s", i, res, want)
		}
	}
}
