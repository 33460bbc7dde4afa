package webhook

import (
	"context"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination"
)

// Convert turns a record as the pipeline made it (text fields) into the
// record a destination receives (typed fields, references as record ids).
// Production wires the typed converter of internal/destination, which
// reads the target schema; the adapter only carries what it returns.
//
// Errors: EINVALID for a record that cannot be expressed in the contract
// (the record is reported Rejected with the message; nothing is sent);
// anything else stops the delivery.
type Convert func(cutover.Record) (destination.Record, error)

// Ledger is the delivery ledger: what each record's delivery to a target
// came to, as the destination answered. A record the ledger holds is
// never sent again, whatever its outcome (created, exists and rejected
// are all final answers), so a crashed or retried chunk re-sends only what
// the destination never answered for. internal/dynamostore's
// DeliveryLedger implements it.
type Ledger interface {
	// Delivered returns the stored result of each of ids delivered to t
	// before, by id; an id never delivered is absent.
	//
	// Errors: EUNAVAILABLE when the ledger cannot be read.
	Delivered(ctx context.Context, t cutover.Target, ids []string) (map[string]cutover.DeliveryResult, error)
	// Record stores each result for t. The first write of an id wins: a
	// second write of the same id is a no-op, not an error.
	//
	// Errors: EUNAVAILABLE when the ledger cannot be written.
	Record(ctx context.Context, t cutover.Target, results []cutover.DeliveryResult) error
}
