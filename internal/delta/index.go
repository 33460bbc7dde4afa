package delta

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// A snapshot's index says where each of its slots begins, so that one key
// range of many snapshots can be compared without reading the rest of
// them: a snapshot is sorted by key, so the entries of a slot (the
// entity, "#" and the first two characters of the id: for cutover's
// record ids, two hex digits, 256 slots per entity) are one run of lines,
// and a run of slots is one byte range.

// slotIDRunes is how many characters of the id after the entity's "#"
// name a slot.
const slotIDRunes = 2

// Index is where each slot of a snapshot begins.
type Index struct {
	Size  int64       `json:"size"`  // the snapshot's bytes
	Slots []SlotStart `json:"slots"` // in key order, each slot once
}

// SlotStart is the offset of a slot's first line.
type SlotStart struct {
	Slot   string `json:"s"`
	Offset int64  `json:"o"`
}

// SlotOf is the slot of a key: its entity, "#" and at most the first two
// characters of its id (two hex digits of a record id). Whole characters,
// so that a slot is valid UTF-8 as JSON keeps it; and so slots sort as
// their keys do: for keys a < b, SlotOf(a) <= SlotOf(b) (an entity holds
// no "#", and two keys that agree up to a byte agree on where the
// characters before it end).
func SlotOf(key string) string {
	i := strings.IndexByte(key, '#')
	if i < 0 {
		return key
	}
	n := i + 1
	for range slotIDRunes {
		if n >= len(key) {
			break
		}
		_, size := utf8.DecodeRuneInString(key[n:])
		n += size
	}
	return key[:n]
}

// InRange says whether key is in the slots from lo (inclusive; "" is the
// first) to hi (exclusive; "" is past the last), as Index.Range places it.
func InRange(key, lo, hi string) bool {
	s := SlotOf(key)
	return s >= lo && (hi == "" || s < hi)
}

// indexer builds an Index as sorted lines are written.
type indexer struct{ idx Index }

// line notes a line of n bytes (its newline included) with key, written
// at the current end of the snapshot.
func (x *indexer) line(key string, n int) {
	s := SlotOf(key)
	if k := len(x.idx.Slots); k == 0 || x.idx.Slots[k-1].Slot != s {
		x.idx.Slots = append(x.idx.Slots, SlotStart{Slot: s, Offset: x.idx.Size})
	}
	x.idx.Size += int64(n)
}

// Indexer builds the Index of a snapshot written line by line in key order
// by another writer than Snapshot (a merge of snapshots).
type Indexer struct{ x indexer }

// Line notes a line of n bytes, its newline included, with key.
func (x *Indexer) Line(key string, n int) { x.x.line(key, n) }

// Index is the index of the lines noted so far.
func (x *Indexer) Index() Index { return x.x.idx }

// Range is the byte range [Start, End) of the slots from lo (inclusive)
// to hi (exclusive; "" is past the last slot); "" for lo is the first.
// Slots the index does not hold are placed by their order.
func (x Index) Range(lo, hi string) (start, end int64) {
	at := func(s string) int64 {
		i, _ := slices.BinarySearchFunc(x.Slots, s, func(e SlotStart, s string) int { return strings.Compare(e.Slot, s) })
		if i == len(x.Slots) {
			return x.Size
		}
		return x.Slots[i].Offset
	}
	start, end = 0, x.Size
	if lo != "" {
		start = at(lo)
	}
	if hi != "" {
		end = at(hi)
	}
	return start, max(start, end)
}

// SlotSizes adds each slot's bytes in x to sizes.
func (x Index) SlotSizes(sizes map[string]int64) {
	for i, s := range x.Slots {
		end := x.Size
		if i+1 < len(x.Slots) {
			end = x.Slots[i+1].Offset
		}
		sizes[s.Slot] += end - s.Offset
	}
}

// Cut divides the slots of sizes, in order, into runs of about target
// bytes each (a slot bigger than target is a run of its own) and returns
// each run's first slot; the first is always "", so the runs cover every
// key. At least one run is returned.
func Cut(sizes map[string]int64, target int64) []string {
	slots := make([]string, 0, len(sizes))
	for s := range sizes {
		slots = append(slots, s)
	}
	slices.Sort(slots)
	starts := []string{""}
	var acc int64
	for _, s := range slots {
		if acc >= target && acc > 0 {
			starts = append(starts, s)
			acc = 0
		}
		acc += sizes[s]
	}
	return starts
}
