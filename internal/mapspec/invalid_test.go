package mapspec

import (
	"encoding/json"
	"strings"
	"testing"
)

// A French contact export: a bad phone, a bad date and a bad enum-like
// boolean in a row whose name and e-mail are fine. The row migrates
// without those fields, keeps their raw values under "invalid", and is
// flagged with each field named.
const frenchContactSpec = `{"version":1,"defaults":{"region":"FR","dateFormats":["DD/MM/YYYY"]},"files":[{"name":"c","entity":"contact","sourceId":["Identifiant"],
 "fields":[{"target":"first_name","column":"Prénom"},{"target":"last_name","column":"Nom"},{"target":"emails","column":"Courriel"},
 {"target":"phones","column":"Téléphone"},{"target":"marketing_consent","column":"Consentement"},{"target":"marketing_consent_date","column":"Date de consentement"}]}]}`

var frenchHeader = []string{"Identifiant", "Prénom", "Nom", "Courriel", "Téléphone", "Consentement", "Date de consentement"}

func TestBadSecondaryFieldKeepsTheRow(t *testing.T) {
	m := compileDefault(t, frenchContactSpec, 0, frenchHeader)
	o := m.Map(2, []string{"C-17", "Amélie", "Durand", "amelie.durand@example.fr", "06 12 34", "peut-être", "31/02/2023"})
	if o.Kind() != Migrated {
		t.Fatalf("kind = %s, errors %+v", o.Kind(), o.Errors)
	}
	rec := o.Record
	if v, _ := rec.Get("emails"); v.String() != "amelie.durand@example.fr" {
		t.Fatalf("emails = %q", v.String())
	}
	for _, f := range []string{"phones", "marketing_consent", "marketing_consent_date"} {
		if _, ok := rec.Get(f); ok {
			t.Errorf("%s should be left out", f)
		}
	}
	got := map[string]string{}
	for _, iv := range rec.Invalid {
		got[iv.Field] = iv.Value
		if iv.Reason == "" {
			t.Errorf("%s: no reason", iv.Field)
		}
	}
	want := map[string]string{"phones": "06 12 34", "marketing_consent": "peut-être", "marketing_consent_date": "31/02/2023"}
	if len(got) != len(want) {
		t.Fatalf("invalid = %+v", rec.Invalid)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("invalid[%s] = %q, want %q", k, got[k], v)
		}
	}
	flagged := map[string]bool{}
	for _, w := range o.Warnings {
		flagged[w.Field] = true
	}
	for k := range want {
		if !flagged[k] {
			t.Errorf("no warning names %s: %+v", k, o.Warnings)
		}
	}
	// The record's JSON carries them.
	var doc struct {
		Invalid map[string]struct{ Value, Reason string } `json:"invalid"`
	}
	b, _ := rec.MarshalJSON()
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if doc.Invalid["phones"].Value != "06 12 34" || doc.Invalid["marketing_consent_date"].Reason == "" {
		t.Fatalf("json invalid = %+v (%s)", doc.Invalid, b)
	}
}

// A row whose only identifying value is invalid is still rejected, with
// the reason why the value was refused.
func TestBadIdentityStillRejects(t *testing.T) {
	m := compileDefault(t, frenchContactSpec, 0, frenchHeader)
	o := m.Map(3, []string{"C-18", "", "", "pas-un-courriel", "", "", ""})
	if o.Kind() != Rejected {
		t.Fatalf("kind = %s", o.Kind())
	}
	all := ""
	for _, e := range o.Errors {
		all += e.Field + ":" + e.Reason + ";"
	}
	if len(o.Errors) != 1 || !strings.Contains(all, "nothing identifies this contact (unreadable: emails \"pas-un-courriel\" is not a valid email address)") {
		t.Fatalf("errors = %s", all)
	}
}

// strict: true keeps the old behaviour for the field.
func TestStrictFieldRejects(t *testing.T) {
	spec := strings.Replace(frenchContactSpec, `{"target":"phones","column":"Téléphone"}`, `{"target":"phones","column":"Téléphone","strict":true}`, 1)
	m := compileDefault(t, spec, 0, frenchHeader)
	o := m.Map(2, []string{"C-17", "Amélie", "Durand", "amelie.durand@example.fr", "06 12 34", "", ""})
	if o.Kind() != Rejected || len(o.Errors) != 1 || o.Errors[0].Field != "phones" {
		t.Fatalf("kind = %s errors = %+v", o.Kind(), o.Errors)
	}
}

// In a list field one bad item is left out on its own: the other phones
// of the row migrate.
func TestBadListItemLeavesTheRest(t *testing.T) {
	spec := strings.Replace(frenchContactSpec, `{"target":"phones","column":"Téléphone"}`, `{"target":"phones","column":"Téléphone","steps":[{"op":"split","separator":";"}]}`, 1)
	m := compileDefault(t, spec, 0, frenchHeader)
	o := m.Map(2, []string{"C-19", "Luc", "Petit", "", "01 23 45 67 89; 12; +33 6 12 34 56 78", "", ""})
	if o.Record == nil {
		t.Fatalf("errors %+v", o.Errors)
	}
	if v, _ := o.Record.Get("phones"); v.String() != "+33123456789; +33612345678" {
		t.Fatalf("phones = %q", v.String())
	}
	if len(o.Record.Invalid) != 1 || o.Record.Invalid[0].Value != "12" {
		t.Fatalf("invalid = %+v", o.Record.Invalid)
	}
}
