package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
)

func TestStartUploadRefusesBadNamesAndTypes(t *testing.T) {
	svc, store, _, _ := uploadWorld(t)
	ctx := context.Background()
	m := create(t, svc, "acme").Migration
	for _, c := range []struct {
		name, ct, want string
	}{
		{"..", "text/csv", "is not a file's name"},
		{".", "text/csv", "is not a file's name"},
		{"   ", "text/csv", "fileName is required"},
		{"", "text/csv", "fileName is required"},
		{"../etc/passwd", "text/csv", "path separator"},
		{`C:\Users\x.csv`, "text/csv", "path separator"},
		{strings.Repeat("a", 252) + ".csv", "text/csv", "at most 255"},
		{"contacts\u202Evsc.exe", "text/csv", "invisible or control character (U+202E"},
		{"con\u200Btacts.csv", "text/csv", "U+200B"},
		{"a\x01b.csv", "text/csv", "U+0001"},
		{"a\u0085b.csv", "text/csv", "U+0085"},
		{"bad\xffname.csv", "text/csv", "not valid UTF-8"},
		{"c.csv", "text/csv\r\nX-Evil: 1", "printable ASCII only"},
		{"c.csv", "text/csv\n", "printable ASCII only"},
		{"c.csv", "csv", "must be a media type"},
		{"c.csv", "text/" + strings.Repeat("x", 200), "at most 200"},
	} {
		_, err := svc.StartUpload(ctx, m, migration.UploadInput{FileName: c.name, Size: 10, ContentType: c.ct, Purpose: cutover.PurposeTest})
		if cutover.ErrorCode(err) != cutover.EINVALID || !strings.Contains(cutover.ErrorMessage(err), c.want) {
			t.Errorf("%q %q: %v, want EINVALID saying %q", c.name, c.ct, err, c.want)
		}
	}
	for _, ok := range []struct{ name, ct string }{{"Kontakte März.csv", "text/csv; charset=utf-8"}, {"export (2).xlsx", ""}, {"..hidden.csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}} {
		if _, err := svc.StartUpload(ctx, m, migration.UploadInput{FileName: ok.name, Size: 10, ContentType: ok.ct, Purpose: cutover.PurposeTest}); err != nil {
			t.Errorf("%q %q: %v", ok.name, ok.ct, err)
		}
	}
	if n := len(mustGet(t, store, m.ID).Files); n != 3 {
		t.Fatalf("%d files stored, want the 3 good ones", n)
	}
}

func TestUploadsAreBoundedPerRoundAndInAll(t *testing.T) {
	svc, store, _, _ := uploadWorld(t)
	ctx := context.Background()
	m := create(t, svc, "acme").Migration
	start := func() error {
		_, err := svc.StartUpload(ctx, mustGet(t, store, m.ID), migration.UploadInput{FileName: "c.csv", Size: 10, Purpose: cutover.PurposeTest})
		return err
	}
	for i := 0; i < cutover.MaxUploadsPerRound; i++ {
		if err := start(); err != nil {
			t.Fatalf("upload %d: %v", i+1, err)
		}
	}
	if err := start(); cutover.ErrorCode(err) != cutover.EINVALID || !strings.Contains(cutover.ErrorMessage(err), "remove one first") {
		t.Fatalf("upload %d of a round: %v", cutover.MaxUploadsPerRound+1, err)
	}
	// Earlier rounds' files count toward the migration's total.
	cur := store.migs[m.ID]
	for i := len(cur.Files); i < cutover.MaxUploads; i++ {
		cur.Files = append(cur.Files, cutover.File{ID: fmt.Sprintf("old%d", i), Name: "old.csv", Purpose: cutover.PurposeTest, Round: 0, Complete: true})
	}
	cur.Files = cur.Files[cutover.MaxUploadsPerRound-1:] // room in this round, none in all
	for len(cur.Files) < cutover.MaxUploads {
		cur.Files = append(cur.Files, cutover.File{ID: fmt.Sprintf("x%d", len(cur.Files)), Purpose: cutover.PurposeTest, Round: 0})
	}
	store.migs[m.ID] = cur
	if err := start(); cutover.ErrorCode(err) != cutover.EINVALID || !strings.Contains(cutover.ErrorMessage(err), "the most it can hold") {
		t.Fatalf("upload past the migration's total: %v", err)
	}
}

func TestCreateRefusesInvisibleCharactersAndLongValues(t *testing.T) {
	svc, _ := newService(newMemStore())
	for _, in := range []migration.CreateInput{
		{TenantID: "acme", CustomerName: "Acme\u202Eevil", CustomerEmail: "a@b.c", CoordinatorEmail: "a@b.c"},
		{TenantID: "acme", CustomerName: "Ac\u200Dme", CustomerEmail: "a@b.c", CoordinatorEmail: "a@b.c"},
		{TenantID: "acme", CustomerName: "Acme\nInc", CustomerEmail: "a@b.c", CoordinatorEmail: "a@b.c"},
		{TenantID: "acme", CustomerName: strings.Repeat("é", 101), CustomerEmail: "a@b.c", CoordinatorEmail: "a@b.c"},
		{TenantID: "acme", CustomerName: "Acme", CustomerEmail: strings.Repeat("a", 250) + "@b.cc", CoordinatorEmail: "a@b.c"},
		{TenantID: "acme", CustomerName: "Acme", CustomerEmail: "Ann <a@b.c>", CoordinatorEmail: "a@b.c"},
	} {
		if _, err := svc.Create(context.Background(), "ops", in); cutover.ErrorCode(err) != cutover.EINVALID {
			t.Errorf("%+q: %v, want EINVALID", in.CustomerName+" "+in.CustomerEmail, err)
		}
	}
	if _, err := svc.Create(context.Background(), "ops", migration.CreateInput{TenantID: "acme", CustomerName: "Müller & Söhne (Zürich)", CustomerEmail: "a@b.c", CoordinatorEmail: "k@b.c"}); err != nil {
		t.Fatal(err)
	}
}

func TestChecklistBoundsSpotCheckIDs(t *testing.T) {
	svc, store, _, _ := uploadWorld(t)
	ctx := context.Background()
	m := create(t, svc, "acme").Migration
	many := make([]string, cutover.MaxSpotCheckIDs+1)
	for i := range many {
		many[i] = fmt.Sprint(i)
	}
	for _, ids := range [][]string{many, {strings.Repeat("x", cutover.MaxSpotCheckIDBytes+1)}, {""}, {"a\x00b"}} {
		if _, err := svc.UpdateChecklist(ctx, mustGet(t, store, m.ID), migration.ChecklistInput{SpotCheckIDs: map[string][]string{"contact": ids}}); cutover.ErrorCode(err) != cutover.EINVALID {
			t.Errorf("%d ids, first %.20q: %v", len(ids), ids[0], err)
		}
	}
	if _, err := svc.UpdateChecklist(ctx, mustGet(t, store, m.ID), migration.ChecklistInput{Counts: map[string]int{"contact": 3}, SpotCheckIDs: map[string][]string{"contact": many[:cutover.MaxSpotCheckIDs]}}); err != nil {
		t.Fatal(err)
	}
}

func TestSaveMappingBoundsTheSpecSize(t *testing.T) {
	svc, store, _, _ := uploadWorld(t)
	m := create(t, svc, "acme").Migration
	var files []string
	for i := 0; i < 7; i++ {
		files = append(files, fmt.Sprintf(`{"name":"c%d.csv","entity":"contact","fields":[{"target":"notes","constant":"%s"}]}`, i, strings.Repeat("n", 10000)))
	}
	spec := `{"version":1,"name":"big","files":[` + strings.Join(files, ",") + `]}`
	_, err := svc.SaveMapping(context.Background(), mustGet(t, store, m.ID), []byte(spec))
	if cutover.ErrorCode(err) != cutover.EINVALID || !strings.Contains(cutover.ErrorMessage(err), "too large") {
		t.Fatalf("a %d-byte mapping: %v", len(spec), err)
	}
}
