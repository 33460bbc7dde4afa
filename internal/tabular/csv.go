package tabular

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/bits"

	"github.com/cutover/cutover/internal/cutover"
)

// textBuf is the decoded text in one buffer that only grows to hold the
// largest record (up to the record cap), so records can be parsed in place
// with bytes.IndexByte and without per-field copies.
type textBuf struct {
	rd  io.Reader
	buf []byte
	r   int // start of unread text
	w   int // end of text
	eof bool
	max int
}

// fill compacts the buffer, grows it if the unread text already fills it,
// and reads until it is full or the input ends. Reading until full is what
// keeps re-parsing a long record linear: every retry sees a buffer at least
// twice the size of the last.
func (b *textBuf) fill() error {
	if b.r > 0 {
		b.w = copy(b.buf, b.buf[b.r:b.w])
		b.r = 0
	}
	if len(b.buf)-b.w < minRead && len(b.buf) < b.max {
		nb := make([]byte, min(max(2*len(b.buf), 64<<10), b.max))
		copy(nb, b.buf[:b.w])
		b.buf = nb
	}
	for !b.eof && len(b.buf)-b.w >= minRead {
		n, err := b.rd.Read(b.buf[b.w:])
		b.w += n
		if err == io.EOF {
			b.eof = true
		} else if err != nil {
			return err
		}
	}
	return nil
}

// errNeedMore asks the caller to fill the buffer and parse the record
// again from its start.
var errNeedMore = errors.New("need more input")

// openText reads a delimited or BLM file. prefix holds the first bytes of
// src, already read.
func openText(src io.Reader, prefix []byte, eof bool, name string, o Options) (Table, error) {
	enc, set, _ := parseEncoding(o.Encoding)
	var bom int
	var undecided bool
	var g *guess
	if set {
		for e, b := range map[encoding][]byte{encUTF8: bomUTF8, encUTF16LE: bomUTF16LE, encUTF16BE: bomUTF16BE} {
			if e == enc && bytes.HasPrefix(prefix, b) {
				bom = len(b)
			}
		}
	} else {
		enc, bom, undecided, g = detectEncoding(prefix, eof)
		if g != nil && g.confidence < LowConfidence && !o.AllowUncertainEncoding {
			return nil, uncertainError(name, *g)
		}
	}
	var rest io.Reader = bytes.NewReader(prefix[bom:])
	if !eof {
		rest = io.MultiReader(rest, src)
	}
	tr := &textReader{src: rest, name: name, enc: enc, ascii: undecided, raw: int64(bom), guess: g, strict: !o.AllowUncertainEncoding}
	b := &textBuf{rd: tr, max: o.MaxRecordBytes + 64<<10}
	if err := b.fill(); err != nil {
		return nil, err
	}
	f := Format{Kind: "csv", BOM: bom > 0}
	lead := bytes.TrimLeft(b.buf[b.r:b.w], " \t\r\n")
	if bytes.HasPrefix(lead, []byte("#HEADER#")) {
		f.Kind = "blm"
		return openBLM(b, tr, f, name, o)
	}
	t := &csvTable{
		name: name, b: b, tr: tr, format: f,
		maxField: o.MaxFieldBytes, maxRecord: o.MaxRecordBytes,
		line: 1, nl: '\n', delim: byte(o.Delimiter),
	}
	sample := b.buf[b.r:b.w]
	if bytes.IndexByte(sample, '\n') < 0 && bytes.IndexByte(sample, '\r') >= 0 {
		t.nl = '\r' // classic Mac line ends
	}
	if t.delim == 0 {
		t.delim = sniffDelimiter(sample, t.nl)
	}
	t.format.Delimiter = rune(t.delim)
	row, err := t.Next()
	if err == io.EOF {
		return nil, emptyError(name)
	}
	if err != nil {
		return nil, err
	}
	h, err := checkHeader(row.Fields, at(name, "line", row.Line), columnNumber)
	if err != nil {
		return nil, err
	}
	t.header = h
	t.line += o.LineOffset // every line from here on is a line of the whole file
	return t, nil
}

// sniffDelimiter picks the candidate that splits the first records into
// the same number of fields, most often, preferring more fields and then
// the order , tab ; |. Counting one line only would be fooled by a header
// such as "Name;Address, City".
func sniffDelimiter(sample []byte, nl byte) byte {
	best, bestScore, bestWidth := byte(','), 0, 0
	for _, d := range []byte{',', '\t', ';', '|'} {
		counts := countPerRecord(sample, d, nl, 20)
		if len(counts) == 0 || counts[0] == 0 {
			continue
		}
		score := 0
		for _, c := range counts {
			if c == counts[0] {
				score++
			}
		}
		if score > bestScore || score == bestScore && counts[0] > bestWidth {
			best, bestScore, bestWidth = d, score, counts[0]
		}
	}
	return best
}

// countPerRecord counts d outside quotes in each of the first n complete
// records of sample.
func countPerRecord(sample []byte, d, nl byte, n int) []int {
	var counts []int
	c, quoted := 0, false
	for _, ch := range sample {
		switch {
		case ch == '"':
			quoted = !quoted
		case quoted:
		case ch == d:
			c++
		case ch == nl:
			counts = append(counts, c)
			if len(counts) == n {
				return counts
			}
			c = 0
		}
	}
	if c > 0 || len(counts) == 0 {
		counts = append(counts, c)
	}
	return counts
}

// csvTable reads RFC 4180 text: fields split by a delimiter, records by
// CRLF, LF or CR; a field that starts with a quote runs to the matching
// quote, with "" for a quote and line breaks and delimiters kept. Outside
// that it is lenient the way Excel is: a quote inside an unquoted field is
// data, and text after a closing quote joins the field.
type csvTable struct {
	name      string
	b         *textBuf
	tr        *textReader
	format    Format
	header    []string
	delim     byte
	nl        byte
	maxField  int
	maxRecord int

	line   int // line of b.buf[b.r]
	fields []string
	rec    []byte
	ends   []int
	spans  []span
	latch
}

func (t *csvTable) Format() Format {
	return t.tr.format(t.format)
}

func (t *csvTable) Header() []string { return t.header }

func (t *csvTable) Close() error {
	t.closed = true
	t.b.buf, t.rec = nil, nil
	return nil
}

func (t *csvTable) Next() (Row, error) {
	if err := t.ready(); err != nil {
		return Row{}, err
	}
	for {
		line, err := t.parse()
		if err == nil {
			if t.header != nil {
				t.fields = trimRagged(t.fields, len(t.header))
			}
			return Row{Line: line, Fields: t.fields}, nil
		}
		if err == errNeedMore {
			if t.b.w-t.b.r > t.maxRecord {
				err = t.errRecord(t.line)
			} else {
				err = t.b.fill()
			}
		}
		if err != nil {
			if err != io.EOF {
				err = readError(t.name, err)
			}
			return Row{}, t.fail(err)
		}
	}
}

// parse reads one record at b.buf[b.r:] into t.fields and returns the
// line it starts on. A record of plain fields on one line — the bulk of
// any export — costs two IndexByte scans and one string; anything with a
// quote, or cut off by the end of the buffer, takes parseSlow.
func (t *csvTable) parse() (int, error) {
	b := t.b
	for {
		if b.r == b.w {
			if b.eof {
				return 0, io.EOF
			}
			return 0, errNeedMore
		}
		data := b.buf[b.r:b.w]
		i := bytes.IndexByte(data, t.nl)
		if i < 0 {
			break
		}
		ln := data[:i]
		if t.nl == '\n' && len(ln) > 0 && ln[len(ln)-1] == '\r' {
			ln = ln[:len(ln)-1]
		}
		if len(ln) == 0 {
			b.r += i + 1
			t.line++
			continue
		}
		if bytes.IndexByte(ln, '"') >= 0 {
			break
		}
		if err := t.split(ln); err != nil {
			return 0, err
		}
		b.r += i + 1
		t.line++
		return t.line - 1, nil
	}
	for {
		line, err := t.parseSlow()
		if err != errBlank {
			return line, err
		}
		if b.r == b.w && b.eof {
			return 0, io.EOF
		}
	}
}

// split splits a line without quotes.
func (t *csvTable) split(ln []byte) error {
	ends := t.ends[:0]
	for pos := 0; ; {
		j := indexByte(ln[pos:], t.delim)
		if j < 0 {
			j = len(ln) - pos
		}
		if j > t.maxField {
			return t.errField(t.line, len(ends)+1, false)
		}
		pos += j
		ends = append(ends, pos)
		if pos == len(ln) {
			break
		}
		pos++
	}
	t.ends = ends
	if len(ln) > t.maxRecord {
		return t.errRecord(t.line)
	}
	s := string(ln)
	f := t.fields[:0]
	start := 0
	for _, e := range ends {
		f = append(f, s[start:e])
		start = e + 1
	}
	t.fields = f
	return nil
}

var errBlank = errors.New("blank line")

// span is a field: bytes [start, end) of the record's raw text, or, when
// esc is set, of t.rec, where fields that needed unescaping ("" or text
// after a closing quote) were copied.
type span struct {
	start, end int
	esc        bool
}

// parseSlow is the state machine for records with quotes or records that
// run past the buffered text. It starts from b.r every time: state is never
// kept across refills, which keeps it simple, and fill doubles the buffer
// so the rescans stay linear. Fields point into one string of the record's
// raw text; only a field with a doubled quote is copied.
func (t *csvTable) parseSlow() (int, error) {
	b := t.b
	buf := b.buf[:b.w]
	w := b.w
	r := b.r
	pos := r
	lines := 0
	rec := t.rec[:0]
	spans := t.spans[:0]
	nlAt := w // the first line end at or after pos, or w if none is buffered
	if k := bytes.IndexByte(buf[pos:], t.nl); k >= 0 {
		nlAt = pos + k
	}
	firstQuoted := false
	for {
		col := len(spans) + 1
		quoted := pos < w && buf[pos] == '"'
		if col == 1 {
			firstQuoted = quoted
		}
		f := span{start: pos - r}
		if quoted {
			fieldLine := t.line + lines
			pos++
			f.start = pos - r
			escStart := 0
			for {
				j := indexByte(buf[pos:], '"')
				if j < 0 {
					if b.eof {
						return 0, t.errQuote(fieldLine, col)
					}
					if w-(f.start+r) > t.maxField {
						return 0, t.errField(fieldLine, col, true)
					}
					return 0, errNeedMore
				}
				q := pos + j
				if q > nlAt {
					lines += bytes.Count(buf[pos:q], []byte{t.nl})
				}
				if q+1 == w && !b.eof {
					return 0, errNeedMore // "" or the end of the field?
				}
				if q+1 < w && buf[q+1] == '"' {
					if !f.esc {
						f.esc = true
						escStart = len(rec)
						rec = append(rec, buf[f.start+r:q+1]...)
					} else {
						rec = append(rec, buf[pos:q+1]...)
					}
					pos = q + 2
					continue
				}
				if f.esc {
					rec = append(rec, buf[pos:q]...)
					f.start, f.end = escStart, len(rec)
				} else {
					f.end = q - r
				}
				pos = q + 1
				break
			}
			if f.end-f.start > t.maxField {
				return 0, t.errField(fieldLine, col, true)
			}
		}
		if nlAt < pos {
			if k := bytes.IndexByte(buf[pos:], t.nl); k >= 0 {
				nlAt = pos + k
			} else {
				nlAt = w
			}
		}
		end := nlAt
		k := -1
		if pos < nlAt && buf[pos] == t.delim {
			k = 0
		} else if pos < nlAt {
			k = indexByte(buf[pos:nlAt], t.delim)
		}
		if k >= 0 {
			end = pos + k
		} else if end == w && !b.eof {
			if w-pos > t.maxField {
				return 0, t.errField(t.line+lines, col, quoted)
			}
			return 0, errNeedMore
		}
		tail := end
		if k < 0 && t.nl == '\n' && tail > pos && buf[tail-1] == '\r' {
			tail--
		}
		switch {
		case !quoted:
			f.end = tail - r
		case tail > pos:
			// Text after a closing quote joins the field, as in Excel.
			if !f.esc {
				rec = append(rec, buf[f.start+r:f.end+r]...)
				f.esc = true
				f.start = len(rec) - (f.end - f.start)
			}
			rec = append(rec, buf[pos:tail]...)
			f.end = len(rec)
		}
		if f.end-f.start > t.maxField {
			return 0, t.errField(t.line+lines, col, quoted)
		}
		spans = append(spans, f)
		pos = end
		if k >= 0 {
			pos++
			continue
		}
		if pos < w {
			pos++
			lines++
		}
		break
	}
	t.rec, t.spans = rec, spans
	if len(spans) == 1 && spans[0].end == spans[0].start && !firstQuoted {
		b.r = pos
		t.line += lines
		return 0, errBlank
	}
	if pos-r > t.maxRecord {
		return 0, t.errRecord(t.line)
	}
	s := string(buf[r:pos])
	var e string
	if len(rec) > 0 {
		e = string(rec)
	}
	fields := t.fields[:0]
	for _, f := range spans {
		if f.esc {
			fields = append(fields, e[f.start:f.end])
		} else {
			fields = append(fields, s[f.start:f.end])
		}
	}
	t.fields = fields
	line := t.line
	t.line += lines
	b.r = pos
	return line, nil
}

func (t *csvTable) errQuote(line, col int) error {
	return cutover.Errorf(cutover.EINVALID, "%sthe quoted field in column %d that starts on this line is never closed.", at(t.name, "line", line), col)
}

func (t *csvTable) errField(line, col int, quoted bool) error {
	hint := ""
	if quoted {
		hint = "; a closing quote is probably missing"
	}
	return cutover.Errorf(cutover.EINVALID, "%sthe field in column %d is longer than the limit of %d bytes%s.", at(t.name, "line", line), col, t.maxField, hint)
}

func (t *csvTable) errRecord(line int) error {
	return cutover.Errorf(cutover.EINVALID, "%sthe record that starts on this line is longer than the limit of %d bytes.", at(t.name, "line", line), t.maxRecord)
}

// indexByte is bytes.IndexByte for fields, which are mostly short: eight
// bytes at a time in a register beats the call and setup of the vector
// search until the field turns out to be long.
func indexByte(b []byte, c byte) int {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	pat := lo * uint64(c)
	i := 0
	for ; i+8 <= len(b) && i < 32; i += 8 {
		x := binary.LittleEndian.Uint64(b[i:]) ^ pat
		// The lowest set bit marks the first zero byte, the first match.
		if t := (x - lo) &^ x & hi; t != 0 {
			return i + bits.TrailingZeros64(t)/8
		}
	}
	if i == 32 {
		if j := bytes.IndexByte(b[i:], c); j >= 0 {
			return i + j
		}
		return -1
	}
	for ; i < len(b); i++ {
		if b[i] == c {
			return i
		}
	}
	return -1
}
