package delta

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
)

// A snapshot's index places every key range where its lines are: for any
// cut of the slots (Cut, at any target) the byte ranges Range gives hold
// exactly the lines InRange keeps, each line in one range, the ranges in
// order covering the snapshot; whatever the keys (record ids, short ids,
// ids of multi-byte characters, entities that prefix one another).
func TestIndexRangesHoldExactlyTheirKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	ids := func(i int) string {
		switch i % 5 {
		case 0:
			return cutover.RecordID("acme", "contact", fmt.Sprint(i))
		case 1:
			return fmt.Sprintf("%x", i%7) // one character
		case 2:
			return "€" + fmt.Sprint(i) // a slot's two bytes would split "€"
		default:
			return fmt.Sprintf("%04x-%d", rng.IntN(1<<16), i)
		}
	}
	s := NewSnapshot()
	for i := range 3000 {
		entity := []string{"con", "contact", "contacts", "company"}[i%4]
		s.Add(Entry{Key: entity + "#" + ids(i), Entity: entity, SourceID: fmt.Sprint(i), Fields: map[string]string{"n": strings.Repeat("x", i%40)}})
	}
	var buf bytes.Buffer
	idx, err := s.WriteIndexed(&buf)
	if err != nil {
		t.Fatal(err)
	}
	// The index as it is kept: JSON, which holds valid UTF-8 only.
	kept, err := json.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	idx = Index{}
	if err := json.Unmarshal(kept, &idx); err != nil {
		t.Fatal(err)
	}
	if idx.Size != int64(buf.Len()) {
		t.Fatalf("the index says %d bytes; %d were written", idx.Size, buf.Len())
	}
	lines := strings.SplitAfter(buf.String(), "\n")
	lines = lines[:len(lines)-1]
	keys := make([]string, len(lines))
	for i, l := range lines {
		var e Entry
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatal(err)
		}
		keys[i] = e.Key
	}
	sizes := map[string]int64{}
	idx.SlotSizes(sizes)
	for _, target := range []int64{1, 500, 5000, 1 << 20} {
		starts := Cut(sizes, target)
		var joined strings.Builder
		prev := int64(0)
		for i, lo := range starts {
			hi := ""
			if i+1 < len(starts) {
				hi = starts[i+1]
			}
			start, end := idx.Range(lo, hi)
			if start != prev {
				t.Fatalf("target %d: range %d starts at %d, the one before ended at %d", target, i, start, prev)
			}
			prev = end
			var want strings.Builder
			for j, l := range lines {
				if InRange(keys[j], lo, hi) {
					want.WriteString(l)
				}
			}
			if got := buf.String()[start:end]; got != want.String() {
				t.Fatalf("target %d, range %d [%q, %q): %d bytes placed, %d bytes of its keys", target, i, lo, hi, len(got), want.Len())
			}
			joined.WriteString(buf.String()[start:end])
		}
		if prev != idx.Size || joined.String() != buf.String() {
			t.Fatalf("target %d: the %d ranges cover %d of %d bytes", target, len(starts), prev, idx.Size)
		}
		if target == 1 && len(starts) != len(sizes) {
			t.Fatalf("a target of one byte cuts %d ranges of %d slots", len(starts), len(sizes))
		}
	}
}
