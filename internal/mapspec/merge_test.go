package mapspec

import (
	"testing"

	"github.com/cutover/cutover/internal/schema"
)

// Seventeen people of one firm share its office address: by default they
// stay seventeen records, reported as one possible duplicate of 17, and
// rows that repeat a source id still merge.
func TestMergerKeepsDifferentSourceIDsApart(t *testing.T) {
	cm := compileDefault(t, contactSpec, 0, []string{"id", "first", "email", "phone", "tags", "town", "status"})
	mg := NewMerger()
	rows := [][]string{}
	for _, id := range []string{"S01", "S02", "S03", "S04", "S05", "S06", "S07", "S08", "S09", "S10", "S11", "S12", "S13", "S14", "S15", "S16", "S17"} {
		rows = append(rows, []string{id, "Person " + id, "office@firma.example", "", "", "", ""})
	}
	rows = append(rows, []string{"S03", "Person S03", "OFFICE@firma.example", "", "vip", "Köln", ""}) // the same row again: merges
	merged := 0
	for i, r := range rows {
		o := cm.Map(i+2, r)
		if o.Record == nil {
			t.Fatalf("row %d rejected: %+v", i, o.Errors)
		}
		if mg.Add(o.Record, o.DedupeKey) {
			merged++
		}
	}
	ids := map[string]bool{}
	for _, r := range mg.Records() {
		ids[r.SourceID] = true
	}
	if len(mg.Records()) != 17 || len(ids) != 17 || merged != 1 {
		t.Fatalf("%d records (%d distinct source ids), %d merged; want 17, 17, 1", len(mg.Records()), len(ids), merged)
	}
	pd := mg.PossibleDuplicates()
	if len(pd) != 1 || len(pd[0].SourceIDs) != 17 || pd[0].Key != "office@firma.example" || mg.PossibleDuplicateRecords() != 17 {
		t.Fatalf("possible duplicates = %+v", pd)
	}
	if len(mg.Merges()) != 1 || mg.Merges()[0].SourceIDs[0] != "S03" {
		t.Fatalf("merges = %+v", mg.Merges())
	}
}

// Merging different source ids is the customer's explicit rule.
func TestMergeDifferentIDsIsExplicit(t *testing.T) {
	sp, err := ParseWith([]byte(`{"version":1,"files":[{"name":"f","entity":"contact","sourceId":["id"],"dedupe":["emails"],"mergeDifferentIds":true,
		"fields":[{"target":"emails","column":"email"},{"target":"first_name","column":"first"}]}]}`), schema.Default())
	if err != nil {
		t.Fatal(err)
	}
	m, err := Compile(sp.Files[0], schema.Default(), []string{"id", "email", "first"}, "t", fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	mg := NewMergerFor(sp)
	for i, r := range [][]string{{"1", "a@x.example", "Ana"}, {"2", "a@x.example", "Ana"}} {
		o := m.Map(i+2, r)
		mg.Add(o.Record, o.DedupeKey)
	}
	if len(mg.Records()) != 1 || len(mg.PossibleDuplicates()) != 0 {
		t.Fatalf("records %d, possible duplicates %+v", len(mg.Records()), mg.PossibleDuplicates())
	}
	if _, err := ParseWith([]byte(`{"version":1,"files":[{"name":"f","entity":"contact","mergeDifferentIds":true,
		"fields":[{"target":"emails","column":"email"}]}]}`), schema.Default()); err == nil {
		t.Fatal("mergeDifferentIds without dedupe parsed")
	}
}
