package mapspec

import (
	"fmt"
	"slices"

	"github.com/cutover/cutover/internal/schema"
)

// Merger merges records that share a dedupe key and a source id, in the
// order they are added. Records with the same key but different source ids
// are different rows in the old CRM (17 people sharing an office e-mail),
// so they are only merged for an entity whose file spec turns
// mergeDifferentIds on; otherwise both are kept and reported as
// PossibleDuplicates for a person to review. The first record of a group
// survives (its id, source id and line);
// each later one fills the survivor's empty fields, adds list items and
// references the survivor lacks, and has every differing scalar value
// recorded as a Conflict (the survivor's value is kept). Records without a
// key pass through unmerged. A Merger holds every record it is given; it is
// not safe for concurrent use.
type Merger struct {
	groups  map[string]*group
	order   []*group // groups in the order their keys were first seen
	records []*Record
	aliases []Alias
	allow   map[string]bool // entities whose rows merge across source ids

	possible      map[string]*PossibleDuplicate
	possibleOrder []*PossibleDuplicate
}

type group struct {
	rec   *Record
	merge Merge
}

// Merge describes the records merged into one.
type Merge struct {
	Entity    string     `json:"entity"`
	Key       string     `json:"key"`
	ID        string     `json:"id"`        // the surviving record
	Lines     []int      `json:"lines"`     // every merged row's line, survivor first
	SourceIDs []string   `json:"sourceIds"` // every merged row's source id, survivor first
	Conflicts []Conflict `json:"conflicts,omitempty"`
}

// Conflict is a field whose merged rows disagreed.
type Conflict struct {
	Field   string `json:"field"`
	Line    int    `json:"line"`    // the row whose value was dropped
	Kept    string `json:"kept"`    // the survivor's value
	Dropped string `json:"dropped"` // the dropped value
}

// Alias says that a merged-away record's source id now means the surviving
// record ID, so references to it still resolve.
type Alias struct {
	Entity   string `json:"entity"`
	SourceID string `json:"sourceId"`
	ID       string `json:"id"`
}

// NewMerger returns an empty Merger that never merges records with
// different source ids.
func NewMerger() *Merger {
	return &Merger{groups: map[string]*group{}, allow: map[string]bool{}, possible: map[string]*PossibleDuplicate{}}
}

// NewMergerFor returns an empty Merger that merges across source ids for
// the entities of s's files that set mergeDifferentIds.
func NewMergerFor(s *Spec) *Merger {
	m := NewMerger()
	m.allow = MergesAcross(s)
	return m
}

// Add adds a mapped record with its dedupe key ("" for none) and reports
// whether it was merged into an earlier record. Add never fails.
func (m *Merger) Add(rec *Record, key string) bool {
	if key == "" {
		m.records = append(m.records, rec)
		return false
	}
	k := rec.Entity + "\x00" + key
	if !m.allow[rec.Entity] {
		m.notePossible(k, key, rec)
		k += "\x00" + rec.SourceID
	}
	g, ok := m.groups[k]
	if !ok {
		g = &group{rec: rec, merge: Merge{Entity: rec.Entity, Key: key, ID: rec.ID, Lines: []int{rec.Line}, SourceIDs: []string{rec.SourceID}}}
		m.groups[k] = g
		m.order = append(m.order, g)
		m.records = append(m.records, rec)
		return false
	}
	s := g.rec
	g.merge.Lines = append(g.merge.Lines, rec.Line)
	g.merge.SourceIDs = append(g.merge.SourceIDs, rec.SourceID)
	s.Lines = append(s.Lines, rec.Line)
	s.Merged = append(s.Merged, RowAt{File: rec.File, Line: rec.Line})
	if rec.SourceID != s.SourceID {
		m.aliases = append(m.aliases, Alias{Entity: rec.Entity, SourceID: rec.SourceID, ID: s.ID})
	}
	taken := map[string]bool{} // fields whose value (and so whose references) the survivor took
	for i, v := range rec.Fields {
		have := &s.Fields[i]
		switch {
		case v.Kind == Absent:
		case have.Kind == Absent:
			*have = v
			taken[s.def.Fields[i].Name] = true
		case v.Kind == KList && have.Kind == KList:
			taken[s.def.Fields[i].Name] = true
			for _, item := range v.List {
				if !contains(have.List, item) {
					have.List = append(have.List, item)
				}
			}
		case !have.Equal(v):
			g.merge.Conflicts = append(g.merge.Conflicts, Conflict{Field: s.def.Fields[i].Name, Line: rec.Line, Kept: have.String(), Dropped: v.String()})
		}
	}
	for _, r := range rec.Refs {
		if !taken[r.Field] {
			continue // the survivor kept its own value: a conflict, recorded above
		}
		dup := false
		for _, h := range s.Refs {
			dup = dup || h.Field == r.Field && h.SourceID == r.SourceID
		}
		if !dup {
			s.Refs = append(s.Refs, r)
		}
	}
	return true
}

// notePossible records rec under its key's possible duplicates when its
// source id is new to the key.
func (m *Merger) notePossible(k, key string, rec *Record) {
	pd := m.possible[k]
	if pd == nil {
		pd = &PossibleDuplicate{Entity: rec.Entity, Key: key}
		m.possible[k] = pd
		m.possibleOrder = append(m.possibleOrder, pd)
	}
	if !contains(pd.SourceIDs, rec.SourceID) {
		pd.IDs = append(pd.IDs, rec.ID)
		pd.Lines = append(pd.Lines, rec.Line)
		pd.SourceIDs = append(pd.SourceIDs, rec.SourceID)
	}
}

// PossibleDuplicates returns, in the order the keys were first seen, each
// dedupe key that two or more records with different source ids share and
// that were kept apart.
func (m *Merger) PossibleDuplicates() []PossibleDuplicate {
	var out []PossibleDuplicate
	for _, pd := range m.possibleOrder {
		if len(pd.SourceIDs) > 1 {
			out = append(out, *pd)
		}
	}
	return out
}

// PossibleDuplicateRecords counts the records that PossibleDuplicates
// names: every record kept apart beside another with its key.
func (m *Merger) PossibleDuplicateRecords() int {
	n := 0
	for _, pd := range m.PossibleDuplicates() {
		n += len(pd.SourceIDs)
	}
	return n
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

// Records returns the surviving records in the order they were first added.
func (m *Merger) Records() []*Record { return m.records }

// Merges returns one Merge per key that merged two or more records, in
// the order the keys were first seen.
func (m *Merger) Merges() []Merge {
	var out []Merge
	for _, g := range m.order {
		if len(g.merge.Lines) > 1 {
			out = append(out, g.merge)
		}
	}
	return out
}

// Aliases returns the source ids that now mean a surviving record.
func (m *Merger) Aliases() []Alias { return m.aliases }

// Resolver resolves references between records by source id. Register
// every record (and every Merger alias) first, then Resolve each record.
// It is not safe for concurrent use while records are being added.
type Resolver struct {
	ids map[string]string
}

// Orphan is a reference to a record that is in none of the files.
type Orphan struct {
	Entity   string `json:"entity"`   // the referring record's entity
	SourceID string `json:"sourceId"` // the referring record's source id
	Line     int    `json:"line"`
	Field    string `json:"field"`
	Target   string `json:"target"`  // the referenced entity
	Missing  string `json:"missing"` // the source id nothing has
}

// Issue renders the orphan as a row issue.
func (o Orphan) Issue() Issue {
	return Issue{Field: o.Field, Value: o.Missing, Reason: fmt.Sprintf("no %s with source id %q is in the files", o.Target, o.Missing)}
}

// NewResolver returns an empty Resolver.
func NewResolver() *Resolver { return &Resolver{ids: map[string]string{}} }

// Add registers that entity's record with sourceID has record id id.
func (r *Resolver) Add(entity, sourceID, id string) { r.ids[entity+"\x00"+sourceID] = id }

// AddRecord registers rec under its entity and source id.
func (r *Resolver) AddRecord(rec *Record) { r.Add(rec.Entity, rec.SourceID, rec.ID) }

// AddAliases registers a Merger's aliases.
func (r *Resolver) AddAliases(as []Alias) {
	for _, a := range as {
		r.Add(a.Entity, a.SourceID, a.ID)
	}
}

// Resolve sets the ID of each of rec's references that names a registered
// record and returns one Orphan per reference that does not. Resolve never
// fails.
func (r *Resolver) Resolve(rec *Record) []Orphan {
	var out []Orphan
	for i := range rec.Refs {
		ref := &rec.Refs[i]
		if id, ok := r.ids[ref.Entity+"\x00"+ref.SourceID]; ok {
			ref.ID = id
			continue
		}
		ref.ID = ""
		out = append(out, Orphan{Entity: rec.Entity, SourceID: rec.SourceID, Line: rec.Line, Field: ref.Field, Target: ref.Entity, Missing: ref.SourceID})
	}
	return out
}

// MergedAcrossRefs reports whether a field of spec names an entity whose
// records merge across source ids (mergeDifferentIds), and whether a
// person named inline may be one. A field's reference to a merged-away
// source id means the record it merged into (the Merger's Alias), known
// once every record of that entity is merged; a person named inline is
// linked to a listed record by what the merged record holds (LinkInline).
// A reference to any other entity names a record by its own source id,
// whatever merges elsewhere.
func MergedAcrossRefs(spec *Spec, sch *schema.Schema) (fields, inline bool) {
	across := MergesAcross(spec)
	if len(across) == 0 {
		return false, false
	}
	for _, f := range spec.Files {
		ent, ok := sch.Entity(f.Entity)
		if !ok {
			continue
		}
		for _, fm := range f.Fields {
			if fd, ok := ent.Field(fm.Target); ok && fd.Ref != "" && across[fd.Ref] {
				fields = true
			}
		}
	}
	_, merged := InlinedAcross(spec, sch)
	return fields, len(merged) > 0
}

// InlinedAcross returns the entities of spec's files that name people
// inline who may be records of an entity whose records merge across
// source ids (mergeDifferentIds), and those entities: each once, in the
// spec's order.
func InlinedAcross(spec *Spec, sch *schema.Schema) (naming, merged []string) {
	across := MergesAcross(spec)
	for _, f := range spec.Files {
		ent, ok := sch.Entity(f.Entity)
		if !ok {
			continue
		}
		for _, in := range f.Inline {
			if fd, ok := ent.Field(in.Target); ok && fd.Ref != "" && across[fd.Ref] {
				if !slices.Contains(naming, f.Entity) {
					naming = append(naming, f.Entity)
				}
				if !slices.Contains(merged, fd.Ref) {
					merged = append(merged, fd.Ref)
				}
			}
		}
	}
	return naming, merged
}

// MergesAcross returns the entities of spec's files whose records merge
// across source ids (mergeDifferentIds), as NewMergerFor reads them.
func MergesAcross(spec *Spec) map[string]bool {
	out := map[string]bool{}
	for _, f := range spec.Files {
		if f.MergeDifferentIDs {
			out[f.Entity] = true
		}
	}
	return out
}
