// Package tabular reads the exports customers bring — delimited text in the
// encodings Excel and CRMs write, Rightmove BLM portal feeds and XLSX
// workbooks — as a stream of rows.
//
// Memory is bounded by the largest record, never by the file: a cap on field
// and record size turns a stray quote into a precise error instead of a
// Lambda that runs out of memory, and XLSX parts are decompressed under
// explicit zip-bomb limits. The reader is deliberately lenient about what
// real exports get wrong but that loses nothing (bare quotes inside fields,
// ragged rows, blank lines): it reports the rows as they are and leaves the
// judgement to the mapper, which can reject a row with its original values.
// Whatever it cannot read without guessing it refuses, with a message that
// names the file, the line or row, and the column.
package tabular

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/cutover/cutover/internal/cutover"
)

// Defaults for the zero values in Options and XLSXLimits.
const (
	DefaultMaxFieldBytes  = 1 << 20
	DefaultMaxRecordBytes = 4 << 20

	DefaultXLSXCompressedBytes   = 256 << 20
	DefaultXLSXUncompressedBytes = 2 << 30
	DefaultXLSXRatio             = 100
	DefaultXLSXEntries           = 10000
	DefaultXLSXCells             = 200_000_000
	DefaultXLSXSharedStrings     = 10_000_000
	DefaultXLSXSharedStringBytes = 256 << 20
)

// Options tune Open. The zero value detects everything and applies the
// default limits.
type Options struct {
	// Delimiter separates CSV fields; 0 detects one of , ; tab |. Any
	// single-byte ASCII character other than a quote or a line end may be
	// forced.
	Delimiter rune
	// Encoding of a text file: "" detects; otherwise one of
	// SupportedEncodings ("utf-8", "utf-16le", "windows-1252", "big5",
	// "shift_jis", "koi8-r", ...; aliases such as "cp1252", "latin1" and
	// "gbk" are accepted). XLSX is always UTF-8 and ignores it.
	Encoding string
	// AllowUncertainEncoding lets Open pick the likeliest legacy code page
	// even when detection is not sure of it (Format then says how sure it
	// was and what else it could be). Without it such a file is refused
	// with the candidates named, because a wrong guess garbles every
	// accented or non-Latin character without any other sign: inspect
	// sets it to show the guess, a migration never does.
	AllowUncertainEncoding bool
	// Sheet selects one XLSX sheet by name; "" reads every visible,
	// non-empty sheet.
	Sheet string
	// MaxFieldBytes caps one field (0 = DefaultMaxFieldBytes) so that one
	// stray quote cannot swallow the file.
	MaxFieldBytes int
	// MaxRecordBytes caps one record (0 = DefaultMaxRecordBytes); it is
	// also the bound on the reader's buffer.
	MaxRecordBytes int
	// MaxXLSX bounds what an XLSX workbook may cost to read.
	MaxXLSX XLSXLimits
	// LineOffset is for a CSV table read from a chunk of a larger file:
	// the file's header bytes followed by a range of its records (see
	// internal/chunk). It is added to Row.Line of every record after the
	// header and to the line numbers in errors about those records, so
	// that they are lines of the whole file; the header, and errors about
	// it, keep their own lines. Byte offsets in encoding errors still
	// count from the start of src. BLM and XLSX ignore it. It must not be
	// negative.
	LineOffset int
	// Chunk says src is a chunk of a file already read whole as text (its
	// header bytes and a range of its records, internal/chunk): the file
	// passed the binary check on its first bytes, so a chunk is not
	// checked again. A chunk's own bytes can look binary where the whole
	// file's first bytes did not (a stray NUL or control characters deep
	// in a field, which a short chunk makes a larger share of).
	Chunk bool
}

// XLSXLimits are the zip-bomb limits. A workbook is a zip of XML parts, and
// a few kilobytes of zip can expand to gigabytes; each limit is counted
// while decompressing, not taken from the (forgeable) zip headers. Zero
// fields take the Default values.
type XLSXLimits struct {
	CompressedBytes   int64 // the .xlsx file itself
	UncompressedBytes int64 // every part read, together
	Ratio             int64 // uncompressed/compressed of any one part (checked once it passes 1 MiB)
	Entries           int   // files in the zip
	Cells             int64 // cells read, across the workbook
	SharedStrings     int   // entries in the shared-string table
	SharedStringBytes int64 // text in the shared-string table, which is held in memory
}

// XLSXLimitsForMemory are the XLSX limits for a process that has
// memoryBytes of memory, such as a Lambda function (its MemorySize): the
// defaults, except for the shared-string table, the one part of a workbook
// read into memory. Its text may take a quarter of the memory, and its
// entries' offsets (4 bytes each) a sixteenth: while the table is read its
// buffer grows by copying, and the garbage collector lets the heap reach
// twice what is live, so a quarter leaves room for both and for the rows
// being mapped. A workbook over them is refused with a message that asks
// for CSV, instead of running the function out of memory (the defaults
// suit a laptop, not a 256 MB function). memoryBytes 0 (unknown) gives the
// zero value, that is the defaults.
func XLSXLimitsForMemory(memoryBytes int64) XLSXLimits {
	if memoryBytes <= 0 {
		return XLSXLimits{}
	}
	return XLSXLimits{
		SharedStringBytes: max(memoryBytes/4, 1),
		SharedStrings:     int(min(max(memoryBytes/64, 1), DefaultXLSXSharedStrings)),
	}
}

// Format is what Open found.
type Format struct {
	Kind     string // "csv", "xlsx" or "blm"
	Encoding string // one of SupportedEncodings
	// EncodingConfidence is 1 when the encoding is certain (a BOM, UTF-16,
	// valid UTF-8, plain ASCII, or given in Options) and otherwise how sure
	// detection was of a legacy code page, 0..1.
	EncodingConfidence float64
	// EncodingAlternatives are the next likeliest code pages when the
	// encoding was guessed, best first.
	EncodingAlternatives Alternatives
	Delimiter            rune   // CSV and BLM field separator; 0 for XLSX
	Sheet                string // XLSX sheet name
	BOM                  bool   // a byte-order mark was present (and removed)
}

// Table is one header and its rows: a CSV file, a BLM feed or an XLSX sheet.
// A Table is not safe for concurrent use; the tables of one workbook may be
// read concurrently.
type Table interface {
	// Format reports the detected format. For a file that was pure ASCII
	// in the sniffed prefix, Encoding reads "utf-8" until the first
	// non-ASCII byte decides between UTF-8 and Windows-1252 (every byte
	// before it reads the same in both).
	Format() Format
	// Header returns the column names, trimmed of surrounding space.
	// Trailing blank header cells are dropped.
	Header() []string
	// Next returns the next row, or io.EOF after the last. Blank lines
	// and rows with no value at all are not rows. Row.Fields is reused
	// by the following call; the strings in it may be kept.
	//
	// Errors: EINVALID naming the line (or row) and column for malformed
	// input (an unterminated quote, a field or record over its cap,
	// bytes invalid in the encoding, an XLSX limit); EUNAVAILABLE when
	// the source cannot be read. After an error, Next returns it again.
	Next() (Row, error)
	// Close releases what Open acquired for the table (for XLSX, the
	// spooled copy once every table of the workbook is closed). It never
	// closes src. Next after Close fails with EINTERNAL.
	Close() error
}

// Row is one record.
type Row struct {
	// Line is where the record starts: the 1-based line of a text file
	// (a record with quoted line breaks spans several) or the XLSX row
	// number.
	Line   int
	Fields []string
}

// sniffBytes is how much of the file decides its format, encoding,
// delimiter and line ends.
const sniffBytes = 64 << 10

// Open reads the start of src, detects the format, encoding and delimiter
// (unless Options sets them) and returns the tables in it: one for a CSV,
// TSV or BLM file, one per visible, non-empty sheet for XLSX, each with its
// header already read. name is the file name, used in messages; its
// extension is not trusted, the content decides (PK\x03\x04 is XLSX, a
// leading #HEADER# is BLM, a PDF, an image, an archive or binary data is
// refused as Sniff refuses it, anything else is delimited text).
//
// XLSX needs random access. If src implements io.ReaderAt and has a size
// (Size() int64, as *bytes.Reader, *strings.Reader and *io.SectionReader
// do, or Stat, as *os.File does), Open reads it in place; otherwise it
// spools src to a temporary file, at most MaxXLSX.CompressedBytes, removed
// when the last table of the workbook is closed. Text formats stream src
// and never seek. Open does not close src; the tables read from it until
// they are done.
//
// Errors: EINVALID for an unknown encoding name, an unusable delimiter or
// a negative LineOffset in Options, an empty file, a blank header
// (naming the column; repeated names are disambiguated, see checkHeader), a malformed header line, an old binary
// .xls, a file Sniff refuses (a PDF, an image, a compressed file, binary
// data), a zip that is not a readable workbook, a workbook over a limit in
// MaxXLSX, a named Sheet that is missing or empty, or a workbook with no
// data; EUNAVAILABLE when src (or the temporary file) cannot be read or
// written.
func Open(src io.Reader, name string, o Options) ([]Table, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	prefix := make([]byte, sniffBytes)
	n, err := io.ReadFull(src, prefix)
	eof := false
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		eof = true
	case err != nil:
		return nil, readError(name, err)
	}
	prefix = prefix[:n]
	if n == 0 {
		return nil, emptyError(name)
	}
	if bytes.HasPrefix(prefix, []byte("PK\x03\x04")) {
		return openXLSX(src, prefix, eof, name, o)
	}
	// What is refused at upload is refused here too, with the same words:
	// a PDF, an image or random bytes would otherwise read as one garbled
	// column. A forced UTF-16 encoding is text by the caller's word, and
	// a chunk by its plan's (Options.Chunk).
	if enc, _, _ := parseEncoding(o.Encoding); enc != encUTF16LE && enc != encUTF16BE && !o.Chunk {
		if _, err := Sniff(prefix[:min(len(prefix), SniffBytes)], name); err != nil {
			return nil, err
		}
	}
	t, err := openText(src, prefix, eof, name, o)
	if err != nil {
		return nil, err
	}
	return []Table{t}, nil
}

func (o Options) withDefaults() (Options, error) {
	if o.MaxFieldBytes <= 0 {
		o.MaxFieldBytes = DefaultMaxFieldBytes
	}
	if o.MaxRecordBytes <= 0 {
		o.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if o.MaxFieldBytes > o.MaxRecordBytes {
		o.MaxFieldBytes = o.MaxRecordBytes
	}
	l := &o.MaxXLSX
	if l.CompressedBytes <= 0 {
		l.CompressedBytes = DefaultXLSXCompressedBytes
	}
	if l.UncompressedBytes <= 0 {
		l.UncompressedBytes = DefaultXLSXUncompressedBytes
	}
	if l.Ratio <= 0 {
		l.Ratio = DefaultXLSXRatio
	}
	if l.Entries <= 0 {
		l.Entries = DefaultXLSXEntries
	}
	if l.Cells <= 0 {
		l.Cells = DefaultXLSXCells
	}
	if l.SharedStrings <= 0 {
		l.SharedStrings = DefaultXLSXSharedStrings
	}
	if l.SharedStringBytes <= 0 {
		l.SharedStringBytes = DefaultXLSXSharedStringBytes
	}
	if d := o.Delimiter; d != 0 && (d >= 0x80 || d == '"' || d == '\r' || d == '\n' || d < 0) {
		return o, cutover.Errorf(cutover.EINVALID, "The delimiter %q cannot be used: choose a single ASCII character other than a quote or a line end, such as , ; | or tab.", d)
	}
	if _, _, err := parseEncoding(o.Encoding); err != nil {
		return o, err
	}
	if o.LineOffset < 0 {
		return o, cutover.Errorf(cutover.EINVALID, "The line offset %d cannot be used: it must not be negative.", o.LineOffset)
	}
	return o, nil
}

// fileName names the file in messages.
func fileName(name string) string {
	if name == "" {
		return "The file"
	}
	return name
}

// at prefixes a message with where it happened: "contacts.csv, line 12: ".
func at(name, unit string, n int) string {
	if name == "" {
		return fmt.Sprintf("%s%s %d: ", strings.ToUpper(unit[:1]), unit[1:], n)
	}
	return fmt.Sprintf("%s, %s %d: ", name, unit, n)
}

func emptyError(name string) error {
	return cutover.Errorf(cutover.EINVALID, "%s is empty: it has no header row.", fileName(name))
}

func readError(name string, err error) error {
	var ce *cutover.Error
	if errors.As(err, &ce) {
		return err
	}
	return cutover.Wrap(cutover.EUNAVAILABLE, err, "%s could not be read.", fileName(name))
}

// checkHeader trims the header, drops trailing blank cells (Excel leaves
// them behind formatted-but-empty columns), refuses blank names and
// disambiguates repeated ones. A mapping addresses columns by name, so a
// repeat would make one column unreachable; real exports repeat names
// legitimately (HubSpot writes the associated company's "Company name" and
// "Create Date" beside the contact's), so refusing them rejected whole
// files a person reads without trouble. The second and later copies of a
// name get " (2)", " (3)", ... in column order, skipping a suffix that
// another column already has, so the result is the same on every read of
// the same header. Names compare case-insensitively, as mappings do.
func checkHeader(fields []string, where string, column func(int) string) ([]string, error) {
	h := make([]string, len(fields))
	for i, f := range fields {
		h[i] = strings.TrimSpace(strings.TrimPrefix(f, "\uFEFF"))
	}
	for len(h) > 0 && h[len(h)-1] == "" {
		h = h[:len(h)-1]
	}
	taken := make(map[string]bool, len(h))
	for i, f := range h {
		if f == "" {
			return nil, cutover.Errorf(cutover.EINVALID, "%scolumn %s has a blank header.", where, column(i))
		}
		taken[strings.ToLower(f)] = true
	}
	seen := make(map[string]bool, len(h))
	for i, f := range h {
		k := strings.ToLower(f)
		if !seen[k] {
			seen[k] = true
			continue
		}
		for n := 2; ; n++ {
			c := fmt.Sprintf("%s (%d)", f, n)
			if kc := strings.ToLower(c); !taken[kc] {
				taken[kc], seen[kc] = true, true
				h[i] = c
				break
			}
		}
	}
	return h, nil
}

// BaseHeader is the name a column had in the export before Open
// disambiguated it: "Create Date (2)" gives "Create Date". Signatures and
// suggestions match on it, so that a repeated vendor column is still
// recognised for what it is; a name without such a suffix is returned
// unchanged. It never fails.
func BaseHeader(name string) string {
	if !strings.HasSuffix(name, ")") {
		return name
	}
	i := strings.LastIndex(name, " (")
	if i <= 0 {
		return name
	}
	n := name[i+2 : len(name)-1]
	if n == "" || n[0] == '0' || strings.Trim(n, "0123456789") != "" {
		return name
	}
	if v, err := strconv.Atoi(n); err != nil || v < 2 {
		return name
	}
	return name[:i]
}

// trimRagged drops empty cells beyond the header: spreadsheets write
// trailing delimiters for columns that were once formatted, and they carry
// no data. Cells with data stay, for the mapper to reject the row.
func trimRagged(fields []string, width int) []string {
	for len(fields) > width && fields[len(fields)-1] == "" {
		fields = fields[:len(fields)-1]
	}
	return fields
}

// columnNumber names a text column the way a person counts: from 1.
func columnNumber(i int) string { return strconv.Itoa(i + 1) }

var errClosed = cutover.Errorf(cutover.EINTERNAL, "The table was read after it was closed.")

// latch is what every table's Next shares: once the table is closed, or an
// error (io.EOF included) has ended it, Next keeps giving the same answer.
type latch struct {
	closed bool
	err    error
}

// ready returns the error that ended the table, if any.
func (l *latch) ready() error {
	if l.closed {
		return errClosed
	}
	return l.err
}

// fail ends the table with err and returns it.
func (l *latch) fail(err error) error {
	l.err = err
	return err
}
