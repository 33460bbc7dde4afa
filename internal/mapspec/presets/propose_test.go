package presets

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/schema"
)

func TestProposeTrustsARecognisedPreset(t *testing.T) {
	header := []string{
		"Record ID", "First Name", "Last Name", "Email", "Phone Number", "Mobile Phone Number", "Street Address", "City",
		"State/Region", "Postal Code", "Country/Region", "Contact owner", "Lifecycle Stage", "Lead Status", "Marketing contact status",
		"Unsubscribed from all email", "Create Date", "Last Modified Date", "Associated Company",
	}
	p := Propose("f-1", header, nil)
	if p.Preset != "hubspot-contacts" || p.File.Name != "f-1" || p.File.Entity != "contact" {
		t.Fatalf("proposal = %+v", p)
	}
}

func TestProposeBuildsFromSuggestions(t *testing.T) {
	header := []string{"Contact ID", "Forename", "Surname", "E-mail", "Shoe size"}
	sample := [][]string{{"7", "Ann", "Lee", "ann@x.com", "5"}, {"8", "Bo", "Ng", "bo@x.com", "9"}}
	p := Propose("f-2", header, sample)
	if p.Preset != "" || p.File.Entity != "contact" || len(p.File.SourceID) != 1 || p.File.SourceID[0] != "Contact ID" {
		t.Fatalf("proposal = %+v", p)
	}
	got := map[string]string{}
	for _, f := range p.File.Fields {
		got[f.Target] = f.Column
	}
	if got["first_name"] != "Forename" || got["last_name"] != "Surname" || got["emails"] != "E-mail" || len(got) != 3 {
		t.Fatalf("fields = %v", got)
	}
	spec := ProposeSpec([]Proposal{p})
	if _, err := mapspec.Parse(mustJSON(t, spec)); err != nil {
		t.Fatalf("the proposed spec does not parse: %v", err)
	}
}

func mustJSON(t *testing.T, s *mapspec.Spec) []byte {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Files from different systems keep their own defaults in one proposed
// spec: the Salesforce report's day-first dates still parse beside a
// HubSpot file.
func TestProposeSpecKeepsEachPresetsDefaults(t *testing.T) {
	read := func(name string) ([]string, [][]string) {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return rows[0], rows[1:]
	}
	hh, hs := read("hubspot-contacts.csv")
	sh, ss := read("salesforce-contacts-report.csv")
	props := []Proposal{Propose("hubspot.csv", hh, hs), Propose("salesforce.csv", sh, ss)}
	if props[0].Preset != "hubspot-contacts" || props[1].Preset != "salesforce-contacts-report" {
		t.Fatalf("presets = %q, %q", props[0].Preset, props[1].Preset)
	}
	spec, err := mapspec.Parse(mustJSON(t, ProposeSpec(props)))
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"hubspot-contacts", "salesforce-contacts-report"} {
		p, _ := Lookup(id)
		if f := spec.Files[i]; f.Defaults == nil || !reflect.DeepEqual(*f.Defaults, p.Spec.Defaults) {
			t.Fatalf("file %d has defaults %+v, want %s's %+v", i, f.Defaults, id, p.Spec.Defaults)
		}
	}
	m, err := mapspec.Compile(spec.Files[1], schema.Default(), sh, "t", time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	o := m.Map(2, ss[0])
	if o.Record == nil {
		t.Fatalf("the Salesforce row was rejected beside a HubSpot file: %+v", o.Errors)
	}
	if v, _ := o.Record.Get("created_at"); !strings.HasPrefix(v.String(), "2023-04-05") {
		t.Fatalf("created_at = %q, want 5 April 2023", v.String())
	}
}

// A proposal whose entry fills one list from two columns (a preset may)
// proposes that they combine, so the spec says what it does.
func TestProposalCombinesTwoColumnsOfOneList(t *testing.T) {
	fs := mapspec.FileSpec{Name: "f", Entity: "contact", Fields: []mapspec.FieldMapping{
		{Target: "emails", Column: "Email"}, {Target: "tags", Column: "Lifecycle Stage"}, {Target: "tags", Column: "Tags"},
	}}
	addSuggestions(&fs, []string{"Email", "Lifecycle Stage", "Tags"}, nil)
	if r, ok := fs.Combine["tags"]; !ok || r.Mode != mapspec.CombineAll {
		t.Fatalf("combine = %+v, want tags combined", fs.Combine)
	}
	if _, err := mapspec.Parse((&mapspec.Spec{Version: mapspec.Version, Files: []mapspec.FileSpec{fs}}).JSON()); err != nil {
		t.Fatalf("the proposal does not parse: %v", err)
	}
}

// A HubSpot export with a Tags column beside Lifecycle Stage (which the
// preset reads into tags): Tags is proposed into tags too, combined,
// rather than left out as "not sure enough" with 90% confidence (found by
// an outsider run); a column whose header only contains a field's name
// ("E-mail 1 - Label") is not added to a list the proposal fills already.
func TestProposalAddsANamedColumnToAListThePresetFills(t *testing.T) {
	header := []string{"Record ID", "First Name", "Last Name", "Email", "Lifecycle Stage", "Tags", "E-mail 1 - Label", "Create Date", "Phone Number"}
	sample := [][]string{{"1", "Ann", "Lee", "ann@x.com", "customer", "vip", "* Home", "2024-01-02 10:00", "+44 20 7946 0000"}}
	p := Propose("contacts.csv", header, sample)
	if p.Preset != "hubspot-contacts" {
		t.Fatalf("preset %q, want hubspot-contacts", p.Preset)
	}
	from := map[string][]string{}
	for _, fm := range p.File.Fields {
		from[fm.Target] = append(from[fm.Target], fm.SourceColumns()...)
	}
	if got := from["tags"]; !slices.Contains(got, "Tags") || !slices.Contains(got, "Lifecycle Stage") || p.File.Combine["tags"].Mode != mapspec.CombineAll {
		t.Fatalf("tags from %q, combine %+v; want Lifecycle Stage and Tags, combined", got, p.File.Combine)
	}
	if got := from["emails"]; slices.Contains(got, "E-mail 1 - Label") {
		t.Fatalf("emails from %q: a label column was added", got)
	}
	for _, c := range p.Columns {
		if c.Column == "Tags" && (c.Target != "tags" || strings.Contains(c.Reason, "not sure")) {
			t.Fatalf("the Tags column is proposed %+v", c)
		}
	}
}

// A column left out because another fills its field says so, naming that
// column, instead of saying the suggestion was not sure enough.
func TestALeftOutColumnNamesTheColumnThatFillsItsField(t *testing.T) {
	p := Propose("people.csv", []string{"Id", "First Name", "Given Name", "Email"}, [][]string{{"1", "Ann", "Annie", "ann@x.com"}})
	for _, c := range p.Columns {
		if c.Column == "Given Name" && (c.Target != "" || !strings.Contains(c.Reason, `the column "First Name" fills it already`)) {
			t.Fatalf("Given Name is proposed %+v; want it left out, naming First Name", c)
		}
	}
}
