package pipeline

// The ports a pipeline writes and reports through, in one place.

import (
	"context"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
)

// Sink receives migrated records in batches, in file order, and returns
// those the destination refused (cutover.Sink).
type Sink interface {
	Write(ctx context.Context, recs []*mapspec.Record) ([]cutover.Refusal, error)
}

// RefusalWatcher is a Spotter told when the destination refused a record
// it was shown as migrated (or merged into): the record is a rejected row
// after all, and must not be shown as migrated.
type RefusalWatcher interface {
	Refused(entity, id, reason string)
}

// Spotter sees each migrated record beside the row it came from, in file
// order (so a seeded sample of them is reproducible). It must copy row if
// it keeps it.
type Spotter interface {
	Offer(file string, header []string, line int, row []string, rec *mapspec.Record)
}

// Watcher sees what became of every row, in file order. A Spotter that
// also implements it is given Watch for every row instead of Offer.
type Watcher interface {
	Watch(s Sighting)
}
