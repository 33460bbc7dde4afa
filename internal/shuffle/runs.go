package shuffle

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
)

// runs merges sorted runs (spill files whose frames are in position
// order) into one stream in position order, holding one frame per run:
// the streaming merge that puts partitioned results back in the order the
// in-memory engine produces them.
type runs struct {
	h    runHeap
	last *runHead // advanced on the next call, so the frame it returned stays valid until then
}

type runHead struct {
	rc  io.Closer
	r   *Reader
	p   pos
	f   frame
	raw []byte // the whole frame, to copy it into a merged run
	seq int    // the run's index: equal positions come out in run order
}

type runHeap []*runHead

func (h runHeap) Len() int { return len(h) }
func (h runHeap) Less(i, j int) bool {
	if h[i].p == h[j].p {
		return h[i].seq < h[j].seq
	}
	return h[i].p.less(h[j].p)
}
func (h runHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)   { *h = append(*h, x.(*runHead)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// openRuns opens the named runs of store for merging.
//
// Errors: the store's; ErrDamaged for a run whose first frame is damaged.
func openRuns(ctx context.Context, store Store, names []string) (*runs, error) {
	if len(names) > fanIn {
		var err error
		if names, err = narrow(ctx, store, names, names[0]); err != nil {
			return nil, err
		}
	}
	m := &runs{}
	for i, n := range names {
		rc, err := store.Open(ctx, n)
		if err != nil {
			m.close()
			return nil, err
		}
		hd := &runHead{rc: rc, r: NewReader(rc), seq: i}
		ok, err := hd.advance()
		if err != nil {
			rc.Close()
			m.close()
			return nil, err
		}
		if !ok {
			rc.Close()
			continue
		}
		m.h = append(m.h, hd)
	}
	heap.Init(&m.h)
	return m, nil
}

// advance reads the run's next frame and its position; false at its end.
func (hd *runHead) advance() (bool, error) {
	b, err := hd.r.Next()
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	hd.raw = b
	hd.f = frame{b: b}
	hd.p = hd.f.pos()
	if hd.f.err {
		return false, ErrDamaged
	}
	return true, nil
}

// next returns the frame with the lowest position of all runs (its fields
// after the position), valid until the next call.
//
// Errors: io.EOF when every run is read; ErrDamaged; the store's.
func (m *runs) next() (pos, *frame, error) {
	if m.last != nil {
		ok, err := m.last.advance()
		if err != nil {
			return pos{}, nil, err
		}
		if ok {
			heap.Fix(&m.h, 0)
		} else {
			m.last.rc.Close()
			heap.Pop(&m.h)
		}
		m.last = nil
	}
	if len(m.h) == 0 {
		return pos{}, nil, io.EOF
	}
	m.last = m.h[0]
	return m.last.p, &m.last.f, nil
}

func (m *runs) close() {
	for _, hd := range m.h {
		hd.rc.Close()
	}
	m.h = nil
}

// cursor answers, for positions asked in increasing order, whether a
// merged set of runs holds each one.
type cursor struct {
	m    *runs
	head *pos   // nil: not read yet or at the end
	f    *frame // head's fields, for value
	done bool
}

// has reports whether the runs hold p; every later call must ask a
// position no lower than p.
//
// Errors: those of the runs.
func (c *cursor) has(p pos) (bool, error) {
	for !c.done {
		if c.head == nil {
			q, _, err := c.m.next()
			if errors.Is(err, io.EOF) {
				c.done = true
				return false, nil
			}
			if err != nil {
				return false, err
			}
			c.head = &q
		}
		if !c.head.less(p) {
			return *c.head == p, nil
		}
		c.head = nil
	}
	return false, nil
}

// fanIn bounds the runs merged at once: a reader's buffer and a file
// each, so the partitions' count does not set the memory or the open
// files.
const fanIn = 128

// narrow merges the named runs, fanIn at a time, into new runs named
// after tag until at most fanIn remain, and returns their names. Equal
// positions keep the order of names.
//
// Errors: the store's; ErrDamaged.
func narrow(ctx context.Context, store Store, names []string, tag string) ([]string, error) {
	for round := 0; len(names) > fanIn; round++ {
		var next []string
		for g := 0; g < len(names); g += fanIn {
			out := fmt.Sprintf("%s-m%d-%d", tag, round, g/fanIn)
			if err := mergeInto(ctx, store, names[g:min(g+fanIn, len(names))], out); err != nil {
				return nil, err
			}
			next = append(next, out)
		}
		names = next
	}
	return names, nil
}

func mergeInto(ctx context.Context, store Store, names []string, out string) error {
	m, err := openRuns(ctx, store, names)
	if err != nil {
		return err
	}
	defer m.close()
	w := newParts(store, out, 1, maphash.Seed{})
	w.block = 256 << 10
	for {
		_, _, err := m.next()
		if errors.Is(err, io.EOF) {
			return w.flush(ctx)
		}
		if err != nil {
			return err
		}
		if err := w.add(ctx, 0, m.last.raw); err != nil {
			return err
		}
	}
}
