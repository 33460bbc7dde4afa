package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/migration"
)

// submitted is a migration whose round 1 was submitted with files, the
// way a customer's upload would leave it.
func submitted(t *testing.T, svc *Service, store *memStore, bodies map[string]string, order ...string) string {
	t.Helper()
	id := create(t, svc, "acme").Migration.ID
	for i, name := range order {
		key := "k-" + name
		uploaded(t, store, id, cutover.File{ID: "f" + string(rune('1'+i)), Name: name, Key: key, Purpose: cutover.PurposeTest, Round: 1, Complete: true})
		files(svc)[key] = bodies[name]
	}
	m := store.migs[id]
	m.Status, m.Round = cutover.StatusSubmitted, 1
	store.migs[id] = m
	return id
}

// A file the reader cannot use is named with why, and the round goes on
// without it; the mapping it builds always parses.
func TestMapNamesAnUnreadableFileAndGoesOnWithoutIt(t *testing.T) {
	svc, store, _ := finalService(t, 0)
	ctx := context.Background()
	id := submitted(t, svc, store, map[string]string{
		"contacts.csv": "Id,Email,Name\n1,a@x.com,Ann\n",
		"contacts.pdf": "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
		"shoes.csv":    "Shoe Size,Lace Colour\n5,red\n",
	}, "contacts.csv", "contacts.pdf", "shoes.csv")
	res, err := svc.Map(ctx, migration.StepInput{MigrationID: id, Round: 1})
	if err != nil {
		t.Fatalf("Map: %v", err)
	}
	if len(res.Files) != 1 || res.Files[0].FileID != "f1" {
		t.Fatalf("mapped %+v, want only contacts.csv", res.Files)
	}
	m := mustGet(t, store, id)
	if _, err := mapspec.Parse([]byte(m.Mapping)); err != nil {
		t.Fatalf("the mapping does not parse: %v", err)
	}
	pdf, shoes := m.FileByID("f2"), m.FileByID("f3")
	if !strings.Contains(pdf.Refused, "contacts.pdf: this is a PDF document, not a spreadsheet export") {
		t.Fatalf("the PDF: %+v", pdf)
	}
	if !strings.Contains(shoes.Refused, "shoes.csv: none of its columns") {
		t.Fatalf("the file with no usable column: %+v", shoes)
	}
	if got := m.TestFiles(1); len(got) != 1 || got[0].ID != "f1" {
		t.Fatalf("the round's files: %+v", got)
	}
	if _, err := svc.TestMigrate(ctx, migration.StepInput{MigrationID: id, Round: 1}); err != nil {
		t.Fatalf("TestMigrate after Map: %v", err)
	}
}

func TestMapFailsWithEachReasonWhenNoFileIsReadable(t *testing.T) {
	svc, store, _ := finalService(t, 0)
	id := submitted(t, svc, store, map[string]string{
		"contacts.pdf": "%PDF-1.4\n1 0 obj\n",
		"logo.png":     "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
	}, "contacts.pdf", "logo.png")
	_, err := svc.Map(context.Background(), migration.StepInput{MigrationID: id, Round: 1})
	msg := cutover.ErrorMessage(err)
	if cutover.ErrorCode(err) != cutover.EINVALID || !strings.Contains(msg, "contacts.pdf: this is a PDF document") || !strings.Contains(msg, "logo.png: this is a PNG image") ||
		strings.Contains(msg, "mapping spec") {
		t.Fatalf("Map: %v", err)
	}
}
