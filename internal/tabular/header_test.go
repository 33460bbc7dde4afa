package tabular

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// TestDuplicateHeadersDisambiguated reads exports whose header repeats a
// name (a HubSpot contact with its associated company, a German CRM with
// two "Firma" columns, a BLM feed) in every reader: the repeats get " (2)",
// " (3)" in order, names compare case-insensitively, and a suffix that is
// already taken is skipped rather than reused.
func TestDuplicateHeadersDisambiguated(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       []string
	}{
		{
			"hubspot-like", "Email,Company name,Create Date,Company name,Create Date\na@b.example,Acme,2024-01-02,Acme Ltd,2023-05-06\n",
			[]string{"Email", "Company name", "Create Date", "Company name (2)", "Create Date (2)"},
		},
		{
			"german, case differs", "Vorname;Firma;firma;FIRMA\nJürgen;A;B;C\n",
			[]string{"Vorname", "Firma", "firma (2)", "FIRMA (3)"},
		},
		{
			"suffix already taken", "Name,Name (2),Name\nx,y,z\n",
			[]string{"Name", "Name (2)", "Name (3)"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := readOne(t, tc.data, Options{})
			if !reflect.DeepEqual(r.header, tc.want) {
				t.Errorf("header %q, want %q", r.header, tc.want)
			}
			if len(r.rows) != 1 || len(r.rows[0]) != len(tc.want) {
				t.Errorf("rows %q", r.rows)
			}
		})
	}
	blm := readOne(t, "#HEADER#\nEOF : '^'\nEOR : '~'\n#DEFINITION#\nAGENT_REF^MEDIA_IMAGE_00^MEDIA_IMAGE_00^~\n#DATA#\n1^a.jpg^b.jpg^~\n#END#\n", Options{})
	if want := []string{"AGENT_REF", "MEDIA_IMAGE_00", "MEDIA_IMAGE_00 (2)"}; !reflect.DeepEqual(blm.header, want) {
		t.Errorf("BLM header %q, want %q", blm.header, want)
	}
	book := makeZip(t, workbookParts(`<row r="1"><c r="A1" t="inlineStr"><is><t>Nom</t></is></c><c r="B1" t="inlineStr"><is><t>nom</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>Dupont</t></is></c><c r="B2" t="inlineStr"><is><t>Durand</t></is></c></row>`, ordersRows))
	res, err := readAll(t, bytes.NewReader(book), "book.xlsx", Options{Sheet: "Contacts"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Nom", "nom (2)"}; !reflect.DeepEqual(res[0].header, want) {
		t.Errorf("XLSX header %q, want %q", res[0].header, want)
	}
}

// TestBaseHeader is the inverse that signatures and suggestions use to see
// the vendor's own name behind a disambiguated one.
func TestBaseHeader(t *testing.T) {
	for in, want := range map[string]string{
		"Create Date (2)":   "Create Date",
		"Company name (12)": "Company name",
		"Create Date":       "Create Date",
		"Phone (home)":      "Phone (home)",
		"(2)":               "(2)",
		"Size (0)":          "Size (0)",
	} {
		if got := BaseHeader(in); got != want {
			t.Errorf("BaseHeader(%q) = %q, want %q", in, got, want)
		}
	}
	_ = strings.TrimSpace
}
