package pipeline

// The ports a pipeline writes and reports through, in one place.

import (
	"context"

	"github.com/cutover/cutover/internal/mapspec"
)

// Sink receives migrated records in batches, in file order.
type Sink interface {
	Write(ctx context.Context, recs []*mapspec.Record) error
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
