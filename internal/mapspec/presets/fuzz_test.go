package presets

import (
	"encoding/json"
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

// FuzzPropose proposes a mapping for random headers and rows: the proposal
// always parses, compiles on the file it was proposed for and maps every
// row to exactly one outcome.
func FuzzPropose(f *testing.F) {
	f.Add("Person - ID\x1fPerson - Name\x1fPerson - Email - Work", "1\x1fAnn\x1fann@x.example\n\x1f\x1f")
	f.Add("Email Address\x1fMEMBER_RATING\x1fOPTIN_TIME\x1fLEID", "a@b.example\x1f2\x1f2024-01-01 00:00:00\x1f\n")
	f.Add("Nom\x1fPrénom\x1fVille\x1fNom", "Dupont\x1fMarie\x1fParis\x1fx")
	f.Add("Vorname\x1fNachname\x1fStraße\x1fPLZ", "Jürgen\x1fMüller\x1fHauptstr. 1\x1f10115")
	f.Add("\x1f\x1f", "\n\n")
	f.Add("Record ID\x1fFirst Name\x1fEmail\x1fStreet\x1fTags", "1\x1fA\x1fnot-an-email\x1f\x1fa,b")
	f.Fuzz(func(t *testing.T, head, body string) {
		header := strings.Split(head, "\x1f")
		if len(header) > 60 {
			header = header[:60]
		}
		var rows [][]string
		for _, line := range strings.Split(body, "\n") {
			rows = append(rows, strings.Split(line, "\x1f"))
		}
		p := Propose("f", header, rows)
		if len(p.File.Fields) == 0 {
			return // nothing can be placed: callers refuse the file, saying so
		}
		raw, err := json.Marshal(ProposeSpec([]Proposal{p}))
		if err != nil {
			t.Fatal(err)
		}
		sp, err := mapspec.Parse(raw)
		if err != nil {
			t.Fatalf("proposal does not parse: %v\n%s", err, raw)
		}
		m, err := mapspec.Compile(sp.Files[0], schema.Default(), header, "fuzz", now)
		if err != nil {
			t.Fatalf("proposal does not compile: %v\n%s", err, raw)
		}
		for i, r := range rows {
			o := m.Map(i+2, r)
			if (o.Record != nil) == (len(o.Errors) > 0 || o.SkipRule != "") {
				t.Fatalf("row %d: outcome %+v", i, o)
			}
		}
	})
}
