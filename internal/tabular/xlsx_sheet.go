package tabular

// The sheet stream: a worksheet's rows read one at a time, each cell
// placed at its column and rendered as text.

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/cutover/cutover/internal/cutover"
)

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
