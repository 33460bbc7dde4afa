package presets

import (
	"encoding/json"
	"testing"

	"github.com/cutover/cutover/internal/mapspec"
)

func TestProposeTrustsARecognisedPreset(t *testing.T) {
	header := []string{"Record ID", "First Name", "Last Name", "Email", "Phone Number", "Mobile Phone Number", "Street Address", "City",
		"State/Region", "Postal Code", "Country/Region", "Contact owner", "Lifecycle Stage", "Lead Status", "Marketing contact status",
		"Unsubscribed from all email", "Create Date", "Last Modified Date", "Associated Company"}
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
