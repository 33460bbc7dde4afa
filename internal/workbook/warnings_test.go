package workbook

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/pipeline"
)

// The "!" warnings are grouped by reason across an entity's files, with
// counts and examples that say file, line, field, value and reason.
func TestWarningsAreGroupedByReason(t *testing.T) {
	a := report("contact", 10, 10, 0, 0, nil)
	a.File = "a.csv"
	a.Counts.Warned = 3
	a.Warnings = []pipeline.WarningGroup{
		{Reason: "phones: left out of the record: not a phone number", Count: 2, Examples: []pipeline.WarningExample{{Line: 4, SourceID: "3", Field: "phones", Column: "Phone", Value: "abc", Reason: "left out of the record: not a phone number"}}},
		{Reason: "created_at: in the future", Count: 1, Examples: []pipeline.WarningExample{{Line: 9, Field: "created_at", Value: "2099-01-01", Reason: "in the future"}}},
	}
	b := report("contact", 5, 5, 0, 0, nil)
	b.File = "b.csv"
	b.Warnings = []pipeline.WarningGroup{{Reason: "phones: left out of the record: not a phone number", Count: 5, Examples: []pipeline.WarningExample{{Line: 2, Field: "phones", Value: "x", Reason: "left out of the record: not a phone number"}}}}
	wb := Build(Meta{}, []*pipeline.Report{a, b}, nil, nil, 0, nil)
	g := wb.Issues.Warnings
	if len(g) != 2 || g[0].Count != 7 || g[0].Entity != "contact" || g[0].Reason != "phones: left out of the record: not a phone number" || len(g[0].Examples) != 2 ||
		g[0].Examples[0].File != "a.csv" || g[0].Examples[0].Line != 4 || g[0].Examples[0].Value != "abc" || g[0].Examples[1].File != "b.csv" || g[1].Count != 1 {
		t.Fatalf("warning groups = %+v", g)
	}
}

// More reasons than MaxWarningGroups end in one "other" group, so every
// warning is in a group a person marks, and the marks stay bounded.
func TestWarningGroupsAreBounded(t *testing.T) {
	r := report("contact", 100, 100, 0, 0, nil)
	for i := 0; i < MaxWarningGroups+5; i++ {
		r.Warnings = append(r.Warnings, pipeline.WarningGroup{Reason: fmt.Sprintf("reason %02d", i), Count: 100 - i, Examples: []pipeline.WarningExample{{Line: i + 2}}})
	}
	wb := Build(Meta{}, []*pipeline.Report{r}, nil, nil, 0, nil)
	g := wb.Issues.Warnings
	total := 0
	for _, x := range g {
		total += x.Count
	}
	want := 0
	for _, x := range r.Warnings {
		want += x.Count
	}
	if len(g) != MaxWarningGroups || total != want || !strings.Contains(g[len(g)-1].Reason, "6 other reasons") {
		t.Fatalf("%d groups, %d warnings (want %d): last %+v", len(g), total, want, g[len(g)-1])
	}
}
