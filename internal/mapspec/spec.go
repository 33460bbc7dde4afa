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
//
// The spec's types themselves live in internal/mapdoc, without the engine,
// so a Lambda that only shows a spec does not link the phone library and
// the JSON Schema validator; mapspec re-exports them (mapdoc.go).
package mapspec

import (
	"bytes"
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
	if err := validateSpec(&s, sch); err != nil {
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

func validateSpec(s *Spec, sch *schema.Schema) error {
	if s.Version != Version {
		return invalid("$.version", "must be %d", Version)
	}
	if err := checkDefaults("$.defaults", s.Defaults); err != nil {
		return err
	}
	s.ResolveDefaults()
	names := map[string]bool{}
	for i := range s.Files {
		f := &s.Files[i]
		p := fmt.Sprintf("$.files[%d]", i)
		if names[f.Name] {
			return invalid(p+".name", "file %q is listed twice", f.Name)
		}
		names[f.Name] = true
		if f.Defaults != nil {
			if err := checkDefaults(p+".defaults", *f.Defaults); err != nil {
				return err
			}
		}
		if err := validateFile(f, p, sch); err != nil {
			return err
		}
	}
	return nil
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

// fileEntity resolves the file's entity.
func fileEntity(f *FileSpec, p string, sch *schema.Schema) (*schema.Entity, error) {
	e, ok := sch.Entity(f.Entity)
	if !ok {
		return nil, invalid(p+".entity", "unknown entity %q (known: %s)", f.Entity, strings.Join(sch.EntityNames(), ", "))
	}
	return e, nil
}

func validateFile(f *FileSpec, p string, sch *schema.Schema) error {
	e, err := fileEntity(f, p, sch)
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
			if err := validateCondition(r.When, rp+".when"); err != nil {
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
			if err := validateCondition(m.When, mp+".when"); err != nil {
				return err
			}
		}
		if _, err := compileSteps(mp, m, fd, f.EffectiveDefaults()); err != nil {
			return err
		}
		if !m.Optional {
			mapped[m.Target] = true
		}
	}
	if err := validateCombine(f, p, e); err != nil {
		return err
	}
	if err := validateAliases(f, p); err != nil {
		return err
	}
	if err := validateInline(f, p, e, sch); err != nil {
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

func validateCondition(c *Condition, p string) error {
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
