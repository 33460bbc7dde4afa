package tabular

import (
	"bytes"
	"io"
	"strings"

	"github.com/cutover/cutover/internal/cutover"
)

// blmTable reads a Rightmove BLM v3 feed: a #HEADER# section of
// "Key : value" lines that names the field separator (EOF) and record
// terminator (EOR), a #DEFINITION# record of field names, then #DATA#
// records up to #END#. Records end at the EOR character, not at a line
// end, so descriptions may span lines; the terminator is usually written
// after a trailing field separator ("...^~"), which does not make a field.
type blmTable struct {
	name      string
	b         *textBuf
	tr        *textReader
	format    Format
	header    []string
	sep, eor  byte
	maxField  int
	maxRecord int
	line      int
	fields    []string
	latch
}

func openBLM(b *textBuf, tr *textReader, f Format, name string, o Options) (Table, error) {
	t := &blmTable{
		name: name, b: b, tr: tr, format: f, sep: '^', eor: '~',
		maxField: o.MaxFieldBytes, maxRecord: o.MaxRecordBytes, line: 1,
	}
	// The header section: lines up to #DEFINITION#.
	for {
		ln, line, err := t.readLine()
		if err == io.EOF {
			return nil, cutover.Errorf(cutover.EINVALID, "%s is a BLM file without a #DEFINITION# section.", fileName(name))
		}
		if err != nil {
			return nil, err
		}
		s := strings.TrimSpace(ln)
		if strings.EqualFold(s, "#DEFINITION#") {
			break
		}
		key, val, ok := strings.Cut(s, ":")
		if !ok {
			continue
		}
		key = strings.ToUpper(strings.TrimSpace(key))
		if key != "EOF" && key != "EOR" {
			continue
		}
		val = strings.Trim(strings.TrimSpace(val), "'\"")
		if len(val) != 1 || val[0] >= 0x80 || val[0] == '\n' || val[0] == '\r' {
			return nil, cutover.Errorf(cutover.EINVALID, "%sthe BLM %s character must be one ASCII character, not %q.", at(name, "line", line), key, val)
		}
		if key == "EOF" {
			t.sep = val[0]
		} else {
			t.eor = val[0]
		}
	}
	if t.sep == t.eor {
		return nil, cutover.Errorf(cutover.EINVALID, "%s: the BLM header gives the same character for EOF and EOR.", fileName(name))
	}
	t.format.Delimiter = rune(t.sep)
	row, err := t.Next()
	if err == io.EOF {
		return nil, cutover.Errorf(cutover.EINVALID, "%s is a BLM file with an empty #DEFINITION# section.", fileName(name))
	}
	if err != nil {
		return nil, err
	}
	h, err := checkHeader(row.Fields, at(name, "line", row.Line), columnNumber)
	if err != nil {
		return nil, err
	}
	ln, line, err := t.readLine()
	if err == nil && !strings.EqualFold(strings.TrimSpace(ln), "#DATA#") {
		return nil, cutover.Errorf(cutover.EINVALID, "%sexpected #DATA# after the BLM definition, found %q.", at(name, "line", line), clip(ln, 40))
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	t.header = h
	return t, nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// readLine returns the next non-blank line of the header sections.
func (t *blmTable) readLine() (string, int, error) {
	b := t.b
	for {
		data := b.buf[b.r:b.w]
		i := bytes.IndexByte(data, '\n')
		if i < 0 && !b.eof {
			if len(data) > t.maxRecord {
				return "", 0, cutover.Errorf(cutover.EINVALID, "%sthe line is longer than the limit of %d bytes.", at(t.name, "line", t.line), t.maxRecord)
			}
			if err := b.fill(); err != nil {
				return "", 0, readError(t.name, err)
			}
			continue
		}
		if i < 0 {
			if len(data) == 0 {
				return "", 0, io.EOF
			}
			i = len(data)
		}
		ln := strings.TrimSpace(string(data[:i]))
		line := t.line
		b.r += min(i+1, len(data))
		t.line++
		if ln != "" {
			return ln, line, nil
		}
	}
}

func (t *blmTable) Format() Format {
	return t.tr.format(t.format)
}

func (t *blmTable) Header() []string { return t.header }

func (t *blmTable) Close() error {
	t.closed = true
	t.b.buf = nil
	return nil
}

func (t *blmTable) Next() (Row, error) {
	if err := t.ready(); err != nil {
		return Row{}, err
	}
	row, err := t.next()
	if err != nil {
		return Row{}, t.fail(err)
	}
	return row, nil
}

func (t *blmTable) next() (Row, error) {
	b := t.b
	for {
		// Line ends between records are layout, not data.
		for b.r < b.w && (b.buf[b.r] == '\n' || b.buf[b.r] == '\r') {
			if b.buf[b.r] == '\n' {
				t.line++
			}
			b.r++
		}
		data := b.buf[b.r:b.w]
		if len(data) < len("#END#") && !b.eof {
			if err := b.fill(); err != nil {
				return Row{}, readError(t.name, err)
			}
			continue
		}
		// A feed cut off before #END# ends where its last record does.
		if len(data) == 0 || bytes.HasPrefix(data, []byte("#END#")) {
			return Row{}, io.EOF
		}
		i := bytes.IndexByte(data, t.eor)
		if i < 0 {
			if b.eof {
				return Row{}, cutover.Errorf(cutover.EINVALID, "%sthe record that starts on this line does not end with the end-of-record character %q; is the file cut short?", at(t.name, "line", t.line), t.eor)
			}
			last := data[bytes.LastIndexByte(data, t.sep)+1:]
			if len(last) > t.maxField {
				return Row{}, t.errField(t.line, bytes.Count(data, []byte{t.sep})+1)
			}
			if len(data) > t.maxRecord {
				return Row{}, t.errRecord(t.line)
			}
			if err := b.fill(); err != nil {
				return Row{}, readError(t.name, err)
			}
			continue
		}
		rec := data[:i]
		if len(rec) > t.maxRecord {
			return Row{}, t.errRecord(t.line)
		}
		s := string(rec)
		f := t.fields[:0]
		for {
			j := strings.IndexByte(s, t.sep)
			if j < 0 {
				f = append(f, s)
				break
			}
			f = append(f, s[:j])
			s = s[j+1:]
		}
		if len(f) > 1 && f[len(f)-1] == "" {
			f = f[:len(f)-1]
		}
		for k, v := range f {
			if len(v) > t.maxField {
				return Row{}, t.errField(t.line, k+1)
			}
		}
		line := t.line
		t.line += bytes.Count(rec, []byte{'\n'})
		b.r += i + 1
		if t.header != nil {
			f = trimRagged(f, len(t.header))
		}
		t.fields = f
		return Row{Line: line, Fields: f}, nil
	}
}

func (t *blmTable) errField(line, col int) error {
	return cutover.Errorf(cutover.EINVALID, "%sthe field in column %d is longer than the limit of %d bytes.", at(t.name, "line", line), col, t.maxField)
}

func (t *blmTable) errRecord(line int) error {
	return cutover.Errorf(cutover.EINVALID, "%sthe record that starts on this line is longer than the limit of %d bytes.", at(t.name, "line", line), t.maxRecord)
}
