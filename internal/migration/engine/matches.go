package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/mapspec/presets"
	"github.com/cutover/cutover/internal/pass"
	"github.com/cutover/cutover/internal/schema"
)

// How a final table was matched to a signed-off entry.
const (
	MatchSameFile  = "same-file" // the signed-off test file itself is final
	MatchExact     = "exact"     // the same normalised header as the entry's test table
	MatchOverlap   = "overlap"   // no identical header: the entry whose columns the table has most of
	MatchConfirmed = "confirmed" // the customer chose it
	MatchNone      = "none"      // no entry fits: refused before go-live
	MatchAmbiguous = "ambiguous" // two entries fit equally: the customer must choose
)

// minOverlap is the share of an entry's columns a final table must have
// for the entry to be a candidate when no header is identical.
const minOverlap = 0.5

// MatchCandidate is one signed-off entry a final table could be read with.
type MatchCandidate struct {
	Entry    string   `json:"entry"`
	FileName string   `json:"fileName"` // the signed-off test file it was mapped for
	Entity   string   `json:"entity"`
	Preset   string   `json:"preset,omitempty"`
	Exact    bool     `json:"exact"`    // the same normalised header
	Overlap  float64  `json:"overlap"`  // percent of columns in common: the entry reads them and the table has them, of all either names
	Coverage float64  `json:"coverage"` // percent of the columns the entry reads that the table has
	Missing  []string `json:"missing"`  // columns the entry reads that the table lacks
	Fits     bool     `json:"fits"`     // the table can be read with the entry (missing columns hold go-live at the pre-flight)
}

// TableMatch is one final table and the signed-off entry it matches.
type TableMatch struct {
	FileID     string           `json:"fileId"`
	FileName   string           `json:"fileName"`
	Table      string           `json:"table"`
	Entry      string           `json:"entry"` // "" when none or ambiguous
	Entity     string           `json:"entity,omitempty"`
	How        string           `json:"how"`
	Note       string           `json:"note"` // in words, for the customer
	Candidates []MatchCandidate `json:"candidates"`
}

// MatchView is what the customer confirms before submitting the final
// extract: each table's match, and every signed-off entry to choose from.
type MatchView struct {
	Tables  []TableMatch     `json:"tables"`
	Entries []MatchCandidate `json:"entries"`
}

// MatchChoice is the customer's confirmation (or correction) of a final
// table's entry, sent with POST final.
type MatchChoice struct {
	FileID string `json:"fileId"`
	Table  string `json:"table"` // optional for a file with one table
	Entry  string `json:"entry"`
}

// normHeader normalises a column's name for the header signature: the BOM,
// case, and runs of spaces do not make a different column. Repeated headers
// arrive numbered by the reader ("Email (2)"), so they stay distinct.
func normHeader(h string) string {
	h = strings.TrimPrefix(h, "\ufeff")
	return strings.ToLower(strings.Join(strings.Fields(h), " "))
}

// HeaderSignature is a table's identity as a mapping entry records it: a
// hash of its normalised column names, in any order (a later export may
// list the same columns in another order and is still the same table).
func HeaderSignature(header []string) string {
	cols := make([]string, len(header))
	for i, h := range header {
		cols[i] = normHeader(h)
	}
	sort.Strings(cols)
	sum := sha256.Sum256([]byte(strings.Join(cols, "\x1f")))
	return hex.EncodeToString(sum[:16])
}

// entryColumns lists the source columns an entry reads, once each.
func entryColumns(fs mapspec.FileSpec) []string {
	var out []string
	add := func(cols ...string) {
		for _, c := range cols {
			if c != "" && !slices.ContainsFunc(out, func(o string) bool { return normHeader(o) == normHeader(c) }) {
				out = append(out, c)
			}
		}
	}
	add(fs.SourceID...)
	add(fs.SourceIDFallback...)
	for _, f := range fs.Fields {
		add(f.SourceColumns()...)
		if f.When != nil {
			add(f.When.Column)
		}
	}
	for _, r := range fs.Skip {
		if r.When != nil {
			add(r.When.Column)
		}
	}
	for _, in := range fs.Inline {
		add(in.Name, in.Email, in.Phone)
	}
	return out
}

// missingColumns lists the columns an entry reads that header lacks (a
// column's aliases count as it).
func missingColumns(fs mapspec.FileSpec, header []string) []string {
	have := map[string]bool{}
	for _, h := range header {
		have[normHeader(h)] = true
	}
	var out []string
	for _, c := range entryColumns(fs) {
		found := false
		for _, n := range fs.ColumnNames(c) {
			found = found || have[normHeader(n)]
		}
		if !found {
			out = append(out, c)
		}
	}
	return out
}

// detectPreset is the export format a table looks like, the same way on
// the test and the final side.
func detectPreset(t tableSample) string {
	return presets.Propose(t.name, t.header, t.sample).Preset
}

// identitiesOf records each spec entry's identity from the tables it was
// built for (tables and props are aligned with spec.Files).
func identitiesOf(tables []tableSample, spec *mapspec.Spec, version int) []cutover.EntryIdentity {
	var out []cutover.EntryIdentity
	for i, fs := range spec.Files {
		if i >= len(tables) || i >= cutover.MaxFinalMatches {
			break
		}
		t := tables[i]
		out = append(out, cutover.EntryIdentity{
			Entry: fs.Name, FileName: t.fileName, Signature: HeaderSignature(t.header),
			Columns: len(t.header), Entity: fs.Entity, Preset: detectPreset(t), Version: version,
		})
	}
	return out
}

// identitiesKey is where the Map step of a round records its entries'
// identities.
func identitiesKey(id string, round int) string {
	return pass.ArtifactsPrefix(id, "test", round) + "identities.json"
}

// putIdentities records a round's mapping entries' identities.
//
// Errors: EUNAVAILABLE from storage.
func (s *base) putIdentities(ctx context.Context, id string, round int, ids []cutover.EntryIdentity) error {
	body, err := json.Marshal(ids)
	if err != nil {
		return cutover.Wrap(cutover.EINTERNAL, err, "The mapping's identities could not be encoded.")
	}
	return s.files.Put(ctx, identitiesKey(id, round), "application/json", body)
}

// signedOffIdentities returns the identities recorded for the signed-off
// mapping; for a migration mapped before they were recorded, it reads them
// from the signed-off round's test files (the same tables the Map step saw).
func (s *base) signedOffIdentities(ctx context.Context, m *cutover.Migration, spec *mapspec.Spec) ([]cutover.EntryIdentity, error) {
	round := m.Round
	if m.SignOff != nil {
		round = m.SignOff.Round
	}
	var recorded []cutover.EntryIdentity
	err := s.readArtifact(ctx, identitiesKey(m.ID, round), "mapping's identities", &recorded)
	if err == nil && len(recorded) > 0 && recorded[0].Version == m.MappingVersion {
		return recorded, nil
	}
	if err != nil && cutover.ErrorCode(err) != cutover.ENOTFOUND {
		return nil, err
	}
	byName := map[string]tableSample{}
	for _, f := range m.TestFiles(round) {
		ts, err := s.sample(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			byName[t.name] = t
		}
	}
	var tables []tableSample
	for _, fs := range spec.Files {
		tables = append(tables, byName[fs.Name]) // an entry whose file is gone has an empty identity
	}
	return identitiesOf(tables, spec, m.MappingVersion), nil
}

// matchTable matches one final table to a signed-off entry by identity:
// the test file itself, else the one entry with the same header signature,
// else the entry whose columns the table has most of (at least half) and
// that it can be read with. Two equally good entries (the detected export
// format breaking no tie) are ambiguous; none is none.
func matchTable(spec *mapspec.Spec, ids []cutover.EntryIdentity, t tableSample) TableMatch {
	tm := TableMatch{FileID: t.fileID, FileName: t.fileName, Table: t.name, Candidates: []MatchCandidate{}}
	sig, preset := HeaderSignature(t.header), detectPreset(t)
	id := func(entry string) cutover.EntryIdentity {
		for _, i := range ids {
			if i.Entry == entry {
				return i
			}
		}
		return cutover.EntryIdentity{Entry: entry}
	}
	for _, fs := range spec.Files {
		ident := id(fs.Name)
		c := MatchCandidate{
			Entry: fs.Name, FileName: ident.FileName, Entity: fs.Entity, Preset: ident.Preset,
			Exact: ident.Signature != "" && ident.Signature == sig, Missing: missingColumns(fs, t.header),
		}
		if c.Missing == nil {
			c.Missing = []string{}
		}
		if n := len(entryColumns(fs)); n > 0 {
			// Coverage alone favours an entry that reads few columns (a
			// companies entry fits any file with a company name); the
			// share in common, of every column either side names, does not.
			common := n - len(c.Missing)
			c.Coverage = float64(common) * 100 / float64(n)
			c.Overlap = math.Round(float64(common)*1000/float64(n+len(t.header)-common)) / 10
		}
		_, err := mapspec.Compile(fs, schema.Default(), append(slices.Clone(t.header), c.Missing...), "", time.Time{})
		c.Fits = err == nil
		if fs.Name == t.name {
			tm.Entry, tm.Entity, tm.How = fs.Name, fs.Entity, MatchSameFile
			tm.Note = "This is the signed-off test file itself."
		}
		tm.Candidates = append(tm.Candidates, c)
	}
	sort.SliceStable(tm.Candidates, func(i, j int) bool {
		a, b := tm.Candidates[i], tm.Candidates[j]
		if a.Exact != b.Exact {
			return a.Exact
		}
		return a.Overlap > b.Overlap
	})
	if tm.How != "" {
		return tm
	}
	var pool []MatchCandidate
	for _, c := range tm.Candidates {
		if c.Exact && c.Fits {
			pool = append(pool, c)
		}
	}
	how := MatchExact
	if len(pool) == 0 {
		how = MatchOverlap
		for _, c := range tm.Candidates {
			if c.Fits && c.Coverage >= minOverlap*100 && (len(pool) == 0 || c.Overlap == pool[0].Overlap) {
				pool = append(pool, c)
			}
		}
	}
	if len(pool) > 1 && preset != "" {
		var same []MatchCandidate
		for _, c := range pool {
			if c.Preset == preset {
				same = append(same, c)
			}
		}
		if len(same) > 0 {
			pool = same
		}
	}
	switch {
	case len(pool) == 0:
		tm.How = MatchNone
		tm.Note = fmt.Sprintf("%s matches no signed-off file: %s", t.label(), candidateList(tm.Candidates))
	case len(pool) > 1:
		tm.How = MatchAmbiguous
		tm.Note = fmt.Sprintf("%s matches %d signed-off files equally (%s); choose the one it replaces.", t.label(), len(pool), entryNames(pool))
	default:
		c := pool[0]
		tm.Entry, tm.Entity, tm.How = c.Entry, c.Entity, how
		tm.Note = fmt.Sprintf("Read with the signed-off mapping of %s (%s): the same columns.", c.FileName, c.Entity)
		if how == MatchOverlap {
			tm.Note = fmt.Sprintf("Read with the signed-off mapping of %s (%s), the closest: it has %.0f%% of the columns that mapping reads, but not the same columns, so check it. Missing: %s.",
				c.FileName, c.Entity, c.Coverage, strings.Join(c.Missing, ", "))
		}
	}
	return tm
}

func (t tableSample) label() string {
	if t.sheet != "" {
		return fmt.Sprintf("%s (sheet %q)", t.fileName, t.sheet)
	}
	return t.fileName
}

func entryNames(cs []MatchCandidate) string {
	var names []string
	for _, c := range cs {
		names = append(names, fmt.Sprintf("%s, %s", orEntry(c.FileName, c.Entry), c.Entity))
	}
	return strings.Join(names, "; ")
}

func orEntry(name, entry string) string {
	if name == "" {
		return entry
	}
	return name
}

// candidateList says, for a table no entry fits, how close each came.
func candidateList(cs []MatchCandidate) string {
	if len(cs) == 0 {
		return "the signed-off mapping has no files."
	}
	var parts []string
	for _, c := range cs[:min(len(cs), 5)] {
		parts = append(parts, fmt.Sprintf("%s (%s) has %.0f%% of its columns here, missing %s", orEntry(c.FileName, c.Entry), c.Entity, c.Coverage, cutover.Clip(strings.Join(c.Missing, ", "), 200)))
	}
	return strings.Join(parts, "; ") + "."
}

// finalTables samples the files the final migration would read: fileIDs,
// or the signed-off test extract when there are none.
func (s *base) finalTables(ctx context.Context, m *cutover.Migration, fileIDs []string) ([]tableSample, error) {
	files := m.TestFiles(m.Round)
	if len(fileIDs) > 0 {
		files = nil
		for _, id := range fileIDs {
			if f := m.FileByID(id); f != nil {
				files = append(files, *f)
			}
		}
	}
	var out []tableSample
	for _, f := range files {
		ts, err := s.sample(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
	}
	if len(out) > cutover.MaxFinalMatches {
		return nil, cutover.Errorf(cutover.EINVALID, "The final extract has %d tables; at most %d can be matched to the signed-off mapping.", len(out), cutover.MaxFinalMatches)
	}
	return out, nil
}

// MatchFinal matches the final extract's tables to the signed-off mapping's
// entries by their recorded identity, for the customer to confirm or
// correct before submitting: fileIDs, or when empty every completed final
// file of this round.
//
// Errors: ECONFLICT when nothing is signed off yet or the mapping is not
// the signed-off one; EINVALID for an unknown file or one that cannot be
// read (the message names it); EUNAVAILABLE from storage.
func (s *Customer) MatchFinal(ctx context.Context, m *cutover.Migration, fileIDs []string) (*MatchView, error) {
	spec, err := signedOffSpec(m)
	if err != nil {
		return nil, err
	}
	if len(fileIDs) == 0 {
		for _, f := range m.Files {
			if f.Purpose == cutover.PurposeFinal && f.Complete && f.Refused == "" && f.Round == m.Round {
				fileIDs = append(fileIDs, f.ID)
			}
		}
	}
	for _, id := range fileIDs {
		if f := m.FileByID(id); f == nil || f.Purpose != cutover.PurposeFinal || !f.Complete {
			return nil, cutover.Errorf(cutover.EINVALID, "File %q is not a completed final-extract upload.", id)
		}
	}
	return s.matchView(ctx, m, spec, fileIDs)
}

func (s *base) matchView(ctx context.Context, m *cutover.Migration, spec *mapspec.Spec, fileIDs []string) (*MatchView, error) {
	ids, err := s.signedOffIdentities(ctx, m, spec)
	if err != nil {
		return nil, err
	}
	tables, err := s.finalTables(ctx, m, fileIDs)
	if err != nil {
		return nil, err
	}
	v := &MatchView{Tables: []TableMatch{}, Entries: []MatchCandidate{}}
	for _, t := range tables {
		v.Tables = append(v.Tables, matchTable(spec, ids, t))
	}
	for _, fs := range spec.Files {
		c := MatchCandidate{Entry: fs.Name, Entity: fs.Entity, Missing: []string{}}
		for _, i := range ids {
			if i.Entry == fs.Name {
				c.FileName, c.Preset = i.FileName, i.Preset
			}
		}
		v.Entries = append(v.Entries, c)
	}
	return v, nil
}

// confirmMatches applies the customer's choices to the computed matches and
// returns what the final steps read with. Every table must end with exactly
// one entry it can be read with.
//
// Errors: EINVALID naming the file and the candidates when a table matches
// no entry or two and the customer chose none, or a choice names an
// unknown table or entry or one the table cannot be read with.
func confirmMatches(v *MatchView, choices []MatchChoice) ([]cutover.FinalMatch, error) {
	if len(choices) > cutover.MaxFinalMatches {
		return nil, cutover.Errorf(cutover.EINVALID, "matches may name at most %d tables.", cutover.MaxFinalMatches)
	}
	used := make([]bool, len(choices))
	var out []cutover.FinalMatch
	for _, t := range v.Tables {
		fm := cutover.FinalMatch{FileID: t.FileID, FileName: t.FileName, Table: t.Table, Entry: t.Entry, Entity: t.Entity}
		for i, c := range choices {
			if c.FileID != t.FileID || (c.Table != "" && c.Table != t.Table) {
				continue
			}
			if used[i] && c.Table == "" {
				return nil, cutover.Errorf(cutover.EINVALID, "%s has several sheets: name the table of each match.", t.FileName)
			}
			used[i] = true
			j := slices.IndexFunc(t.Candidates, func(mc MatchCandidate) bool { return mc.Entry == c.Entry })
			if j < 0 {
				return nil, cutover.Errorf(cutover.EINVALID, "%q is not a file of the signed-off mapping; choose one of: %s.", c.Entry, entryNames(t.Candidates))
			}
			if !t.Candidates[j].Fits {
				return nil, cutover.Errorf(cutover.EINVALID, "%s cannot be read with the signed-off mapping of %s: it lacks columns that mapping needs (%s).",
					t.FileName, orEntry(t.Candidates[j].FileName, c.Entry), strings.Join(t.Candidates[j].Missing, ", "))
			}
			fm.Entry, fm.Entity, fm.Confirmed = c.Entry, t.Candidates[j].Entity, true
		}
		if fm.Entry == "" {
			return nil, cutover.Errorf(cutover.EINVALID, "%s Nothing was written; confirm which signed-off file it replaces, or upload the right extract.", t.Note)
		}
		out = append(out, fm)
	}
	for i, c := range choices {
		if !used[i] {
			return nil, cutover.Errorf(cutover.EINVALID, "The match for file %q (table %q) names no table of the final extract.", c.FileID, c.Table)
		}
	}
	return out, nil
}

// withoutMissing is the entry as a final table that lacks some of its
// columns is read: the fields fed by a missing column are left out rather
// than failing the read. This never happens unannounced: the pre-flight
// names every missing column as a breach, which holds go-live until the
// coordinator re-approves exactly this extract, and PlanFinal runs only
// then. The signed-off spec itself is not changed.
func withoutMissing(fs mapspec.FileSpec, header []string) mapspec.FileSpec {
	missing := missingColumns(fs, header)
	if len(missing) == 0 {
		return fs
	}
	fields := slices.Clone(fs.Fields)
	for i, f := range fields {
		for _, c := range f.SourceColumns() {
			if slices.Contains(missing, c) {
				fields[i].Optional = true
			}
		}
		if f.When != nil && slices.Contains(missing, f.When.Column) {
			fields[i].Optional = true
		}
	}
	fs.Fields = fields
	return fs
}

// matchedEntry returns the chooser every final step reads the extract
// with: each table's stored, confirmed match. A migration whose final
// matches were never stored (the test extract confirmed final before
// matches existed) reads each table with the entry of its own name only.
func matchedEntry(m *cutover.Migration) func(*mapspec.Spec, string, []string) (mapspec.FileSpec, error) {
	if len(m.FinalMatches) == 0 {
		return pass.ByName
	}
	return func(spec *mapspec.Spec, name string, header []string) (mapspec.FileSpec, error) {
		for _, fm := range m.FinalMatches {
			if fm.Table == name {
				fs, err := pass.ByName(spec, fm.Entry, header)
				return withoutMissing(fs, header), err
			}
		}
		return mapspec.FileSpec{}, cutover.Errorf(cutover.EINVALID, "A table of the final extract (%s) has no confirmed match to the signed-off mapping; submit the final extract again.", name)
	}
}

// storedMatches are the matches as the migration keeps them: without the
// file's name, which its file (Files) has, so a migration at its bounds
// still fits its item; namedMatches puts the names back.
func storedMatches(ms []cutover.FinalMatch) []cutover.FinalMatch {
	out := slices.Clone(ms)
	for i := range out {
		out[i].FileName = ""
	}
	return out
}

// namedMatches returns m's matches with their files' names.
func namedMatches(m *cutover.Migration) []cutover.FinalMatch {
	out := slices.Clone(m.FinalMatches)
	for i := range out {
		if f := m.FileByID(out[i].FileID); f != nil {
			out[i].FileName = f.Name
		}
	}
	return out
}

// matchesDetail says in the audit trail which signed-off entry each final
// table is read with, and whether the customer confirmed it.
func matchesDetail(ms []cutover.FinalMatch) string {
	var parts []string
	for _, m := range ms {
		how := "by identity"
		if m.Confirmed {
			how = "confirmed"
		}
		parts = append(parts, fmt.Sprintf("%s -> %s (%s, %s)", m.FileName, m.Entry, m.Entity, how))
	}
	return cutover.Clip(strings.Join(parts, "; "), cutover.MaxReasonBytes)
}
