package delta

import (
	"testing"

	"github.com/cutover/cutover/internal/cutover"
)

// A value left out of a record (it could not be read; kept under
// "invalid") is part of what the record is: the test read 12/31/2024 as
// unreadable, the final extract holds 31/12/2024, or nothing at all. Each
// is a change the delta shows, not an unchanged record.
func TestFromRecordComparesValuesLeftOut(t *testing.T) {
	rec := func(invalid map[string]cutover.InvalidValue, fields map[string]string) Entry {
		return FromRecord(cutover.Record{ID: "abc", Entity: "contact", SourceID: "7", Fields: fields, Invalid: invalid})
	}
	bad := func(v string) map[string]cutover.InvalidValue {
		return map[string]cutover.InvalidValue{"created_at": {Value: v, Reason: "not a date"}}
	}
	plain := map[string]string{"emails": "a@x.com"}
	for _, tc := range []struct {
		name          string
		before, after Entry
		changed       bool
		field         string
	}{
		{"left out in the test only", rec(bad("12/31/2024"), plain), rec(nil, plain), true, "created_at"},
		{"left out in the final only", rec(nil, plain), rec(bad("12/31/2024"), plain), true, "created_at"},
		{"a different raw value left out", rec(bad("12/31/2024"), plain), rec(bad("13/31/2024"), plain), true, "created_at"},
		{"the same value left out", rec(bad("12/31/2024"), plain), rec(bad("12/31/2024"), plain), false, ""},
		{"read now, left out before", rec(bad("12/31/2024"), plain), rec(nil, map[string]string{"emails": "a@x.com", "created_at": "2024-12-31T00:00:00Z"}), true, "created_at"},
	} {
		r, _ := compare(t, snap(t, tc.before), snap(t, tc.after))
		ed := r.Entities[0]
		if tc.changed != (ed.Changed == 1) || !tc.changed && ed.Unchanged != 1 {
			t.Errorf("%s: %+v, want changed=%v", tc.name, ed, tc.changed)
			continue
		}
		if tc.changed && (len(ed.Examples) != 1 || len(ed.Examples[0].Fields) != 1 || ed.Examples[0].Fields[0].Field != tc.field) {
			t.Errorf("%s: examples %+v, want one change of %s", tc.name, ed.Examples, tc.field)
		}
	}
}
