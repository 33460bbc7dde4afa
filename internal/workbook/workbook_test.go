package workbook

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pipeline"
	"github.com/cutover/cutover/internal/schema"
)

func mapper(t *testing.T) *mapspec.Mapper {
	t.Helper()
	sp, err := mapspec.Parse([]byte(`{"version":1,"files":[{"name":"c","entity":"contact","sourceId":["id"],"fields":[{"target":"emails","column":"email"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapspec.Compile(sp.Files[0], schema.Default(), []string{"id", "email"}, "t", time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// offerAll streams n contacts through a sampler, as the pipeline would.
func offerAll(t *testing.T, s *Sampler, n int) {
	m := mapper(t)
	for i := 1; i <= n; i++ {
		row := []string{fmt.Sprint(i), fmt.Sprintf("p%d@x.com", i)}
		o := m.Map(i+1, row)
		if o.Record == nil {
			t.Fatalf("row %d: %+v", i, o)
		}
		s.Offer("contacts.csv", []string{"id", "email"}, i+1, row, o.Record)
	}
}

func TestSpotChecksAreReproducibleFromTheSeed(t *testing.T) {
	pick := func(seed uint64) []SpotCheck {
		s := NewSampler(seed, map[string][]string{"contact": {"7", "nope"}})
		offerAll(t, s, 500)
		return s.SpotChecks()
	}
	a, b, c := pick(42), pick(42), pick(43)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave different spot checks")
	}
	if reflect.DeepEqual(a, c) {
		t.Fatal("another seed gave the same spot checks")
	}
	if len(a) != 2+SpotChecksPerEntity {
		t.Fatalf("%d spot checks, want 2 named + %d sampled", len(a), SpotChecksPerEntity)
	}
	if a[0].SourceID != "7" || !a[0].Found || a[0].Record["emails"] != "p7@x.com" || a[0].Source[1] != (Cell{Column: "email", Value: "p7@x.com"}) {
		t.Fatalf("named spot check = %+v", a[0])
	}
	if a[1].SourceID != "nope" || a[1].Found {
		t.Fatalf("a named id nothing has must say so: %+v", a[1])
	}
	for _, sc := range a[2:] {
		if sc.Why != "sampled" || sc.Line < 2 || sc.Line > 501 {
			t.Fatalf("sampled spot check = %+v", sc)
		}
	}
}

func report(entity string, read, migrated, merged, rejected int, skipped map[string]int) *pipeline.Report {
	return &pipeline.Report{
		File: entity + ".csv", Entity: entity, Counts: pipeline.Counts{Read: read, Migrated: migrated, Merged: merged, Rejected: rejected, Skipped: skipped},
		Reasons: map[string]int{"emails: \"…\" is not a valid email address": rejected}, Unmapped: []string{"Favourite colour"},
	}
}

func TestReconciliation(t *testing.T) {
	reports := []*pipeline.Report{
		report("contact", 100, 95, 2, 2, map[string]int{"blank-row": 1}),
		report("property", 10, 10, 0, 0, nil),
		report("tenancy", 7, 7, 0, 0, nil),
	}
	checklist := map[string]int{"contact": 100, "property": 10, "tenancy": 9, "applicant": 3}
	wb := Build(Meta{MigrationID: "m", Round: 1, Seed: 1}, reports, checklist, nil, 0, nil)
	got := map[string]Reconciliation{}
	for _, r := range wb.Reconciliation {
		got[r.Entity] = r
	}
	for entity, want := range map[string]struct{ status, says string }{
		"contact":   {StatusExplained, "The export has all 100 records; 95 were migrated and 2 rejected (each with its reason, in the rejects file), 2 merged into duplicates, 1 skipped by the rule blank-row."},
		"property":  {StatusMatch, "All 10 property records"},
		"tenancy":   {StatusUnexplained, "Your old CRM shows 9 tenancy records but the export has 7 rows (2 fewer)"},
		"applicant": {StatusUnexplained, "shows 3 applicant records but the export has 0 rows"},
	} {
		r := got[entity]
		if r.Status != want.status || !strings.Contains(r.Explanation, want.says) {
			t.Errorf("%s: %s %q; want %s containing %q", entity, r.Status, r.Explanation, want.status, want.says)
		}
	}
	wb = Build(Meta{}, reports[:1], nil, nil, 0, []RejectsFile{{File: "contact.csv", Key: "k"}})
	if wb.Reconciliation[0].Status != StatusUnexplained || !strings.Contains(wb.Reconciliation[0].Explanation, "No checklist count") {
		t.Fatalf("without a checklist: %+v", wb.Reconciliation[0])
	}
	if len(wb.Unmapped) != 1 || wb.Unmapped[0].Columns[0] != "Favourite colour" || wb.Issues.Rejected[0].Count != 2 || wb.Issues.RejectsFiles[0].Key != "k" {
		t.Fatalf("unmapped %+v, issues %+v", wb.Unmapped, wb.Issues)
	}
}

func TestWorkbookCountsPossibleDuplicates(t *testing.T) {
	var wb Workbook
	var p PossibleDuplicates
	p.Add([]mapspec.PossibleDuplicate{
		{Entity: "contact", Key: "office@firm.example", SourceIDs: []string{"1", "2", "3"}, Lines: []int{2, 3, 4}, IDs: []string{"a", "b", "c"}},
		{Entity: "contact", Key: "home@x.example", SourceIDs: []string{"7", "9"}, Lines: []int{8, 10}, IDs: []string{"d", "e"}},
	})
	wb.AddPossibleDuplicates(&p)
	if wb.Issues.PossibleDuplicates != 5 || wb.Issues.PossibleGroups != 2 || len(wb.Issues.Duplicates) != 2 {
		t.Fatalf("issues %+v", wb.Issues)
	}
}

// Chunk after chunk of an extract where thousands share office addresses:
// the workbook lists the first MaxListedPossible groups, in the order the
// chunks reported them, and counts every group and record.
func TestWorkbookListsTheFirstPossibleDuplicatesAndCountsThemAll(t *testing.T) {
	var p PossibleDuplicates
	groups := 0
	for chunk := range 5 {
		var batch []mapspec.PossibleDuplicate
		for i := range 700 {
			batch = append(batch, mapspec.PossibleDuplicate{Entity: "contact", Key: fmt.Sprintf("office%d-%d@firm.example", chunk, i), SourceIDs: []string{"1", "2"}, Lines: []int{2, 3}, IDs: []string{"a", "b"}})
			groups++
		}
		p.Add(batch)
	}
	var wb Workbook
	wb.AddPossibleDuplicates(&p)
	is := wb.Issues
	if is.PossibleGroups != groups || is.PossibleDuplicates != 2*groups || is.DuplicateCounts.Possible != 2*groups {
		t.Fatalf("counted %d groups, %d records; want %d and %d", is.PossibleGroups, is.PossibleDuplicates, groups, 2*groups)
	}
	if len(is.Duplicates) != MaxListedPossible || is.Duplicates[0].Key != "office0-0@firm.example" || is.Duplicates[MaxListedPossible-1].Key != "office1-299@firm.example" {
		t.Fatalf("listed %d groups, from %q to %q; want the first %d in order", len(is.Duplicates), is.Duplicates[0].Key, is.Duplicates[len(is.Duplicates)-1].Key, MaxListedPossible)
	}
}

// The workbook shows, per file, the phone region and date formats the
// engine inferred (an ambiguous column with its examples), and how many
// values of each field were left out of migrated records.
func TestWorkbookShowsInferenceAndValuesLeftOut(t *testing.T) {
	r := report("contact", 3, 3, 0, 0, nil)
	r.LeftOut = map[string]int{"phones": 2, "created_at": 1}
	r.Inference = &mapspec.Inference{
		Market: "FR", Region: mapspec.RegionGuess{Region: "FR", Confidence: 1, Source: "market"},
		Dates: []mapspec.DateGuess{{Column: "Date", Format: "D/M/YYYY", Confidence: 0.5, Ambiguous: true, Other: "M/D/YYYY", Examples: []string{"03/04/2023"}}},
	}
	wb := Build(Meta{MigrationID: "m", Round: 1}, []*pipeline.Report{r}, nil, nil, 0, nil)
	if len(wb.Inference) != 1 || wb.Inference[0].Region.Region != "FR" || !wb.Inference[0].Dates[0].Ambiguous || wb.Inference[0].File != r.File {
		t.Fatalf("inference = %+v", wb.Inference)
	}
	if len(wb.Issues.LeftOut) != 2 || wb.Issues.LeftOut[0].Field != "created_at" || wb.Issues.LeftOut[1].Count != 2 {
		t.Fatalf("left out = %+v", wb.Issues.LeftOut)
	}
}
