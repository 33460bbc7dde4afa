package mapspec

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/schema"
)

// Kind says which member of a Value holds it.
type Kind uint8

// Value kinds.
const (
	Absent  Kind = iota // no value
	KString             // Str: string, text, email, phone, enum, ref, date (YYYY-MM-DD), datetime (RFC 3339 UTC)
	KInt                // Int: integer
	KNumber             // Str: the number's canonical decimal text
	KBool               // Bool
	KMoney              // Int minor units (pence, cents), Str the ISO 4217 currency
	KList               // List: canonical strings of the item type
)

// Value is one field's value. It is a small struct rather than an
// interface so a row's values are one allocation. Kind and Bool sit
// together so they share one word: 56 bytes, not 64, for each of an
// entity's fields on every row (most of what mapping a row allocates).
type Value struct {
	Kind Kind
	Bool bool
	Str  string
	Int  int64
	List []string
}

// Interface returns the value as plain Go data for JSON: string, int64,
// float64, bool, Money, []string, or nil when absent.
func (v Value) Interface() any {
	switch v.Kind {
	case KString:
		return v.Str
	case KInt:
		return v.Int
	case KNumber:
		return json.Number(v.Str)
	case KBool:
		return v.Bool
	case KMoney:
		return Money{Minor: v.Int, Currency: v.Str}
	case KList:
		return v.List
	}
	return nil
}

// String renders the value as text (lists joined with "; ", money as a
// decimal with its currency), for reports and rejects files.
func (v Value) String() string {
	switch v.Kind {
	case KString, KNumber:
		return v.Str
	case KInt:
		return strconv.FormatInt(v.Int, 10)
	case KBool:
		return strconv.FormatBool(v.Bool)
	case KMoney:
		return formatMinor(v.Int, currencies[v.Str].minor) + " " + v.Str
	case KList:
		var b bytes.Buffer
		for i, s := range v.List {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(s)
		}
		return b.String()
	}
	return ""
}

// Equal reports whether two values are the same.
func (v Value) Equal(o Value) bool {
	if v.Kind != o.Kind || v.Str != o.Str || v.Int != o.Int || v.Bool != o.Bool || len(v.List) != len(o.List) {
		return false
	}
	for i := range v.List {
		if v.List[i] != o.List[i] {
			return false
		}
	}
	return true
}

func formatMinor(n int64, minor int) string {
	neg := n < 0
	if neg {
		n = -n
	}
	s := strconv.FormatInt(n, 10)
	if minor > 0 {
		for len(s) <= minor {
			s = "0" + s
		}
		s = s[:len(s)-minor] + "." + s[len(s)-minor:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// Money is an amount in minor units of Currency: {"minor": 125000,
// "currency": "GBP"} is £1,250.00.
type Money struct {
	Minor    int64  `json:"minor"`
	Currency string `json:"currency"`
}

// Ref is a reference from a field of a record to another record, by that
// record's source id. A Resolver fills ID.
type Ref struct {
	Field    string `json:"field"`
	Entity   string `json:"entity"`   // the referenced entity
	SourceID string `json:"sourceId"` // the referenced record's source id
	ID       string `json:"id,omitempty"`
}

// RowAt is a row of a pass: the label of its file (and sheet) and its line.
type RowAt struct {
	File string
	Line int
}

// Record is one mapped row.
type Record struct {
	ID       string  // cutover.RecordID(tenant, entity, source id)
	Entity   string  // entity name
	SourceID string  // the record's id in the source system
	Line     int     // the row's line in its file
	File     string  // the label of the file (and sheet) the row is in, set by the pipeline
	Fields   []Value // indexed by the entity's schema field Index
	Refs     []Ref
	Lines    []int // lines merged into this record (by a Merger), besides Line
	// Merged are the rows merged into this record (by a Merger), besides
	// its own, with their files: rows of several files merge into one
	// record, and if the destination refuses it each of them is a
	// rejected row of its own file (Lines alone cannot say which).
	Merged []RowAt
	// Invalid holds the values that were left out because they could not
	// be read (a bad phone, date, number or enum value in an otherwise good
	// row), so the record keeps what the customer wrote and why it was
	// refused, and nothing is dropped silently. Empty for most records.
	Invalid []InvalidValue
	// Source is the row the record came from, kept only when the pipeline
	// is asked to (pipeline.Outputs.KeepSource: the test migration, whose
	// TEST records the customer browses beside their rows); nil otherwise.
	Source *cutover.SourceRow

	def *schema.Entity
}

// InvalidValue is one field's value that could not be read: its raw text
// and the reason, written for people.
type InvalidValue struct {
	Field  string `json:"-"`
	Column string `json:"-"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
}

// Def returns the record's schema entity.
func (r *Record) Def() *schema.Entity { return r.def }

// Get returns the value of the field called name, if the record has it.
func (r *Record) Get(name string) (Value, bool) {
	f, ok := r.def.Field(name)
	if !ok || r.Fields[f.Index].Kind == Absent {
		return Value{}, false
	}
	return r.Fields[f.Index], true
}

// Map returns the record's present fields by name.
func (r *Record) Map() map[string]any {
	out := make(map[string]any, len(r.Fields))
	for i, v := range r.Fields {
		if v.Kind != Absent {
			out[r.def.Fields[i].Name] = v.Interface()
		}
	}
	return out
}

// MarshalJSON writes {"id","entity","sourceId","line","mergedLines","fields":{...},"invalid":{field:{"value","reason"}},"refs":[...]}.
func (r *Record) MarshalJSON() ([]byte, error) {
	return r.AppendJSON(nil), nil
}

// AppendJSON appends the record's JSON (as MarshalJSON) to b. It writes
// the fields in schema order without reflection, so records of a
// million-row file serialise at the speed of the mapping.
func (r *Record) AppendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, r.ID)
	b = append(b, `,"entity":`...)
	b = appendJSONString(b, r.Entity)
	b = append(b, `,"sourceId":`...)
	b = appendJSONString(b, r.SourceID)
	b = append(b, `,"line":`...)
	b = strconv.AppendInt(b, int64(r.Line), 10)
	if len(r.Lines) > 0 {
		b = append(b, `,"mergedLines":[`...)
		for i, l := range r.Lines {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(l), 10)
		}
		b = append(b, ']')
	}
	b = append(b, `,"fields":{`...)
	first := true
	for i, v := range r.Fields {
		if v.Kind == Absent {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, r.def.Fields[i].Name)
		b = append(b, ':')
		b = v.appendJSON(b)
	}
	b = append(b, '}')
	if len(r.Invalid) > 0 {
		b = append(b, `,"invalid":{`...)
		for i, iv := range r.Invalid {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, iv.Field)
			b = append(b, `:{"value":`...)
			b = appendJSONString(b, iv.Value)
			b = append(b, `,"reason":`...)
			b = appendJSONString(b, iv.Reason)
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	if len(r.Refs) > 0 {
		refs, _ := json.Marshal(r.Refs) // a []Ref always marshals
		b = append(b, `,"refs":`...)
		b = append(b, refs...)
	}
	return append(b, '}')
}

func (v Value) appendJSON(b []byte) []byte {
	switch v.Kind {
	case KString:
		return appendJSONString(b, v.Str)
	case KInt:
		return strconv.AppendInt(b, v.Int, 10)
	case KNumber:
		return append(b, v.Str...)
	case KBool:
		return strconv.AppendBool(b, v.Bool)
	case KMoney:
		b = append(b, `{"minor":`...)
		b = strconv.AppendInt(b, v.Int, 10)
		b = append(b, `,"currency":`...)
		b = appendJSONString(b, v.Str)
		return append(b, '}')
	case KList:
		b = append(b, '[')
		for i, s := range v.List {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, s)
		}
		return append(b, ']')
	}
	return append(b, "null"...)
}

const hexDigits = "0123456789abcdef"

// jsonPlain says which bytes a JSON string holds as they are: not a
// control character, a quote, a backslash, or one of <, > and & (which
// encoding/json escapes for HTML). One look-up per byte, as every
// record's every string passes through here.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString appends s as a JSON string. Values are valid UTF-8 (the
// reader guarantees it), so only quotes, backslashes and control
// characters need escaping; <, > and & are escaped too, as encoding/json
// does, so the output is safe to embed in HTML.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if jsonPlain[c] {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
