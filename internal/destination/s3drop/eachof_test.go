package s3drop

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

// eachOf runs every index once, never more than readers at once; after
// the first error it starts no more and returns that error; a context
// that ends first is an interruption.
func TestEachOfRunsEveryIndexBoundedAndStopsAtTheFirstError(t *testing.T) {
	var running, most, ran atomic.Int64
	seen := make([]atomic.Int64, 100)
	err := eachOf(context.Background(), 100, func(_ context.Context, i int) error {
		n := running.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(time.Millisecond)
		running.Add(-1)
		seen[i].Add(1)
		ran.Add(1)
		return nil
	})
	if err != nil || ran.Load() != 100 || most.Load() > readers || most.Load() < 2 {
		t.Fatalf("ran %d, at most %d at once (err %v); want 100, 2 to %d", ran.Load(), most.Load(), err, readers)
	}
	for i := range seen {
		if seen[i].Load() != 1 {
			t.Fatalf("index %d ran %d times", i, seen[i].Load())
		}
	}

	boom := errors.New("boom")
	ran.Store(0)
	err = eachOf(context.Background(), 1000, func(ctx context.Context, i int) error {
		ran.Add(1)
		if i == 3 {
			return boom
		}
		<-ctx.Done() // the others wait for the failure
		return ctx.Err()
	})
	if !errors.Is(err, boom) || ran.Load() > 4+readers {
		t.Fatalf("err %v after %d started; want boom, no more than %d started", err, ran.Load(), 4+readers)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = eachOf(ctx, 10, func(context.Context, int) error { return nil })
	if cutover.ErrorCode(err) != cutover.EUNAVAILABLE {
		t.Fatalf("a context ended first: %v, want EUNAVAILABLE", err)
	}
}
