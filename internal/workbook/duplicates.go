package workbook

import (
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pipeline"
)

// MaxListedPossible bounds the groups of possible duplicates the workbook
// lists by shared key (Issues.Duplicates): millions of contacts sharing
// office addresses make tens of thousands of groups, more than the finish
// step should hold or a person read on a page. The counts stay complete
// (Issues.PossibleGroups, Issues.PossibleDuplicates).
const MaxListedPossible = 1000

// PossibleDuplicates gathers the groups of records that share a dedupe key
// but not a source id, as the chunks of a round report them: it keeps the
// first MaxListedPossible and counts them all, so gathering them holds
// no more than that whatever the extract's size. The zero value is empty.
type PossibleDuplicates struct {
	listed          []mapspec.PossibleDuplicate
	groups, records int
}

// Add gathers groups, in order.
func (p *PossibleDuplicates) Add(groups []mapspec.PossibleDuplicate) {
	for _, g := range groups {
		p.groups++
		p.records += len(g.SourceIDs)
		if len(p.listed) < MaxListedPossible {
			p.listed = append(p.listed, g)
		}
	}
}

// AddPossibleDuplicates puts the gathered groups of records that share a
// dedupe key but not a source id into the workbook's issues: they were
// kept apart (two people of one firm may share its address), and the
// customer decides whether any are one person, by merging them in the old
// CRM or by turning on the mapping's mergeDifferentIds.
func (w *Workbook) AddPossibleDuplicates(p *PossibleDuplicates) {
	if w.Issues.Duplicates == nil {
		w.Issues.Duplicates = []mapspec.PossibleDuplicate{}
	}
	w.Issues.Duplicates = append(w.Issues.Duplicates, p.listed...)
	w.Issues.PossibleGroups += p.groups
	w.Issues.PossibleDuplicates += p.records
	w.Issues.DuplicateCounts.Possible = w.Issues.PossibleDuplicates
}

// Duplicate group kinds.
const (
	GroupMerged   = "merged"   // rows merged into one record
	GroupPossible = "possible" // records kept apart that share a dedupe key
)

// Bounds on the duplicate groups the workbook lists with their rows: the
// counts are always complete, the list shows the first groups.
const (
	MaxListedGroups = 50    // per kind
	MaxGroupRows    = 10    // rows listed per group (Rows counts them all)
	MaxKeptRows     = 50000 // keyed rows whose cells are kept until a group needs them (bounded memory in the test migration's Lambda)
)

// DuplicateGroup is one merge or one set of possible duplicates: each
// source row (file, line, values) and the record(s) that resulted.
type DuplicateGroup struct {
	Kind   string      `json:"kind"`
	Entity string      `json:"entity"`
	Key    string      `json:"key"`  // the dedupe key they share
	Rows   []SourceRow `json:"rows"` // the first MaxGroupRows rows, first seen first
	Total  int         `json:"total"`
	// RecordIDs are the records that resulted: one for a merge, one per
	// row kept apart for possible duplicates (the first MaxGroupRows).
	RecordIDs []string `json:"recordIds"`
	// Record is a merge's resulting record's values.
	Record map[string]string `json:"record,omitempty"`
}

// SourceRow is one row of the extract.
type SourceRow struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	SourceID string `json:"sourceId"`
	RecordID string `json:"recordId"`
	Cells    []Cell `json:"cells"` // empty when the extract had too many keyed rows to keep them all
}

// DuplicateCounts is how many rows were merged into another record and
// how many records were kept apart although they share a dedupe key with
// a record of another source id.
type DuplicateCounts struct {
	Merged   int `json:"merged"`
	Possible int `json:"possible"`
}

// dupCollector builds the listed groups from the sightings: it keeps the
// row of every record that has a dedupe key (up to MaxKeptRows), so that
// when a later row merges into it or shares its key, both rows can be
// shown.
type dupCollector struct {
	rows     map[string]SourceRow       // entity\x00record id -> its row
	firstKey map[string]string          // entity\x00key -> the first record's id
	merged   map[string]*DuplicateGroup // entity\x00survivor id
	possible map[string]*DuplicateGroup // entity\x00key
	into     map[*DuplicateGroup]*mapspec.Record
	groups   []*DuplicateGroup
	counts   map[string]int // listed groups by kind
}

func newDupCollector() dupCollector {
	return dupCollector{
		rows: map[string]SourceRow{}, firstKey: map[string]string{}, merged: map[string]*DuplicateGroup{},
		possible: map[string]*DuplicateGroup{}, into: map[*DuplicateGroup]*mapspec.Record{}, counts: map[string]int{},
	}
}

func (d *dupCollector) watch(x pipeline.Sighting) {
	if x.DedupeKey == "" || x.Record == nil {
		return
	}
	row := SourceRow{File: x.File, Line: x.Line, SourceID: x.SourceID, RecordID: x.Record.ID}
	if x.Outcome == pipeline.Merged {
		row.Cells = cells(x.Header, x.Row)
		if x.Into == nil {
			return
		}
		k := x.Entity + "\x00" + x.Into.ID
		g := d.merged[k]
		if g == nil {
			first, ok := d.rows[k]
			if !ok {
				first = SourceRow{Line: x.Into.Line, SourceID: x.Into.SourceID, RecordID: x.Into.ID}
			}
			if g = d.group(GroupMerged, x.Entity, x.DedupeKey, first); g == nil {
				return
			}
			d.merged[k] = g
			d.into[g] = x.Into
			g.RecordIDs = []string{x.Into.ID}
		}
		g.add(row)
		return
	}
	rk := x.Entity + "\x00" + x.Record.ID
	if len(d.rows) < MaxKeptRows {
		row.Cells = cells(x.Header, x.Row)
		d.rows[rk] = row
	}
	kk := x.Entity + "\x00" + x.DedupeKey
	firstID, ok := d.firstKey[kk]
	if !ok {
		d.firstKey[kk] = x.Record.ID
		return
	}
	if firstID == x.Record.ID {
		return
	}
	g := d.possible[kk]
	if g == nil {
		first, ok := d.rows[x.Entity+"\x00"+firstID]
		if !ok {
			first = SourceRow{RecordID: firstID} // its cells were not kept
		}
		if g = d.group(GroupPossible, x.Entity, x.DedupeKey, first); g == nil {
			return
		}
		g.RecordIDs = []string{firstID}
		d.possible[kk] = g
	}
	g.add(row)
	if len(g.RecordIDs) < MaxGroupRows {
		g.RecordIDs = append(g.RecordIDs, x.Record.ID) // a shared info@ address can gather thousands; Total counts them
	}
}

// group starts a listed group with its first row; nil when MaxListedGroups
// of its kind are listed already.
func (d *dupCollector) group(kind, entity, key string, first SourceRow) *DuplicateGroup {
	if d.counts[kind] >= MaxListedGroups {
		return nil
	}
	d.counts[kind]++
	g := &DuplicateGroup{Kind: kind, Entity: entity, Key: key, Rows: []SourceRow{first}, Total: 1}
	d.groups = append(d.groups, g)
	return g
}

func (g *DuplicateGroup) add(r SourceRow) {
	g.Total++
	if len(g.Rows) < MaxGroupRows {
		g.Rows = append(g.Rows, r)
	}
}

// list returns the listed groups, each merge with its record's values as
// they ended up.
func (d *dupCollector) list() []DuplicateGroup {
	out := make([]DuplicateGroup, 0, len(d.groups))
	for _, g := range d.groups {
		c := *g
		if rec := d.into[g]; rec != nil {
			c.Record = values(rec)
		}
		out = append(out, c)
	}
	return out
}

// DuplicateGroups returns the merges and possible duplicates the sampler
// saw, at most MaxListedGroups of each kind, in the order they formed.
func (s *Sampler) DuplicateGroups() []DuplicateGroup { return s.dups.list() }
