package mapspec

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/schema"
)

// A tenancies export that names its tenants instead of pointing at contact
// ids: each row must migrate, linked to a derived contact per person.
func TestInlineTenantsBecomeContacts(t *testing.T) {
	sp, err := Parse([]byte(`{"version":1,"defaults":{"region":"GB","dateFormats":["DD/MM/YYYY"]},"files":[{"name":"t","entity":"tenancy","sourceId":["Ref"],
	 "inline":[{"target":"tenants","name":"Tenant Name(s)","email":"Tenant Email","phone":"Tenant Phone"}],
	 "fields":[{"target":"property","column":"Property"},{"target":"start_date","column":"Tenancy Start"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	header := []string{"Ref", "Property", "Tenant Name(s)", "Tenant Email", "Tenant Phone", "Tenancy Start"}
	m, err := Compile(sp.Files[0], schema.Default(), header, "acme", time.Date(2024, 6, 15, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Unmapped()) != 0 {
		t.Fatalf("the inline columns must count as mapped: unmapped %v", m.Unmapped())
	}
	rows := [][]string{
		{"T1", "P1", "Ann Lee", "Ann@Example.com", "07911 123456", "01/07/2023"},
		{"T2", "P2", "Bob Stone & Cara Stone", "", "", "01/01/2024"},
		{"T3", "P1", "ann  lee", "ann@example.com", "", "01/07/2024"},
		{"T4", "P3", "Dan Ode", "not-an-email", "", "01/02/2024"},
		{"T5", "P3", "", "", "", "01/02/2024"},
	}
	var outs []Outcome
	for i, r := range rows {
		outs = append(outs, m.Map(i+2, r))
	}
	for i, o := range outs[:4] {
		if o.Record == nil {
			t.Fatalf("row %d rejected: %+v", i+2, o.Errors)
		}
	}
	// T1: one person with e-mail and phone.
	if len(outs[0].Derived) != 1 {
		t.Fatalf("T1 derived %d records", len(outs[0].Derived))
	}
	ann := outs[0].Derived[0]
	if ann.Entity != "contact" || !strings.HasPrefix(ann.SourceID, InlinePrefix) || ann.ID != cutover.RecordID("acme", "contact", ann.SourceID) {
		t.Fatalf("derived record = %+v", ann)
	}
	for f, want := range map[string]string{"full_name": "Ann Lee", "emails": "ann@example.com", "phones": "+447911123456"} {
		if v, _ := ann.Get(f); v.String() != want {
			t.Errorf("Ann: %s = %q, want %q", f, v.String(), want)
		}
	}
	if got := outs[0].Record.Refs; len(got) != 2 || got[1].Field != "tenants" || got[1].SourceID != ann.SourceID {
		t.Fatalf("T1 refs = %+v", got)
	}
	// T2: two people in one cell, two records, both referenced.
	if len(outs[1].Derived) != 2 {
		t.Fatalf("T2 derived %+v", outs[1].Derived)
	}
	if v, _ := outs[1].Record.Get("tenants"); len(v.List) != 2 {
		t.Fatalf("T2 tenants = %v", v)
	}
	// T3: the same person (same name, same e-mail, written differently) is
	// the same record, whatever row or order.
	if outs[2].Derived[0].ID != ann.ID {
		t.Errorf("the same person named twice became two records: %s and %s", ann.SourceID, outs[2].Derived[0].SourceID)
	}
	// T4: a bad e-mail is a warning; the person is kept by name.
	if len(outs[3].Warnings) != 1 || len(outs[3].Derived) != 1 {
		t.Errorf("T4: warnings %+v, derived %d", outs[3].Warnings, len(outs[3].Derived))
	}
	if _, ok := outs[3].Derived[0].Get("emails"); ok {
		t.Error("T4: an invalid e-mail was kept")
	}
	// T5: nobody named and no id: the required tenants are missing.
	if outs[4].Record != nil || len(outs[4].Derived) != 0 || !strings.Contains(outs[4].Errors[0].Reason, "required") {
		t.Fatalf("T5 = %+v", outs[4])
	}
}

func TestInlineSpecErrors(t *testing.T) {
	for inline, want := range map[string]string{
		`{"target":"start_date","name":"N"}`:                "not a reference",
		`{"target":"nope","name":"N"}`:                      `has no field "nope"`,
		`{"target":"tenants","name":"N","separators":[""]}`: "",
	} {
		_, err := Parse([]byte(`{"version":1,"files":[{"name":"t","entity":"tenancy","inline":[` + inline + `],
		  "fields":[{"target":"property","column":"P"},{"target":"start_date","column":"S"}]}]}`))
		if err == nil || want != "" && !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", inline, err, want)
		}
	}
	// The name column must be in the file unless the entry is optional.
	sp, err := Parse([]byte(`{"version":1,"files":[{"name":"t","entity":"tenancy","inline":[{"target":"tenants","name":"Tenants"}],
	  "fields":[{"target":"property","column":"P"},{"target":"start_date","column":"S"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Compile(sp.Files[0], schema.Default(), []string{"P", "S"}, "acme", time.Now()); err == nil || !strings.Contains(err.Error(), `"Tenants" is not in the file`) {
		t.Fatalf("missing name column: %v", err)
	}
}

// With LinkWith, a person the link names is not derived: the reference
// names the listed record instead, in a list or a single reference, while
// the row keeps the dedupe key and content id its people as derived give
// it, as one pass keeps them before LinkInline rewrites the references.
func TestLinkWithNamesTheListedRecord(t *testing.T) {
	sp, err := Parse([]byte(`{"version":1,"files":[{"name":"t","entity":"tenancy","sourceIdFrom":"content","dedupe":["tenants"],
	 "inline":[{"target":"tenants","name":"Tenant Name(s)"}],
	 "fields":[{"target":"property","column":"Property"},{"target":"start_date","column":"Start"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	header := []string{"Property", "Tenant Name(s)", "Start"}
	compile := func(link func(string, string) (string, bool)) *Mapper {
		m, err := Compile(sp.Files[0], schema.Default(), header, "acme", time.Date(2024, 6, 15, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		if link != nil {
			m.LinkWith(link)
		}
		return m
	}
	row := []string{"P1", "Ann Lee & Bob Stone", "2024-01-01"}
	plain := compile(nil).Map(2, row)
	linked := compile(func(entity, sid string) (string, bool) {
		return "C7", entity == "contact" && sid == InlinePrefix+"ann lee"
	}).Map(2, row)
	if plain.Record == nil || linked.Record == nil {
		t.Fatalf("rejected: %+v, %+v", plain.Errors, linked.Errors)
	}
	tenants, _ := linked.Record.Get("tenants")
	if !slices.Equal(tenants.List, []string{"C7", InlinePrefix + "bob stone"}) || len(linked.Derived) != 1 || linked.Derived[0].SourceID != InlinePrefix+"bob stone" {
		t.Fatalf("tenants %q, derived %d; want Ann linked to C7 and Bob derived", tenants.List, len(linked.Derived))
	}
	if linked.Record.SourceID != plain.Record.SourceID || linked.DedupeKey != plain.DedupeKey || !strings.HasPrefix(plain.Record.SourceID, ContentIDPrefix) {
		t.Fatalf("id %q and key %q linked, %q and %q as derived", linked.Record.SourceID, linked.DedupeKey, plain.Record.SourceID, plain.DedupeKey)
	}
}
