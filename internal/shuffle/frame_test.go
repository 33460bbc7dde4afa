package shuffle

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math/rand/v2"
	"sort"
	"testing"
)

// memStore is a Store in memory, for the tests: small, and it counts the
// appends.
type memStore struct {
	files   map[string][]byte
	appends int
}

var _ Store = (*memStore)(nil)

func newMemStore() *memStore { return &memStore{files: map[string][]byte{}} }

func (m *memStore) Append(_ context.Context, name string, p []byte) error {
	m.files[name] = append(m.files[name], p...)
	m.appends++
	return nil
}

func (m *memStore) Open(_ context.Context, name string) (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(m.files[name])), nil
}

func TestFramesReadBackAsWrittenThroughADir(t *testing.T) {
	ctx := context.Background()
	store := NewDir(t.TempDir())
	p := newParts(store, "x", 5, maphash.MakeSeed())
	want := map[int][]string{}
	for i := 0; i < 20000; i++ {
		k := fmt.Sprintf("key-%d", i%777)
		part := p.of(k)
		payload := fmt.Sprintf("%s/%d", k, i)
		want[part] = append(want[part], payload)
		if err := p.add(ctx, part, []byte(payload)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.flush(ctx); err != nil {
		t.Fatal(err)
	}
	total := 0
	for i := 0; i < p.n(); i++ {
		var got []string
		if err := p.each(ctx, i, func(f *frame) error {
			got = append(got, string(f.b))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want[i]) {
			t.Fatalf("partition %d: %d frames back, %d written, or out of order", i, len(got), len(want[i]))
		}
		total += len(got)
	}
	if total != 20000 {
		t.Fatalf("%d frames back, 20000 written", total)
	}
	// A name never written reads empty.
	if err := readFrames(ctx, store, "never", func(*frame) error { return errors.New("a frame") }); err != nil {
		t.Fatal(err)
	}
}

func TestRunsMergeInPositionOrderPastTheFanIn(t *testing.T) {
	ctx := context.Background()
	store := newMemStore()
	rng := rand.New(rand.NewPCG(1, 2))
	const runsN = 3*fanIn + 5 // two rounds of narrowing
	var all []uint64
	var names []string
	for r := 0; r < runsN; r++ {
		name := fmt.Sprintf("run-%d", r)
		names = append(names, name)
		p := newParts(store, name, 1, maphash.Seed{})
		var at uint64
		for j := 0; j < rng.IntN(40); j++ {
			at += uint64(1 + rng.IntN(1000))
			v := at*1000 + uint64(r) // unique positions
			all = append(all, v)
			if err := p.add(ctx, 0, appendString(appendPos(nil, pos{v, 7}), fmt.Sprint(v))); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	m, err := openRuns(ctx, store, names)
	if err != nil {
		t.Fatal(err)
	}
	defer m.close()
	var got []uint64
	for {
		p, f, err := m.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if s := f.str(); s != fmt.Sprint(p.a) || p.b != 7 {
			t.Fatalf("frame at %v holds %q", p, s)
		}
		got = append(got, p.a)
	}
	if fmt.Sprint(got) != fmt.Sprint(all) {
		t.Fatalf("merged %d positions, want %d in order", len(got), len(all))
	}
}

func TestCursorAnswersInOrder(t *testing.T) {
	ctx := context.Background()
	store := newMemStore()
	for i, set := range [][]uint64{{1, 5, 9}, {2, 5, 30}} {
		p := newParts(store, fmt.Sprint("c", i), 1, maphash.Seed{})
		for _, v := range set {
			_ = p.add(ctx, 0, appendPos(nil, pos{v, 0}))
		}
		_ = p.flush(ctx)
	}
	m, err := openRuns(ctx, store, []string{"c0", "c1"})
	if err != nil {
		t.Fatal(err)
	}
	c := &cursor{m: m}
	var held []uint64
	for v := uint64(0); v < 40; v++ {
		ok, err := c.has(pos{v, 0})
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			held = append(held, v)
		}
	}
	if fmt.Sprint(held) != "[1 2 5 9 30]" {
		t.Fatalf("cursor held %v", held)
	}
}

func TestDistinctCountsWhatWasAdded(t *testing.T) {
	d := NewDistinct(context.Background(), newMemStore(), "w", 7)
	want := map[string]bool{}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 5000; i++ {
		e, id := fmt.Sprint("e", rng.IntN(3)), fmt.Sprint(rng.IntN(2000))
		want[e+"#"+id] = true
		if err := d.Add(e, id); err != nil {
			t.Fatal(err)
		}
	}
	n, err := d.Len()
	if err != nil || n != len(want) {
		t.Fatalf("Len = %d, %v; %d distinct were added", n, err, len(want))
	}
}

func TestReaderRefusesDamage(t *testing.T) {
	var whole []byte
	whole = binary.AppendUvarint(whole, 3)
	whole = append(whole, "abc"...)
	for _, c := range []struct {
		name string
		b    []byte
	}{
		{"truncated payload", whole[:len(whole)-1]},
		{"truncated length", []byte{0x80}},
		{"length past MaxFrame", binary.AppendUvarint(nil, MaxFrame+1)},
		{"length overflows", bytes.Repeat([]byte{0xff}, 11)},
	} {
		r := NewReader(bytes.NewReader(c.b))
		if _, err := r.Next(); !errors.Is(err, ErrDamaged) {
			t.Errorf("%s: %v, want ErrDamaged", c.name, err)
		}
	}
	r := NewReader(bytes.NewReader(whole))
	if b, err := r.Next(); err != nil || string(b) != "abc" {
		t.Fatalf("%q, %v", b, err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the last frame: %v, want io.EOF", err)
	}
}

// FuzzReader: any bytes read as frames end in io.EOF or ErrDamaged,
// never a panic or an allocation past MaxFrame; and frames written are
// read back whole.
func FuzzReader(f *testing.F) {
	f.Add([]byte{}, []byte("x"))
	f.Add([]byte{3, 'a', 'b', 'c', 0}, []byte(""))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, []byte("abc"))
	f.Fuzz(func(t *testing.T, junk, payload []byte) {
		r := NewReader(bytes.NewReader(junk))
		for i := 0; ; i++ {
			b, err := r.Next()
			if err != nil {
				if err != io.EOF && !errors.Is(err, ErrDamaged) {
					t.Fatalf("error %v", err)
				}
				break
			}
			if len(b) > MaxFrame || i > len(junk) {
				t.Fatalf("frame of %d bytes, %d frames, from %d bytes", len(b), i, len(junk))
			}
			fr := &frame{b: b}
			fr.pos()
			fr.str()
			fr.bytes()
		}
		// What a writer writes reads back, followed by the junk.
		store := newMemStore()
		p := newParts(store, "f", 1, maphash.Seed{})
		_ = p.add(context.Background(), 0, payload)
		_ = p.add(context.Background(), 0, payload)
		_ = p.flush(context.Background())
		r = NewReader(bytes.NewReader(store.files["f"]))
		for range 2 {
			b, err := r.Next()
			if err != nil || !bytes.Equal(b, payload) {
				t.Fatalf("read back %q, %v; wrote %q", b, err, payload)
			}
		}
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("after the frames: %v", err)
		}
	})
}

// TestADirKeepsWhatWasAppendedPastItsOpenFiles: blocks appended in turn
// to more files than a Dir keeps open, and again after Close, read back
// whole and in order from each file.
func TestADirKeepsWhatWasAppendedPastItsOpenFiles(t *testing.T) {
	ctx := context.Background()
	store := NewDir(t.TempDir())
	files := openFiles + openFiles/2
	want := make([]bytes.Buffer, files)
	appendAll := func(round int) {
		for i := range files {
			b := fmt.Appendf(nil, "file %d, block %d;", i, round)
			want[i].Write(b)
			if err := store.Append(ctx, fmt.Sprint(i), b); err != nil {
				t.Fatal(err)
			}
		}
	}
	for round := range 3 {
		appendAll(round)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	appendAll(3)
	for i := range files {
		rc, err := store.Open(ctx, fmt.Sprint(i))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want[i].Bytes()) {
			t.Fatalf("file %d reads %q; want %q", i, got, want[i].Bytes())
		}
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
}
