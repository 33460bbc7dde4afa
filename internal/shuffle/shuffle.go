package shuffle

import (
	"context"
	"hash/maphash"

	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/schema"
)

// How a pass runs through a Shuffle:
//
//  1. Map every file with Outputs.Global = s.Keys(): each row that becomes
//     a record emits its entity, record id and dedupe key to a partition
//     by hash of the id. The run's own outputs are thrown away.
//  2. s.Resolve: each id partition alone finds the rows that repeat an
//     earlier row's source id (the in-memory pipeline.Seen's rule), as a
//     sorted run of their positions, and the references (each row's
//     references emit the id they name to that id's partition) to a
//     record no row became: orphans, by position and reference; then,
//     for an entity whose records merge across source ids, each key
//     partition alone the references naming a record merged into another
//     (aliases.go); with people named inline, each person's first naming
//     by a row that is not a duplicate (inline.go).
//  3. Map every file again with Outputs.Global = s.Records(write): the rows the
//     runs name are rejected as duplicates, in file order, so the rejects
//     and review files and the reports are written as the in-memory pass
//     writes them; each reference is set to the id it names, or cleared
//     when Resolve found it an orphan (mapspec.Resolver's rule), or set
//     to the record it merged into (mapspec.Merger's aliases); every
//     kept record is spilled with its position, to a
//     partition by hash of its dedupe key (or, with none, to one run).
//     A pass that does not merge (Options.Merging false: no dedupe keys,
//     no references, no one named inline) spills no record: each kept
//     record is final as it comes, and goes straight to write.
//
// When no one is named inline (s.Streams), step 1 can be
// s.Streaming(write, rows) instead: it also does step 3's work as if no
// row repeated a source id (the rejects and review files written, each
// record written or spilled), and step 3 runs only when Resolve finds it
// must (s.SecondRun: a repeated source id, a record with references, or
// far more rows than its partitions were sized for), all of step 1's
// outputs thrown away. So a usual extract is mapped once.
//
//  4. s.Finish: each record partition alone is merged by a
//     mapspec.Merger, exactly as the in-memory pass merges, and its
//     survivors, merges and possible duplicates are written as sorted
//     runs; streaming merges of the runs then give the records, the
//     merges and the possible duplicates in the in-memory order, the
//     people named inline linked to listed records as mapspec.LinkInline
//     links them (inline.go).
//
// Memory is one partition's keys or records at a time plus a block per
// partition, whatever the extract's size.

// Options configure a Shuffle.
type Options struct {
	Spec   *mapspec.Spec
	Schema *schema.Schema
	// Merging says the pass merges records by dedupe key (the spec holds
	// records: mapspec.Spec.HoldsRecords); without it every repeated
	// source id is a duplicate and records are written as they come.
	Merging bool
	// KeyPartitions is how many partitions the ids are spread over; 0
	// means 256.
	KeyPartitions int
	// Tenant is whose records these are: a record's id is
	// cutover.RecordID(Tenant, entity, source id), so a reference names
	// the id of the record it means.
	Tenant string
	// PartitionRecords is how many records a merge partition aims to
	// hold; 0 means 8,192 (about 16 MB held while it merges). The number of partitions follows from the
	// rows counted in the first run.
	PartitionRecords int
}

// Shuffle resolves one pass's global operations through a Store. It is
// not safe for concurrent use: the pipeline calls it from its collector.
type Shuffle struct {
	ctx   context.Context
	store Store
	o     Options
	seed  maphash.Seed

	keepPos uint64 // rows kept so far in this run (the position of Keep's row)
	addPos  uint64 // records added so far in the second run

	ids     *parts // run 1: entity#id, dedupe key, by hash of the id; and the ids references name
	dups    *cursor
	orphs   *cursor  // run 2: the references (row, reference) naming a record no row became
	aliases *cursor  // run 2: the references naming a record merged into another, with its id (aliases.go)
	link    *linking // people named inline (inline.go); nil when the spec names none
	recs    *parts   // run 2: records with a dedupe key, by hash of entity and key
	thru    *parts   // run 2: records without one, in order
	nrec    int      // merge partitions
	buf     []byte
	body    []byte // a record's binary form, before its frame (frameRecord)
	// write is where the records go (Streaming, Records).
	write WriteRecords
	// batch is the records a run has not yet given write, when it
	// streams them (a pass that does not merge).
	batch []*mapspec.Record
	// repeats counts the rows Resolve found repeating an earlier row's
	// source id (duplicates).
	repeats int
	// streamed says the first run was a Streaming one, refs that it met
	// a record with references, and second that the pass needs its
	// second run (SecondRun).
	streamed, refs, second bool
	// tableEnds are the records added by the end of each table of the
	// second run (EndTable), to count each table's merges.
	tableEnds []uint64
}

// New returns a Shuffle spilling to store. ctx bounds every store call.
func New(ctx context.Context, store Store, o Options) *Shuffle {
	if o.KeyPartitions <= 0 {
		o.KeyPartitions = 256
	}
	if o.PartitionRecords <= 0 {
		o.PartitionRecords = 8192
	}
	s := &Shuffle{ctx: ctx, store: store, o: o, seed: maphash.MakeSeed()}
	s.ids = newParts(store, "ids", o.KeyPartitions, s.seed)
	s.link = newLinking(s)
	return s
}
