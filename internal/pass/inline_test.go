package pass

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

// A tenancies file naming its tenants inline, beside a contacts file that
// lists one of them: the listed tenant is linked, not migrated twice; the
// others are derived once each however many rows name them; and the
// destination holds exactly migrated + derived distinct records.
func TestInlineTenantsAreDerivedOnceAndLinkedToListedContacts(t *testing.T) {
	const sp = `{"version":1,"defaults":{"region":"GB","dateFormats":["DD/MM/YYYY"]},"files":[
	 {"name":"c","entity":"contact","sourceId":["Id"],"fields":[{"target":"full_name","column":"Name"},{"target":"emails","column":"Email"}]},
	 {"name":"t","entity":"tenancy","sourceId":["Ref"],"inline":[{"target":"tenants","name":"Tenant Name(s)","email":"Tenant Email"}],
	  "fields":[{"target":"property","column":"Property"},{"target":"start_date","column":"Start"}]}]}`
	fs := &files{objects: map[string]string{
		"kc": "Id,Name,Email\nC1,Ann Lee,ann@example.com\nC2,Eve Post,eve@example.com\n",
		"kt": "Ref,Property,Tenant Name(s),Tenant Email,Start\n" +
			"T1,P1,Ann Lee,ANN@example.com,01/07/2023\n" + // listed in the contacts file: linked by e-mail
			"T2,P2,Bob Stone & Cara Stone,,01/01/2024\n" + // two new people
			"T3,P3,Bob Stone,,01/01/2022\n" + // Bob again: the same derived record
			"T4,P4,Eve Post,,01/01/2022\n" + // listed: linked by name
			"T5,P5,,,01/01/2022\n", // nobody: rejected (tenants required)
	}}
	written := map[string]cutover.Record{}
	n := 0
	p := Pass{
		TenantID: "acme", Spec: spec(t, sp), Files: []cutover.File{{ID: "t", Name: "tenancies.csv", Key: "kt"}, {ID: "c", Name: "contacts.csv", Key: "kc"}},
		ArtifactsPrefix: "a/", Now: time.Date(2024, 6, 15, 0, 0, 0, 0, time.UTC),
	}
	res, err := Run(context.Background(), p, fs, sink{WriteFn: func(recs []cutover.Record) error {
		for _, r := range recs {
			written[r.Entity+"#"+r.ID] = r
			n++
		}
		return nil
	}}, fs)
	if err != nil {
		t.Fatal(err)
	}
	byEntity := map[string]int{}
	for _, r := range written {
		byEntity[r.Entity]++
	}
	if n != len(written) {
		t.Errorf("%d writes for %d distinct records", n, len(written))
	}
	c := res.Counts
	if c.Read != 7 || c.Migrated != 6 || c.Rejected != 1 || !c.Balanced() {
		t.Fatalf("counts %+v", c)
	}
	// Counted from what was written: 2 listed contacts + Bob + Cara; 4 tenancies.
	if byEntity["contact"] != 4 || byEntity["tenancy"] != 4 || c.Derived != 2 || len(written) != c.Migrated+c.Derived {
		t.Fatalf("written %v, derived %d, migrated %d", byEntity, c.Derived, c.Migrated)
	}
	t1 := written["tenancy#"+cutover.RecordID("acme", "tenancy", "T1")]
	t4 := written["tenancy#"+cutover.RecordID("acme", "tenancy", "T4")]
	if t1.Fields["tenants"] != "C1" || t4.Fields["tenants"] != "C2" {
		t.Errorf("listed tenants not linked: T1 %q, T4 %q", t1.Fields["tenants"], t4.Fields["tenants"])
	}
	t2 := written["tenancy#"+cutover.RecordID("acme", "tenancy", "T2")]
	t3 := written["tenancy#"+cutover.RecordID("acme", "tenancy", "T3")]
	bob := strings.Split(t2.Fields["tenants"], "; ")[0]
	if !strings.HasPrefix(bob, "inline:") || t3.Fields["tenants"] != bob {
		t.Errorf("Bob is not one derived record: T2 %q, T3 %q", t2.Fields["tenants"], t3.Fields["tenants"])
	}
	if c.Orphans != 4 { // the four properties, which no file lists; every tenant resolves
		t.Errorf("%d orphans, want the 4 properties", c.Orphans)
	}
}
