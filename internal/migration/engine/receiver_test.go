package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/infra/receiver"
	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination"
	"github.com/cutover/cutover/internal/destination/webhook"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/schema"
	"github.com/cutover/cutover/internal/workbook"
)

// The test migration through the real HTTPS destination adapter into the
// real reference receiver, which refuses 3 chosen records (its reject
// fault): the step succeeds, the 3 rows are in the rejects file and the
// workbook with the receiver's reason, the receiver's database (counted
// on a connection of its own) holds exactly the other records, and the
// read-back agreed (the step would fail otherwise).
func TestTestMigrateThroughTheReferenceReceiverRejectsWhatItRefuses(t *testing.T) {
	const reason = "this e-mail address belongs to another account"
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	key, err := destination.Key(secret)
	if err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(t.TempDir(), "receiver.db")
	store, err := receiver.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	refused := []string{"3", "7", "11"}
	srv := httptest.NewServer(receiver.New(key, store, receiver.Options{
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Faults: receiver.Faults{RejectSourceIDs: refused, RejectReason: reason},
	}))
	t.Cleanup(srv.Close)

	svc, mstore, id := mappedMigrationOf(t, 12)
	tenant := mstore.migs[id].TenantID
	typed := func(r cutover.Record) (destination.Record, error) {
		ent, ok := schema.Default().Entity(r.Entity)
		if !ok {
			return destination.Record{}, cutover.Errorf(cutover.EINVALID, "no entity %s", r.Entity)
		}
		return destination.Typed(tenant, r, ent)
	}
	dest, err := webhook.New(webhook.Config{BaseURL: srv.URL, Key: key, MaxRecords: 5}, typed, newMemLedger(),
		webhook.WithSleep(func(context.Context, time.Duration) error { return nil }))
	if err != nil {
		t.Fatal(err)
	}
	svc.Dest = dest
	counts, err := svc.TestMigrate(context.Background(), migration.StepInput{MigrationID: id, Round: 1})
	if err != nil {
		t.Fatalf("TestMigrate: %v", err)
	}
	if counts.Read != 12 || counts.Migrated != 9 || counts.Rejected != 3 || !counts.Balanced() {
		t.Fatalf("counts %+v, want 9 migrated and 3 refused", counts)
	}

	// The receiver's database, on its own connection.
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT source_id FROM records WHERE tenant_id = ? AND environment = 'test' AND migration_id = ? AND round = 1`, tenant, id)
	if err != nil {
		t.Fatal(err)
	}
	held := map[string]int{}
	for rows.Next() {
		var sid string
		if err := rows.Scan(&sid); err != nil {
			t.Fatal(err)
		}
		held[sid]++
	}
	rows.Close()
	for i := 1; i <= 12; i++ {
		sid, want := fmt.Sprint(i), 1
		for _, r := range refused {
			if r == sid {
				want = 0
			}
		}
		if held[sid] != want {
			t.Errorf("source id %s is held %d times, want %d", sid, held[sid], want)
		}
	}
	if len(held) != 9 {
		t.Errorf("the receiver holds %d records, want 9: %v", len(held), held)
	}

	m := mstore.migs[id]
	var wb workbook.Workbook
	if err := json.Unmarshal([]byte(files(svc)[m.Workbook.Key]), &wb); err != nil {
		t.Fatal(err)
	}
	if len(wb.Issues.RejectsFiles) != 1 {
		t.Fatalf("rejects files %+v", wb.Issues.RejectsFiles)
	}
	csv := files(svc)[wb.Issues.RejectsFiles[0].Key]
	for _, sid := range refused {
		if !strings.Contains(csv, "\r\n"+sid+",p"+sid+"@x.com,") {
			t.Errorf("the rejects file lacks source id %s:\n%s", sid, csv)
		}
	}
	if n := strings.Count(csv, "Refused by the destination: "+reason); n != 3 {
		t.Errorf("the rejects file names the receiver's reason %d times, want 3:\n%s", n, csv)
	}
	found := false
	for _, r := range wb.Issues.Rejected {
		found = found || strings.Contains(r.Reason, reason) && r.Count == 3
	}
	if !found {
		t.Errorf("the workbook's rejects by reason %+v lack the receiver's, 3 times", wb.Issues.Rejected)
	}
}

// mappedMigrationOf is mappedMigration with n contacts, all good.
func mappedMigrationOf(t *testing.T, n int) (*Service, *memStore, string) {
	t.Helper()
	store := newMemStore()
	svc, _ := newService(store)
	svc.Files, svc.Test = objects{}, discardTest{}
	ctx := context.Background()
	id := create(t, svc, "acme").Migration.ID
	uploaded(t, store, id, cutover.File{ID: "f1", Name: "c.csv", Key: "k-" + id, Purpose: cutover.PurposeTest, Round: 1, Complete: true})
	var b strings.Builder
	b.WriteString("Id,Email,Name\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%d,p%d@x.com,Person %d\n", i, i, i)
	}
	files(svc)["k-"+id] = b.String()
	m, _ := store.GetMigration(ctx, id)
	if _, err := svc.Submit(ctx, m); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Map(ctx, migration.StepInput{MigrationID: id, Round: 1}); err != nil {
		t.Fatal(err)
	}
	return svc, store, id
}

// memLedger is an in-memory delivery ledger: the first answer of an id
// wins (the DynamoDB one is tested on the emulator in internal/dynamostore).
type memLedger struct {
	mu      sync.Mutex
	results map[string]cutover.DeliveryResult
}

func newMemLedger() *memLedger { return &memLedger{results: map[string]cutover.DeliveryResult{}} }

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
		if _, ok := l.results[ledgerKey(t, r.ID)]; !ok {
			l.results[ledgerKey(t, r.ID)] = r
		}
	}
	return nil
}
