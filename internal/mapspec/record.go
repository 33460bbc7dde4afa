package mapspec

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/cutover/cutover/internal/schema"
)

// Kind says which member of a Value holds it.
type Kind uint8

// Value kinds.
const (
	Absent  Kind = iota // no value
	KString             // Str: string, text, email, phone, enum, ref, date (YYYY-MM-DD), datetime (RFC 3339 UTC)
	KInt                // Int: integer
	KNumber             // Num, with Str its canonical decimal text
	KBool               // Bool
	KMoney              // Int minor units (pence, cents), Str the ISO 4217 currency
	KList               // List: canonical strings of the item type
)

// Value is one field's value. It is a small struct rather than an
// interface so a row's values are one allocation.
type Value struct {
	Kind Kind
	Str  string
	Int  int64
	Num  float64
	Bool bool
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

// Record is one mapped row.
type Record struct {
	ID       string  // cutover.RecordID(tenant, entity, source id)
	Entity   string  // entity name
	SourceID string  // the record's id in the source system
	Line     int     // the row's line in its file
	Fields   []Value // indexed by the entity's schema field Index
	Refs     []Ref
	Lines    []int // lines merged into this record (by a Merger), besides Line

	def *schema.Entity
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

// MarshalJSON writes {"id","entity","sourceId","line","fields":{...},"refs":[...]}.
func (r *Record) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID       string         `json:"id"`
		Entity   string         `json:"entity"`
		SourceID string         `json:"sourceId"`
		Line     int            `json:"line"`
		Lines    []int          `json:"mergedLines,omitempty"`
		Fields   map[string]any `json:"fields"`
		Refs     []Ref          `json:"refs,omitempty"`
	}{r.ID, r.Entity, r.SourceID, r.Line, r.Lines, r.Map(), r.Refs})
}
