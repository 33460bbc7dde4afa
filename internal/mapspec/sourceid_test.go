package mapspec

import (
	"sort"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/schema"
)

func compileJSON(t *testing.T, spec string, header []string) *Mapper {
	t.Helper()
	sp, err := ParseWith([]byte(spec), schema.Default())
	if err != nil {
		t.Fatal(err)
	}
	m, err := Compile(sp.Files[0], schema.Default(), header, "t", fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A newsletter export whose own id is mostly blank: the row falls back to
// the e-mail, then to its content, and is not rejected.
func TestSourceIDFallsBackToFilledColumns(t *testing.T) {
	m := compileJSON(t, `{"version":1,"defaults":{"region":"ES"},"files":[{"name":"f","entity":"contact","sourceId":["LEID"],"sourceIdFallback":["Correo"],"sourceIdFrom":"content",
		"fields":[{"target":"emails","column":"Correo"},{"target":"first_name","column":"Nombre"},{"target":"phones","column":"Teléfono"}]}]}`,
		[]string{"LEID", "Correo", "Nombre", "Teléfono"})
	cases := []struct {
		row  []string
		want string
	}{
		{[]string{"991", "ana@ejemplo.es", "Ana", ""}, "991"},
		{[]string{"", "luis@ejemplo.es", "Luis", ""}, "luis@ejemplo.es"},
		{[]string{" ", "", "Marta", "+34 912 345 678"}, ContentIDPrefix},
	}
	for _, c := range cases {
		o := m.Map(2, c.row)
		if o.Record == nil {
			t.Fatalf("%v rejected: %+v", c.row, o.Errors)
		}
		if !strings.HasPrefix(o.Record.SourceID, c.want) {
			t.Fatalf("%v: source id %q, want %q", c.row, o.Record.SourceID, c.want)
		}
	}
	if o := m.Map(2, []string{"", "", "", "n/a"}); o.Record != nil {
		t.Fatalf("a row with nothing identifying it migrated: %+v", o.Record)
	}
}

// Without an id column, ids derived from content are the same whatever
// order the final extract lists the rows in (line:N was not).
func TestContentIDsDoNotDependOnRowOrder(t *testing.T) {
	spec := `{"version":1,"defaults":{"region":"NL"},"files":[{"name":"f","entity":"contact","sourceIdFrom":"content",
		"fields":[{"target":"first_name","column":"Voornaam"},{"target":"last_name","column":"Achternaam"},{"target":"emails","column":"E-mailadres"},{"target":"phones","column":"Telefoon"}]}]}`
	header := []string{"Voornaam", "Achternaam", "E-mailadres", "Telefoon"}
	rows := [][]string{
		{"Jan", "de Vries", "jan@voorbeeld.nl", ""},
		{"Sanne", "Bakker", "", "+31 20 123 4567"},
		{"Pieter", "Jansen", "Pieter@Voorbeeld.nl", "+31 6 12345678"},
	}
	ids := func(order []int) []string {
		m := compileJSON(t, spec, header)
		var out []string
		for line, i := range order {
			o := m.Map(line+2, rows[i])
			if o.Record == nil {
				t.Fatalf("row %d rejected: %+v", i, o.Errors)
			}
			out = append(out, o.Record.SourceID+" "+o.Record.ID)
		}
		sort.Strings(out)
		return out
	}
	a, b := ids([]int{0, 1, 2}), ids([]int{2, 0, 1})
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Fatalf("ids change with the row order:\n%v\n%v", a, b)
	}
	seen := map[string]bool{}
	for _, id := range a {
		if !strings.HasPrefix(id, ContentIDPrefix) || seen[id] {
			t.Fatalf("ids %v", a)
		}
		seen[id] = true
	}
}
