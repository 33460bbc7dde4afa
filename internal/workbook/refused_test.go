package workbook

import (
	"testing"

	"github.com/cutover/cutover/internal/pipeline"
)

// A person named on a row that the destination refused is not a rejected
// row (the row landed), but the workbook lists it as an issue, by the
// naming row's file and the destination's reason, with its count.
func TestWorkbookListsPeopleTheDestinationRefused(t *testing.T) {
	rep := report("tenancy", 3, 3, 0, 0, nil)
	group := pipeline.RefusedPersonGroup("no room")
	rep.RefusedPeople = map[string]int{group: 2}
	wb := Build(Meta{MigrationID: "m"}, []*pipeline.Report{rep}, nil, NewSampler(1, nil), 2, nil)
	if len(wb.Issues.RefusedPeople) != 1 {
		t.Fatalf("refused people %+v", wb.Issues.RefusedPeople)
	}
	got := wb.Issues.RefusedPeople[0]
	if got.File != "tenancy.csv" || got.Entity != "tenancy" || got.Reason != group || got.Count != 2 {
		t.Fatalf("refused people %+v", got)
	}
	for _, r := range wb.Reconciliation {
		if r.Entity == "tenancy" && (r.Migrated != 3 || r.Rejected != 0) {
			t.Errorf("reconciliation %+v: the naming rows landed", r)
		}
	}
}
