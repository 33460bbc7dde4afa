package presets

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/schema"
	"github.com/cutover/cutover/internal/tabular"
)

// readFixture reads every table of a testdata file: header and rows.
func readFixture(t testing.TB, path string) (header []string, rows [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ts, err := tabular.Open(f, filepath.Base(path), tabular.Options{})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	tb := ts[0]
	defer tb.Close()
	for {
		r, err := tb.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		rows = append(rows, append([]string(nil), r.Fields...))
	}
	return tb.Header(), rows
}

// runProposal writes p as a spec, parses it back (as a customer's saved
// mapping is), compiles it against header and maps every row. It returns
// the records and the rejected rows' reasons.
func runProposal(t testing.TB, p Proposal, header []string, rows [][]string) (recs []*mapspec.Record, rejected []string) {
	t.Helper()
	raw, err := json.Marshal(ProposeSpec([]Proposal{p}))
	if err != nil {
		t.Fatal(err)
	}
	sp, err := mapspec.Parse(raw)
	if err != nil {
		t.Fatalf("the proposed spec does not parse: %v\n%s", err, raw)
	}
	m, err := mapspec.Compile(sp.Files[0], schema.Default(), header, "prop", now)
	if err != nil {
		t.Fatalf("the proposed spec does not compile on its own file: %v\n%s", err, raw)
	}
	for i, r := range rows {
		o := m.Map(i+2, r)
		if o.Record != nil {
			recs = append(recs, o.Record)
		}
		for _, e := range o.Errors {
			rejected = append(rejected, e.Column+": "+e.Reason)
		}
	}
	return recs, rejected
}

// Every fixture, vendor or not, in every language: the proposal for it
// parses, compiles on it and maps every row.
func TestProposalRunsOnEveryFixture(t *testing.T) {
	paths, _ := filepath.Glob("testdata/*.*")
	if len(paths) < 20 {
		t.Fatalf("only %d fixtures", len(paths))
	}
	for _, path := range paths {
		header, rows := readFixture(t, path)
		p := Propose(filepath.Base(path), header, rows)
		recs, rejected := runProposal(t, p, header, rows)
		if len(recs) == 0 && len(rejected) > 0 {
			t.Errorf("%s: the proposal (%s) rejected every row: %v", path, p.Preset, rejected)
		}
	}
}

// A preset's columns beyond its signature are optional: without Pipedrive's
// marketing status (which its skip rule reads) or Rightmove's ADDRESS_2
// (joined into the address), the preset is still proposed and runs.
func TestProposeLeavesOutAbsentPresetColumns(t *testing.T) {
	for path, preset := range map[string]string{"testdata/pipedrive-people-short.csv": "pipedrive-people", "testdata/rightmove-no-address2.blm": "rightmove-blm"} {
		header, rows := readFixture(t, path)
		p := Propose("f", header, rows)
		if p.Preset != preset {
			t.Fatalf("%s: preset %q, want %s", path, p.Preset, preset)
		}
		recs, rejected := runProposal(t, p, header, rows)
		if len(rejected) > 0 || len(recs) == 0 {
			t.Fatalf("%s: %d records, rejected %v", path, len(recs), rejected)
		}
	}
}

// A file that is mostly HubSpot keeps the suggestions for the columns the
// preset does not read.
func TestProposeAddsSuggestionsBesideThePreset(t *testing.T) {
	header, rows := readFixture(t, "testdata/hubspot-extra-columns.csv")
	p := Propose("f", header, rows)
	if p.Preset != "hubspot-contacts" {
		t.Fatalf("preset %q", p.Preset)
	}
	got := map[string]string{}
	for _, f := range p.File.Fields {
		for _, c := range f.SourceColumns() {
			got[c] = f.Target
		}
	}
	for col, want := range map[string]string{"Street": "address_line1", "Postcode": "postcode", "Mobile": "phones", "Notes": "notes", "Email": "emails"} {
		if got[col] != want {
			t.Errorf("%s -> %q, want %s (fields %v)", col, got[col], want, got)
		}
	}
	// The proposal's column table is exactly what its spec does.
	for _, c := range p.Columns {
		if got[c.Column] != c.Target {
			t.Errorf("column table says %s -> %q, the spec %q", c.Column, c.Target, got[c.Column])
		}
	}
	if len(p.Columns) != len(header) {
		t.Fatalf("%d columns described, header has %d", len(p.Columns), len(header))
	}
}

// Mailchimp's LEID left blank is not an id: the e-mail is, and no row is
// rejected for an empty source id.
func TestProposeChoosesAFilledSourceID(t *testing.T) {
	header, rows := readFixture(t, "testdata/mailchimp-blank-leid.csv")
	p := Propose("f", header, rows)
	for _, c := range p.File.SourceID {
		if c == "LEID" {
			t.Fatalf("blank LEID chosen as the source id: %+v", p.File)
		}
	}
	recs, rejected := runProposal(t, p, header, rows)
	if len(recs) != 3 || len(rejected) > 0 {
		t.Fatalf("%d records, rejected %v", len(recs), rejected)
	}
	if recs[0].SourceID != "zoe@example.org" {
		t.Fatalf("source id %q", recs[0].SourceID)
	}
}

// A file with no id column gets ids from content, and the proposal says so.
func TestProposeDerivesIDsFromContentWithoutAnIDColumn(t *testing.T) {
	header, rows := readFixture(t, "testdata/contacten-nl.csv")
	p := Propose("f", header, rows)
	if p.File.SourceIDFrom != mapspec.SourceIDFromContent || len(p.Notes) == 0 {
		t.Fatalf("proposal %+v", p)
	}
	recs, _ := runProposal(t, p, header, rows)
	for _, r := range recs {
		if !strings.HasPrefix(r.SourceID, mapspec.ContentIDPrefix) && !strings.Contains(r.SourceID, "@") {
			t.Fatalf("source id %q", r.SourceID)
		}
	}
}

// Headers in French, German, Spanish, Dutch, Italian and Portuguese map to
// the contact's fields.
func TestProposeReadsOtherLanguages(t *testing.T) {
	want := map[string]map[string]string{
		"testdata/kontakte-de.csv":  {"Vorname": "first_name", "Nachname": "last_name", "E-Mail": "emails", "Straße": "address_line1", "PLZ": "postcode", "Ort": "town", "Firma": "company", "Telefon": "phones"},
		"testdata/contacts-fr.csv":  {"Nom": "last_name", "Prénom": "first_name", "Courriel": "emails", "Ville": "town", "Code postal": "postcode", "Adresse": "address_line1", "Société": "company", "Téléphone portable": "phones"},
		"testdata/contactos-es.csv": {"Nombre": "first_name", "Apellidos": "last_name", "Correo electrónico": "emails", "Ciudad": "town", "Código postal": "postcode", "Dirección": "address_line1", "Empresa": "company"},
		"testdata/contacten-nl.csv": {"Voornaam": "first_name", "Achternaam": "last_name", "E-mailadres": "emails", "Woonplaats": "town", "Postcode": "postcode", "Straat": "address_line1", "Bedrijf": "company"},
		"testdata/contatti-it.csv":  {"Nome": "first_name", "Cognome": "last_name", "Indirizzo email": "emails", "Città": "town", "CAP": "postcode", "Indirizzo": "address_line1", "Azienda": "company", "Cellulare": "phones"},
		"testdata/contatos-pt.csv":  {"Nome": "first_name", "Sobrenome": "last_name", "E-mail": "emails", "Localidade": "town", "Código postal": "postcode", "Morada": "address_line1", "Empresa": "company", "Telemóvel": "phones"},
	}
	for path, cols := range want {
		header, rows := readFixture(t, path)
		p := Propose("f", header, rows)
		got := map[string]string{}
		for _, f := range p.File.Fields {
			got[f.Column] = f.Target
		}
		for col, target := range cols {
			if got[col] != target {
				t.Errorf("%s: %s -> %q, want %s", path, col, got[col], target)
			}
		}
		if recs, rejected := runProposal(t, p, header, rows); len(recs) != len(rows) {
			t.Errorf("%s: %d of %d rows migrated; rejected %v", path, len(recs), len(rows), rejected)
		}
	}
}

// A column of e-mail-shaped values is e-mails whatever its header says.
func TestProposeReadsValuesAsEvidence(t *testing.T) {
	header := []string{"Kolumne A", "Kolumne B", "Spalte C"}
	rows := [][]string{{"ann@x.example", "https://ann.example", "+49 30 1234567"}, {"bo@y.example", "https://bo.example/", "+49 89 7654321"}}
	p := Propose("f", header, rows)
	got := map[string]string{}
	for _, f := range p.File.Fields {
		got[f.Column] = f.Target
	}
	if got["Kolumne A"] != "emails" || got["Spalte C"] != "phones" {
		t.Fatalf("fields %v", got)
	}
}

// Merging rows with different source ids is the customer's rule to turn
// on: no preset does it for them.
func TestNoPresetMergesDifferentIDs(t *testing.T) {
	for _, p := range All() {
		for _, f := range p.Spec.Files {
			if f.MergeDifferentIDs {
				t.Errorf("%s/%s merges rows with different source ids", p.ID, f.Name)
			}
		}
	}
}
