package receiver

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver: no cgo, so `go run` works anywhere
)

// schema is the receiver's database. A record is keyed by tenant,
// environment, scope and id, so delivering it twice can never make two:
// scope is empty in live, and in test the migration and round (each test
// round is its own data set; the contract's "Test rounds"); the
// migration and entity are kept beside it for counts. An idempotency key is
// kept per tenant with the hash of the body it came with and the answer it
// got, so a repeat gets that answer again.
const schema = `
CREATE TABLE IF NOT EXISTS records (
	tenant_id    TEXT NOT NULL,
	environment  TEXT NOT NULL,
	scope        TEXT NOT NULL,
	round        INTEGER NOT NULL,
	record_id    TEXT NOT NULL,
	migration_id TEXT NOT NULL,
	entity       TEXT NOT NULL,
	source_id    TEXT NOT NULL,
	fields       TEXT NOT NULL,
	batch_id     TEXT NOT NULL,
	received_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
	PRIMARY KEY (tenant_id, environment, scope, record_id)
);
CREATE INDEX IF NOT EXISTS records_by_migration ON records (tenant_id, migration_id, environment, entity);
CREATE TABLE IF NOT EXISTS idempotency (
	tenant_id TEXT NOT NULL,
	key       TEXT NOT NULL,
	body_hash TEXT NOT NULL,
	response  TEXT NOT NULL,
	PRIMARY KEY (tenant_id, key)
);`

// Store is the receiver's SQLite database: the records that arrived and the
// answers given to idempotency keys.
type Store struct {
	db *sql.DB
}

// Open opens (creating when needed) the SQLite database at path. Every
// transaction takes SQLite's write lock when it begins (_txlock=immediate),
// so a batch's check of its idempotency key, its inserts and the answer it
// stores happen as one, whatever else is delivering at the same time.
//
// Errors: when the file cannot be opened or the schema cannot be created.
func Open(path string) (*Store, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_txlock=immediate&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		return nil, fmt.Errorf("receiver: open %s: %w", path, err)
	}
	if _, err := db.Exec(schema + eventsSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("receiver: create the schema in %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the database.
//
// Errors: the driver's, when the file cannot be closed cleanly.
func (s *Store) Close() error { return s.db.Close() }

// errKeyReused is deliver's error for an idempotency key already used with
// another body.
var errKeyReused = errors.New("receiver: idempotency key reused with another body")

// delivery is one batch to store.
type delivery struct {
	batch    destination.Batch
	bodyHash string
	// reject names the records refused (id -> reason), decided before the
	// transaction.
	reject map[string]string
	// forget stores the records but not the answer: a delivery whose answer
	// is lost, so that its retry is processed again (the duplicates fault).
	forget bool
}

// deliver stores d's records in one transaction and returns the answer, one
// result per record in the batch's order. A key seen before with the same
// body returns the stored answer and changes nothing.
//
// Errors: errKeyReused; the driver's otherwise.
func (s *Store) deliver(ctx context.Context, d delivery) ([]byte, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	b := d.batch
	var hash string
	var stored []byte
	err = tx.QueryRowContext(ctx, `SELECT body_hash, response FROM idempotency WHERE tenant_id = ? AND key = ?`, b.TenantID, b.ID).Scan(&hash, &stored)
	switch {
	case err == nil && hash == d.bodyHash:
		return stored, nil
	case err == nil:
		return nil, errKeyReused
	case !errors.Is(err, sql.ErrNoRows):
		return nil, err
	}
	results := make([]cutover.DeliveryResult, len(b.Records))
	for i, r := range b.Records {
		if reason, ok := d.reject[r.ID]; ok {
			results[i] = cutover.DeliveryResult{ID: r.ID, Outcome: cutover.Rejected, Reason: reason}
			continue
		}
		fields, err := json.Marshal(r.Fields)
		if err != nil {
			return nil, err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO records (tenant_id, environment, scope, round, record_id, migration_id, entity, source_id, fields, batch_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			b.TenantID, b.Environment, scope(b.Environment, b.MigrationID, b.Round), b.Round, r.ID, b.MigrationID, r.Entity, r.SourceID, string(fields), b.ID)
		if err != nil {
			return nil, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, err
		}
		outcome := cutover.Created
		if n == 0 {
			outcome = cutover.Existed
		}
		results[i] = cutover.DeliveryResult{ID: r.ID, Outcome: outcome}
	}
	answer, err := json.Marshal(destination.BatchResult{Results: results})
	if err != nil {
		return nil, err
	}
	if !d.forget {
		if _, err := tx.ExecContext(ctx, `INSERT INTO idempotency (tenant_id, key, body_hash, response) VALUES (?, ?, ?, ?)`,
			b.TenantID, b.ID, d.bodyHash, string(answer)); err != nil {
			return nil, err
		}
	}
	return answer, tx.Commit()
}

// holdings counts, per entity, the records of one migration of a tenant in
// one environment, with the IDChecksum of their ids.
//
// Errors: the driver's.
func (s *Store) holdings(ctx context.Context, t cutover.Target) (map[string]cutover.Holding, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT entity, record_id FROM records WHERE tenant_id = ? AND migration_id = ? AND environment = ? AND round = ?`,
		t.TenantID, t.MigrationID, t.Env, t.Round)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	counts := map[string]int64{}
	sums := map[string]*destination.IDChecksum{}
	for rows.Next() {
		var entity, id string
		if err := rows.Scan(&entity, &id); err != nil {
			return nil, err
		}
		if sums[entity] == nil {
			sums[entity] = new(destination.IDChecksum)
		}
		sums[entity].Add(id)
		counts[entity]++
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make(map[string]cutover.Holding, len(counts))
	for entity, n := range counts {
		out[entity] = cutover.Holding{Count: n, IDChecksum: sums[entity].String()}
	}
	return out, nil
}

// Arrived is one stored record, as the listing shows it.
type Arrived struct {
	TenantID    string          `json:"tenantId"`
	Environment string          `json:"environment"`
	MigrationID string          `json:"migrationId"`
	ID          string          `json:"id"`
	Entity      string          `json:"entity"`
	SourceID    string          `json:"sourceId,omitempty"`
	Fields      json.RawMessage `json:"fields"`
	BatchID     string          `json:"batchId"`
	ReceivedAt  string          `json:"receivedAt"`
}

// filter narrows the listing; an empty field matches everything.
type filter struct {
	tenant, environment, migration, entity string
	limit                                  int
}

// list returns the newest records matching f, at most f.limit.
//
// Errors: the driver's.
func (s *Store) list(ctx context.Context, f filter) ([]Arrived, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT tenant_id, environment, migration_id, record_id, entity, source_id, fields, batch_id, received_at
		FROM records
		WHERE (?1 = '' OR tenant_id = ?1) AND (?2 = '' OR environment = ?2) AND (?3 = '' OR migration_id = ?3) AND (?4 = '' OR entity = ?4)
		ORDER BY received_at DESC, record_id LIMIT ?5`, f.tenant, f.environment, f.migration, f.entity, f.limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Arrived{}
	for rows.Next() {
		var a Arrived
		var fields string
		if err := rows.Scan(&a.TenantID, &a.Environment, &a.MigrationID, &a.ID, &a.Entity, &a.SourceID, &fields, &a.BatchID, &a.ReceivedAt); err != nil {
			return nil, err
		}
		a.Fields = json.RawMessage(fields)
		out = append(out, a)
	}
	return out, rows.Err()
}

// Summary is one line of the page: how many records one migration of a
// tenant holds of one entity in one environment.
type Summary struct {
	TenantID    string `json:"tenantId"`
	MigrationID string `json:"migrationId"`
	Environment string `json:"environment"`
	Entity      string `json:"entity"`
	Count       int64  `json:"count"`
}

// summary returns every (tenant, migration, environment, entity) the
// database holds records of, with their counts.
//
// Errors: the driver's.
func (s *Store) summary(ctx context.Context) ([]Summary, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT tenant_id, migration_id, environment, entity, count(*) FROM records
		GROUP BY tenant_id, migration_id, environment, entity ORDER BY tenant_id, migration_id, environment, entity`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Summary
	for rows.Next() {
		var s Summary
		if err := rows.Scan(&s.TenantID, &s.MigrationID, &s.Environment, &s.Entity, &s.Count); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// scope is the part of a record's key beside tenant, environment and id:
// nothing in live, where a record is created once for good; the migration
// and round in test, where each round is a fresh data set.
func scope(env, migration string, round int) string {
	if env == cutover.EnvLive {
		return ""
	}
	return migration + "/" + strconv.Itoa(round)
}
