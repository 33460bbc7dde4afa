package tabular

import (
	"bytes"
	"math/rand"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
)

func TestSniffRefusesWhatTheReaderCannotRead(t *testing.T) {
	random := make([]byte, 4096)
	rand.New(rand.NewSource(7)).Read(random)
	for _, c := range []struct {
		name string
		head []byte
		want string // "" = accepted
	}{
		{"contacts.pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"), "contacts.pdf: this is a PDF document, not a spreadsheet export"},
		{"logo.png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "logo.png: this is a PNG image, not a spreadsheet export"},
		{"photo.jpg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF"), "photo.jpg: this is a JPEG image"},
		{"anim.gif", []byte("GIF89a\x01\x00"), "anim.gif: this is a GIF image"},
		{"export.csv.gz", []byte("\x1f\x8b\x08\x00\x00\x00"), "export.csv.gz: this is a gzip-compressed file"},
		{"old.xls", []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00"), "old binary Excel"},
		{"data.zip", random, "data.zip: this is binary data, not text"},
		{"blank.csv", nil, "blank.csv is empty"},
		{"contacts.csv", []byte("Id,Name\n1,Ann\n"), ""},
		{"utf16.txt", []byte("I\x00d\x00,\x00N\x00a\x00m\x00e\x00\r\x00\n\x001\x00,\x00A\x00"), ""},
		{"cp1252.csv", []byte("Id,Name\n1,Ren\xe9e\n"), ""},
		{"feed.blm", []byte("#HEADER#\nVersion : 3\n"), ""},
	} {
		kind, err := Sniff(c.head, c.name)
		if c.want == "" {
			if err != nil || kind != "text" {
				t.Errorf("%s: %q %v, want accepted as text", c.name, kind, err)
			}
			continue
		}
		if cutover.ErrorCode(err) != cutover.EINVALID || !strings.Contains(cutover.ErrorMessage(err), c.want) {
			t.Errorf("%s: %v, want EINVALID with %q", c.name, err, c.want)
		}
	}
	if kind, err := Sniff([]byte("PK\x03\x04\x14\x00"), "book.xlsx"); err != nil || kind != "xlsx" {
		t.Errorf("a zip: %q %v, want xlsx (to be checked with CheckWorkbook)", kind, err)
	}
}

func TestCheckWorkbookTellsAWorkbookFromOtherZips(t *testing.T) {
	good := makeZip(t, workbookParts(contactsRows, ordersRows))
	if err := CheckWorkbook(bytes.NewReader(good), int64(len(good)), "book.xlsx"); err != nil {
		t.Fatalf("a workbook: %v", err)
	}
	other := makeZip(t, []zipPart{{"contacts.csv", "Id,Name\n1,Ann\n"}})
	err := CheckWorkbook(bytes.NewReader(other), int64(len(other)), "export.zip")
	if cutover.ErrorCode(err) != cutover.EINVALID || !strings.Contains(cutover.ErrorMessage(err), "export.zip is not a readable XLSX workbook: it is a zip archive of other files") {
		t.Fatalf("a zip of a CSV: %v", err)
	}
	broken := append([]byte("PK\x03\x04"), bytes.Repeat([]byte{7}, 300)...)
	if err := CheckWorkbook(bytes.NewReader(broken), int64(len(broken)), "x.xlsx"); cutover.ErrorCode(err) != cutover.EINVALID {
		t.Fatalf("a broken zip: %v", err)
	}
}

// Open refuses what Sniff refuses, with the same message: the engine and
// the upload check agree.
func TestOpenRefusesWhatSniffRefuses(t *testing.T) {
	pdf := "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
	_, err := Open(strings.NewReader(pdf), "contacts.csv", Options{})
	_, want := Sniff([]byte(pdf), "contacts.csv")
	if cutover.ErrorCode(err) != cutover.EINVALID || err.Error() != want.Error() {
		t.Fatalf("Open of a PDF: %v, want %v", err, want)
	}
	// A file forced to UTF-16 is text by the caller's word.
	utf16 := "I\x00d\x00\n\x001\x00\n\x00"
	if _, err := Open(strings.NewReader(utf16), "u.txt", Options{Encoding: "utf-16le"}); err != nil {
		t.Fatalf("forced UTF-16: %v", err)
	}
}
