// Package chunk plans how to read one large delimited-text file in
// parallel: it divides the file into byte ranges ("chunks") that begin and
// end between records, so that each can be fetched with an S3 Range GET and
// read on its own.
//
// The planner sees the file's raw bytes once, as they stream past the
// whole-file read that validates it:
//
//	s := chunk.NewScanner(64 << 20)
//	tables, err := tabular.Open(io.TeeReader(body, s), name, o)
//	...
//	s.SetFormat(tables[0].Format())
//	... read every row of tables[0] ...
//	f := tables[0].Format() // after the last row: the final encoding
//	plan, err := s.Plan()
//
// Chunk r is read as the file's bytes [0, plan.HeaderEnd) followed by its
// bytes [r.Start, r.End), with the whole file's encoding and delimiter and
// the chunk's line offset:
//
//	src := io.MultiReader(headerBytes, chunkBytes)
//	tables, err := tabular.Open(src, name, plan.Options(r, f, o))
//
// Read that way, the chunks of a file give exactly the rows of the
// whole-file read, in order, with the same fields and the same line
// numbers. The quote rules are tabular's, byte for byte: a quote opens a
// quoted field only where a field starts (after a delimiter or a line end,
// or at the start of the file); anywhere else it is data, and so is text
// after a closing quote, up to the next delimiter or line end.
package chunk

import (
	"bytes"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/tabular"
)

// Range is one chunk of a file.
type Range struct {
	Start, End int64 // raw bytes [Start, End) of the file
	FirstLine  int   // the 1-based line of the file that Start is on
}

// Plan divides a file into chunks.
type Plan struct {
	// HeaderEnd ends the raw bytes [0, HeaderEnd) that every chunk is read
	// after: any byte-order mark, blank lines before the header, the
	// header record and its line end.
	HeaderEnd int64
	// HeaderLines is the number of lines in [0, HeaderEnd).
	HeaderLines int
	// Chunks cover [HeaderEnd, file size) exactly, in order, each ending
	// right after a line feed outside quotes except the last, which ends
	// with the file. Empty when nothing follows the header.
	Chunks []Range
}

// Whole is the plan that reads a file of size bytes as one chunk: no header
// bytes, and one chunk that is the whole file. It is the plan for a file
// that cannot be split; reading its one chunk is reading the file.
func Whole(size int64) Plan {
	if size <= 0 {
		return Plan{}
	}
	return Plan{Chunks: []Range{{Start: 0, End: size, FirstLine: 1}}}
}

// LineOffset is the tabular.Options.LineOffset that makes the rows of
// chunk r, read after the header bytes, carry the lines of the whole file.
func (p Plan) LineOffset(r Range) int {
	// Read after the header, r.Start is on line HeaderLines+1.
	return r.FirstLine - (p.HeaderLines + 1)
}

// Options returns o set up to read chunk r of a CSV file: the Encoding and
// Delimiter of f, which must be the whole file's Format as reported after
// its last row (a file that is pure ASCII at first reads "utf-8" until a
// later byte decides on windows-1252), the chunk's LineOffset, and Chunk
// (its bytes are not checked for binary data again). The caps
// in o should be those the whole file was read with.
func (p Plan) Options(r Range, f tabular.Format, o tabular.Options) tabular.Options {
	o.Encoding = f.Encoding
	o.Delimiter = f.Delimiter
	o.LineOffset = p.LineOffset(r)
	o.Chunk = true // the whole file was read as text to plan it
	return o
}

// Splittable reports whether a file of Format f can be split by raw bytes:
// CSV in UTF-8 or Windows-1252, where quotes, delimiters and line ends are
// single ASCII bytes that never occur inside another character. UTF-16
// text, BLM feeds and XLSX workbooks cannot.
func Splittable(f tabular.Format) bool {
	return f.Kind == "csv" && (f.Encoding == "utf-8" || f.Encoding == "windows-1252") &&
		f.Delimiter > 0 && f.Delimiter < 0x80
}

const (
	// sniffBytes is how much of a file tabular decides its line ends
	// from: it reads a file with classic-Mac CR line ends when the first
	// 64 KiB of text hold a CR and no LF.
	sniffBytes = 64 << 10
	// lfSure is how far into a file its first LF must be for tabular to
	// see it in those 64 KiB, whatever the encoding: Windows-1252 decodes
	// a byte to at most three bytes of text.
	lfSure = 16 << 10
	// maxTarget keeps the end of a chunk from overflowing.
	maxTarget = 1 << 60
)

// States of the scan.
const (
	outside = iota // not in a quoted field
	quoted         // in a quoted field
	closing        // in a quoted field right after a quote: "" or its end
)

var lf = []byte{'\n'}

// Scanner watches the raw bytes of a text file go past, as an io.Writer,
// and plans chunks of about target bytes each. It cannot tell where
// records end until it knows the file's delimiter and byte-order mark, so
// it holds the bytes written before SetFormat (the bytes tabular.Open reads
// to detect the format: 64 KiB and the header) and scans them then. After
// that, Write keeps no bytes and allocates nothing but the list of chunks,
// and runs at gigabytes a second. A Scanner is not safe for concurrent
// use.
type Scanner struct {
	target int64
	set    bool   // SetFormat was called
	split  bool   // the format is splittable: scan
	held   []byte // bytes written before SetFormat
	size   int64  // bytes written

	// What decides whether tabular reads LF or CR line ends.
	firstLF int64 // offset of the first LF in the first sniffBytes, or -1
	cr      bool  // a CR in the first sniffBytes

	delim   byte
	skip    int64 // bytes of byte-order mark still to skip
	n       int64 // bytes scanned
	state   int
	prev    byte // the last byte scanned
	lines   int  // LFs scanned; within scan, LFs before p[counted]
	counted int

	headerEnd int64 // -1 until the header ends
	header    struct {
		lines    int
		recStart int64 // where the record being scanned starts
		text     bool  // it has a byte other than space, tab, CR or LF
	}
	start     int64 // the chunk being scanned
	startLine int
	cutAt     int64 // the earliest end of the chunk being scanned
	chunks    []Range
}

// NewScanner returns a Scanner for chunks of at least target bytes (the
// last may be smaller); a chunk ends at the first record end at or after
// that. It panics if target is less than 1.
func NewScanner(target int64) *Scanner {
	if target < 1 {
		panic("chunk: NewScanner needs a target of at least 1 byte")
	}
	return &Scanner{target: min(target, maxTarget), firstLF: -1, headerEnd: -1, prev: '\n'}
}

// Write watches p go past. It never fails, so that it can sit in an
// io.TeeReader without changing the read.
func (s *Scanner) Write(p []byte) (int, error) {
	if s.size < sniffBytes {
		b := p[:min(int64(len(p)), sniffBytes-s.size)]
		if !s.cr && bytes.IndexByte(b, '\r') >= 0 {
			s.cr = true
		}
		if s.firstLF < 0 {
			if i := bytes.IndexByte(b, '\n'); i >= 0 {
				s.firstLF = s.size + int64(i)
			}
		}
	}
	s.size += int64(len(p))
	switch {
	case !s.set:
		s.held = append(s.held, p...)
	case s.split:
		s.scan(p)
	}
	return len(p), nil
}

// SetFormat tells the scanner what tabular.Open found: call it as soon as
// Open returns, with the Format of its one table. The delimiter and the
// byte-order mark decide where records end; a format that Splittable
// rejects is not scanned at all. Only the first call counts. The Encoding
// may still be the provisional "utf-8" of an ASCII prefix: Windows-1252,
// which it may turn into, splits the same way.
func (s *Scanner) SetFormat(f tabular.Format) {
	if s.set {
		return
	}
	s.set, s.split = true, Splittable(f)
	if s.split {
		s.delim = byte(f.Delimiter)
		if f.BOM {
			s.skip = 3 // only UTF-8 has a BOM that Splittable accepts
			s.header.recStart = 3
		}
		s.scan(s.held)
	}
	s.held = nil
}

// Plan returns the plan once every byte of the file has been written. It
// is Whole(size) for a file that cannot be split: a format Splittable
// rejects, classic-Mac CR line ends (which tabular decides from the first
// 64 KiB, so a CR in them and no LF in the first 16 KiB is enough to read
// the file whole), or a header of nothing but spaces and line ends (after
// which tabular would take a chunk's first characters for the start of
// the file). Plan does not validate the file; the whole-file read does.
//
// Errors: EINTERNAL if SetFormat was never called.
func (s *Scanner) Plan() (Plan, error) {
	switch {
	case !s.set:
		return Plan{}, cutover.Errorf(cutover.EINTERNAL, "chunk: Plan was called before SetFormat.")
	case !s.split, s.cr && (s.firstLF < 0 || s.firstLF >= lfSure):
		return Whole(s.size), nil
	case s.headerEnd < 0:
		return Plan{HeaderEnd: s.size, HeaderLines: s.lines}, nil
	case !s.header.text:
		return Whole(s.size), nil
	}
	p := Plan{HeaderEnd: s.headerEnd, HeaderLines: s.header.lines, Chunks: append([]Range(nil), s.chunks...)}
	if s.start < s.size {
		p.Chunks = append(p.Chunks, Range{Start: s.start, End: s.size, FirstLine: s.startLine})
	}
	return p, nil
}

// scan follows the quotes in p. Between quotes it only looks for line ends
// where it needs them: while in the header and past the end of the chunk's
// target.
func (s *Scanner) scan(p []byte) {
	if s.skip > 0 {
		k := min(s.skip, int64(len(p)))
		s.skip -= k
		s.n += k
		p = p[k:]
	}
	if len(p) == 0 {
		return
	}
	base := s.n
	s.counted = 0
	for i := 0; i < len(p); {
		switch s.state {
		case quoted:
			j := bytes.IndexByte(p[i:], '"')
			if j < 0 {
				i = len(p)
				continue
			}
			i += j + 1
			s.state = closing
		case closing:
			if p[i] == '"' {
				s.state = quoted // "" is a quote in the field
				i++
				continue
			}
			if p[i] == s.delim && i+1 < len(p) && p[i+1] == '"' {
				s.state = quoted // the next field is quoted too: the common case
				i += 2
				continue
			}
			s.state = outside // the closing quote; what follows joins the field
		default:
			end := len(p)
			j := bytes.IndexByte(p[i:], '"')
			if j >= 0 {
				end = i + j
			}
			s.ends(p, base, i, end)
			if j < 0 {
				i = len(p)
				continue
			}
			if s.headerEnd < 0 {
				s.header.text = true
			}
			if c := s.byteBefore(p, end); c == s.delim || c == '\n' {
				s.state = quoted // a quote where a field starts opens it
			}
			i = end + 1
		}
	}
	s.lines += bytes.Count(p[s.counted:], lf)
	s.prev = p[len(p)-1]
	s.n += int64(len(p))
}

// ends handles p[i:end], which is outside quotes and has none: it ends the
// header at its first LF that ends a record that is not blank, and ends
// chunks at their first LF at or after their target.
func (s *Scanner) ends(p []byte, base int64, i, end int) {
	for s.headerEnd < 0 {
		k := bytes.IndexByte(p[i:end], '\n')
		if !s.header.text {
			seg := p[i:end]
			if k >= 0 {
				seg = p[i : i+k]
			}
			s.header.text = !blank(seg)
		}
		if k < 0 {
			return
		}
		g := i + k
		at := base + int64(g)
		// tabular skips a line that is empty but for a CR.
		if r := s.header.recStart; at == r || at == r+1 && s.byteBefore(p, g) == '\r' {
			s.header.recStart = at + 1
		} else {
			s.headerEnd = at + 1
			s.header.lines = s.lineAt(p, g+1)
			s.start, s.startLine, s.cutAt = s.headerEnd, s.header.lines+1, s.headerEnd+s.target
		}
		i = g + 1
	}
	for {
		if d := s.cutAt - 1 - base; d > int64(i) {
			if d >= int64(end) {
				return
			}
			i = int(d)
		}
		k := bytes.IndexByte(p[i:end], '\n')
		if k < 0 {
			return
		}
		g := i + k
		at := base + int64(g) + 1
		line := s.lineAt(p, g+1) + 1
		s.chunks = append(s.chunks, Range{Start: s.start, End: at, FirstLine: s.startLine})
		s.start, s.startLine, s.cutAt = at, line, at+s.target
		i = g + 1
	}
}

// lineAt returns the number of LFs before p[pos].
func (s *Scanner) lineAt(p []byte, pos int) int {
	s.lines += bytes.Count(p[s.counted:pos], lf)
	s.counted = pos
	return s.lines
}

// byteBefore returns the byte scanned before p[i].
func (s *Scanner) byteBefore(p []byte, i int) byte {
	if i > 0 {
		return p[i-1]
	}
	return s.prev
}

// blank reports whether b holds nothing but spaces, tabs, CRs and LFs,
// which tabular skips when it looks for the start of a BLM feed.
func blank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}
