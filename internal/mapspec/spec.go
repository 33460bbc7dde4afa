// Package mapspec is cutover's mapping engine: a versioned mapping spec
// (JSON, described by the embedded JSON Schema mapspec.schema.json and by
// README.md) that says which file is which entity of the target schema and
// how each column becomes each field, and the compiled Mapper that applies it
// to rows fast enough for million-row exports.
//
// Around the Mapper sit the pieces of the pipeline that need more than one
// row: Merger (dedupe keys to merged records, conflicts recorded), Resolver
// (references between files, orphans reported) and Suggest (a first mapping
// for a file no preset knows).
package mapspec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/schema"
)

// Version is the only spec format version this package reads and writes.
const Version = 1

// Spec is a parsed, validated mapping spec.
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
	// from what identifies it (see ContentID), so the id stays the same when
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
	// their values combine (combine.go): "combine" (a list keeps them
	// all), "first" (the first non-empty) or "concat" (text joined by a
	// separator). A field without a rule takes the default: a list
	// combines, any other field keeps the first non-empty, and the values
	// that lost are reported in the workbook.
	Combine map[string]CombineRule `json:"combine,omitempty"`
	// Inline derives the people a row names inline (a tenant's name on a
	// tenancy) and fills a reference with them (inline.go).
	Inline []InlinePerson `json:"inline,omitempty"`
	// Aliases lists, per column the spec reads, other headers that mean the
	// same (aliases.go), so one spec maps several layouts.
	Aliases map[string][]string `json:"aliases,omitempty"`
	// Defaults, when set, override the spec's defaults for this file (its
	// set members win), so files from different systems can sit in one spec.
	Defaults *Defaults `json:"defaults,omitempty"`

	defaults Defaults // the spec's defaults with the file's own over them, set by Parse
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
	Per       string            `json:"per,omitempty"` // "amount": convert to this period (money.go)
}

// RegionAuto, as a phone region, infers the region: from the row's country
// column, then the file's numbers and country columns, then the
// migration's market. An empty region means the same.
const RegionAuto = "auto"

// Derive rule names.
const (
	RuleApplicantExpiry = "applicant-expiry"
	RuleTenancyStatus   = "tenancy-status"
)

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

// Parse reads a spec and validates it against the JSON Schema and the
// default target schema (see ParseWith).
//
// Errors: EINVALID, as ParseWith.
func Parse(data []byte) (*Spec, error) { return ParseWith(data, schema.Default()) }

// ParseWith reads a spec and validates it against the JSON Schema and
// against sch: entities and fields exist, steps fit the field types, regular
// expressions compile and have the group they name, date formats, regions,
// currencies and time zones are known, lookup values are allowed enum
// values, required fields are mapped.
//
// Errors: EINVALID whose message starts with the JSON path of the first
// problem, e.g. `$.files[0].fields[2].steps[0].pattern: ...`; several
// structural problems are listed together, separated by "; ".
func ParseWith(data []byte, sch *schema.Schema) (*Spec, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, cutover.Errorf(cutover.EINVALID, "mapping spec: the file is empty")
	}
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			l, c := lineCol(data, syn.Offset-1)
			return nil, cutover.Wrap(cutover.EINVALID, err, "mapping spec: line %d, column %d: invalid JSON: %s", l, c, syn.Error())
		}
		return nil, cutover.Wrap(cutover.EINVALID, err, "mapping spec: invalid JSON")
	}
	if err := checkJSONSchema(data); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Spec
	if err := dec.Decode(&s); err != nil {
		return nil, cutover.Wrap(cutover.EINVALID, err, "mapping spec: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if err := s.validate(sch); err != nil {
		return nil, err
	}
	return &s, nil
}

func lineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	return 1 + bytes.Count(data[:off], []byte{'\n'}), int(off) - bytes.LastIndexByte(data[:off], '\n')
}

func invalid(path, format string, args ...any) error {
	return cutover.Errorf(cutover.EINVALID, "mapping spec: %s: %s", path, fmt.Sprintf(format, args...))
}

var conversionOps = map[string][]schema.Type{
	"boolean": {schema.Boolean},
	"number":  {schema.Number, schema.Integer},
	"money":   {schema.Money},
	opAmount:  {schema.Money},
	"date":    {schema.Date, schema.DateTime},
	"email":   {schema.Email},
	"phone":   {schema.Phone},
}

func (s *Spec) validate(sch *schema.Schema) error {
	if s.Version != Version {
		return invalid("$.version", "must be %d", Version)
	}
	if err := checkDefaults("$.defaults", s.Defaults); err != nil {
		return err
	}
	names := map[string]bool{}
	for i := range s.Files {
		f := &s.Files[i]
		p := fmt.Sprintf("$.files[%d]", i)
		if names[f.Name] {
			return invalid(p+".name", "file %q is listed twice", f.Name)
		}
		names[f.Name] = true
		f.defaults = s.Defaults
		if f.Defaults != nil {
			if err := checkDefaults(p+".defaults", *f.Defaults); err != nil {
				return err
			}
			f.defaults = f.Defaults.Over(s.Defaults)
		}
		if err := f.validate(p, sch); err != nil {
			return err
		}
	}
	return nil
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

func checkDefaults(p string, d Defaults) error {
	if d.Region != "" && d.Region != RegionAuto && !phonenumbers.GetSupportedRegions()[d.Region] {
		return invalid(p+".region", "%q is not a region phone numbers know", d.Region)
	}
	if d.Currency != "" {
		if _, ok := currencies[d.Currency]; !ok {
			return invalid(p+".currency", "%q is not a supported currency (%s)", d.Currency, currencyList())
		}
	}
	for i, df := range d.DateFormats {
		if _, err := compileDateFormat(df); err != nil {
			return invalid(fmt.Sprintf("%s.dateFormats[%d]", p, i), "%v", err)
		}
	}
	if d.Timezone != "" {
		if _, err := time.LoadLocation(d.Timezone); err != nil {
			return invalid(p+".timezone", "unknown time zone %q", d.Timezone)
		}
	}
	return nil
}

// entity resolves the file's entity.
func (f *FileSpec) entity(p string, sch *schema.Schema) (*schema.Entity, error) {
	e, ok := sch.Entity(f.Entity)
	if !ok {
		return nil, invalid(p+".entity", "unknown entity %q (known: %s)", f.Entity, strings.Join(sch.EntityNames(), ", "))
	}
	return e, nil
}

func (f *FileSpec) validate(p string, sch *schema.Schema) error {
	e, err := f.entity(p, sch)
	if err != nil {
		return err
	}
	if f.SourceIDFrom != "" && f.SourceIDFrom != SourceIDFromContent {
		return invalid(p+".sourceIdFrom", "must be %q", SourceIDFromContent)
	}
	if f.MergeDifferentIDs && len(f.Dedupe) == 0 {
		return invalid(p+".mergeDifferentIds", "merging needs a dedupe key: set \"dedupe\" too")
	}
	for i, d := range f.Dedupe {
		if _, ok := e.Field(d); !ok {
			return invalid(fmt.Sprintf("%s.dedupe[%d]", p, i), "entity %q has no field %q", e.Name, d)
		}
	}
	rules := map[string]bool{}
	for i, r := range f.Skip {
		rp := fmt.Sprintf("%s.skip[%d]", p, i)
		if rules[r.Name] {
			return invalid(rp+".name", "rule %q is listed twice", r.Name)
		}
		rules[r.Name] = true
		if r.Always == (r.When != nil) {
			return invalid(rp, "a skip rule needs exactly one of \"always\" and \"when\"")
		}
		if r.When != nil {
			if err := r.When.validate(rp + ".when"); err != nil {
				return err
			}
		}
	}
	if f.Derive != nil {
		for i, d := range *f.Derive {
			if err := deriveFits(d, e); err != nil {
				return invalid(fmt.Sprintf("%s.derive[%d]", p, i), "%v", err)
			}
		}
	}
	mapped := map[string]bool{}
	for i, m := range f.Fields {
		mp := fmt.Sprintf("%s.fields[%d]", p, i)
		fd, ok := e.Field(m.Target)
		if !ok {
			return invalid(mp+".target", "entity %q has no field %q (fields: %s)", e.Name, m.Target, strings.Join(e.FieldNames(), ", "))
		}
		sources := 0
		if m.Column != "" {
			sources++
		}
		if len(m.Columns) > 0 {
			sources++
		}
		if m.Constant != nil {
			sources++
		}
		if sources != 1 {
			return invalid(mp, "needs exactly one of \"column\", \"columns\" and \"constant\"")
		}
		if m.When != nil {
			if err := m.When.validate(mp + ".when"); err != nil {
				return err
			}
		}
		if _, err := compileSteps(mp, m, fd, f.defaults); err != nil {
			return err
		}
		if !m.Optional {
			mapped[m.Target] = true
		}
	}
	if err := f.validateCombine(p, e); err != nil {
		return err
	}
	if err := f.validateAliases(p); err != nil {
		return err
	}
	if err := f.validateInline(p, e, sch); err != nil {
		return err
	}
	for _, in := range f.Inline {
		// An inline entry, optional or not, is a way to fill a required
		// reference: Compile refuses a file where neither it nor a
		// mapping of the field is present.
		mapped[in.Target] = true
	}
	for _, fd := range e.Fields {
		if fd.Required && !mapped[fd.Name] {
			return invalid(p+".fields", "required field %q of entity %q has no mapping (an optional mapping does not count)", fd.Name, e.Name)
		}
	}
	return nil
}

func (c *Condition) validate(p string) error {
	n := 0
	if len(c.In) > 0 {
		n++
	}
	if len(c.NotIn) > 0 {
		n++
	}
	if c.Empty != nil {
		n++
	}
	if n != 1 {
		return invalid(p, "a condition needs exactly one of \"in\", \"notIn\" and \"empty\"")
	}
	return nil
}

// deriveFits says why a derive rule cannot apply to e, or nil.
func deriveFits(rule string, e *schema.Entity) error {
	need := map[string][]string{
		RuleApplicantExpiry: {"expiry_date:date", "status:enum:active:archived"},
		RuleTenancyStatus:   {"start_date:date", "end_date:date", "status:enum:active:periodic:renewed:ended"},
	}[rule]
	if need == nil {
		return fmt.Errorf("unknown derive rule %q (known: %s, %s)", rule, RuleApplicantExpiry, RuleTenancyStatus)
	}
	for _, n := range need {
		parts := strings.Split(n, ":")
		f, ok := e.Field(parts[0])
		if !ok || f.Type != schema.Type(parts[1]) {
			return fmt.Errorf("rule %q needs a %s field %q in entity %q", rule, parts[1], parts[0], e.Name)
		}
		for _, v := range parts[2:] {
			if _, ok := f.EnumValue(v); !ok {
				return fmt.Errorf("rule %q needs value %q in field %q of entity %q", rule, v, parts[0], e.Name)
			}
		}
	}
	return nil
}

// regexpCompile is regexp.Compile with a message fit for a spec author.
func regexpCompile(p, pattern string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, invalid(p, "not a valid RE2 expression: %v", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	return re, nil
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
