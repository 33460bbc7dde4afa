package shuffle

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"

	"github.com/cutover/cutover/internal/cutover"
)

// A spill file is a sequence of frames: a uvarint length, then that many
// bytes. A frame starts with its position (two uvarints: where the
// in-memory engine would have met it), so partitions written in order are
// sorted runs that a streaming merge can put back in that order.

// MaxFrame bounds one frame: the largest record a reader allows, with
// room to spare. A longer length means a damaged file, not a huge record,
// and is refused before anything is allocated for it.
const MaxFrame = 64 << 20

// ErrDamaged is what a Reader returns for bytes a Writer did not write.
var ErrDamaged = cutover.Errorf(cutover.EINTERNAL, "A spill file is damaged: its frames do not read back as they were written.")

// pos is where an item stands in the order the in-memory engine meets
// it: a row (or record) number, then a number within it.
type pos struct{ a, b uint64 }

func (p pos) less(q pos) bool { return p.a < q.a || p.a == q.a && p.b < q.b }

// Reader reads a spill file's frames.
type Reader struct {
	r   *bufio.Reader
	buf []byte
}

// NewReader reads frames from r.
func NewReader(r io.Reader) *Reader { return &Reader{r: bufio.NewReaderSize(r, 32<<10)} }

// Next returns the next frame, valid until the next call.
//
// Errors: io.EOF after the last whole frame; ErrDamaged for a truncated
// frame, a length over MaxFrame, or a malformed length; the underlying
// reader's other errors.
func (r *Reader) Next() ([]byte, error) {
	n, err := binary.ReadUvarint(r.r)
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	if err != nil {
		return nil, damaged(err)
	}
	if n > MaxFrame {
		return nil, ErrDamaged
	}
	if uint64(cap(r.buf)) < n {
		r.buf = make([]byte, n)
	}
	r.buf = r.buf[:n]
	if _, err := io.ReadFull(r.r, r.buf); err != nil {
		return nil, damaged(err)
	}
	return r.buf, nil
}

func damaged(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || err.Error() == "binary: varint overflows a 64-bit integer" {
		return ErrDamaged
	}
	return cutover.Wrap(cutover.EUNAVAILABLE, err, "A spill file could not be read: %v", err)
}

// frame is a frame's payload being read: its position, then its fields.
type frame struct {
	b   []byte
	err bool
}

func (f *frame) uvarint() uint64 {
	v, n := binary.Uvarint(f.b)
	if n <= 0 {
		f.err = true
		return 0
	}
	f.b = f.b[n:]
	return v
}

func (f *frame) pos() pos { return pos{f.uvarint(), f.uvarint()} }

func (f *frame) bytes() []byte {
	n := f.uvarint()
	if f.err || n > uint64(len(f.b)) {
		f.err = true
		return nil
	}
	out := f.b[:n:n]
	f.b = f.b[n:]
	return out
}

func (f *frame) str() string { return string(f.bytes()) }

func appendPos(b []byte, p pos) []byte {
	return binary.AppendUvarint(binary.AppendUvarint(b, p.a), p.b)
}

func appendBytes(b, s []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// parts writes frames to n partition files name-0 ... name-(n-1) (or to
// one file, name, when n is 1), each buffered in memory up to a block and
// appended to the store a block at a time: memory is n blocks, whatever
// the data.
type parts struct {
	store Store
	name  string
	bufs  [][]byte
	block int
	seed  maphash.Seed
}

// partBudget is what a set of partitions buffers in all before blocks are
// appended, and partBlock bounds one partition's block: blocks large
// enough that appends are few, and thousands of partitions still cost a
// few megabytes.
const (
	partBudget   = 4 << 20
	partBlock    = 64 << 10
	minPartBlock = 2 << 10
)

func newParts(store Store, name string, n int, seed maphash.Seed) *parts {
	return &parts{store: store, name: name, bufs: make([][]byte, n), block: min(max(partBudget/n, minPartBlock), partBlock), seed: seed}
}

func partName(name string, n, i int) string {
	if n == 1 {
		return name
	}
	return fmt.Sprintf("%s-%d", name, i)
}

func (p *parts) n() int { return len(p.bufs) }

// of is the partition a key hashes to.
func (p *parts) of(key string) int {
	if len(p.bufs) == 1 {
		return 0
	}
	return int(maphash.String(p.seed, key) % uint64(len(p.bufs)))
}

// add appends one frame to partition i.
func (p *parts) add(ctx context.Context, i int, payload []byte) error {
	b := binary.AppendUvarint(p.bufs[i], uint64(len(payload)))
	p.bufs[i] = append(b, payload...)
	if len(p.bufs[i]) >= p.block {
		return p.flushOne(ctx, i)
	}
	return nil
}

func (p *parts) flushOne(ctx context.Context, i int) error {
	if len(p.bufs[i]) == 0 {
		return nil
	}
	err := p.store.Append(ctx, partName(p.name, len(p.bufs), i), p.bufs[i])
	p.bufs[i] = p.bufs[i][:0]
	return err
}

// flush appends what every partition buffers; the buffers are let go.
func (p *parts) flush(ctx context.Context) error {
	for i := range p.bufs {
		if err := p.flushOne(ctx, i); err != nil {
			return err
		}
		p.bufs[i] = nil
	}
	return nil
}

// each reads partition i's frames in the order they were written.
//
// Errors: the store's; ErrDamaged; fn's.
func (p *parts) each(ctx context.Context, i int, fn func(f *frame) error) error {
	return readFrames(ctx, p.store, partName(p.name, len(p.bufs), i), fn)
}

func readFrames(ctx context.Context, store Store, name string, fn func(f *frame) error) error {
	rc, err := store.Open(ctx, name)
	if err != nil {
		return err
	}
	defer rc.Close()
	r := NewReader(rc)
	for {
		b, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		f := &frame{b: b}
		if err := fn(f); err != nil {
			return err
		}
		if f.err {
			return ErrDamaged
		}
	}
}

func appendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }
