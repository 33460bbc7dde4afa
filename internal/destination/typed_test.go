package destination

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/schema"
)

// typedSchema has one field of every type, so each conversion is tested
// on its own (the default schema has no plain number field).
const typedSchema = `{"version":1,"entities":[
 {"name":"contact","identity":["name"],"fields":[{"name":"name","type":"string"}]},
 {"name":"thing","identity":["name"],"fields":[
  {"name":"name","type":"string"},
  {"name":"email","type":"email"},
  {"name":"tags","type":"list","of":"string"},
  {"name":"people","type":"list","of":"ref","ref":"contact"},
  {"name":"owner","type":"ref","ref":"contact"},
  {"name":"price","type":"money"},
  {"name":"area","type":"number"},
  {"name":"rooms","type":"integer"},
  {"name":"active","type":"boolean"},
  {"name":"born","type":"date"},
  {"name":"seen","type":"datetime"}]}]}`

func thing(t *testing.T) *schema.Entity {
	t.Helper()
	s, err := schema.Load(strings.NewReader(typedSchema))
	if err != nil {
		t.Fatal(err)
	}
	e, ok := s.Entity("thing")
	if !ok {
		t.Fatal("no entity thing")
	}
	return e
}

func TestTypedConvertsEachFieldByItsSchemaType(t *testing.T) {
	ent := thing(t)
	cases := []struct {
		field, text string
		want        any
	}{
		{"name", "Ada", "Ada"},
		{"email", "ada@example.test", "ada@example.test"},
		{"tags", "vip; 2024; a,b", []string{"vip", "2024", "a,b"}},
		{"tags", "", []string{}},
		{"people", "C1; C2", []string{cutover.RecordID("acme", "contact", "C1"), cutover.RecordID("acme", "contact", "C2")}},
		{"owner", "C9", cutover.RecordID("acme", "contact", "C9")},
		{"price", "1250.00 GBP", Money{Amount: "1250.00", Currency: "GBP"}},
		{"price", "-0.10 EUR", Money{Amount: "-0.10", Currency: "EUR"}},
		{"price", "1250 JPY", Money{Amount: "1250", Currency: "JPY"}},
		{"area", "12345678901234567890.123456789", json.Number("12345678901234567890.123456789")},
		{"rooms", "-3", json.Number("-3")},
		{"active", "true", true},
		{"active", "false", false},
		{"born", "1990-02-03", "1990-02-03"},
		{"seen", "2024-05-06T07:08:09Z", "2024-05-06T07:08:09Z"},
	}
	for _, c := range cases {
		rec := cutover.Record{ID: "r1", Entity: "thing", SourceID: "S1", Fields: map[string]string{c.field: c.text}}
		got, err := Typed("acme", rec, ent)
		if err != nil {
			t.Errorf("%s %q: %v", c.field, c.text, err)
			continue
		}
		if !reflect.DeepEqual(got.Fields[c.field], c.want) {
			t.Errorf("%s %q: got %#v, want %#v", c.field, c.text, got.Fields[c.field], c.want)
		}
		if got.ID != "r1" || got.Entity != "thing" || got.SourceID != "S1" {
			t.Errorf("%s: identity not kept: %+v", c.field, got)
		}
	}
}

func TestTypedMoneyTravelsAsAnExactJSONNumber(t *testing.T) {
	rec := cutover.Record{ID: "r1", Entity: "thing", Fields: map[string]string{"price": "9007199254740993.01 GBP"}}
	got, err := Typed("acme", rec, thing(t))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(got.Fields)
	if want := `{"price":{"amount":9007199254740993.01,"currency":"GBP"}}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}

func TestTypedRefusesMalformedTextNamingTheField(t *testing.T) {
	ent := thing(t)
	for _, c := range []struct{ field, text string }{
		{"price", "1250.00"},
		{"price", "GBP 1250.00"},
		{"price", "12,50 GBP"},
		{"price", "1250.00 pounds"},
		{"price", ""},
		{"area", "1e5"},
		{"area", "abc"},
		{"rooms", "2.5"},
		{"active", "yes"},
		{"nosuch", "x"},
	} {
		rec := cutover.Record{ID: "r1", Entity: "thing", Fields: map[string]string{c.field: c.text}}
		_, err := Typed("acme", rec, ent)
		if cutover.ErrorCode(err) != cutover.EINVALID {
			t.Errorf("%s %q: got %v, want EINVALID", c.field, c.text, err)
			continue
		}
		if !strings.Contains(cutover.ErrorMessage(err), `"`+c.field+`"`) {
			t.Errorf("%s %q: message does not name the field: %s", c.field, c.text, cutover.ErrorMessage(err))
		}
	}
}

func TestTypedLeavesInvalidValuesOut(t *testing.T) {
	rec := cutover.Record{
		ID: "r1", Entity: "thing", Fields: map[string]string{"name": "Ada"},
		Invalid: map[string]cutover.InvalidValue{"email": {Value: "not-mail", Reason: "not an e-mail address"}},
	}
	got, err := Typed("acme", rec, thing(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Fields) != 1 || got.Fields["name"] != "Ada" {
		t.Errorf("fields = %#v, want only name", got.Fields)
	}
}
