package tabular

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

// maxColumns is Excel's own limit (XFD); a cell reference beyond it is
// corrupt, and refusing it stops one cell from padding a row to millions of
// empty fields.
const maxColumns = 16384

// workbook is what the sheets of one XLSX share: the zip, the limits and
// their running totals, the shared strings and the date styles.
type workbook struct {
	name      string
	zr        *zip.Reader
	files     map[string]*zip.File // by lower-cased path
	lim       XLSXLimits
	maxField  int
	maxRecord int
	total     atomic.Int64 // uncompressed bytes read
	cells     atomic.Int64

	shared     string   // every shared string, concatenated
	sharedEnds []uint32 // end of string i in shared
	dateKind   []dateKind
	date1904   bool

	mu      sync.Mutex
	refs    int
	cleanup func() error
}

type dateKind uint8

const (
	notDate dateKind = iota
	dateOnly
	dateTime
	timeOnly
)

// openXLSX reads the workbook structure and the header of each sheet.
func openXLSX(src io.Reader, prefix []byte, eof bool, name string, o Options) (tables []Table, err error) {
	ra, size, cleanup, err := randomAccess(src, prefix, eof, name, o.MaxXLSX.CompressedBytes)
	if err != nil {
		return nil, err
	}
	wb := &workbook{name: name, lim: o.MaxXLSX, maxField: o.MaxFieldBytes, maxRecord: o.MaxRecordBytes, cleanup: cleanup}
	defer func() {
		if err != nil {
			for _, t := range tables {
				_ = t.Close()
			}
			tables = nil
			if wb.refs == 0 && cleanup != nil {
				_ = cleanup()
			}
		}
	}()
	if size > wb.lim.CompressedBytes {
		return nil, wb.limitError("the workbook is %d bytes, over the limit of %d", size, wb.lim.CompressedBytes)
	}
	wbPath, sheets, err := wb.openDirectory(ra, size)
	if err != nil {
		return nil, err
	}
	dir := path.Dir(wbPath)
	rels, err := wb.rels(path.Join(dir, "_rels", path.Base(wbPath)+".rels"), dir)
	if err != nil {
		return nil, err
	}
	if err := wb.readStyles(rels.byTypeOr("/styles", path.Join(dir, "styles.xml"))); err != nil {
		return nil, err
	}
	if err := wb.readSharedStrings(rels.byTypeOr("/sharedStrings", path.Join(dir, "sharedStrings.xml"))); err != nil {
		return nil, err
	}

	var names []string
	found := false
	for _, s := range sheets {
		names = append(names, strconv.Quote(s.name))
		if o.Sheet != "" && !strings.EqualFold(o.Sheet, s.name) || o.Sheet == "" && s.hidden {
			continue
		}
		found = true
		target := rels.byID[s.rid]
		if target == "" {
			return nil, wb.corrupt(nil, fmt.Sprintf("sheet %q has no part", s.name))
		}
		t, err := wb.openSheet(s.name, target)
		if err != nil {
			return tables, err
		}
		if t == nil {
			if o.Sheet != "" {
				return tables, cutover.Errorf(cutover.EINVALID, "%s, sheet %q is empty: it has no header row.", fileName(name), s.name)
			}
			continue
		}
		wb.mu.Lock()
		wb.refs++
		wb.mu.Unlock()
		tables = append(tables, t)
	}
	switch {
	case o.Sheet != "" && !found:
		return tables, cutover.Errorf(cutover.EINVALID, "%s has no sheet named %q; its sheets are %s.", fileName(name), o.Sheet, strings.Join(names, ", "))
	case len(tables) == 0:
		return nil, cutover.Errorf(cutover.EINVALID, "%s is empty: no sheet has a header row.", fileName(name))
	}
	return tables, nil
}

// openDirectory reads the zip's directory and the workbook part: where the
// workbook is and which sheets it lists. It is everything CheckWorkbook
// needs to tell a workbook from another zip, and the first thing openXLSX does.
func (wb *workbook) openDirectory(ra io.ReaderAt, size int64) (wbPath string, sheets []sheetRef, err error) {
	wb.zr, err = zip.NewReader(ra, size)
	if err != nil {
		return "", nil, wb.corrupt(err, "it is not a valid zip archive")
	}
	if n := len(wb.zr.File); n > wb.lim.Entries {
		return "", nil, wb.limitError("it holds %d files, over the limit of %d", n, wb.lim.Entries)
	}
	wb.files = make(map[string]*zip.File, len(wb.zr.File))
	for _, f := range wb.zr.File {
		wb.files[strings.ToLower(strings.TrimPrefix(f.Name, "/"))] = f
	}
	wbPath = "xl/workbook.xml"
	if rels, err := wb.rels("_rels/.rels", ""); err != nil {
		return "", nil, err
	} else if p := rels.byType("/officeDocument"); p != "" {
		wbPath = p
	}
	if wb.files["[content_types].xml"] == nil && wb.files[strings.ToLower(wbPath)] == nil {
		return "", nil, wb.corrupt(nil, "it is a zip archive of other files (it has no "+wbPath+"); unzip it and upload the CSV or XLSX files inside")
	}
	sheets, err = wb.readWorkbook(wbPath)
	if err != nil {
		return "", nil, err
	}
	return wbPath, sheets, nil
}

type sizer interface{ Size() int64 }
type stater interface{ Stat() (fs.FileInfo, error) }

// randomAccess gives zip the io.ReaderAt it needs: src itself when it can
// (ReadAt does not depend on how much Open already read), the prefix when
// that is the whole file, otherwise a temporary file holding at most limit
// bytes, so an endless upload cannot fill the disk.
func randomAccess(src io.Reader, prefix []byte, eof bool, name string, limit int64) (io.ReaderAt, int64, func() error, error) {
	if eof {
		return bytes.NewReader(prefix), int64(len(prefix)), nil, nil
	}
	if ra, ok := src.(io.ReaderAt); ok {
		if s, ok := src.(sizer); ok {
			return ra, s.Size(), nil, nil
		}
		if s, ok := src.(stater); ok {
			if fi, err := s.Stat(); err == nil && fi.Mode().IsRegular() {
				return ra, fi.Size(), nil, nil
			}
		}
	}
	f, err := os.CreateTemp("", "cutover-xlsx-*")
	if err != nil {
		return nil, 0, nil, cutover.Wrap(cutover.EUNAVAILABLE, err, "%s could not be spooled to a temporary file.", fileName(name))
	}
	cleanup := func() error {
		err := f.Close()
		if rerr := os.Remove(f.Name()); err == nil {
			err = rerr
		}
		return err
	}
	n, err := f.Write(prefix)
	if err == nil {
		var m int64
		m, err = io.Copy(f, io.LimitReader(src, limit-int64(n)+1))
		n += int(m)
	}
	if err != nil {
		_ = cleanup()
		return nil, 0, nil, readError(name, err)
	}
	if int64(n) > limit {
		_ = cleanup()
		return nil, 0, nil, cutover.Errorf(cutover.EINVALID, "%s is not readable as an XLSX workbook within the limits: it is larger than %d bytes.", fileName(name), limit)
	}
	return f, int64(n), cleanup, nil
}

func (wb *workbook) limitError(format string, args ...any) error {
	return cutover.Errorf(cutover.EINVALID, "%s is not readable as an XLSX workbook within the limits: %s.", fileName(wb.name), fmt.Sprintf(format, args...))
}

// corrupt reports a workbook that cannot be read; a limit error from the
// part reader passes through as it is.
func (wb *workbook) corrupt(cause error, reason string) error {
	var ce *cutover.Error
	if errors.As(cause, &ce) {
		return cause
	}
	return cutover.Wrap(cutover.EINVALID, cause, "%s is not a readable XLSX workbook: %s.", fileName(wb.name), reason)
}

// part is one zip entry being decompressed under the limits.
type part struct {
	wb    *workbook
	f     *zip.File
	rc    io.ReadCloser
	n     int64
	token int64 // bytes since the decoder last returned a token
}

func (wb *workbook) open(p string) (*part, error) {
	f := wb.files[strings.ToLower(strings.TrimPrefix(p, "/"))]
	if f == nil {
		return nil, nil
	}
	if int64(f.UncompressedSize64) > wb.lim.UncompressedBytes || f.UncompressedSize64 > 1<<63-1 {
		return nil, wb.limitError("%s declares %d bytes uncompressed, over the limit of %d", f.Name, f.UncompressedSize64, wb.lim.UncompressedBytes)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, wb.corrupt(err, fmt.Sprintf("%s cannot be opened", f.Name))
	}
	return &part{wb: wb, f: f, rc: rc}, nil
}

// Read counts what comes out of the decompressor: the zip headers'
// sizes can lie, the byte count cannot.
func (p *part) Read(b []byte) (int, error) {
	n, err := p.rc.Read(b)
	p.n += int64(n)
	p.token += int64(n)
	lim := p.wb.lim
	if t := p.wb.total.Add(int64(n)); t > lim.UncompressedBytes {
		return 0, p.wb.limitError("its parts expand to more than %d bytes", lim.UncompressedBytes)
	}
	if p.n > 1<<20 && p.n > lim.Ratio*max(int64(p.f.CompressedSize64), 1) {
		return 0, p.wb.limitError("%s expands more than %d times its compressed size", p.f.Name, lim.Ratio)
	}
	// encoding/xml holds a whole token in memory; a token larger than a
	// record is either a bomb or a cell over the cap.
	if p.token > int64(p.wb.maxRecord)+64<<10 {
		return 0, cutover.Errorf(cutover.EINVALID, "%s, %s: an XML element is longer than the record limit of %d bytes.", fileName(p.wb.name), p.f.Name, p.wb.maxRecord)
	}
	if err != nil && err != io.EOF {
		return n, p.wb.corrupt(err, fmt.Sprintf("%s is damaged", p.f.Name))
	}
	return n, err
}

func (p *part) Close() error { return p.rc.Close() }

// decoder reads a part token by token, resetting the per-token count.
type decoder struct {
	p *part
	d *xml.Decoder
}

func (wb *workbook) decoder(p *part) *decoder {
	return &decoder{p: p, d: xml.NewDecoder(p)}
}

func (d *decoder) token() (xml.Token, error) {
	tok, err := d.d.RawToken()
	d.p.token = 0
	if err != nil && err != io.EOF {
		return nil, d.p.wb.corrupt(err, fmt.Sprintf("%s is not well-formed XML", d.p.f.Name))
	}
	return tok, err
}

func attr(e xml.StartElement, local string) string {
	for _, a := range e.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// relations is a part's relationships file: targets by id, and the first
// target by type.
type relations struct {
	byID   map[string]string
	byKind map[string]string
}

func (r relations) byType(suffix string) string {
	for k, v := range r.byKind {
		if strings.HasSuffix(k, suffix) {
			return v
		}
	}
	return ""
}

func (r relations) byTypeOr(suffix, fallback string) string {
	if v := r.byType(suffix); v != "" {
		return v
	}
	return fallback
}

func (wb *workbook) rels(p, base string) (relations, error) {
	r := relations{byID: map[string]string{}, byKind: map[string]string{}}
	pr, err := wb.open(p)
	if pr == nil || err != nil {
		return r, err
	}
	defer pr.Close()
	d := wb.decoder(pr)
	for {
		tok, err := d.token()
		if err == io.EOF {
			return r, nil
		}
		if err != nil {
			return r, err
		}
		e, ok := tok.(xml.StartElement)
		if !ok || e.Name.Local != "Relationship" || attr(e, "TargetMode") == "External" {
			continue
		}
		target := attr(e, "Target")
		if strings.HasPrefix(target, "/") {
			target = path.Clean(target[1:])
		} else {
			target = path.Join(base, target)
		}
		r.byID[attr(e, "Id")] = target
		if k := attr(e, "Type"); r.byKind[k] == "" {
			r.byKind[k] = target
		}
	}
}

type sheetRef struct {
	name, rid string
	hidden    bool
}

func (wb *workbook) readWorkbook(p string) ([]sheetRef, error) {
	pr, err := wb.open(p)
	if err != nil {
		return nil, err
	}
	if pr == nil {
		return nil, wb.corrupt(nil, "it has no "+p)
	}
	defer pr.Close()
	d := wb.decoder(pr)
	var sheets []sheetRef
	for {
		tok, err := d.token()
		if err == io.EOF {
			return sheets, nil
		}
		if err != nil {
			return nil, err
		}
		e, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch e.Name.Local {
		case "workbookPr":
			v := attr(e, "date1904")
			wb.date1904 = v == "1" || v == "true"
		case "sheet":
			s := sheetRef{name: attr(e, "name"), hidden: attr(e, "state") != "" && attr(e, "state") != "visible"}
			for _, a := range e.Attr {
				if a.Name.Local == "id" && a.Name.Space != "" {
					s.rid = a.Value
				}
			}
			sheets = append(sheets, s)
		}
	}
}

// readStyles records, per cell format index, whether the number format
// shows a date: XLSX stores dates as day counts, and only the style says
// that 45292 is 2024-01-01.
func (wb *workbook) readStyles(p string) error {
	pr, err := wb.open(p)
	if pr == nil || err != nil {
		return err
	}
	defer pr.Close()
	d := wb.decoder(pr)
	custom := map[int]dateKind{}
	inXfs := false
	for {
		tok, err := d.token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch e := tok.(type) {
		case xml.StartElement:
			switch e.Name.Local {
			case "numFmt":
				id, _ := strconv.Atoi(attr(e, "numFmtId"))
				custom[id] = classifyFormat(attr(e, "formatCode"))
			case "cellXfs":
				inXfs = true
			case "xf":
				if !inXfs {
					continue
				}
				id, _ := strconv.Atoi(attr(e, "numFmtId"))
				k, ok := custom[id]
				if !ok {
					k = builtinDateKind(id)
				}
				if len(wb.dateKind) >= maxColumns*4 {
					return wb.limitError("%s has more than %d cell formats", p, maxColumns*4)
				}
				wb.dateKind = append(wb.dateKind, k)
			}
		case xml.EndElement:
			if e.Name.Local == "cellXfs" {
				inXfs = false
			}
		}
	}
}

func builtinDateKind(id int) dateKind {
	switch {
	case id >= 14 && id <= 17, id >= 27 && id <= 31, id >= 34 && id <= 36, id >= 50 && id <= 58:
		return dateOnly
	case id >= 18 && id <= 21, id == 32, id == 33, id == 45, id == 47:
		return timeOnly
	case id == 22:
		return dateTime
	}
	return notDate
}

// classifyFormat reads a custom number format code the way Excel shows
// it: literal text ("..." and \x), colours and conditions ([Red]) do not
// count, elapsed time ([h]) is a duration rather than a date, and m is a
// month unless hours or seconds are shown.
func classifyFormat(code string) dateKind {
	code = strings.ToLower(code)
	if i := strings.IndexByte(code, ';'); i >= 0 {
		code = code[:i]
	}
	var b strings.Builder
	for i := 0; i < len(code); i++ {
		switch c := code[i]; c {
		case '"':
			j := strings.IndexByte(code[i+1:], '"')
			if j < 0 {
				i = len(code)
			} else {
				i += j + 1
			}
		case '[':
			j := strings.IndexByte(code[i+1:], ']')
			if j < 0 {
				return notDate
			}
			inner := code[i+1 : i+1+j]
			if strings.Trim(inner, "hms") == "" {
				return notDate
			}
			i += j + 1
		case '\\', '_', '*':
			i++
		default:
			b.WriteByte(c)
		}
	}
	s := strings.NewReplacer("general", "", "am/pm", "", "a/p", "").Replace(b.String())
	hasTime := strings.ContainsAny(s, "hs")
	hasDate := strings.ContainsAny(s, "yd") || strings.Contains(s, "m") && !hasTime
	switch {
	case hasDate && hasTime:
		return dateTime
	case hasDate:
		return dateOnly
	case hasTime:
		return timeOnly
	}
	return notDate
}

// readSharedStrings loads the table every text cell points into. It is
// the one part held in memory, so it has its own limits, and it is kept
// as one string with offsets: cells then cost a slice, not an allocation.
func (wb *workbook) readSharedStrings(p string) error {
	pr, err := wb.open(p)
	if pr == nil || err != nil {
		return err
	}
	defer pr.Close()
	d := wb.decoder(pr)
	var all strings.Builder
	var stack []string
	inSI := false
	for {
		tok, err := d.token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch e := tok.(type) {
		case xml.StartElement:
			stack = append(stack, e.Name.Local)
			if e.Name.Local == "si" {
				inSI = true
			}
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			if e.Name.Local == "si" && inSI {
				inSI = false
				if len(wb.sharedEnds) >= wb.lim.SharedStrings {
					return wb.limitError("its shared-string table has more than %d entries", wb.lim.SharedStrings)
				}
				wb.sharedEnds = append(wb.sharedEnds, uint32(all.Len()))
			}
		case xml.CharData:
			if !inSI || len(stack) == 0 || stack[len(stack)-1] != "t" || contains(stack, "rPh") {
				continue
			}
			if int64(all.Len()+len(e)) > wb.lim.SharedStringBytes || all.Len()+len(e) > math.MaxUint32 {
				return wb.limitError("its shared strings hold more than %d bytes", wb.lim.SharedStringBytes)
			}
			all.Write(e)
		}
	}
	wb.shared = all.String()
	return nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func (wb *workbook) sharedString(i int) (string, bool) {
	if i < 0 || i >= len(wb.sharedEnds) {
		return "", false
	}
	start := uint32(0)
	if i > 0 {
		start = wb.sharedEnds[i-1]
	}
	return wb.shared[start:wb.sharedEnds[i]], true
}

// unescapeX decodes Excel's _xHHHH_ escapes for control characters.
func unescapeX(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "_x")
		if i < 0 || i+7 > len(s) || s[i+6] != '_' {
			if i < 0 {
				b.WriteString(s)
				return b.String()
			}
			b.WriteString(s[:i+2])
			s = s[i+2:]
			continue
		}
		v, err := strconv.ParseUint(s[i+2:i+6], 16, 16)
		if err != nil {
			b.WriteString(s[:i+2])
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		b.WriteRune(rune(v))
		s = s[i+7:]
	}
}

// sheetTable streams one worksheet's rows.
type sheetTable struct {
	wb     *workbook
	sheet  string
	part   *part
	d      *decoder
	header []string
	fields []string
	row    int
	latch
	stack []string
	text  []byte
}

// openSheet opens a sheet and reads up to its header; nil means the sheet
// has no non-empty row.
func (wb *workbook) openSheet(name, target string) (*sheetTable, error) {
	pr, err := wb.open(target)
	if err != nil {
		return nil, err
	}
	if pr == nil {
		return nil, wb.corrupt(nil, fmt.Sprintf("sheet %q has no part %s", name, target))
	}
	t := &sheetTable{wb: wb, sheet: name, part: pr, d: wb.decoder(pr)}
	row, err := t.next()
	if err == io.EOF {
		_ = pr.Close()
		return nil, nil
	}
	if err != nil {
		_ = pr.Close()
		return nil, err
	}
	h, err := checkHeader(row.Fields, t.where(row.Line), columnName)
	if err != nil {
		_ = pr.Close()
		return nil, err
	}
	t.header = h
	return t, nil
}

func (t *sheetTable) where(row int) string {
	return fmt.Sprintf("%s, sheet %q, row %d: ", fileName(t.wb.name), t.sheet, row)
}

func (t *sheetTable) Format() Format {
	return Format{Kind: "xlsx", Encoding: "utf-8", EncodingConfidence: 1, Sheet: t.sheet}
}

func (t *sheetTable) Header() []string { return t.header }

func (t *sheetTable) Close() error {
	if t.closed {
		return nil
	}
	t.closed = true
	// A damaged part's decompressor repeats its error on Close; Next
	// has reported it already.
	_ = t.part.Close()
	var err error
	wb := t.wb
	wb.mu.Lock()
	wb.refs--
	last := wb.refs == 0
	wb.mu.Unlock()
	if last && wb.cleanup != nil {
		if cerr := wb.cleanup(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return cutover.Wrap(cutover.EUNAVAILABLE, err, "%s could not be closed.", fileName(wb.name))
	}
	return nil
}

func (t *sheetTable) Next() (Row, error) {
	if err := t.ready(); err != nil {
		return Row{}, err
	}
	row, err := t.next()
	if err != nil {
		return Row{}, t.fail(err)
	}
	if n := len(t.header); len(row.Fields) < n {
		for len(row.Fields) < n {
			row.Fields = append(row.Fields, "")
		}
		t.fields = row.Fields
	} else {
		row.Fields = trimRagged(row.Fields, n)
	}
	return row, nil
}

// next returns the next row that has a value.
func (t *sheetTable) next() (Row, error) {
	for {
		tok, err := t.d.token()
		if err != nil {
			return Row{}, err
		}
		e, ok := tok.(xml.StartElement)
		if !ok || e.Name.Local != "row" {
			continue
		}
		r := t.row + 1
		if v := attr(e, "r"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= t.row || n > 1<<20 {
				// Rows are in ascending order, up to Excel's 1,048,576.
				return Row{}, t.wb.corrupt(nil, fmt.Sprintf("sheet %q has a row numbered %q after row %d", t.sheet, v, t.row))
			}
			r = n
		}
		t.row = r
		fields, err := t.readRow()
		if err != nil {
			return Row{}, err
		}
		for _, f := range fields {
			if f != "" {
				return Row{Line: r, Fields: fields}, nil
			}
		}
	}
}

// readRow reads the cells of the current <row>, placing each at the
// column its reference names: empty cells are absent from the XML.
func (t *sheetTable) readRow() ([]string, error) {
	f := t.fields[:0]
	size := 0
	col := -1
	for {
		tok, err := t.d.token()
		if err == io.EOF {
			return nil, t.wb.corrupt(nil, fmt.Sprintf("sheet %q ends inside row %d", t.sheet, t.row))
		}
		if err != nil {
			return nil, err
		}
		switch e := tok.(type) {
		case xml.EndElement:
			if e.Name.Local == "row" {
				t.fields = f
				return f, nil
			}
		case xml.StartElement:
			if e.Name.Local != "c" {
				continue
			}
			col++
			if ref := attr(e, "r"); ref != "" {
				c, ok := columnIndex(ref)
				if !ok {
					return nil, t.wb.corrupt(nil, fmt.Sprintf("sheet %q row %d has a cell reference %q", t.sheet, t.row, ref))
				}
				col = c
			}
			if col >= maxColumns {
				return nil, t.wb.corrupt(nil, fmt.Sprintf("sheet %q row %d has a cell beyond column XFD", t.sheet, t.row))
			}
			if t.wb.cells.Add(1) > t.wb.lim.Cells {
				return nil, t.wb.limitError("it has more than %d cells", t.wb.lim.Cells)
			}
			v, err := t.readCell(e, col)
			if err != nil {
				return nil, err
			}
			if v == "" {
				continue
			}
			if len(v) > t.wb.maxField {
				return nil, cutover.Errorf(cutover.EINVALID, "%sthe cell in column %s is longer than the limit of %d bytes.", t.where(t.row), columnName(col), t.wb.maxField)
			}
			if size += len(v); size > t.wb.maxRecord {
				return nil, cutover.Errorf(cutover.EINVALID, "%sthe row is longer than the limit of %d bytes.", t.where(t.row), t.wb.maxRecord)
			}
			for len(f) <= col {
				f = append(f, "")
			}
			f[col] = v
		}
	}
}

// readCell reads a <c> element's value and renders it as text.
func (t *sheetTable) readCell(c xml.StartElement, col int) (string, error) {
	typ := attr(c, "t")
	style := -1
	if s := attr(c, "s"); s != "" {
		style, _ = strconv.Atoi(s)
	}
	t.stack = t.stack[:0]
	t.text = t.text[:0]
	var v []byte
	inline := false
	for {
		tok, err := t.d.token()
		if err == io.EOF {
			return "", t.wb.corrupt(nil, fmt.Sprintf("sheet %q ends inside a cell", t.sheet))
		}
		if err != nil {
			return "", err
		}
		switch e := tok.(type) {
		case xml.StartElement:
			t.stack = append(t.stack, e.Name.Local)
			if e.Name.Local == "is" {
				inline = true
			}
		case xml.EndElement:
			if len(t.stack) == 0 {
				goto done // </c>
			}
			t.stack = t.stack[:len(t.stack)-1]
		case xml.CharData:
			if len(t.stack) == 0 {
				continue
			}
			switch top := t.stack[len(t.stack)-1]; {
			case top == "v" && len(t.stack) == 1:
				v = append(v, e...)
			case top == "t" && contains(t.stack, "is") && !contains(t.stack, "rPh"):
				t.text = append(t.text, e...)
			}
		}
		if len(t.text)+len(v) > t.wb.maxField {
			return "", cutover.Errorf(cutover.EINVALID, "%sthe cell in column %s is longer than the limit of %d bytes.", t.where(t.row), columnName(col), t.wb.maxField)
		}
	}
done:
	switch typ {
	case "s":
		i, err := strconv.Atoi(strings.TrimSpace(string(v)))
		s, ok := t.wb.sharedString(i)
		if err != nil || !ok {
			return "", t.wb.corrupt(nil, fmt.Sprintf("sheet %q cell %s%d points at shared string %q, which does not exist", t.sheet, columnName(col), t.row, v))
		}
		return unescapeX(s), nil
	case "inlineStr":
		return unescapeX(string(t.text)), nil
	case "b":
		switch strings.TrimSpace(string(v)) {
		case "1":
			return "TRUE", nil
		case "0":
			return "FALSE", nil
		}
		return string(v), nil
	case "", "n":
		if inline {
			return unescapeX(string(t.text)), nil
		}
		if style >= 0 && style < len(t.wb.dateKind) && t.wb.dateKind[style] != notDate && len(v) > 0 {
			if s, ok := excelDate(string(v), t.wb.dateKind[style], t.wb.date1904); ok {
				return s, nil
			}
		}
	}
	return string(v), nil
}

// excelDate renders a serial day number in ISO 8601, as much of it as the
// cell's format shows.
func excelDate(v string, k dateKind, date1904 bool) (string, bool) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f >= 2958466 { // 2958466 is 10000-01-01
		return "", false
	}
	days := math.Floor(f)
	secs := math.Round((f - days) * 86400)
	epoch := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	if date1904 {
		epoch = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)
	} else if days < 60 {
		// Excel keeps Lotus 1-2-3's 29 February 1900, so serials before
		// it are one day later than a plain count says.
		days++
	}
	tm := epoch.AddDate(0, 0, int(days)).Add(time.Duration(secs) * time.Second)
	switch k {
	case dateOnly:
		return tm.Format("2006-01-02"), true
	case timeOnly:
		return tm.Format("15:04:05"), true
	}
	return tm.Format("2006-01-02T15:04:05"), true
}

// columnIndex turns "AB12" into 27.
func columnIndex(ref string) (int, bool) {
	n, i := 0, 0
	for ; i < len(ref); i++ {
		c := ref[i] | 0x20
		if c < 'a' || c > 'z' {
			break
		}
		n = n*26 + int(c-'a'+1)
		if n > maxColumns {
			return maxColumns, true
		}
	}
	if i == 0 {
		return 0, false
	}
	return n - 1, true
}

func columnName(i int) string {
	var b []byte
	for i++; i > 0; i = (i - 1) / 26 {
		b = append([]byte{byte('A' + (i-1)%26)}, b...)
	}
	return string(b)
}
