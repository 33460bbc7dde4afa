package mapspec

import (
	"encoding/json"
	"reflect"
	"testing"
)

// The hand-written encoder must say exactly what encoding/json would.
func TestRecordJSONMatchesEncodingJSON(t *testing.T) {
	header := []string{"V", "W", "X"}
	for _, in := range [][]string{
		{"plain", "a;b", "12.50"},
		{"quote \" backslash \\ tab \t nl \n <b>&amp;</b> \x01 é 😀", "", "3"},
		{"bad money", "a", "12 \"quid\" <&>"}, // an unreadable value, kept under "invalid"
	} {
		sp, err := ParseWith([]byte(`{"version":1,"files":[{"name":"f","entity":"t","fields":[{"target":"txt","column":"V"},{"target":"tags","column":"W","steps":[{"op":"split","separator":";"}]},{"target":"m","column":"X"},{"target":"b","constant":"yes"}]}]}`), testSchema(t))
		if err != nil {
			t.Fatal(err)
		}
		m, err := Compile(sp.Files[0], testSchema(t), header, "tenant", fixedNow)
		if err != nil {
			t.Fatal(err)
		}
		o := m.Map(2, in)
		if o.Record == nil {
			t.Fatalf("no record: %+v", o)
		}
		if in[0] == "bad money" && len(o.Record.Invalid) != 1 {
			t.Fatalf("no invalid value: %+v", o.Record)
		}
		o.Record.Lines = []int{9}
		got, _ := o.Record.MarshalJSON()
		var invalid map[string]InvalidValue
		for _, iv := range o.Record.Invalid {
			if invalid == nil {
				invalid = map[string]InvalidValue{}
			}
			invalid[iv.Field] = iv
		}
		want, err := json.Marshal(struct {
			ID       string                  `json:"id"`
			Entity   string                  `json:"entity"`
			SourceID string                  `json:"sourceId"`
			Line     int                     `json:"line"`
			Lines    []int                   `json:"mergedLines,omitempty"`
			Fields   map[string]any          `json:"fields"`
			Invalid  map[string]InvalidValue `json:"invalid,omitempty"`
		}{o.Record.ID, o.Record.Entity, o.Record.SourceID, o.Record.Line, o.Record.Lines, o.Record.Map(), invalid})
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("not JSON: %s: %v", got, err)
		}
		_ = json.Unmarshal(want, &b)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	}
}

// oldAppendJSONString is appendJSONString as it was, a comparison per
// kind of byte: the table must escape exactly the same bytes.
func oldAppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
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

// TestJSONStringEscapesEveryByteAsBefore: each of the 256 bytes alone,
// and a few strings mixing them, are written as before.
func TestJSONStringEscapesEveryByteAsBefore(t *testing.T) {
	var all []byte
	for c := 0; c < 256; c++ {
		s := string([]byte{'a', byte(c), 'z'})
		if got, want := string(appendJSONString(nil, s)), string(oldAppendJSONString(nil, s)); got != want {
			t.Errorf("byte %#x: %s, want %s", c, got, want)
		}
		all = append(all, byte(c))
	}
	for _, s := range []string{string(all), "quote \" backslash \\ tab \t nl \n <b>&amp;</b> \x01 é 😀", ""} {
		if got, want := string(appendJSONString([]byte("x"), s)), string(oldAppendJSONString([]byte("x"), s)); got != want {
			t.Errorf("%q: %s, want %s", s, got, want)
		}
	}
}

// FuzzJSONStringAsBefore: on any string, too.
func FuzzJSONStringAsBefore(f *testing.F) {
	f.Add("quote \" backslash \\ tab \t nl \n <b>&amp;</b> \x01 é 😀")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(appendJSONString(nil, s)), string(oldAppendJSONString(nil, s)); got != want {
			t.Fatalf("%q: %s, want %s", s, got, want)
		}
	})
}
