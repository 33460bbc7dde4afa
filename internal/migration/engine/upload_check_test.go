package engine

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
)

// uploadWorld is a service whose uploads land in objects: completing an
// upload "assembles" whatever the test put under the key, and removing one
// deletes it, as S3 would.
func uploadWorld(t *testing.T) (*Service, *memStore, objects, *[]string) {
	store := newMemStore()
	svc, _ := newService(store)
	objs := objects{}
	var removed []string
	svc.Files = objs
	svc.Uploads = uploadsFake{
		PresignFn:  func(_, _ string, n []int) ([]string, error) { return make([]string, len(n)), nil },
		CompleteFn: func(key, _ string) (int64, error) { return int64(len(objs[key])), nil },
		RemoveFn: func(key, uploadID string) error {
			removed = append(removed, key+"|"+uploadID)
			delete(objs, key)
			return nil
		},
	}
	return svc, store, objs, &removed
}

func startAndPut(t *testing.T, svc *Service, objs objects, m *cutover.Migration, name, body string) *migration.UploadPlan {
	t.Helper()
	plan, err := svc.StartUpload(context.Background(), m, migration.UploadInput{FileName: name, Size: int64(max(len(body), 1)), Purpose: cutover.PurposeTest})
	if err != nil {
		t.Fatal(err)
	}
	objs[plan.Key] = body
	return plan
}

var onePart = []migration.Part{{PartNumber: 1, ETag: `"e1"`}}

func TestCompleteUploadRefusesFilesTheEngineCannotRead(t *testing.T) {
	svc, store, objs, removed := uploadWorld(t)
	ctx := context.Background()
	m := create(t, svc, "acme").Migration
	random := make([]byte, 3000)
	rand.New(rand.NewSource(3)).Read(random)
	for _, c := range []struct{ name, body, want string }{
		{"contacts.pdf", "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "contacts.pdf: this is a PDF document, not a spreadsheet export"},
		{"export.zip", string(random), "export.zip: this is binary data, not text"},
		{"logo.png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "logo.png: this is a PNG image"},
	} {
		plan := startAndPut(t, svc, objs, m, c.name, c.body)
		_, err := svc.CompleteUpload(ctx, mustGet(t, store, m.ID), plan.FileID, onePart)
		if cutover.ErrorCode(err) != cutover.EINVALID || !strings.Contains(cutover.ErrorMessage(err), c.want) {
			t.Fatalf("%s: %v, want a refusal saying %q", c.name, err, c.want)
		}
		f := mustGet(t, store, m.ID).FileByID(plan.FileID)
		if f == nil || f.Complete || !strings.Contains(f.Refused, c.want) {
			t.Fatalf("%s is not recorded as refused: %+v", c.name, f)
		}
		if _, ok := objs[plan.Key]; ok {
			t.Fatalf("%s: the refused object is still stored", c.name)
		}
		if _, again := svc.CompleteUpload(ctx, mustGet(t, store, m.ID), plan.FileID, onePart); cutover.ErrorCode(again) != cutover.EINVALID || cutover.ErrorMessage(again) != cutover.ErrorMessage(err) {
			t.Fatalf("%s completed again: %v, want the same refusal", c.name, again)
		}
	}
	if len(*removed) != 3 {
		t.Fatalf("removed %v, want the three refused objects", *removed)
	}
	good := startAndPut(t, svc, objs, m, "contacts.csv", "Id,Email\n1,a@x.com\n")
	if f, err := svc.CompleteUpload(ctx, mustGet(t, store, m.ID), good.FileID, onePart); err != nil || !f.Complete || f.Refused != "" {
		t.Fatalf("a CSV: %+v %v", f, err)
	}
	cur := mustGet(t, store, m.ID)
	if got := cur.TestFiles(1); len(got) != 1 || got[0].ID != good.FileID {
		t.Fatalf("the round's files are %+v, want only the CSV", got)
	}
	if !slices.ContainsFunc(store.audit[m.ID], func(e cutover.AuditEvent) bool { return e.Action == "file.refused" }) {
		t.Fatal("no file.refused audit event")
	}
}

func mustGet(t testing.TB, store *memStore, id string) *cutover.Migration {
	t.Helper()
	m, err := store.GetMigration(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRemoveUploadOnlyBeforeTheRoundIsSubmitted(t *testing.T) {
	svc, store, objs, removed := uploadWorld(t)
	ctx := context.Background()
	m := create(t, svc, "acme").Migration
	open := startAndPut(t, svc, objs, m, "half.csv", "Id\n1\n")
	done := startAndPut(t, svc, objs, m, "done.csv", "Id\n1\n")
	if _, err := svc.CompleteUpload(ctx, mustGet(t, store, m.ID), done.FileID, onePart); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RemoveUpload(ctx, mustGet(t, store, m.ID), "f-nope"); cutover.ErrorCode(err) != cutover.ENOTFOUND {
		t.Fatalf("unknown file: %v", err)
	}
	if _, err := svc.RemoveUpload(ctx, mustGet(t, store, m.ID), open.FileID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RemoveUpload(ctx, mustGet(t, store, m.ID), done.FileID); err != nil {
		t.Fatal(err)
	}
	want := []string{open.Key + "|" + open.UploadID, done.Key + "|"} // the unfinished upload is aborted, the complete object deleted
	if !slices.Equal(*removed, want) {
		t.Fatalf("removed %v, want %v", *removed, want)
	}
	if cur := mustGet(t, store, m.ID); len(cur.Files) != 0 {
		t.Fatalf("files left: %+v", cur.Files)
	}
	if n := len(slices.DeleteFunc(slices.Clone(store.audit[m.ID]), func(e cutover.AuditEvent) bool { return e.Action != "file.removed" })); n != 2 {
		t.Fatalf("%d file.removed events, want 2", n)
	}

	// Once submitted, the round's files are what it runs on.
	again := startAndPut(t, svc, objs, m, "c.csv", "Id\n1\n")
	if _, err := svc.CompleteUpload(ctx, mustGet(t, store, m.ID), again.FileID, onePart); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Submit(ctx, mustGet(t, store, m.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RemoveUpload(ctx, mustGet(t, store, m.ID), again.FileID); cutover.ErrorCode(err) != cutover.ECONFLICT {
		t.Fatalf("removing a submitted round's file: %v", err)
	}
}

// xlsxBook is a small but real workbook, stored uncompressed and padded
// past several of the check's read blocks, so that its directory is read
// from the end of the object with ranged reads.
func xlsxBook(t *testing.T, rows int) string {
	t.Helper()
	var sheet strings.Builder
	sheet.WriteString(`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	sheet.WriteString(`<row r="1"><c r="A1" t="inlineStr"><is><t>Id</t></is></c><c r="B1" t="inlineStr"><is><t>Email</t></is></c></row>`)
	for i := 2; i <= rows; i++ {
		fmt.Fprintf(&sheet, `<row r="%d"><c r="A%d"><v>%d</v></c><c r="B%d" t="inlineStr"><is><t>p%d@x.com</t></is></c></row>`, i, i, i, i, i)
	}
	sheet.WriteString(`</sheetData></worksheet>`)
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, p := range []struct{ name, body string }{
		{"[Content_Types].xml", `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`},
		{"_rels/.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Contacts" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`},
		{"xl/worksheets/sheet1.xml", sheet.String()},
	} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: p.name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(p.body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestCompleteUploadTakesAWorkbookAndMapReadsIt(t *testing.T) {
	svc, store, objs, removed := uploadWorld(t)
	ctx := context.Background()
	m := create(t, svc, "acme").Migration
	book := xlsxBook(t, 3000)
	if len(book) < 3*readBlock {
		t.Fatalf("the workbook is %d bytes: too small to need several blocks", len(book))
	}
	plan := startAndPut(t, svc, objs, m, "contacts.xlsx", book)
	f, err := svc.CompleteUpload(ctx, mustGet(t, store, m.ID), plan.FileID, onePart)
	if err != nil || !f.Complete || f.Refused != "" || len(*removed) != 0 {
		t.Fatalf("a workbook: %+v %v (removed %v)", f, err, *removed)
	}
	if _, err := svc.Submit(ctx, mustGet(t, store, m.ID)); err != nil {
		t.Fatal(err)
	}
	res, err := svc.Map(ctx, migration.StepInput{MigrationID: m.ID, Round: 1})
	if err != nil || len(res.Files) != 1 || res.Files[0].Entity != "contact" {
		t.Fatalf("Map of the workbook: %+v %v", res, err)
	}
}
