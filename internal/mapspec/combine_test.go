package mapspec

import (
	"testing"
)

// The case: Lifecycle Stage and Tags both feed tags. Nothing in
// the spec says how they combine, and tags is a list, so every value of
// both columns lands in the record, in mapping order, each once.
func TestSeveralColumnsCombineIntoAListByDefault(t *testing.T) {
	m := compileJSON(t, `{"version":1,"files":[{"name":"f","entity":"contact","sourceId":["ID"],"fields":[
		{"target":"emails","column":"Email"},{"target":"tags","column":"Lifecycle Stage"},{"target":"tags","column":"Tags","steps":[{"op":"split","separator":";"}]}]}]}`,
		[]string{"ID", "Email", "Lifecycle Stage", "Tags"})
	out := m.Map(2, []string{"1", "a@example.com", "Customer", "vip; newsletter; customer"})
	if out.Record == nil {
		t.Fatalf("rejected: %+v", out.Errors)
	}
	if got := get(out.Record, "tags").String(); got != "Customer; vip; newsletter; customer" {
		t.Fatalf("tags = %q, want both columns' values", got)
	}
	if got := get(out.Record, "tags").List; len(got) < 3 || got[0] != "Customer" || got[1] != "vip" {
		t.Fatalf("tags = %q, want Lifecycle Stage's value first, then Tags'", got)
	}
	// A row with only one of them keeps that one.
	out = m.Map(3, []string{"2", "b@example.com", "", "vip"})
	if got := get(out.Record, "tags").String(); got != "vip" {
		t.Fatalf("tags = %q, want vip", got)
	}
}

// Repeated values across the columns are kept once.
func TestCombineDeduplicates(t *testing.T) {
	m := compileJSON(t, `{"version":1,"files":[{"name":"f","entity":"contact","sourceId":["ID"],"fields":[
		{"target":"emails","column":"Email"},{"target":"emails","column":"Work Email","steps":[{"op":"split","separator":";"}]}]}]}`,
		[]string{"ID", "Email", "Work Email"})
	out := m.Map(2, []string{"1", "a@example.com", "A@example.com; b@example.com"})
	if got := get(out.Record, "emails").String(); got != "a@example.com; b@example.com" {
		t.Fatalf("emails = %q, want each address once", got)
	}
}

// concat joins text fields' values with the customer's separator, or
// "; " when none is given.
func TestConcatJoinsTextWithASeparator(t *testing.T) {
	for _, tc := range []struct{ rule, want string }{
		{`{"mode":"concat"}`, "Called twice; Prefers e-mail"},
		{`{"mode":"concat","separator":" / "}`, "Called twice / Prefers e-mail"},
	} {
		m := compileJSON(t, `{"version":1,"files":[{"name":"f","entity":"contact","sourceId":["ID"],"combine":{"notes":`+tc.rule+`},"fields":[
			{"target":"emails","column":"Email"},{"target":"notes","column":"Notes"},{"target":"notes","column":"Comments"}]}]}`,
			[]string{"ID", "Email", "Notes", "Comments"})
		out := m.Map(2, []string{"1", "a@example.com", "Called twice", "Prefers e-mail"})
		if out.Record == nil {
			t.Fatalf("%s: rejected: %+v", tc.rule, out.Errors)
		}
		if got := get(out.Record, "notes").String(); got != tc.want {
			t.Fatalf("%s: notes = %q, want %q", tc.rule, got, tc.want)
		}
		out = m.Map(3, []string{"2", "b@example.com", "", "Only a comment"})
		if got := get(out.Record, "notes").String(); got != "Only a comment" {
			t.Fatalf("%s: notes = %q, want the one value without a separator", tc.rule, got)
		}
	}
}

func get(r *Record, field string) Value {
	v, _ := r.Get(field)
	return v
}
