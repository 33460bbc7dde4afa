package mapping

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"

	"github.com/cutover/cutover/internal/cutover"
)

// MaxFieldBytes caps one field, so a stray quote cannot swallow the file.
const MaxFieldBytes = 1 << 20

// Reader streams a delimited export: a header row, then records. It keeps
// only the current record in memory.
type Reader struct {
	csv    *csv.Reader
	header []string
	Comma  rune
}

// NewReader reads the header of a CSV export. It strips a UTF-8 byte-order
// mark and detects the delimiter (comma, semicolon, tab or pipe) from the
// header line.
//
// Errors: EINVALID when the file is empty, the header cannot be parsed, or a
// header is blank or repeated (the message names the column).
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	first, _ := br.Peek(8 << 10)
	comma := sniffDelimiter(first)
	cr := csv.NewReader(br)
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, cutover.Errorf(cutover.EINVALID, "The file is empty: it has no header row.")
	}
	if err != nil {
		return nil, parseError(err)
	}
	header = append([]string(nil), header...)
	seen := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		header[i] = h
		if h == "" {
			return nil, cutover.Errorf(cutover.EINVALID, "Column %d has a blank header.", i+1)
		}
		if j, dup := seen[strings.ToLower(h)]; dup {
			return nil, cutover.Errorf(cutover.EINVALID, "Columns %d and %d have the same header %q.", j+1, i+1, h)
		}
		seen[strings.ToLower(h)] = i
	}
	return &Reader{csv: cr, header: header, Comma: comma}, nil
}

// Header returns the trimmed header row.
func (r *Reader) Header() []string { return r.header }

// Next returns the next record and the line it starts on. The slice is
// reused by the following call. It returns io.EOF after the last record.
//
// Errors: EINVALID, naming the line, when the CSV is malformed or a field
// exceeds MaxFieldBytes.
func (r *Reader) Next() ([]string, int, error) {
	rec, err := r.csv.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, 0, io.EOF
		}
		return nil, 0, parseError(err)
	}
	line, _ := r.csv.FieldPos(0)
	for _, f := range rec {
		if len(f) > MaxFieldBytes {
			return nil, line, cutover.Errorf(cutover.EINVALID, "Line %d has a field longer than %d bytes; is a quote left open?", line, MaxFieldBytes)
		}
	}
	return rec, line, nil
}

func parseError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return cutover.Wrap(cutover.EINVALID, err, "The file is not valid CSV at line %d, column %d: %s.", pe.Line, pe.Column, pe.Err)
	}
	return cutover.Wrap(cutover.EUNAVAILABLE, err, "The file could not be read.")
}

// sniffDelimiter picks the candidate delimiter that occurs most often in the
// first line outside quotes; comma wins ties and empty input.
func sniffDelimiter(sample []byte) rune {
	counts := map[rune]int{}
	inQuote := false
	for _, c := range string(sample) {
		if c == '"' {
			inQuote = !inQuote
			continue
		}
		if inQuote {
			continue
		}
		if c == '\n' {
			break
		}
		switch c {
		case ',', ';', '\t', '|':
			counts[c]++
		}
	}
	best := ','
	for _, c := range []rune{';', '\t', '|'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return best
}
