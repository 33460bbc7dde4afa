package mapspec

import (
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/schema"
)

func TestAliasesBindOtherHeaders(t *testing.T) {
	sp, err := Parse([]byte(`{"version":1,"defaults":{"dateFormats":["DD/MM/YYYY"]},"files":[{"name":"t","entity":"tenancy","sourceId":["Tenancy ID"],
	 "aliases":{"Tenancy ID":["Tenancy Ref","Agreement No"],"Start Date":["Tenancy Start","Date de début"]},
	 "fields":[{"target":"property","column":"Property"},{"target":"tenants","column":"Tenant"},{"target":"start_date","column":"Start Date"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, header := range [][]string{
		{"Tenancy ID", "Property", "Tenant", "Start Date"},
		{"agreement no", "Property", "Tenant", "Tenancy Start"},
		{"Tenancy Ref", "Property", "Tenant", "Date de début"},
	} {
		m, err := Compile(sp.Files[0], schema.Default(), header, "acme", time.Now())
		if err != nil {
			t.Fatalf("%v: %v", header, err)
		}
		o := m.Map(2, []string{"T1", "P1", "C1", "01/07/2023"})
		if o.Record == nil || o.Record.SourceID != "T1" {
			t.Fatalf("%v: %+v", header, o)
		}
		if v, _ := o.Record.Get("start_date"); v.String() != "2023-07-01" {
			t.Errorf("%v: start_date %q", header, v.String())
		}
		if len(m.Unmapped()) != 0 {
			t.Errorf("%v: unmapped %v", header, m.Unmapped())
		}
	}
	if _, err := Compile(sp.Files[0], schema.Default(), []string{"Ref", "Property", "Tenant", "Start Date"}, "acme", time.Now()); err == nil || !strings.Contains(err.Error(), `"Tenancy ID" is not in the file`) {
		t.Fatalf("no alias present: %v", err)
	}
	_, err = Parse([]byte(`{"version":1,"files":[{"name":"t","entity":"tenancy","aliases":{"Start":["Begin"],"End":["begin"]},
	 "fields":[{"target":"property","column":"P"},{"target":"tenants","column":"T"},{"target":"start_date","column":"Start"}]}]}`))
	if err == nil || !strings.Contains(err.Error(), "is an alias of both") {
		t.Fatalf("an alias of two columns: %v", err)
	}
}
