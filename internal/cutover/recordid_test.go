package cutover

import (
	"fmt"
	"strings"
	"testing"
)

// Every record id falls in exactly one slice, whatever the number of
// slices, and the slices grow with the records so none is much larger
// than SegmentRecords.
func TestRecordIDPrefixesCoverEveryIDOnce(t *testing.T) {
	for _, tc := range []struct{ records, slices int }{
		{0, 1},
		{SegmentRecords, 1},
		{SegmentRecords + 1, 16},
		{16 * SegmentRecords, 16},
		{16*SegmentRecords + 1, 256},
		{100_000_000, 256},
	} {
		prefixes := RecordIDPrefixes(tc.records)
		if len(prefixes) != tc.slices {
			t.Errorf("%d records: %d slices, want %d", tc.records, len(prefixes), tc.slices)
		}
		count := make([]int, len(prefixes))
		for i := range 5000 {
			id := RecordID("t-1", "contact", fmt.Sprint(i))
			matched := 0
			for j, p := range prefixes {
				if strings.HasPrefix(id, p) {
					matched++
					count[j]++
				}
			}
			if matched != 1 {
				t.Fatalf("%d records: id %s begins with %d of the prefixes %v", tc.records, id, matched, prefixes)
			}
		}
		if len(prefixes) == 16 {
			for j, n := range count {
				if n < 5000/16/2 {
					t.Errorf("slice %q holds %d of 5,000 ids: the slices are not even", prefixes[j], n)
				}
			}
		}
	}
}
