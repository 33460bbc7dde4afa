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
