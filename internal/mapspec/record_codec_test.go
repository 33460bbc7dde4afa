package mapspec_test

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/mapspec/presets"
	"github.com/cutover/cutover/internal/schema"
)

// presetRecords maps every row of every preset's fixture it names, for
// records with every kind of value, lists, references, derived people and
// values left out.
func presetRecords(t testing.TB) []*mapspec.Record {
	t.Helper()
	sch := schema.Default()
	var out []*mapspec.Record
	paths, _ := filepath.Glob("presets/testdata/*.csv")
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil || len(rows) < 2 {
			continue
		}
		for _, m := range presets.Detect(rows[0]) {
			p, _ := presets.Lookup(m.Preset)
			for _, fs := range p.Spec.Files {
				if fs.Name != m.File {
					continue
				}
				mp, err := mapspec.Compile(fs, sch, rows[0], "t", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
				if err != nil {
					continue
				}
				for i, r := range rows[1:] {
					o := mp.Map(i+2, r)
					if o.Record != nil {
						out = append(out, o.Record)
					}
					out = append(out, o.Derived...)
				}
			}
		}
	}
	return out
}

func TestRecordBinaryRoundTrips(t *testing.T) {
	recs := presetRecords(t)
	if len(recs) < 50 {
		t.Fatalf("only %d records from the preset fixtures", len(recs))
	}
	// Parts the mapper leaves empty, set by a merge or a pass.
	recs[0].Lines = []int{7, 9}
	recs[0].Merged = []mapspec.RowAt{{File: "a.csv", Line: 7}, {File: "b.csv [S]", Line: 9}}
	recs[0].File = "a.csv"
	recs[1].Source = &cutover.SourceRow{File: "a.csv", Line: 3, Columns: []string{"A", "B"}, Values: []string{"1", ""}}
	recs[2].Fields = append([]mapspec.Value(nil), recs[2].Fields...)
	recs[2].Fields[0] = mapspec.Value{Kind: mapspec.KList, List: []string{}} // empty, not nil
	kinds, refs, invalid := map[mapspec.Kind]bool{}, 0, 0
	for _, r := range recs {
		for _, v := range r.Fields {
			kinds[v.Kind] = true
		}
		refs += len(r.Refs)
		invalid += len(r.Invalid)
		got, err := mapspec.DecodeRecord(r.AppendBinary(nil), schema.Default())
		if err != nil {
			t.Fatalf("%s line %d: %v", r.Entity, r.Line, err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Fatalf("%s line %d read back as\n%+v\nwritten\n%+v", r.Entity, r.Line, got, r)
		}
		if string(got.AppendJSON(nil)) != string(r.AppendJSON(nil)) {
			t.Fatalf("%s line %d serialises differently read back", r.Entity, r.Line)
		}
	}
	if len(kinds) < 5 || refs == 0 || invalid == 0 {
		t.Fatalf("the fixtures exercised %d kinds, %d references, %d values left out", len(kinds), refs, invalid)
	}
}

// FuzzDecodeRecord: any bytes either decode to a record that encodes to
// the same bytes, or are refused with EINTERNAL; never a panic or a huge
// allocation.
func FuzzDecodeRecord(f *testing.F) {
	for i, r := range presetRecords(f) {
		if i%50 == 0 {
			f.Add(r.AppendBinary(nil))
		}
	}
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := mapspec.DecodeRecord(b, schema.Default())
		if err != nil {
			if cutover.ErrorCode(err) != cutover.EINTERNAL {
				t.Fatalf("error %v", err)
			}
			return
		}
		again, err := mapspec.DecodeRecord(r.AppendBinary(nil), schema.Default())
		if err != nil || !reflect.DeepEqual(again, r) {
			t.Fatalf("a decoded record does not round-trip: %v", err)
		}
	})
}

// TestDecodeRecordAllocatesPerRecordNotPerString: a record read back (the
// shuffle reads every record of a pass back once) costs a few
// allocations, its strings sharing one, not one per string.
func TestDecodeRecordAllocatesPerRecordNotPerString(t *testing.T) {
	sch := schema.Default()
	sp, err := mapspec.Parse([]byte(`{"version":1,"defaults":{"region":"GB"},"files":[{"name":"c","entity":"contact","sourceId":["id"],
		"fields":[{"target":"first_name","column":"first"},{"target":"last_name","column":"last"},{"target":"company","column":"company"},{"target":"emails","column":"email"},{"target":"notes","column":"notes"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapspec.Compile(sp.Files[0], sch, []string{"id", "first", "last", "company", "email", "notes"}, "t", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	o := m.Map(2, []string{"7", "Ann", "Lee", "Initech", "ann@x.com", "likes tea"})
	if o.Record == nil {
		t.Fatalf("rejected: %+v", o.Errors)
	}
	o.Record.File = "c.csv"
	b := o.Record.AppendBinary(nil)
	per := testing.AllocsPerRun(200, func() {
		if _, err := mapspec.DecodeRecord(b, sch); err != nil {
			t.Fatal(err)
		}
	})
	// the record, its values, one string for all its strings, the e-mail list
	if per > 4 {
		t.Errorf("reading a record back costs %.0f allocations, want at most 4", per)
	}
}
