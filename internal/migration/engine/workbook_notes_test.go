package engine

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
)

// A contacts file with no id column is identified by its records'
// content; the workbook the test migration writes says so for that file,
// a file with an id column is said to fall back to other values only for
// a row whose id is blank.
func TestWorkbookSaysWhichFilesAreIdentifiedByContent(t *testing.T) {
	svc, store, _ := finalService(t, 0)
	ctx := context.Background()
	id := submitted(t, svc, store, map[string]string{
		"people.csv":   "Email,First Name,Last Name\nann@example.com,Ann,Lee\nbob@example.com,Bob,Stone\n",
		"contacts.csv": "Id,Email,Name\n1,a@x.com,Ann\n2,b@x.com,Bob\n",
	}, "people.csv", "contacts.csv")
	if _, err := svc.Map(ctx, migration.StepInput{MigrationID: id, Round: 1}); err != nil {
		t.Fatalf("Map: %v", err)
	}
	if _, err := svc.TestMigrate(ctx, migration.StepInput{MigrationID: id, Round: 1}); err != nil {
		t.Fatalf("TestMigrate: %v", err)
	}
	m := mustGet(t, store, id)
	if m.Workbook == nil {
		t.Fatal("no workbook")
	}
	// Read the stored artifact as JSON, not through workbook.Workbook, so
	// the test sees what the API serves.
	var wb struct {
		Notes []struct {
			File  string   `json:"file"`
			Notes []string `json:"notes"`
		} `json:"notes"`
	}
	if err := json.Unmarshal([]byte(files(svc)[m.Workbook.Key]), &wb); err != nil {
		t.Fatal(err)
	}
	byFile := map[string]string{}
	for _, n := range wb.Notes {
		byFile[n.File] += strings.Join(n.Notes, " ")
	}
	if got := byFile["people.csv"]; !strings.Contains(got, "derived from") || !strings.Contains(got, "final extract") {
		t.Errorf("people.csv's notes %q do not say its records are identified by their content", got)
	}
	if got := byFile["contacts.csv"]; strings.Contains(got, "No column identifies") || !strings.Contains(got, "A record with no Id is identified by") {
		t.Errorf("contacts.csv has an id column, yet its notes say %q", got)
	}
}

// The final report says the same of the final extract, under the final
// file's own name: its records are identified by their content, matched
// by the signed-off entry it was read with.
func TestFinalReportSaysWhichFilesAreIdentifiedByContent(t *testing.T) {
	svc, store, _ := finalService(t, 0)
	ctx := context.Background()
	id := submitted(t, svc, store, map[string]string{
		"people.csv": "Email,First Name,Last Name\nann@example.com,Ann,Lee\nbob@example.com,Bob,Stone\n",
	}, "people.csv")
	if _, err := svc.Map(ctx, migration.StepInput{MigrationID: id, Round: 1}); err != nil {
		t.Fatalf("Map: %v", err)
	}
	if _, err := svc.TestMigrate(ctx, migration.StepInput{MigrationID: id, Round: 1}); err != nil {
		t.Fatalf("TestMigrate: %v", err)
	}
	m := store.migs[id]
	entry := m.Files[0].ID
	m.Status = cutover.StatusScheduled
	m.SignOff = &cutover.SignOffRecord{Round: 1, MappingVersion: m.MappingVersion, MappingHash: m.MappingHash}
	m.Files = append(m.Files, cutover.File{ID: "f9", Name: "people-final.csv", Key: "k-final-" + id, Purpose: cutover.PurposeFinal, Round: 1, Complete: true})
	m.FinalFileIDs = []string{"f9"}
	m.FinalMatches = []cutover.FinalMatch{{FileID: "f9", Table: "f9", Entry: entry, Entity: "contact", Confirmed: true}}
	m.GoLiveAt = now0
	store.migs[id] = m
	files(svc)["k-final-"+id] = "Email,First Name,Last Name\nann@example.com,Ann,Lee\nbob@example.com,Bob,Stone\ncy@example.com,Cy,Fox\n"
	cleared(t, svc, id)
	if _, err := runFinal(t, svc, id); err != nil {
		t.Fatal(err)
	}
	done := mustGet(t, store, id)
	if done.FinalReport == nil {
		t.Fatal("no final report")
	}
	var rep struct {
		Workbook struct {
			Notes []struct {
				File  string   `json:"file"`
				Notes []string `json:"notes"`
			} `json:"notes"`
		} `json:"workbook"`
	}
	if err := json.Unmarshal([]byte(files(svc)[done.FinalReport.ReportKey]), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Workbook.Notes) != 1 || rep.Workbook.Notes[0].File != "people-final.csv" || !strings.Contains(strings.Join(rep.Workbook.Notes[0].Notes, " "), "derived from") {
		t.Fatalf("the final report's notes = %+v, want people-final.csv identified by its content", rep.Workbook.Notes)
	}
}
