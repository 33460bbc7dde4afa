package chunk

import (
	"io"

	"github.com/cutover/cutover/internal/cutover"
)

// Planning in parallel. A Scanner sees a file from its first byte to its
// last, so its time grows with the file. The same cuts can be found by
// scanning fixed byte ranges of the file at once, each on its own:
//
//  1. Head reads the start of the file: where the header ends, and
//     whether the file can be split at all.
//  2. ScanRange reads one range. Whether a byte is in a quoted field
//     depends on every byte before it, which the range's reader has not
//     seen; so it reads the range once from each state it might start in
//     (outside quotes, in a quoted field, right after a quote in one),
//     and tells, for each, where the first record in the range starts and
//     in which state the range ends.
//  3. Stitch walks the ranges in order: the first starts outside quotes,
//     right after the header, and each next one starts in the state the
//     one before ended in, so exactly one of its readings is the file's.
//
// Stitch's chunks are cut at the first record start in each range, so
// they are about as long as the ranges; read as Plan's are, they give
// exactly the rows of the whole-file read (checkStitched, which TestPlans,
// TestConformance and FuzzChunks run on every file they plan).

// State is where a byte of a file falls for the quote rules.
type State uint8

// The states a range can start in.
const (
	Outside State = outside // not in a quoted field
	Quoted  State = quoted  // in a quoted field
	Closing State = closing // in a quoted field, right after a quote ("" or its end)
)

// States is how many states a range is read from.
const States = 3

// Reading is one of a range's readings: from one starting state.
type Reading struct {
	// First is where the first record that starts in the range starts,
	// or -1 when none does (the range lies inside one record).
	First int64 `json:"first"`
	// Lines is the number of line feeds in [Start, First).
	Lines int `json:"lines"`
	// End is the state after the range's last byte.
	End State `json:"end"`
}

// RangeScan is what ScanRange found in the raw bytes [Start, End).
type RangeScan struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	// Lines is the number of line feeds in the range.
	Lines int `json:"lines"`
	// From holds the range's reading from each State.
	From [States]Reading `json:"from"`
}

// Head is where a file's records start, found from its first bytes.
type Head struct {
	HeaderEnd   int64 `json:"headerEnd"`
	HeaderLines int   `json:"headerLines"`
}

// Head reports, once the bytes tabular read to open a file of fileSize
// bytes and to return its first rows have been written, where the header
// ends; false when the file cannot be split (Plan would return Whole), or
// that cannot be known yet, or its header has not ended yet. Plan,
// called after every byte, agrees with it.
func (s *Scanner) Head(fileSize int64) (Head, bool) {
	lfSoon := s.firstLF >= 0 && s.firstLF < lfSure
	switch {
	case !s.set || !s.split:
		return Head{}, false
	case s.size < min(sniffBytes, fileSize) && !lfSoon:
		// Not decided yet: a CR may still come in the sniffed prefix.
		return Head{}, false
	case s.cr && !lfSoon, s.headerEnd < 0, !s.header.text:
		return Head{}, false // classic Mac line ends, or no header yet
	}
	return Head{HeaderEnd: s.headerEnd, HeaderLines: s.header.lines}, true
}

// ScanRange reads the raw bytes [start, end) of a file from r (which
// yields exactly them) from each State. prev is the byte at start-1 (a
// quote opens a field only after a delimiter or a line feed); delim is the
// file's delimiter, as SetFormat was given it. The file must be one
// Splittable accepts, and start must not be before its header's end.
//
// Errors: EINVALID when r yields fewer bytes than the range holds;
// r's own.
func ScanRange(r io.Reader, start, end int64, prev, delim byte) (RangeScan, error) {
	out := RangeScan{Start: start, End: end}
	var scans [States]*Scanner
	for st := range scans {
		// Header done, no byte-order mark; the one cut it makes is at the
		// first line feed outside quotes from start on (cutAt start+1),
		// after which it cuts no more.
		s := &Scanner{target: maxTarget, set: true, split: true, delim: delim, firstLF: -1, n: start, state: st, prev: prev, headerEnd: start, start: start, cutAt: start + 1}
		scans[st] = s
	}
	buf := make([]byte, min(end-start, 256<<10))
	read := int64(0)
	for read < end-start {
		n, err := r.Read(buf[:min(int64(len(buf)), end-start-read)])
		if n > 0 {
			for _, s := range scans {
				s.scan(buf[:n])
			}
			read += int64(n)
		}
		if err == io.EOF {
			break
		} else if err != nil {
			return RangeScan{}, err
		}
	}
	if read != end-start {
		return RangeScan{}, cutover.Errorf(cutover.EINVALID, "chunk: the range [%d, %d) ended after %d bytes.", start, end, read)
	}
	out.Lines = scans[Outside].lines
	for st, s := range scans {
		rd := Reading{First: -1, End: State(s.state)}
		switch {
		case State(st) == Outside && prev == '\n':
			rd.First = start // the line feed before ended a record
		case len(s.chunks) > 0 && s.chunks[0].End < end:
			// A record that starts at end is the next range's first. The
			// scanner numbers the lines of the chunk it starts there
			// from the range's start, from 1.
			rd.First, rd.Lines = s.chunks[0].End, s.startLine-1
		}
		out.From[st] = rd
	}
	return out, nil
}

// Stitch returns the chunks of a file of size bytes whose header ends as
// h says, from the scans of its ranges, which must cover [h.HeaderEnd,
// size) in order. The chunks cover the same bytes, each starting where a
// record does, with the FirstLine a Plan gives.
//
// Errors: EINVALID when the scans do not cover the file in order.
func Stitch(h Head, size int64, scans []RangeScan) ([]Range, error) {
	at, lines, st := h.HeaderEnd, h.HeaderLines, Outside
	var out []Range
	for i, sc := range scans {
		if sc.Start != at || sc.End <= sc.Start || (i == 0) != (sc.Start == h.HeaderEnd) {
			return nil, cutover.Errorf(cutover.EINVALID, "chunk: range %d starts at %d, not at %d.", i, sc.Start, at)
		}
		if st >= States {
			return nil, cutover.Errorf(cutover.EINVALID, "chunk: range %d starts in an unknown state.", i)
		}
		rd := sc.From[st]
		if i == 0 && rd.First != sc.Start {
			return nil, cutover.Errorf(cutover.EINVALID, "chunk: the first range does not start with a record.")
		}
		if rd.First >= 0 {
			if rd.First < sc.Start || rd.First >= sc.End {
				return nil, cutover.Errorf(cutover.EINVALID, "chunk: range %d names a record start outside it.", i)
			}
			if n := len(out); n > 0 {
				out[n-1].End = rd.First
			}
			out = append(out, Range{Start: rd.First, FirstLine: lines + rd.Lines + 1})
		}
		at, lines, st = sc.End, lines+sc.Lines, rd.End
	}
	if at != size && len(scans) > 0 || len(scans) == 0 && h.HeaderEnd != size {
		return nil, cutover.Errorf(cutover.EINVALID, "chunk: the ranges end at %d, not at the file's end %d.", at, size)
	}
	if n := len(out); n > 0 {
		out[n-1].End = size
	}
	return out, nil
}

// Ranges divides the bytes after a file's header into ranges of about
// size bytes for ScanRange: the [start, end) of each.
func Ranges(h Head, fileSize, size int64) [][2]int64 {
	var out [][2]int64
	for at := h.HeaderEnd; at < fileSize; at += size {
		out = append(out, [2]int64{at, min(at+size, fileSize)})
	}
	return out
}
