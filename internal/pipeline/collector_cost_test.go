package pipeline

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/benchdata"
	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
)

// The collector is one goroutine that every row passes through, so what
// it costs per row bounds the whole pipeline. These tests count
// allocations (not time): the id sets and the warning groups must not
// allocate per row once they hold a row's id or reason group.

// TestIDSetsDoNotAllocatePerID: Written and Seen hold record ids (the
// hex of 16 bytes of SHA-256, cutover.RecordID) as fixed-size keys in
// maps without pointers, so adding one costs no allocation of its own
// (only the maps' growth, shared by every id) and the garbage collector
// has nothing to scan in them.
func TestIDSetsDoNotAllocatePerID(t *testing.T) {
	const n = 50000
	ids := make([]*mapspec.Record, n)
	for i := range ids {
		ids[i] = &mapspec.Record{Entity: "contact", ID: cutover.RecordID("acme", "contact", fmt.Sprint(i))}
	}
	var w *Written
	perWritten := testing.AllocsPerRun(1, func() {
		w = NewWritten()
		for _, r := range ids {
			w.Add(r.Entity, r.ID)
		}
	}) / n
	if w.Len() != n {
		t.Fatalf("Written holds %d ids, want %d", w.Len(), n)
	}
	var s *Seen
	perSeen := testing.AllocsPerRun(1, func() {
		s = NewSeen()
		for _, r := range ids {
			if s.add(r, "") {
				t.Fatalf("%s is not a repeat", r.ID)
			}
		}
	}) / n
	if !s.add(ids[7], "") {
		t.Fatal("a repeated id is not found")
	}
	t.Logf("allocations per id: Written %.4f, Seen %.4f", perWritten, perSeen)
	if perWritten > 0.05 || perSeen > 0.05 {
		t.Errorf("allocations per id: Written %.4f, Seen %.4f; want next to none (the maps' growth only)", perWritten, perSeen)
	}
}

// TestIDSetsAgreeWithMapsOfStrings checks Written and Seen, on a random
// mix of record ids, ids of other shapes (upper case, one digit short or
// long, not hex), ids sharing half their bytes, the id that reads as
// the key 0 and entities sharing ids, against the maps of strings
// they replace: every answer and every count must be the same.
func TestIDSetsAgreeWithMapsOfStrings(t *testing.T) {
	rnd := rand.New(rand.NewPCG(15, 4))
	var ids []string
	for i := 0; i < 3000; i++ { // enough for the maps to grow several times
		id := cutover.RecordID("acme", "contact", fmt.Sprint(i))
		other := cutover.RecordID("acme", "company", fmt.Sprint(i))
		ids = append(ids, id, strings.ToUpper(id), id[:31], id+"0", "x"+id[1:], fmt.Sprint(i),
			id[:16]+other[16:], other[:16]+id[16:]) // record ids sharing one half with another
	}
	ids = append(ids, "", strings.Repeat("0", 32), strings.Repeat("f", 32), strings.Repeat("g", 32))
	entities := []string{"contact", "company", "contact#x", ""}
	keys := []string{"", "", "a@x.com", "b@x.com", "A@x.com"}

	w, wantW := NewWritten(), map[string]bool{}
	s, wantS := NewSeen(), map[string]string{}
	for i := 0; i < 100000; i++ {
		ent, id, key := entities[rnd.IntN(len(entities))], ids[rnd.IntN(len(ids))], keys[rnd.IntN(len(keys))]
		k := ent + "\x00" + id
		if got, want := w.Has(ent, id), wantW[k]; got != want {
			t.Fatalf("Written.Has(%q, %q) = %v, want %v", ent, id, got, want)
		}
		w.Add(ent, id)
		wantW[k] = true
		want := false
		if prev, ok := wantS[k]; ok {
			want = key == "" || key != prev
		} else {
			wantS[k] = key
		}
		if got := s.add(&mapspec.Record{Entity: ent, ID: id}, key); got != want {
			t.Fatalf("Seen.add(%q, %q, key %q) = %v, want %v", ent, id, key, got, want)
		}
	}
	if w.Len() != len(wantW) {
		t.Fatalf("Written.Len() = %d, want %d", w.Len(), len(wantW))
	}
}

// TestHexKeyIsOneToOne: exactly the ids of 32 lowercase hex digits read
// as a key, and each as the bytes it spells (so two such ids never share
// one).
func TestHexKeyIsOneToOne(t *testing.T) {
	id := cutover.RecordID("acme", "contact", "1")
	k, ok := hexKey(id)
	if !ok || hex.EncodeToString(k[:]) != id {
		t.Fatalf("hexKey(%q) = %x, %v", id, k, ok)
	}
	for _, bad := range []string{strings.ToUpper(id), id[:31], id + "0", "g" + id[1:], id[:31] + " ", ""} {
		if _, ok := hexKey(bad); ok {
			t.Errorf("hexKey(%q) read it as a record id", bad)
		}
	}
}

// TestWrittenCountsLikeAMap: a Written only added to (a sink's count of
// what it wrote), asked its Len now and then, then asked about ids,
// counts what a map of strings counts, whatever the mix of ids and
// repeats, and then answers Has like it.
func TestWrittenCountsLikeAMap(t *testing.T) {
	rnd := rand.New(rand.NewPCG(15, 5))
	var ids []string
	for i := 0; i < 40000; i++ {
		ids = append(ids, cutover.RecordID("acme", "contact", fmt.Sprint(i)))
	}
	ids = append(ids, "x", "X", strings.Repeat("0", 32), strings.ToUpper(ids[0]))
	entities := []string{"contact", "company"}
	for _, repeats := range []int{1, 4} { // ids given once or up to four times
		w, want := NewWritten(), map[string]bool{}
		for i := 0; i < 150000; i++ {
			ent, id := entities[rnd.IntN(len(entities))], ids[rnd.IntN(len(ids))]
			if repeats == 1 {
				ent, id = entities[i%2], ids[(i/2)%len(ids)]
			}
			w.Add(ent, id)
			want[ent+"\x00"+id] = true
			if i%37000 == 0 && w.Len() != len(want) {
				t.Fatalf("after %d ids: Len() = %d, want %d", i+1, w.Len(), len(want))
			}
		}
		if w.Len() != len(want) {
			t.Fatalf("Len() = %d, want %d", w.Len(), len(want))
		}
		for i := 0; i < 20000; i++ {
			ent, id := entities[rnd.IntN(len(entities))], ids[rnd.IntN(len(ids))]
			if got := w.Has(ent, id); got != want[ent+"\x00"+id] {
				t.Fatalf("Has(%q, %q) = %v, want %v", ent, id, got, !got)
			}
		}
		if w.Len() != len(want) {
			t.Fatalf("after Has: Len() = %d, want %d", w.Len(), len(want))
		}
	}
}

// TestDiscardedFilesAreNotWritten: rejects and review files given as
// io.Discard (the shuffle's first run, which only emits keys) cost no
// more than none at all: their rows are not formatted to be thrown away.
// The report is the same either way.
func TestDiscardedFilesAreNotWritten(t *testing.T) {
	var src bytes.Buffer
	if err := benchdata.WriteContacts(&src, 4000, 3); err != nil {
		t.Fatal(err)
	}
	run := func(w io.Writer) (float64, *Report) {
		var rep *Report
		allocs := testing.AllocsPerRun(3, func() {
			tb, m := compile(t, contactsSpec, src.String())
			var err error
			rep, err = Run(context.Background(), "f", tb, m, Outputs{Rejects: w, Review: w, Seen: NewSeen()}, Options{Workers: 1})
			if err != nil {
				t.Fatal(err)
			}
		})
		return allocs, rep
	}
	none, r1 := run(nil)
	discarded, r2 := run(io.Discard)
	if r1.Counts.Warned < 1000 {
		t.Fatalf("the file should warn: %+v", r1.Counts)
	}
	if a, b := reportJSON(t, r1), reportJSON(t, r2); a != b {
		t.Fatalf("reports differ:\n%s\n%s", a, b)
	}
	t.Logf("allocations: %.0f without files, %.0f with io.Discard", none, discarded)
	if discarded > none*1.01 {
		t.Errorf("io.Discard files cost %.0f allocations more than none (%.0f)", discarded-none, none)
	}
}

func reportJSON(t *testing.T, r *Report) string {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
