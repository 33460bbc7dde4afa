package presets

import (
	"sort"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/schema"
)

// FuzzMap sends arbitrary rows through every preset file compiled against
// its own columns: Map must not panic and each outcome is exactly one of a
// record, errors, or a skip.
func FuzzMap(f *testing.F) {
	var mappers []*mapspec.Mapper
	for _, p := range All() {
		for _, fs := range p.Spec.Files {
			var header []string
			for c := range columnsOf(fs) {
				header = append(header, c)
			}
			sort.Strings(header) // a replayed crash must see the same columns in the same order
			m, err := mapspec.Compile(fs, schema.Default(), header, "fuzz", now)
			if err != nil {
				f.Fatalf("%s/%s: %v", p.ID, fs.Name, err)
			}
			mappers = append(mappers, m)
		}
	}
	f.Add(uint8(0), "ann@example.com\x1f07911 123456\x1f2023-01-01\x1fyes")
	f.Add(uint8(3), "\x1f\x1f\x1f")
	f.Add(uint8(7), "£1,250.00\x1f31/02/2024\x1f+44 1\x1f1.2.3")
	f.Add(uint8(9), strings.Repeat("x\x1f", 40))
	f.Fuzz(func(t *testing.T, which uint8, row string) {
		m := mappers[int(which)%len(mappers)]
		fields := strings.Split(row, "\x1f")
		o := m.Map(2, fields)
		n := 0
		if o.Record != nil {
			n++
		}
		if len(o.Errors) > 0 {
			n++
		}
		if o.SkipRule != "" {
			n++
		}
		if n != 1 {
			t.Fatalf("outcome is %d of record/errors/skip: %+v", n, o)
		}
		if o.Record != nil && o.Record.ID == "" {
			t.Fatal("record without id")
		}
	})
}
