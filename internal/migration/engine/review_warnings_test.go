package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
)

// reviewing runs a test migration of body with the named spot-check ids
// and parks it for review, as the state machine does.
func reviewWorkbook(t *testing.T, body string, named []string) (*Service, *memStore, string) {
	t.Helper()
	ctx := context.Background()
	svc, store, _ := finalService(t, 0)
	c := create(t, svc, "acme")
	id := c.Migration.ID
	uploaded(t, store, id, cutover.File{ID: "f1", Name: "contacts.csv", Key: "k-" + id, Purpose: cutover.PurposeTest, Round: 1, Complete: true})
	files(svc)["k-"+id] = body
	submittedAndMapped(t, svc, store, id, migration.ChecklistInput{Counts: map[string]int{"contact": 3}, SpotCheckIDs: map[string][]string{"contact": named}})
	if _, err := svc.TestMigrate(ctx, migration.StepInput{MigrationID: id, Round: 1}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Park(ctx, migration.ParkInput{StepInput: migration.StepInput{MigrationID: id, Round: 1}, Kind: cutover.TaskReview, TaskToken: "tok"}); err != nil {
		t.Fatal(err)
	}
	return svc, store, id
}

// A named spot check whose row was rejected cannot be ticked "it is
// right", only waived with a note; each warning group is a section to
// mark before sign-off.
func TestRejectedSpotCheckCanOnlyBeWaivedAndWarningsNeedMarks(t *testing.T) {
	ctx := context.Background()
	body := "Id,Email,Name,Phone\n1,a@x.com,Ann,not a phone\n2,bad,,\n3,c@x.com,Cy,\n"
	svc, store, id := reviewWorkbook(t, body, []string{"2"})
	m, _ := store.GetMigration(ctx, id)
	wb, err := svc.Workbook(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	sc := wb.SpotChecks[0]
	if sc.SourceID != "2" || sc.Outcome != "rejected" || !strings.HasPrefix(sc.Says, "rejected at line 3 of contacts.csv: ") {
		t.Fatalf("spot check 0 = %+v", sc)
	}
	_, err = svc.MarkReview(ctx, m, migration.ReviewInput{Items: []migration.ReviewItem{{Section: "spot:0", State: migration.Reviewed}}})
	if cutover.ErrorCode(err) != cutover.EINVALID || !strings.Contains(cutover.ErrorMessage(err), "waive it with a note") {
		t.Fatalf("ticking a rejected row reviewed: %v", err)
	}
	if len(wb.Issues.Warnings) == 0 || m.Workbook.WarningGroups != len(wb.Issues.Warnings) {
		t.Fatalf("warning groups: workbook %+v, summary %d", wb.Issues.Warnings, m.Workbook.WarningGroups)
	}
	if len(wb.Issues.ReviewFiles) != 1 || wb.Issues.ReviewFiles[0].Key == "" {
		t.Fatalf("review files = %+v", wb.Issues.ReviewFiles)
	}
	var items []migration.ReviewItem
	for _, sec := range migration.Unreviewed(m) {
		items = append(items, migration.ReviewItem{Section: sec, State: migration.Waived, Note: "checked by hand"})
	}
	found := false
	for _, it := range items {
		found = found || it.Section == "warn:0"
	}
	if !found {
		t.Fatalf("warn:0 is not among the sections to mark: %+v", items)
	}
	if m, err = svc.MarkReview(ctx, m, migration.ReviewInput{Items: items}); err != nil {
		t.Fatal(err)
	}
	if open := migration.Unreviewed(m); len(open) != 0 {
		t.Fatalf("still open: %v", open)
	}
	if _, err := svc.MarkReview(ctx, m, migration.ReviewInput{Items: []migration.ReviewItem{{Section: "warn:99", State: migration.Reviewed}}}); cutover.ErrorCode(err) != cutover.EINVALID {
		t.Fatalf("warn:99: %v", err)
	}
}
