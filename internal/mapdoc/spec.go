// Package mapdoc is the mapping spec as a document: its types, their JSON
// form and hash, and the findings the engine reports about rows (issues,
// inferred date formats and phone regions, possible duplicates). It holds
// no engine: no phone library, no JSON Schema validator, no converters, so
// the Lambdas that only read or show a spec (sign-off, ops) link it
// without the engine's size and start-up cost. Parsing and validating a
// spec, and mapping rows with it, is internal/mapspec, which re-exports
// these types under their old names.
package mapdoc

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/cutover/cutover/internal/schema"
)

// Version is the only spec format version there is.
const Version = 1

// Spec is a mapping spec: as mapspec.Parse returns it (validated), or as
// code builds it (presets, proposals).
type Spec struct {
	Version     int        `json:"version"`
	Name        string     `json:"name,omitempty"`
	Description string     `json:"description,omitempty"`
	Defaults    Defaults   `json:"defaults,omitzero"`
	Files       []FileSpec `json:"files"`
}

// Defaults apply to every step that does not say otherwise.
type Defaults struct {
	Region      string   `json:"region,omitempty"`      // phone region, e.g. GB; "auto" or empty: inferred per row and file, then the market
	Currency    string   `json:"currency,omitempty"`    // money currency, e.g. GBP (GBP when empty)
	DateFormats []string `json:"dateFormats,omitempty"` // accepted date formats (["ISO"] when empty)
	Timezone    string   `json:"timezone,omitempty"`    // zone of datetimes without an offset, and of "today" for row rules (UTC when empty)
}

// FileSpec maps one file to one entity.
type FileSpec struct {
	Name     string   `json:"name"`
	Entity   string   `json:"entity"`
	SourceID []string `json:"sourceId,omitempty"`
	// SourceIDFallback lists columns tried one by one, in order, for a row
	// whose sourceId columns are all blank (e.g. the e-mail when a vendor's
	// own id is often left empty), so such a row is not rejected.
	SourceIDFallback []string `json:"sourceIdFallback,omitempty"`
	// SourceIDFrom "content" derives the id of a row that has no other id
	// from what identifies it (see mapspec.ContentID), so the id stays the same when
	// the final extract lists the rows in another order.
	SourceIDFrom string   `json:"sourceIdFrom,omitempty"`
	Dedupe       []string `json:"dedupe,omitempty"`
	// MergeDifferentIDs lets rows with the same dedupe key but different
	// source ids merge. Off by default: two people who share an e-mail
	// address are kept apart and reported as possible duplicates.
	MergeDifferentIDs bool           `json:"mergeDifferentIds,omitempty"`
	Skip              []SkipRule     `json:"skip,omitempty"`
	Derive            *[]string      `json:"derive,omitempty"` // nil: every derive rule that fits the entity; empty: none
	Fields            []FieldMapping `json:"fields"`
	// Combine says, per target field that several mappings fill, how
	// their values combine (mapspec combine.go): "combine" (a list keeps them
	// all), "first" (the first non-empty) or "concat" (text joined by a
	// separator). A field without a rule takes the default: a list
	// combines, any other field keeps the first non-empty, and the values
	// that lost are reported in the workbook.
	Combine map[string]CombineRule `json:"combine,omitempty"`
	// Inline derives the people a row names inline (a tenant's name on a
	// tenancy) and fills a reference with them (mapspec inline.go).
	Inline []InlinePerson `json:"inline,omitempty"`
	// Aliases lists, per column the spec reads, other headers that mean the
	// same (mapspec aliases.go), so one spec maps several layouts.
	Aliases map[string][]string `json:"aliases,omitempty"`
	// Defaults, when set, override the spec's defaults for this file (its
	// set members win), so files from different systems can sit in one spec.
	Defaults *Defaults `json:"defaults,omitempty"`

	defaults Defaults // the spec's defaults with the file's own over them, set by Spec.ResolveDefaults
}

// SkipRule skips the rows it matches, counted under Name.
type SkipRule struct {
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	Always      bool       `json:"always,omitempty"`
	When        *Condition `json:"when,omitempty"`
}

// Condition tests one source column. Exactly one of In, NotIn and Empty is set.
type Condition struct {
	Column string   `json:"column"`
	In     []string `json:"in,omitempty"`
	NotIn  []string `json:"notIn,omitempty"`
	Empty  *bool    `json:"empty,omitempty"`
}

// FieldMapping fills one target field.
type FieldMapping struct {
	Target   string   `json:"target"`
	Column   string   `json:"column,omitempty"`
	Columns  []string `json:"columns,omitempty"`
	Constant *string  `json:"constant,omitempty"`
	Default  *string  `json:"default,omitempty"`
	Optional bool     `json:"optional,omitempty"`
	// Strict makes a value that cannot be read reject the whole row, as
	// every field did before; by default such a value is left out of the
	// record (kept under "invalid") and the row is flagged for review.
	Strict bool       `json:"strict,omitempty"`
	When   *Condition `json:"when,omitempty"`
	Steps  []Step     `json:"steps,omitempty"`
}

// SourceColumns lists the columns the mapping reads.
func (m FieldMapping) SourceColumns() []string {
	if m.Column != "" {
		return []string{m.Column}
	}
	return m.Columns
}

// Step is one transform. Op says which; the other fields are its options.
type Step struct {
	Op        string            `json:"op"`
	Chars     string            `json:"chars,omitempty"`
	To        string            `json:"to,omitempty"`
	Separator string            `json:"separator,omitempty"`
	Index     *int              `json:"index,omitempty"`
	Old       string            `json:"old,omitempty"`
	New       string            `json:"new,omitempty"`
	Value     *string           `json:"value,omitempty"`
	Pattern   string            `json:"pattern,omitempty"`
	Group     *int              `json:"group,omitempty"`
	OnNoMatch string            `json:"onNoMatch,omitempty"`
	Table     map[string]string `json:"table,omitempty"`
	Strict    bool              `json:"strict,omitempty"`
	Otherwise *string           `json:"otherwise,omitempty"`
	True      []string          `json:"true,omitempty"`
	False     []string          `json:"false,omitempty"`
	Invert    bool              `json:"invert,omitempty"`
	Decimal   string            `json:"decimal,omitempty"`
	Thousands *string           `json:"thousands,omitempty"`
	Currency  string            `json:"currency,omitempty"`
	Formats   []string          `json:"formats,omitempty"`
	Timezone  string            `json:"timezone,omitempty"`
	Region    string            `json:"region,omitempty"`
	Per       string            `json:"per,omitempty"` // "amount": convert to this period (mapspec money.go)
}

// RegionAuto, as a phone region, infers the region: from the row's country
// column, else from the file (where its national numbers are valid, among
// the market and the countries its +numbers and country columns name;
// mapspec.InferRegion), else the migration's market. An empty region
// means the same.
const RegionAuto = "auto"

// Derive rule names.
const (
	RuleApplicantExpiry = "applicant-expiry"
	RuleTenancyStatus   = "tenancy-status"
)

// SourceIDFromContent, as FileSpec.SourceIDFrom, derives the id of a row
// that has no other id from what identifies it.
const SourceIDFromContent = "content"

// File returns the file spec called name.
func (s *Spec) File(name string) (FileSpec, bool) {
	for _, f := range s.Files {
		if f.Name == name {
			return f, true
		}
	}
	return FileSpec{}, false
}

// Hash is the spec's content hash, "sha256:" and 64 hex digits, over its
// canonical JSON (so formatting and key order do not change it). Sign-off
// freezes a mapping by this hash.
func (s *Spec) Hash() string {
	b, err := json.Marshal(s)
	if err != nil { // cannot happen: every field marshals
		panic(err)
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// JSON returns the spec's canonical JSON, indented.
func (s *Spec) JSON() []byte {
	b, _ := json.MarshalIndent(s, "", "  ")
	return b
}

// Over returns d with base's settings wherever d has none: a file's
// defaults over the spec's, member by member, as the engine applies them.
func (d Defaults) Over(base Defaults) Defaults {
	if d.Region == "" {
		d.Region = base.Region
	}
	if d.Currency == "" {
		d.Currency = base.Currency
	}
	if len(d.DateFormats) == 0 {
		d.DateFormats = base.DateFormats
	}
	if d.Timezone == "" {
		d.Timezone = base.Timezone
	}
	return d
}

// ResolveDefaults sets each file's effective defaults: its own over the
// spec's, member by member (Defaults.Over). mapspec.Parse calls it; the
// engine reads them with FileSpec.EffectiveDefaults.
func (s *Spec) ResolveDefaults() {
	for i := range s.Files {
		f := &s.Files[i]
		f.defaults = s.Defaults
		if f.Defaults != nil {
			f.defaults = f.Defaults.Over(s.Defaults)
		}
	}
}

// EffectiveDefaults returns the defaults that apply to f's steps, as
// Spec.ResolveDefaults set them: the zero Defaults for a file spec that
// did not come from a resolved Spec.
func (f *FileSpec) EffectiveDefaults() Defaults { return f.defaults }

// NormColumn is a header as columns are compared: trimmed, lower case,
// without a byte-order mark. "Email", " email" and "EMAIL" are one column.
func NormColumn(s string) string {
	return strings.ToLower(strings.TrimSpace(strings.TrimPrefix(s, "\ufeff")))
}

// ColumnNames returns name and its aliases in f, the headers that can
// supply the column.
func (f *FileSpec) ColumnNames(name string) []string {
	out := []string{name}
	for col, alts := range f.Aliases {
		if NormColumn(col) == NormColumn(name) {
			out = append(out, alts...)
		}
	}
	return out
}

// HoldsRecords reports whether mapping with s must hold records until every
// file is read — to merge them by a dedupe key, or to check references
// between files — instead of streaming them.
func (s *Spec) HoldsRecords(sch *schema.Schema) bool {
	for _, f := range s.Files {
		if len(f.Dedupe) > 0 || len(f.Inline) > 0 { // inline people are linked to listed ones after the pass
			return true
		}
		ent, ok := sch.Entity(f.Entity)
		if !ok {
			continue
		}
		for _, fm := range f.Fields {
			if fd, ok := ent.Field(fm.Target); ok && fd.Ref != "" {
				return true
			}
		}
	}
	return false
}
