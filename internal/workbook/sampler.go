package workbook

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pipeline"
)

// SpotChecksPerEntity is how many records per entity are sampled. The
// migration item keeps a review mark per spot check, so this bounds it
// (with cutover.MaxSpotCheckIDs named ones per entity).
const SpotChecksPerEntity = 10

// FlaggedPerEntity is how many of an entity's sampled spot checks are
// drawn from the rows most likely to be wrong: flagged "!", merged, or
// holding derived values. Those are rare, so a uniform sample would miss
// them.
const FlaggedPerEntity = 4

// Spot check reasons (SpotCheck.Why).
const (
	WhySampled = "sampled"
	WhyNamed   = "named by you"
)

// Sampler picks the spot checks while the rows stream past, seeded so the
// same seed and extract give the same picks, however the extract is cut
// into chunks (see Samples and Merge): per entity, a reservoir
// sample of every file (so a small file is not drowned by a big one), a
// separate sample of flagged rows, and every row whose source id the
// customer named, whatever became of it. It also collects the merges and
// possible duplicates with their source rows (see duplicates.go). It
// implements pipeline.Spotter and pipeline.Watcher.
type Sampler struct {
	seed    uint64
	named   map[string]map[string]bool
	seen    map[string]*namedSpot // entity\x00source id -> the best sighting so far
	order   []string              // keys of seen, first sighting first
	files   map[string]*reservoir // entity\x00file
	fileSeq []string              // keys of files, first seen first
	flagged map[string]*reservoir // entity
	dups    dupCollector
}

type namedSpot struct {
	spot SpotCheck
	rank int
}

// reservoir is a bottom-k sample: every record offered gets a priority
// hashed from the seed and the record itself (not from the order it came
// in), and the reservoir keeps the size lowest. Which records it keeps
// therefore does not depend on how the rows were divided: two chunks'
// reservoirs merged keep exactly what one reservoir of both would have.
type reservoir struct {
	hash  uint64 // of the reservoir's key, for its shuffle
	seen  int
	size  int
	picks []Pick // lowest priority first
}

// Pick is one record a reservoir holds, with the priority it was kept by.
type Pick struct {
	Priority uint64    `json:"priority"`
	Spot     SpotCheck `json:"spot"`
}

func (s *Sampler) reservoir(m map[string]*reservoir, key string, size int) *reservoir {
	r, ok := m[key]
	if !ok {
		h := fnv.New64a()
		h.Write([]byte(key))
		r = &reservoir{hash: h.Sum64(), size: size}
		m[key] = r
	}
	return r
}

// priority is a record's place in line for a reservoir: a hash of the
// seed, the reservoir, and the record's file, line and id.
func (s *Sampler) priority(key string, x pipeline.Sighting) uint64 {
	h := fnv.New64a()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], s.seed)
	h.Write(b[:])
	h.Write([]byte(key + "\x00" + x.File + "\x00" + strconv.Itoa(x.Line) + "\x00" + x.Record.ID))
	return h.Sum64()
}

// offer keeps the record when its priority is among the size lowest seen.
func (r *reservoir) offer(prio uint64, make func() SpotCheck) {
	r.seen++
	if len(r.picks) == r.size && prio >= r.picks[len(r.picks)-1].Priority {
		return
	}
	r.add(Pick{Priority: prio, Spot: make()})
}

// add inserts p in priority order and drops what falls past size.
func (r *reservoir) add(p Pick) {
	i, _ := slices.BinarySearchFunc(r.picks, p.Priority, func(q Pick, prio uint64) int {
		switch {
		case q.Priority < prio:
			return -1
		case q.Priority > prio:
			return 1
		}
		return 0
	})
	r.picks = slices.Insert(r.picks, i, p)
	if len(r.picks) > r.size {
		r.picks = r.picks[:r.size]
	}
}

// NewSampler returns a sampler for a seed and the source ids, per entity,
// the customer asked to see.
func NewSampler(seed uint64, named map[string][]string) *Sampler {
	s := &Sampler{
		seed: seed, named: map[string]map[string]bool{}, seen: map[string]*namedSpot{},
		files: map[string]*reservoir{}, flagged: map[string]*reservoir{}, dups: newDupCollector(),
	}
	for e, ids := range named {
		s.named[e] = map[string]bool{}
		for _, id := range ids {
			s.named[e][strings.TrimSpace(id)] = true
		}
	}
	return s
}

// Offer implements pipeline.Spotter: a migrated record beside its row.
func (s *Sampler) Offer(file string, header []string, line int, row []string, rec *mapspec.Record) {
	s.Watch(pipeline.Sighting{File: file, Header: header, Line: line, Row: row, Entity: rec.Entity, SourceID: rec.SourceID, Outcome: mapspec.Migrated, Record: rec})
}

// outcomeRank orders the sightings of one named id: a record beats a
// rejected row (a later row repeating the id is rejected as a duplicate),
// which beats a skipped one.
var outcomeRank = map[string]int{mapspec.Migrated: 3, pipeline.Merged: 3, mapspec.Rejected: 2, mapspec.Skipped: 1}

// Watch implements pipeline.Watcher.
func (s *Sampler) Watch(x pipeline.Sighting) {
	if x.SourceID != "" && s.named[x.Entity][x.SourceID] {
		k := x.Entity + "\x00" + x.SourceID
		if cur, ok := s.seen[k]; !ok || outcomeRank[x.Outcome] > cur.rank {
			sc := spot(x)
			sc.Why = WhyNamed
			if !ok {
				s.order = append(s.order, k)
			}
			s.seen[k] = &namedSpot{spot: sc, rank: outcomeRank[x.Outcome]}
		}
	}
	if x.Record == nil {
		return // only records are sampled
	}
	s.dups.watch(x)
	fk := x.Entity + "\x00" + x.File
	if _, ok := s.files[fk]; !ok {
		s.fileSeq = append(s.fileSeq, fk)
	}
	s.reservoir(s.files, fk, SpotChecksPerEntity).offer(s.priority(fk, x), func() SpotCheck { return spot(x) })
	if len(flags(x)) > 0 {
		s.reservoir(s.flagged, x.Entity, FlaggedPerEntity).offer(s.priority(x.Entity, x), func() SpotCheck { return spot(x) })
	}
}

// flags say why a row is more likely than most to be wrong.
func flags(x pipeline.Sighting) []string {
	var f []string
	if len(x.Warnings) > 0 {
		f = append(f, "warning")
	}
	if x.Outcome == pipeline.Merged {
		f = append(f, "merged")
	}
	if x.Derived {
		f = append(f, "derived")
	}
	return f
}

// spot copies a sighting into a spot check.
func spot(x pipeline.Sighting) SpotCheck {
	sc := SpotCheck{Entity: x.Entity, Why: WhySampled, SourceID: x.SourceID, File: x.File, Line: x.Line, Outcome: x.Outcome, Source: cells(x.Header, x.Row), Flags: flags(x)}
	if len(x.Warnings) > 0 {
		sc.Warnings = append([]mapspec.Issue(nil), x.Warnings...)
	}
	where := fmt.Sprintf("at line %d of %s", x.Line, x.File)
	switch x.Outcome {
	case mapspec.Rejected:
		sc.WaiveOnly = true
		sc.Says = fmt.Sprintf("rejected %s: %s", where, strings.Join(x.Reasons, "; "))
	case mapspec.Skipped:
		sc.WaiveOnly = true
		sc.Says = fmt.Sprintf("skipped %s by the rule %s", where, strings.Join(x.Reasons, ", "))
	case pipeline.Merged:
		sc.Found = true
		rec := x.Record
		sc.Says = fmt.Sprintf("merged %s into an earlier record", where)
		if x.Into != nil {
			rec = x.Into
			sc.MergedInto = x.Into.ID
			sc.Says = fmt.Sprintf("merged %s into the record of source id %s (line %d)", where, x.Into.SourceID, x.Into.Line)
		}
		sc.RecordID, sc.Record = rec.ID, values(rec)
	default:
		sc.Found = true
		sc.Says = "migrated " + where
		sc.RecordID, sc.Record = x.Record.ID, values(x.Record)
	}
	return sc
}

func cells(header, row []string) []Cell {
	out := make([]Cell, 0, len(header))
	for i, h := range header {
		v := ""
		if i < len(row) {
			v = row[i]
		}
		out = append(out, Cell{Column: h, Value: v})
	}
	return out
}

func values(rec *mapspec.Record) map[string]string {
	out := map[string]string{}
	for i, v := range rec.Fields {
		if v.Kind != mapspec.Absent {
			out[rec.Def().Fields[i].Name] = v.String()
		}
	}
	return out
}

// SpotChecks returns the picks: the named rows first (by file and line,
// then a not-found entry for each named id no row has), then,
// per entity, at most SpotChecksPerEntity sampled records: up to
// FlaggedPerEntity flagged ones, the rest drawn from each file in turn,
// each entity's in file and line order.
func (s *Sampler) SpotChecks() []SpotCheck {
	out := []SpotCheck{}
	for _, k := range s.order {
		out = append(out, s.seen[k].spot)
	}
	// By file and line: the order one sampler of every row sees them in a
	// file, whichever chunk or merge partition saw each (Merge).
	slices.SortStableFunc(out, func(a, b SpotCheck) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		return a.Line - b.Line
	})
	for _, e := range slices.Sorted(maps.Keys(s.named)) {
		for _, id := range slices.Sorted(maps.Keys(s.named[e])) {
			if _, ok := s.seen[e+"\x00"+id]; !ok {
				out = append(out, SpotCheck{Entity: e, Why: WhyNamed, SourceID: id, Says: "not found: no row of the extract has this id", WaiveOnly: true})
			}
		}
	}
	entities := map[string][]*reservoir{}
	for _, fk := range s.fileSeq {
		e, _, _ := strings.Cut(fk, "\x00")
		entities[e] = append(entities[e], s.files[fk])
	}
	for _, e := range slices.Sorted(maps.Keys(entities)) {
		out = append(out, s.pick(e, entities[e])...)
	}
	return out
}

// pick draws an entity's sample from its flagged rows and its files'
// reservoirs. Each reservoir is shuffled with its own seeded generator
// first: a reservoir's early slots favour the file's first rows.
func (s *Sampler) pick(entity string, files []*reservoir) []SpotCheck {
	var picks []SpotCheck
	taken := map[string]bool{}
	take := func(sc SpotCheck) {
		k := fmt.Sprintf("%s\x00%d", sc.File, sc.Line)
		if !taken[k] && len(picks) < SpotChecksPerEntity {
			taken[k] = true
			picks = append(picks, sc)
		}
	}
	if f := s.flagged[entity]; f != nil {
		for _, p := range f.picks {
			take(p.Spot)
		}
	}
	queues := make([][]SpotCheck, len(files))
	for i, r := range files {
		queues[i] = make([]SpotCheck, len(r.picks))
		for j, p := range r.picks {
			queues[i][j] = p.Spot
		}
		// A generator of its own, so that SpotChecks gives the same picks each time it is called.
		rand.New(rand.NewPCG(s.seed, ^r.hash)).Shuffle(len(queues[i]), func(a, b int) { queues[i][a], queues[i][b] = queues[i][b], queues[i][a] })
	}
	for more := true; more && len(picks) < SpotChecksPerEntity; {
		more = false
		for i := range queues {
			if len(queues[i]) > 0 {
				take(queues[i][0])
				queues[i], more = queues[i][1:], true
			}
		}
	}
	slices.SortStableFunc(picks, func(a, b SpotCheck) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		return a.Line - b.Line
	})
	return picks
}
