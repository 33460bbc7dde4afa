package pass

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pipeline"
	"github.com/cutover/cutover/internal/schema"
)

// A mapping that merges records by dedupe key needs every record of a key
// at once. An extract too big for one pass is read in chunks that spill
// their records (Pass.Spill) to partitions by a hash of the key
// (SpillPartition), and each partition is merged on its own (Merge):
// every record of a key is in its key's partition, so its merges,
// conflicts and possible duplicates are the ones one pass would find.
// Reading the chunks' spills in chunk order gives the merger the records
// in the order one pass would have given them.

// AppendSpilled appends a spilled record's frame to b: its dedupe key,
// its binary form and what its sighting adds to it (seen; nil for none),
// each after its length.
func AppendSpilled(b []byte, rec *mapspec.Record, key string, seen *pipeline.Sighting) []byte {
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	start := len(b)
	b = rec.AppendBinary(b)
	body := append([]byte(nil), b[start:]...)
	b = binary.AppendUvarint(b[:start], uint64(len(body)))
	b = append(b, body...)
	if seen == nil {
		return binary.AppendUvarint(b, 0)
	}
	extra, _ := json.Marshal(sightingExtra{Header: seen.Header, Row: seen.Row, Warnings: seen.Warnings, Derived: seen.Derived}) // strings and issues always marshal
	b = binary.AppendUvarint(b, uint64(len(extra)))
	return append(b, extra...)
}

// sightingExtra is what a record's sighting holds besides the record.
type sightingExtra struct {
	Header   []string        `json:"h"`
	Row      []string        `json:"r"`
	Warnings []mapspec.Issue `json:"w,omitempty"`
	Derived  bool            `json:"d,omitempty"`
}

// SpillPartition is the partition of parts a record with dedupe key key
// goes to: by its entity and key, so a key's records meet, or by its id
// when it has none (it merges with nothing). FNV-1a, stable across
// processes: every chunk must put a key in the same place.
func SpillPartition(rec *mapspec.Record, key string, parts int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(rec.Entity))
	if key != "" {
		_, _ = h.Write([]byte("\x00" + key))
	} else {
		_, _ = h.Write([]byte("\x01" + rec.ID))
	}
	return int(h.Sum32() % uint32(parts))
}

// MergeInput is one merge partition.
type MergeInput struct {
	Spec *mapspec.Spec
	// Spilled are the partition's frames (AppendSpilled), one body per
	// chunk, in chunk order.
	Spilled [][]byte
	// ArtifactsPrefix is where the partition's rejects file goes (the
	// rows whose merged record the destination refused).
	ArtifactsPrefix string
	BatchSize       int // records per Sink.Write; 0 means 100
	// Watch, if set, is given each spilled record's sighting (those
	// spilled with one), in the order one pass would give them: as
	// migrated, or as merged into the record it went into.
	Watch func(pipeline.Sighting)
	// Refused, if set, is told of each record the destination refused
	// (pipeline.RefusalWatcher), after every sighting.
	Refused func(entity, id, reason string)
}

// MergeResult is what merging a partition changed in the chunks'
// account: its counts and reports are differences to add to theirs
// (rows the chunks counted migrated that merged into an earlier record,
// rows whose record the destination refused), never rows read.
type MergeResult struct {
	Counts  cutover.Counts
	Reports []*pipeline.Report // by table (File) and entity, in the order first met
	Rejects []RejectsFile
	// PossibleDuplicates are the partition's dedupe keys shared by records
	// with different source ids that were kept apart.
	PossibleDuplicates []mapspec.PossibleDuplicate
	Records            int // the records the destination took
}

// Merge merges one partition's spilled records and writes them to sink.
//
// Errors: EINVALID when a frame is damaged (a spill from another build);
// the sink's and put's (EUNAVAILABLE for transient failures); EINTERNAL
// when the sink did not take every record it did not refuse.
func Merge(ctx context.Context, in MergeInput, sink cutover.Sink, put cutover.Putter) (*MergeResult, error) {
	sch := schema.Default()
	merger := mapspec.NewMergerFor(in.Spec)
	res := &MergeResult{}
	reps := map[[2]string]*pipeline.Report{}
	report := func(file, entity string) *pipeline.Report {
		k := [2]string{file, entity}
		if r := reps[k]; r != nil {
			return r
		}
		r := &pipeline.Report{File: file, Entity: entity, Reasons: map[string]int{}, LeftOut: map[string]int{}, Counts: pipeline.Counts{Skipped: map[string]int{}}}
		reps[k] = r
		res.Reports = append(res.Reports, r)
		return r
	}
	for c, body := range in.Spilled {
		for len(body) > 0 {
			key, rec, seen, rest, err := nextSpilled(body, sch)
			if err != nil {
				return nil, cutover.Wrap(cutover.EINVALID, err, "The records chunk %d spilled for merging are damaged.", c+1)
			}
			body = rest
			merged := merger.Add(rec, key)
			if merged {
				r := report(rec.File, rec.Entity)
				r.Counts.Migrated--
				r.Counts.Merged++
			}
			if seen != nil && in.Watch != nil {
				x := pipeline.Sighting{
					File: rec.File, Header: seen.Header, Line: rec.Line, Row: seen.Row, Entity: rec.Entity, SourceID: rec.SourceID,
					Outcome: mapspec.Migrated, Record: rec, DedupeKey: key, Warnings: seen.Warnings, Derived: seen.Derived,
				}
				if merged {
					x.Outcome, x.Into = pipeline.Merged, merger.Survivor(rec, key)
				}
				in.Watch(x)
			}
		}
		in.Spilled[c] = nil
	}
	res.PossibleDuplicates = merger.PossibleDuplicates()
	for _, r := range merger.Records() {
		for _, ref := range r.Refs {
			if ref.ID == "" { // resolved when spilled (Pass.Elsewhere): no chunk holds it
				res.Counts.Orphans++
			}
		}
	}
	batch := in.BatchSize
	if batch <= 0 {
		batch = 100
	}
	counted := &countingSink{Sink: sink, written: pipeline.NewWritten()}
	out := sinkAdapter{counted}
	recs := merger.Records()
	refused, err := writeHeld(ctx, out, recs, batch)
	if err != nil {
		return nil, err
	}
	if len(refused) > 0 {
		var buf bytes.Buffer
		w := pipeline.RejectsWriter(&buf)
		_ = w.Write([]string{"File", "Line", "Reason"})
		for _, r := range refused {
			rep := report(r.rec.File, r.rec.Entity)
			if mapspec.IsDerived(r.rec) { // a person named on a row of the chunk that spilled it, counted derived there
				if rep.Counts.Derived == nil {
					rep.Counts.Derived = map[string]int{}
				}
				rep.Counts.Derived[r.rec.Entity]--
				pipeline.CountRefusedPerson(rep, r.reason)
				res.Counts.Derived--
				if in.Refused != nil {
					in.Refused(r.rec.Entity, r.rec.ID, pipeline.RefusedReason(r.reason))
				}
				continue
			}
			leftOut := maps.Clone(rep.LeftOut) // Refuse drops a field it takes to zero; a difference may go below
			pipeline.Refuse(rep, w, 1, r.rec.Line, []string{r.rec.File}, r.rec, r.reason)
			for _, iv := range r.rec.Invalid {
				leftOut[iv.Field]--
			}
			rep.LeftOut = leftOut
			for _, m := range r.rec.Merged {
				pipeline.RefuseMerged(report(m.File, r.rec.Entity), w, 1, m.Line, []string{m.File}, r.reason)
			}
			if in.Refused != nil {
				in.Refused(r.rec.Entity, r.rec.ID, pipeline.RefusedReason(r.reason))
			}
		}
		w.Flush()
		key := in.ArtifactsPrefix + "rejects-merged.csv"
		if err := put.Put(ctx, key, "text/csv; charset=utf-8", buf.Bytes()); err != nil {
			return nil, err
		}
		res.Rejects = []RejectsFile{{File: "records refused by the destination after merging", Key: key}}
	}
	for _, r := range res.Reports {
		res.Counts = res.Counts.Add(cutover.Counts{Migrated: r.Counts.Migrated, Merged: r.Counts.Merged, Rejected: r.Counts.Rejected})
	}
	res.Counts.Orphans += orphanedBy(recs, refused)
	res.Records = counted.written.Len()
	return res, pipeline.CheckWritten("The destination", len(recs)-len(refused), res.Records)
}

// nextSpilled reads the frame at the start of b.
func nextSpilled(b []byte, sch *schema.Schema) (string, *mapspec.Record, *sightingExtra, []byte, error) {
	part := func() ([]byte, error) {
		n, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n {
			return nil, fmt.Errorf("a frame is cut short")
		}
		p := b[w : w+int(n)]
		b = b[w+int(n):]
		return p, nil
	}
	key, err := part()
	if err != nil {
		return "", nil, nil, nil, err
	}
	body, err := part()
	if err != nil {
		return "", nil, nil, nil, err
	}
	rec, err := mapspec.DecodeRecord(body, sch)
	if err != nil {
		return "", nil, nil, nil, err
	}
	extra, err := part()
	if err != nil {
		return "", nil, nil, nil, err
	}
	var seen *sightingExtra
	if len(extra) > 0 {
		seen = &sightingExtra{}
		if err := json.Unmarshal(extra, seen); err != nil {
			return "", nil, nil, nil, err
		}
	}
	return string(key), rec, seen, b, nil
}
