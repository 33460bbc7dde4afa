package cutover

// The ports a migration pass writes through. They live in the domain, not
// beside the engine, so that the adapters implementing them (dynamostore,
// s3blob) and the steps that only move files never link the mapping
// engine.

import (
	"context"
	"io"
)

// Opener opens an uploaded file by its storage key.
type Opener interface {
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

// Putter stores a generated artifact.
type Putter interface {
	Put(ctx context.Context, key, contentType string, body []byte) error
}

// Streamer stores a generated artifact written as a stream, holding
// about one part of it in memory at a time: artifacts that grow with the
// extract (the delta, a snapshot) are never held whole.
type Streamer interface {
	// Stream stores at key what write writes to its writer. Nothing is
	// stored when write returns an error (the error is returned as it
	// is).
	Stream(ctx context.Context, key, contentType string, write func(w io.Writer) error) error
}

// Piece is the bytes [Start, End) of a stored object.
type Piece struct {
	Key        string
	Start, End int64
}

// Composer stores at key the pieces of stored objects one after the
// other, copying them within storage where it can, so that joining parts
// written apart (key ranges of a snapshot, of a delta) costs a request
// per part rather than their bytes through the caller. Nothing is stored
// when it fails.
type Composer interface {
	Compose(ctx context.Context, key, contentType string, pieces []Piece) error
}

// Sink receives mapped records in batches. Writing the same record twice
// must converge to one record.
type Sink interface {
	// Write writes recs and returns the ones the destination refused (by
	// its own rules, with its reason): those were not written, and the
	// pass accounts for each as a rejected row, in the rejects file and
	// the workbook like our own rejections.
	//
	// Errors: the destination's (EUNAVAILABLE when it could not be
	// reached, EINVALID when it broke its contract); nothing about the
	// batch's records is known then.
	Write(ctx context.Context, recs []Record) ([]Refusal, error)
}

// Refusal is a record a destination refused, and why (for people).
type Refusal struct {
	Entity string
	ID     string
	Reason string
}

// Environments a destination receives records in: TEST is the vendor's
// staging (or our disposable TEST table), LIVE its production.
const (
	EnvTest = "test"
	EnvLive = "live"
)

// Target names whose records a destination receives or reports on: one
// migration of one tenant, in one environment, and in TEST one round. Each
// test round is a fresh rehearsal (the TEST environment is reset between
// rounds), so its records, its idempotency keys and its read-back are the
// round's own: a corrected round re-sends the same record ids with new
// values, which must land, not be answered "exists". LIVE has round 0: a
// final migration runs once.
type Target struct {
	Env         string // EnvTest or EnvLive
	TenantID    string
	MigrationID string
	Round       int // the test round; 0 in LIVE
	// LiveShards is how many partition keys the built-in LIVE table
	// spreads the tenant's records over (LiveShards, when the final was
	// planned); 0 keeps them under the tenant's one key, as a final planned
	// before LIVE was sharded wrote them. Other destinations ignore it.
	LiveShards int
	// TestShards is how many partition keys a destination that keeps
	// state per record of a test round (the HTTPS destination's delivery
	// ledger) spreads the round over (TestShards, when the round was
	// planned); 0 keeps one key, as a round planned before wrote it.
	TestShards int
}

// TestShards is how many partition keys a test round's per-record state
// spreads over (Target.TestShards): one key takes 1,000 writes a second,
// so a 100M-record round's ledger under one key would take over a day.
// A round records the number it was planned with, so a round in flight
// when it changes keeps its layout.
const TestShards = 16

// LiveShards is how many partition keys the built-in LIVE table spreads a
// tenant's records over (dynamostore.LivePartition): one key takes at most
// 1,000 write units a second, so a tenant's 100M records under one key
// would take about 55 hours to write; under 64, the table's own limit
// binds first. A final records the number it was planned with
// (FinalPlan.LiveShards), so changing it never splits one final's records
// over two layouts.
const LiveShards = 64

// Holding is what a destination holds of one entity for a target: how many
// records, and the IDChecksum of their ids, so that "nothing lost" is
// checked against the destination itself, not against our own counts.
type Holding struct {
	Count      int64  `json:"count"`
	IDChecksum string `json:"idChecksum"`
}

// Delivery outcomes of one record.
const (
	Created  = "created"  // the destination created the record
	Existed  = "exists"   // it held the record already (a retry, or the same id again): not an error
	Rejected = "rejected" // it refused the record, for Reason
)

// DeliveryResult is what a destination did with one record.
type DeliveryResult struct {
	ID      string `json:"id"`
	Outcome string `json:"status"`
	Reason  string `json:"reason,omitempty"` // for people; set when Outcome is Rejected
}

// Destination is the product being joined, as a migration writes to it:
// TEST writes and LIVE writes go through one (issue 14). Adapters: the
// built-in tables (dynamostore), the vendor's HTTPS import endpoint
// (destination/webhook), and an S3 drop.
type Destination interface {
	// Deliverer returns where t's records are written.
	Deliverer(t Target) Deliverer
	// Holdings reports, per entity, what the destination holds of t.
	//
	// Errors: EUNAVAILABLE when the destination cannot be asked.
	Holdings(ctx context.Context, t Target) (map[string]Holding, error)
}

// Deliverer writes records and says, per record, what became of each: a
// destination may refuse a record our mapping accepted (its own rules),
// and that record must reach the rejects file and the workbook like our
// own rejections. Delivering a record twice must converge to one record
// (the second reported Existed).
type Deliverer interface {
	// Deliver writes recs and returns one result per record, in any order.
	//
	// Errors: EUNAVAILABLE when the destination could not be reached or
	// kept failing after retries (nothing about the records is known, and
	// delivering them again is safe); EINVALID when it answered with
	// something that breaks the contract.
	Deliver(ctx context.Context, recs []Record) ([]DeliveryResult, error)
}

// RangeHolder is a Destination that reports what it holds of a target a
// range of record keys at a time, so that the read-back runs beside the
// comparison's key ranges (a step each) instead of reading every record
// of a migration in one step: at 100M records one Lambda cannot read
// them within its 15 minutes. A wrapper of destinations (a router)
// implements it and answers ok false when the one it routes to cannot.
type RangeHolder interface {
	// HoldingsIn reports, per entity, what the destination holds of t
	// among the records whose key, entity + "#" + record id, is at least
	// lo and below hi ("" leaves that end open); ok is false when it
	// cannot read a range (the caller reads the whole with Holdings).
	//
	// Errors: EUNAVAILABLE when the destination cannot be asked.
	HoldingsIn(ctx context.Context, t Target, lo, hi string) (held map[string]Holding, ok bool, err error)
}

// PartHolder is a Destination that reads itself back in parts of its own
// layout rather than by record key: the S3 drop keeps a record in an
// object named after its batch, not its key, so a key range cannot be
// read apart, but its objects can be shared out. The comparison's key
// ranges then read a part each (range i of n reads part i of n), and the
// parts' holdings add up to the whole target's, so no step reads every
// record. A wrapper of destinations (a router) implements it and answers
// ok false when the one it routes to cannot.
type PartHolder interface {
	// HoldingsOfPart reports, per entity, what the destination holds of
	// t in part i of n: the n parts of one n are disjoint and together
	// hold all of t. ok is false when it cannot read in parts (the caller
	// reads the whole with Holdings).
	//
	// Errors: EINVALID for i outside [0, n) or as Holdings; EUNAVAILABLE
	// when the destination cannot be asked.
	HoldingsOfPart(ctx context.Context, t Target, i, n int) (held map[string]Holding, ok bool, err error)
}

// Sealer is a Destination that closes a delivery once its read-back
// agreed: after a test round's records, and after a final migration's
// last chunk, the engine hands it what was delivered, per entity. The S3
// drop writes its manifest there (counts and checksums, written last, so
// a vendor's bulk loader starts only from a complete drop). Destinations
// with nothing to close do not implement it.
type Sealer interface {
	// Seal closes t's delivery of delivered. parts, when not 0, says the
	// read-back that agreed read t in that many parts (PartHolder), every
	// one of them, so a destination that keeps what each part read can
	// seal from it instead of reading everything again; 0 leaves it to
	// read what it needs. Sealing a target again with the same holdings
	// is a no-op (a retried step seals twice).
	//
	// Errors: EUNAVAILABLE when the destination cannot be written;
	// ECONFLICT when t was sealed before with other holdings.
	Seal(ctx context.Context, t Target, delivered map[string]Holding, parts int) error
}
