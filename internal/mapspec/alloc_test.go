package mapspec

import (
	"testing"
	"time"
	"unsafe"

	"github.com/cutover/cutover/internal/schema"
)

// allocsPerRow compiles fields (JSON field mappings) for a contacts file
// and counts the allocations of mapping row, averaged over many rows so
// that slabs shared by many rows count for what they cost per row.
func allocsPerRow(t *testing.T, fields, market string, row []string) float64 {
	t.Helper()
	sp, err := Parse([]byte(`{"version":1,"defaults":{"region":"GB"},"files":[{"name":"c","entity":"contact","sourceId":["id"],"fields":[` + fields + `]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Compile(sp.Files[0], schema.Default(), []string{"id", "name", "phone", "tags"}, "acme", time.Date(2024, 6, 15, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	m.Infer([][]string{row}, market)
	if o := m.Map(2, row); o.Record == nil {
		t.Fatalf("row rejected: %+v", o.Errors)
	}
	return testing.AllocsPerRun(2000, func() { m.Map(2, row) })
}

// TestListsAndWarningsAllocateLittlePerRow: a list value's items and a
// row's warnings are cut from the mapper's slabs, like its values and
// records, so they cost next to no allocation per row; the phone warning
// costs its message and nothing else. Counted, not timed.
func TestListsAndWarningsAllocateLittlePerRow(t *testing.T) {
	row := []string{"7", "Ann", "07911 123456", "vip;buyer"}
	base := allocsPerRow(t, `{"target":"first_name","column":"name"}`, "GB", row)
	// (a split step still allocates the items it cuts; the list built
	// from them does not)
	list := allocsPerRow(t, `{"target":"first_name","column":"name"},{"target":"tags","columns":["tags","name"]}`, "GB", row)
	if extra := list - base; extra > 0.1 {
		t.Errorf("a list of two items costs %.2f allocations per row, want none", extra)
	}
	phone := allocsPerRow(t, `{"target":"first_name","column":"name"},{"target":"phones","column":"phone"}`, "GB", row)
	warned := allocsPerRow(t, `{"target":"first_name","column":"name"},{"target":"phones","column":"phone"}`, "", row)
	if extra := warned - phone; extra > 1.1 {
		t.Errorf("the warning \"has no country code\" costs %.2f allocations per row, want only its message", extra)
	}
	t.Logf("allocations per row: %.2f base, %.2f with a list, %.2f with a phone, %.2f with a phone that warns", base, list, phone, warned)
}

// TestAValueIsSevenWords: a row allocates a Value for each of its
// entity's fields (most of what mapping a row allocates), so Kind and
// Bool share a word: 56 bytes on 64-bit platforms, not 64.
func TestAValueIsSevenWords(t *testing.T) {
	if got, want := unsafe.Sizeof(Value{}), 7*unsafe.Sizeof(uintptr(0)); got > want {
		t.Errorf("a Value takes %d bytes, want %d", got, want)
	}
}
