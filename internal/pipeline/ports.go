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

// Global resolves a pass's global operations outside the pipeline: whether
// a row repeats an earlier row's source id, whether a person named inline
// was derived already, and where records go to be merged by dedupe key. A
// caller that cannot hold every record of an extract in memory (the CLI's
// shuffle through spill files, internal/shuffle) gives one instead of
// Outputs.Seen, Merger, Derived and Sink. The collector calls it in file
// order, one file after another, so an implementation can number the calls
// and answer from a resolution it computed in an earlier run over the same
// files. Records reach the destination only through it, once resolved, so
// a destination's refusals are not accounted for by the pipeline: it is
// for a sink that refuses nothing (the CLI's files).
type Global interface {
	// Keep is told of every row that became a record, with its dedupe key
	// ("" for none) and the people it names inline (mapspec.Outcome's
	// Derived: a row rejected here derives none of them), and returns the
	// reason the row is rejected as a duplicate of an earlier row's source
	// id, or "" to keep it.
	Keep(rec *mapspec.Record, dedupeKey string, named []*mapspec.Record) (string, error)
	// Derived is told of each person derived for a kept row (one of the
	// named given to Keep: only those are ever derived or added), in
	// order, and reports whether it is the first with its entity and id in
	// the pass (only the first is counted and added).
	Derived(rec *mapspec.Record) (bool, error)
	// Add takes a kept row's record (with its dedupe key) or a first
	// derived person ("" key) to be merged and written once resolved. The
	// row is counted migrated; the caller moves the rows that merged into
	// an earlier record to Merged once it knows them.
	Add(rec *mapspec.Record, dedupeKey string) error
}
