package tabular

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

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

type (
	sizer  interface{ Size() int64 }
	stater interface{ Stat() (fs.FileInfo, error) }
)

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
