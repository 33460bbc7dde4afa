// Package delta keeps snapshots of the records a migration mapped and
// compares two migrations' snapshots into a delta report: per entity, which
// records the final extract added, removed and changed since the test
// extract, by source id, with the fields that changed.
//
// A snapshot is a JSON-lines file of Entry values, one per record, sorted by
// Key, each key once. The test migration writes one snapshot; each chunk of
// the final migration writes its own. Compare merges them as streams, so its
// memory grows with the number of snapshots, not of records, and it reads no
// database.
//
// A field that is absent and a field that is "" are the same value: the
// mapping omits empty fields, so going from one to the other is no change.
// A value left out of a record because it could not be read (the record's
// "invalid") is compared too, shown as "(left out: raw)": a record whose
// unreadable value appeared, went away or changed has changed.
//
// It has no AWS types.
package delta

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/cutover/cutover/internal/cutover"
)

// MaxLine is the longest snapshot line Compare reads, in bytes, without its
// newline.
const MaxLine = 16 << 20

// Entry is one mapped record as a snapshot keeps it.
type Entry struct {
	Key      string            `json:"k"` // Entity + "#" + record id: a record's identity and a snapshot's sort order
	Entity   string            `json:"e"` // never empty, never contains "#"
	SourceID string            `json:"s"`
	Fields   map[string]string `json:"f"`
	// Invalid holds, per field, the raw value left out of the record
	// because it could not be read (cutover.Record.Invalid): a record
	// whose unreadable value changed, appeared or went away changed too.
	Invalid map[string]string `json:"i,omitempty"`
}

// FromRecord returns the entry of a mapped record, keyed by its entity and
// its deterministic id (the same tenant, entity and source id give the same
// key in every migration). The entry shares r.Fields; it keeps the raw
// value of each field r.Invalid left out (not the reason, which is the
// engine's wording and no part of the record).
func FromRecord(r cutover.Record) Entry {
	e := Entry{Key: r.Entity + "#" + r.ID, Entity: r.Entity, SourceID: r.SourceID, Fields: r.Fields}
	if len(r.Invalid) > 0 {
		e.Invalid = make(map[string]string, len(r.Invalid))
		for f, iv := range r.Invalid {
			e.Invalid[f] = iv.Value
		}
	}
	return e
}

// Snapshot collects entries and writes them sorted by Key. Add is safe for
// concurrent use. Each entry is encoded as it is added, so a snapshot holds
// a chunk's records as compact JSON lines rather than as maps, and a caller
// may reuse an entry's Fields afterwards.
type Snapshot struct {
	mu    sync.Mutex
	lines []line
	size  int64 // the encoded entries' bytes, keys included
	err   error // the first invalid entry
}

// line is one encoded entry, newline included.
type line struct {
	key  string
	json []byte
}

// NewSnapshot returns an empty snapshot.
func NewSnapshot() *Snapshot { return &Snapshot{} }

// Add adds an entry. An invalid entry is reported by WriteTo.
func (s *Snapshot) Add(e Entry) {
	var (
		b   bytes.Buffer
		err error
	)
	if msg := check(&e); msg != "" {
		err = cutover.Errorf(cutover.EINVALID, "snapshot entry of %s %s: %s", quote(e.Entity), quote(e.SourceID), msg)
	} else {
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err = enc.Encode(&e); err != nil {
			err = cutover.Wrap(cutover.EINVALID, err, "snapshot entry of %s %s could not be encoded", quote(e.Entity), quote(e.SourceID))
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if s.err == nil {
			s.err = err
		}
		return
	}
	s.lines = append(s.lines, line{key: e.Key, json: b.Bytes()})
	s.size += int64(len(e.Key) + b.Len())
}

// Bytes returns about how much the snapshot holds: its encoded entries
// and their keys.
func (s *Snapshot) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// Len returns the number of valid entries added, duplicate keys included.
func (s *Snapshot) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.lines)
}

// WriteTo writes the entries sorted by Key, one JSON object per line, and
// returns the number of bytes written (it implements io.WriterTo). Of
// entries with an equal Key it keeps the first added and drops the rest.
// Add waits while WriteTo runs; WriteTo may be called again later.
//
// Errors: EINVALID, before anything is written, when an entry added had an
// empty Key, an Entity that is empty or contains "#", or a Key that is not
// valid UTF-8 or does not start with its Entity and "#"; EUNAVAILABLE when
// w fails (an application error from w is returned as it is).
func (s *Snapshot) WriteTo(w io.Writer) (int64, error) {
	n, _, err := s.write(w)
	return n, err
}

// WriteIndexed is WriteTo, and returns the index of what it wrote.
//
// Errors: as WriteTo.
func (s *Snapshot) WriteIndexed(w io.Writer) (Index, error) {
	_, idx, err := s.write(w)
	return idx, err
}

func (s *Snapshot) write(w io.Writer) (int64, Index, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return 0, Index{}, s.err
	}
	slices.SortStableFunc(s.lines, func(a, b line) int { return strings.Compare(a.key, b.key) })
	cw := &CountingWriter{W: w}
	bw := bufio.NewWriterSize(cw, 64<<10)
	var x indexer
	for i := range s.lines {
		if i > 0 && s.lines[i].key == s.lines[i-1].key {
			continue
		}
		x.line(s.lines[i].key, len(s.lines[i].json))
		if _, err := bw.Write(s.lines[i].json); err != nil {
			return cw.N, Index{}, ioError(err, "writing the snapshot failed")
		}
	}
	if err := bw.Flush(); err != nil {
		return cw.N, Index{}, ioError(err, "writing the snapshot failed")
	}
	return cw.N, x.idx, nil
}

// check says what is wrong with e as a snapshot entry, or "" when nothing is.
func check(e *Entry) string {
	n := len(e.Entity)
	switch {
	case e.Key == "":
		return "it has no key"
	case n == 0 || strings.Contains(e.Entity, "#"):
		return fmt.Sprintf("its entity %s is empty or contains \"#\"", quote(e.Entity))
	case len(e.Key) <= n || e.Key[:n] != e.Entity || e.Key[n] != '#':
		return fmt.Sprintf("its key %s does not start with its entity %s and \"#\"", quote(e.Key), quote(e.Entity))
	case !utf8.ValidString(e.Key):
		return "its key is not valid UTF-8"
	}
	return ""
}

// source reads one snapshot, an entry at a time, checking each.
type source struct {
	name string // for messages: "before snapshot", "after snapshot 2"
	idx  int    // the lowest index wins among equal keys
	r    *bufio.Reader
	buf  []byte // a line longer than the reader's buffer
	line int    // of cur, from 1
	eof  bool
	done bool  // no more entries; cur is stale
	cur  Entry // the current entry, when !done
}

func newSource(name string, idx int, r io.Reader) *source {
	return &source{name: name, idx: idx, r: bufio.NewReaderSize(r, 64<<10)}
}

var errLong = errors.New("line too long")

// next reads the next entry into cur, or sets done at the end.
func (s *source) next() error {
	if s.eof {
		s.done = true
		return nil
	}
	line, err := s.readLine()
	switch {
	case err == errLong:
		return cutover.Errorf(cutover.EINVALID, "%s, line %d: longer than %d MiB", s.name, s.line+1, MaxLine>>20)
	case err == io.EOF:
		s.eof = true
		if len(line) == 0 {
			s.done = true
			return nil
		}
	case err != nil:
		return ioError(err, "reading the %s failed", s.name)
	}
	s.line++
	prev := s.cur.Key
	s.cur = Entry{}
	if err := json.Unmarshal(line, &s.cur); err != nil {
		return cutover.Wrap(cutover.EINVALID, err, "%s, line %d: not a JSON snapshot entry", s.name, s.line)
	}
	if msg := check(&s.cur); msg != "" {
		return cutover.Errorf(cutover.EINVALID, "%s, line %d: %s", s.name, s.line, msg)
	}
	if prev != "" && s.cur.Key <= prev {
		return cutover.Errorf(cutover.EINVALID, "%s, line %d: key %s is not after the key before it, %s (a snapshot is sorted by key, each key once)",
			s.name, s.line, quote(s.cur.Key), quote(prev))
	}
	return nil
}

// readLine returns the next line, its newline included, and io.EOF with the
// last line (which may be empty), errLong for a line over MaxLine, or the
// reader's error. The line is valid until the next call.
func (s *source) readLine() ([]byte, error) {
	s.buf = s.buf[:0]
	for {
		frag, err := s.r.ReadSlice('\n')
		n := len(s.buf) + len(frag)
		if err == nil {
			n-- // the newline
		}
		if n > MaxLine {
			return nil, errLong
		}
		if err == bufio.ErrBufferFull {
			s.buf = append(s.buf, frag...)
			continue
		}
		if len(s.buf) > 0 {
			s.buf = append(s.buf, frag...)
			frag = s.buf
		}
		return frag, err
	}
}

// ioError returns err as it is when it is an application error, or as
// EUNAVAILABLE with a message.
func ioError(err error, format string, args ...any) error {
	var e *cutover.Error
	if errors.As(err, &e) {
		return err
	}
	return cutover.Wrap(cutover.EUNAVAILABLE, err, format, args...)
}

// quote quotes s for a message, shortened when long.
func quote(s string) string {
	const max = 80
	if len(s) > max {
		return fmt.Sprintf("%q...", s[:max])
	}
	return fmt.Sprintf("%q", s)
}

// CountingWriter counts the bytes written through it to W: a snapshot's
// or a delta CSV's size, as it is streamed.
type CountingWriter struct {
	W io.Writer
	N int64
}

func (c *CountingWriter) Write(p []byte) (int, error) {
	n, err := c.W.Write(p)
	c.N += int64(n)
	return n, err
}
