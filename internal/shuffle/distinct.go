package shuffle

import (
	"context"
	"hash/maphash"
)

// Distinct counts distinct records (entity and id) through a Store, a
// partition at a time, so that a pass can check the records it wrote
// against its row accounting without holding every id: the count comes
// from what was written, apart from the shuffle that decided it.
type Distinct struct {
	ctx context.Context
	p   *parts
	buf []byte
}

// NewDistinct returns an empty counter spilling to store under name
// (name-0, name-1, ...), over n partitions (0 means 256).
func NewDistinct(ctx context.Context, store Store, name string, n int) *Distinct {
	if n <= 0 {
		n = 256
	}
	return &Distinct{ctx: ctx, p: newParts(store, name, n, maphash.MakeSeed())}
}

// Add counts a record written.
//
// Errors: the store's.
func (d *Distinct) Add(entity, id string) error {
	k := entity + "#" + id
	d.buf = appendString(d.buf[:0], k)
	return d.p.add(d.ctx, d.p.of(k), d.buf)
}

// Len is the number of distinct records added.
//
// Errors: the store's; ErrDamaged.
func (d *Distinct) Len() (int, error) {
	if err := d.p.flush(d.ctx); err != nil {
		return 0, err
	}
	n := 0
	for i := 0; i < d.p.n(); i++ {
		seen := map[string]struct{}{}
		if err := d.p.each(d.ctx, i, func(f *frame) error {
			seen[f.str()] = struct{}{}
			return nil
		}); err != nil {
			return 0, err
		}
		n += len(seen)
	}
	return n, nil
}
