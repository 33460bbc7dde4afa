// Package schema is cutover's target schema: the entities a migration
// writes (contact, property, tenancy, applicant, appointment, order), their
// fields, types, required fields, formats, enums and references.
//
// The default schema is the embedded default.json; a vendor may edit that
// file or load their own with Load. The package has no I/O beyond the reader
// it is given.
package schema

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"

	"github.com/cutover/cutover/internal/cutover"
)

//go:embed default.json
var defaultJSON []byte

// Type is a field type.
type Type string

// Field types.
const (
	String   Type = "string"   // one line of text
	Text     Type = "text"     // free text, may hold newlines
	Email    Type = "email"    // a normalised (lower-case, trimmed) email address
	Phone    Type = "phone"    // an E.164 phone number
	Date     Type = "date"     // a calendar date, YYYY-MM-DD
	DateTime Type = "datetime" // an instant, RFC 3339 in UTC
	Number   Type = "number"   // a decimal number
	Integer  Type = "integer"  // a whole number
	Money    Type = "money"    // an amount in minor units with an ISO 4217 currency
	Boolean  Type = "boolean"  // true or false
	Enum     Type = "enum"     // one of Values
	Ref      Type = "ref"      // the source id of a record of entity Ref
	List     Type = "list"     // a list of Of
)

var scalarTypes = []Type{String, Text, Email, Phone, Date, DateTime, Number, Integer, Money, Boolean, Enum, Ref}

// IsScalar reports whether t is a known type other than list.
func (t Type) IsScalar() bool {
	for _, s := range scalarTypes {
		if t == s {
			return true
		}
	}
	return false
}

// Schema is a loaded, validated target schema. It is immutable after Load.
type Schema struct {
	Version     int       `json:"version"`
	Description string    `json:"description,omitempty"`
	Entities    []*Entity `json:"entities"`
	byName      map[string]*Entity
}

// Entity is one kind of record.
type Entity struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Identity lists the fields that identify a record of the entity: a row
	// with none of them is rejected, because nobody could tell the record
	// apart afterwards. An invalid value in any other field drops that
	// field only, so one bad phone never costs a customer the whole contact.
	Identity []string `json:"identity,omitempty"`
	// AnyOf is the older name of Identity, still read so vendors' edited
	// schemas keep working; Load folds it into Identity.
	AnyOf  []string `json:"anyOf,omitempty"`
	Fields []*Field `json:"fields"`
	index  map[string]int
}

// Field is one field of an entity.
type Field struct {
	Name        string   `json:"name"`
	Type        Type     `json:"type"`
	Of          Type     `json:"of,omitempty"`     // item type of a list
	Values      []string `json:"values,omitempty"` // allowed values of an enum (or a list of enum)
	Ref         string   `json:"ref,omitempty"`    // referenced entity of a ref (or a list of ref)
	Required    bool     `json:"required,omitempty"`
	MaxLength   int      `json:"maxLength,omitempty"` // in characters, for string-like values
	Pattern     string   `json:"pattern,omitempty"`   // RE2 the value must match (string-like values)
	Min         *float64 `json:"min,omitempty"`       // for number and integer
	Max         *float64 `json:"max,omitempty"`
	NotFuture   bool     `json:"notFuture,omitempty"` // a date after "now" is a warning
	Description string   `json:"description,omitempty"`

	// Index is the field's position in its entity's Fields.
	Index   int            `json:"-"`
	Re      *regexp.Regexp `json:"-"` // compiled Pattern, nil when there is none
	enumSet map[string]string
}

// ItemType is the type of one value of the field: Of for a list, else Type.
func (f *Field) ItemType() Type {
	if f.Type == List {
		return f.Of
	}
	return f.Type
}

// EnumValue returns the canonical enum value equal to v ignoring case, and
// whether there is one.
func (f *Field) EnumValue(v string) (string, bool) {
	if c, ok := f.enumSet[v]; ok {
		return c, true
	}
	c, ok := f.enumSet[strings.ToLower(v)]
	return c, ok
}

// Entity returns the entity called name.
func (s *Schema) Entity(name string) (*Entity, bool) {
	e, ok := s.byName[name]
	return e, ok
}

// EntityNames lists the entity names in schema order.
func (s *Schema) EntityNames() []string {
	out := make([]string, len(s.Entities))
	for i, e := range s.Entities {
		out[i] = e.Name
	}
	return out
}

// Field returns the field called name.
func (e *Entity) Field(name string) (*Field, bool) {
	i, ok := e.index[name]
	if !ok {
		return nil, false
	}
	return e.Fields[i], true
}

// FieldNames lists the field names in schema order.
func (e *Entity) FieldNames() []string {
	out := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		out[i] = f.Name
	}
	return out
}

// defaultSchema parses the embedded schema on first use, not at package
// initialisation: most Lambdas that link this package (through the
// checklist) never read it, and a cold start should not pay for it.
var defaultSchema = sync.OnceValue(func() *Schema {
	s, err := Load(bytes.NewReader(defaultJSON))
	if err != nil {
		panic("schema: embedded default.json is invalid: " + err.Error())
	}
	return s
})

// Default returns the embedded default schema. It never fails: the embedded
// file is validated by the tests (and parsed once, on first use).
func Default() *Schema { return defaultSchema() }

// DefaultJSON returns a copy of the embedded default schema file, for a
// vendor to start their own from.
func DefaultJSON() []byte { return bytes.Clone(defaultJSON) }

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Load reads and validates a schema file.
//
// Errors: EINVALID, whose message locates the problem: a JSON syntax error
// or unknown key by line and column, and a semantic error by its path (for
// example `entities[1].fields[3].type: unknown type "strng"`).
func Load(r io.Reader) (*Schema, error) {
	data, err := io.ReadAll(io.LimitReader(r, 8<<20))
	if err != nil {
		return nil, cutover.Wrap(cutover.EINVALID, err, "The schema file could not be read.")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Schema
	if err := dec.Decode(&s); err != nil {
		return nil, jsonError("schema", data, dec, err)
	}
	if dec.More() {
		return nil, cutover.Errorf(cutover.EINVALID, "schema: unexpected data after the top-level object")
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

func bad(path, format string, args ...any) error {
	return cutover.Errorf(cutover.EINVALID, "schema: %s: %s", path, fmt.Sprintf(format, args...))
}

func (s *Schema) validate() error {
	if s.Version != 1 {
		return bad("version", "must be 1, not %d", s.Version)
	}
	if len(s.Entities) == 0 {
		return bad("entities", "at least one entity is needed")
	}
	s.byName = map[string]*Entity{}
	for i, e := range s.Entities {
		p := fmt.Sprintf("entities[%d]", i)
		if e == nil {
			return bad(p, "must be an object")
		}
		if !namePattern.MatchString(e.Name) {
			return bad(p+".name", "%q is not a valid name (lower-case letters, digits and _, starting with a letter)", e.Name)
		}
		if _, dup := s.byName[e.Name]; dup {
			return bad(p+".name", "entity %q is defined twice", e.Name)
		}
		s.byName[e.Name] = e
		if len(e.Fields) == 0 {
			return bad(p+".fields", "entity %q has no fields", e.Name)
		}
		e.index = map[string]int{}
		for j, f := range e.Fields {
			fp := fmt.Sprintf("%s.fields[%d]", p, j)
			if f == nil {
				return bad(fp, "must be an object")
			}
			if err := validateField(fp, f); err != nil {
				return err
			}
			if _, dup := e.index[f.Name]; dup {
				return bad(fp+".name", "field %q is defined twice in entity %q", f.Name, e.Name)
			}
			f.Index = j
			e.index[f.Name] = j
		}
		for k, n := range e.AnyOf {
			if _, ok := e.index[n]; !ok {
				return bad(fmt.Sprintf("%s.anyOf[%d]", p, k), "entity %q has no field %q", e.Name, n)
			}
		}
		for k, n := range e.Identity {
			if _, ok := e.index[n]; !ok {
				return bad(fmt.Sprintf("%s.identity[%d]", p, k), "entity %q has no field %q", e.Name, n)
			}
		}
		if len(e.Identity) == 0 {
			e.Identity = e.AnyOf
		}
	}
	for i, e := range s.Entities {
		for j, f := range e.Fields {
			if f.ItemType() == Ref {
				if _, ok := s.byName[f.Ref]; !ok {
					return bad(fmt.Sprintf("entities[%d].fields[%d].ref", i, j), "unknown entity %q (known: %s)", f.Ref, strings.Join(s.EntityNames(), ", "))
				}
			}
		}
	}
	return nil
}

func validateField(p string, f *Field) error {
	if !namePattern.MatchString(f.Name) {
		return bad(p+".name", "%q is not a valid name (lower-case letters, digits and _, starting with a letter)", f.Name)
	}
	known := make([]string, 0, len(scalarTypes)+1)
	for _, t := range scalarTypes {
		known = append(known, string(t))
	}
	known = append(known, string(List))
	switch {
	case f.Type == List:
		if !f.Of.IsScalar() {
			return bad(p+".of", "a list needs \"of\", one of %s; got %q", strings.Join(known[:len(known)-1], ", "), f.Of)
		}
	case f.Type.IsScalar():
		if f.Of != "" {
			return bad(p+".of", "only a list has \"of\"")
		}
	default:
		return bad(p+".type", "unknown type %q (want one of %s)", f.Type, strings.Join(known, ", "))
	}
	it := f.ItemType()
	if it == Enum {
		if len(f.Values) == 0 {
			return bad(p+".values", "an enum needs at least one value")
		}
		f.enumSet = map[string]string{}
		for k, v := range f.Values {
			if strings.TrimSpace(v) == "" || v != strings.TrimSpace(v) {
				return bad(fmt.Sprintf("%s.values[%d]", p, k), "enum value %q is blank or has surrounding spaces", v)
			}
			lv := strings.ToLower(v)
			if _, dup := f.enumSet[lv]; dup {
				return bad(fmt.Sprintf("%s.values[%d]", p, k), "enum value %q is listed twice (values are case-insensitive)", v)
			}
			f.enumSet[lv] = v
			f.enumSet[v] = v
		}
	} else if len(f.Values) > 0 {
		return bad(p+".values", "only an enum has values")
	}
	if it == Ref {
		if f.Ref == "" {
			return bad(p+".ref", "a ref needs \"ref\", the referenced entity")
		}
	} else if f.Ref != "" {
		return bad(p+".ref", "only a ref has \"ref\"")
	}
	if f.MaxLength < 0 {
		return bad(p+".maxLength", "must not be negative")
	}
	if f.Pattern != "" {
		re, err := regexp.Compile(f.Pattern)
		if err != nil {
			return bad(p+".pattern", "not a valid RE2 expression: %v", err)
		}
		f.Re = re
	}
	if (f.Min != nil || f.Max != nil) && it != Number && it != Integer {
		return bad(p, "min and max apply only to number and integer")
	}
	if f.Min != nil && f.Max != nil && *f.Min > *f.Max {
		return bad(p, "min %v is greater than max %v", *f.Min, *f.Max)
	}
	if f.NotFuture && it != Date && it != DateTime {
		return bad(p+".notFuture", "applies only to date and datetime")
	}
	return nil
}

// jsonError turns a decoding error into an EINVALID error that says where.
func jsonError(what string, data []byte, dec *json.Decoder, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		l, c := lineCol(data, syn.Offset-1) // Offset is just past the bad byte
		return cutover.Wrap(cutover.EINVALID, err, "%s: line %d, column %d: invalid JSON: %s", what, l, c, syn.Error())
	case errors.As(err, &typ):
		l, c := lineCol(data, typ.Offset)
		return cutover.Wrap(cutover.EINVALID, err, "%s: line %d, column %d: %s must be %s, not a JSON %s", what, l, c, typ.Field, typ.Type.String(), typ.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return cutover.Wrap(cutover.EINVALID, err, "%s: the file is empty or ends early", what)
	default:
		l, c := lineCol(data, dec.InputOffset())
		msg := strings.TrimPrefix(err.Error(), "json: ")
		return cutover.Wrap(cutover.EINVALID, err, "%s: line %d, column %d: %s", what, l, c, msg)
	}
}

func lineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	line := 1 + bytes.Count(data[:off], []byte{'\n'})
	col := int(off) - bytes.LastIndexByte(data[:off], '\n')
	return line, col
}
