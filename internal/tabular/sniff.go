package tabular

import (
	"bytes"
	"fmt"
	"io"

	"github.com/cutover/cutover/internal/cutover"
)

// SniffBytes is how much of a file's start Sniff looks at: enough for every
// signature it knows and for the text checks, small enough for one ranged
// read right after an upload.
const SniffBytes = 1 << 10

// Kinds Sniff tells apart.
const (
	KindText = "text" // delimited text or a BLM feed: Open reads it as text
	KindXLSX = "xlsx" // a zip: CheckWorkbook decides whether it is a workbook
)

// signature is a file type Open would otherwise take for text and read as
// garbage: a binary format whose first bytes say what it is.
type signature struct {
	magic string
	what  string
}

var signatures = []signature{
	{"%PDF-", "a PDF document"},
	{"\x89PNG\r\n\x1a\n", "a PNG image"},
	{"\xff\xd8\xff", "a JPEG image"},
	{"GIF87a", "a GIF image"},
	{"GIF89a", "a GIF image"},
	{"II*\x00", "a TIFF image"},
	{"MM\x00*", "a TIFF image"},
	{"\x1f\x8b", "a gzip-compressed file (unpack it and upload the file inside)"},
	{"Rar!\x1a\x07", "a RAR archive (unpack it and upload the files inside)"},
	{"7z\xbc\xaf\x27\x1c", "a 7-Zip archive (unpack it and upload the files inside)"},
	{"BZh", "a bzip2-compressed file (unpack it and upload the file inside)"},
	{"\xfd7zXZ\x00", "an xz-compressed file (unpack it and upload the file inside)"},
	{"SQLite format 3\x00", "an SQLite database"},
	{"\x7fELF", "a program"},
	{"MZ", "a Windows program"},
}

// Sniff tells from the first bytes of a file (head: its first SniffBytes,
// or all of it when it is shorter) whether Open can read it, so that a
// file the engine cannot read is refused when it is uploaded rather than
// when a migration reads it. It uses the same rules as Open: a zip is a
// workbook candidate (KindXLSX, which CheckWorkbook then settles from the
// zip's directory), an old .xls is refused, and anything else is text in
// one of the encodings Open detects. Text is refused when it is binary:
// NUL bytes (outside UTF-16, which Open detects by them) or control
// characters that no export writes.
//
// Errors: EINVALID naming the file and what it is (a PDF document, an
// image, a compressed file, binary data) or that it is empty.
func Sniff(head []byte, name string) (string, error) {
	if len(head) == 0 {
		return "", emptyError(name)
	}
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return KindXLSX, nil
	case bytes.HasPrefix(head, []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")):
		return "", cutover.Errorf(cutover.EINVALID, "%s is an old binary Excel (.xls) workbook, which cutover cannot read: save it from Excel as .xlsx or CSV.", fileName(name))
	}
	// A file that starts with "MZ" or "BZh" could be a CSV whose first
	// column is named so: such short signatures count only with binary
	// bytes after them.
	for _, s := range signatures {
		if bytes.HasPrefix(head, []byte(s.magic)) && (len(s.magic) > 3 || looksBinary(head)) {
			return "", notSpreadsheet(name, s.what)
		}
	}
	enc, _, _, _ := detectEncoding(head, len(head) < SniffBytes)
	if enc == encUTF16LE || enc == encUTF16BE {
		return KindText, nil
	}
	if looksBinary(head) {
		return "", notSpreadsheet(name, "binary data, not text")
	}
	return KindText, nil
}

func notSpreadsheet(name, what string) error {
	if name == "" {
		name = "The file"
	}
	return cutover.Errorf(cutover.EINVALID, "%s: this is %s, not a spreadsheet export. Upload the export as CSV, TSV, BLM or XLSX.", name, what)
}

// looksBinary reports whether b holds a NUL byte or more control characters
// than a text export has: a stray one or two can be in a field, random
// bytes have about one in nine.
func looksBinary(b []byte) bool {
	ctl := 0
	for _, c := range b {
		switch {
		case c == 0:
			return true
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f':
			ctl++
		}
	}
	return ctl > 4 && ctl*50 > len(b)
}

// CheckWorkbook reads the directory of a zip (its end, through ra, which
// for an upload is ranged reads of the stored object) and the workbook
// part, exactly as Open does before it reads any sheet, so that a zip that
// is not a workbook is refused at upload with the message Open would give.
// It reads no sheet data: a workbook it accepts can still fail later on a
// sheet's content.
//
// Errors: EINVALID when the zip is corrupt, over the default limits, not a
// workbook (naming the file), or lists no sheet; EUNAVAILABLE when ra
// cannot be read.
func CheckWorkbook(ra io.ReaderAt, size int64, name string) error {
	o, _ := Options{}.withDefaults() // the zero Options are always valid
	if size > o.MaxXLSX.CompressedBytes {
		return cutover.Errorf(cutover.EINVALID, "%s is not readable as an XLSX workbook within the limits: %s.", fileName(name),
			fmt.Sprintf("the workbook is %d bytes, over the limit of %d", size, o.MaxXLSX.CompressedBytes))
	}
	wb := &workbook{name: name, lim: o.MaxXLSX, maxField: o.MaxFieldBytes, maxRecord: o.MaxRecordBytes}
	_, sheets, err := wb.openDirectory(ra, size)
	if err != nil {
		return err
	}
	if len(sheets) == 0 {
		return cutover.Errorf(cutover.EINVALID, "%s is empty: no sheet has a header row.", fileName(name))
	}
	return nil
}
