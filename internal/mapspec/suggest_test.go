package mapspec

import (
	"fmt"
	"strings"
	"testing"
)

func TestSuggestUnknownFile(t *testing.T) {
	header := []string{"Cust No", "Given Name", "FAMILY_NAME", "E-mail", "Contact", "Post Code", "Joined", "Newsletter?", "Shoe Size"}
	sample := [][]string{
		{"1", "Ann", "Lee", "ann@example.com", "07911 123456", "LS1 4AP", "01/02/2023", "yes", "5"},
		{"2", "Bob", "Stone", "bob@example.com", "+44 113 496 0000", "SW1A 1AA", "03/02/2023", "no", "9"},
		{"3", "Cy", "Wu", "", "", "", "", "", ""},
	}
	got := Suggest(header, sample)
	want := []struct {
		target string
		conf   float64
		reason string
	}{
		{"", 0, `no synonym for header "Cust No" and no recognisable sample values`},
		{"first_name", 0.9, `header "Given Name" is a synonym of contact.first_name`},
		{"last_name", 0.9, `header "FAMILY_NAME" is a synonym of contact.last_name`},
		{"emails", 0.99, `header "E-mail" is a synonym of contact.emails; 2 of 2 sample values look like email addresses`},
		{"phones", 0.5, `2 of 2 sample values look like phone numbers`},
		{"postcode", 0.99, `header "Post Code" is a synonym of contact.postcode; 2 of 2 sample values look like UK postcodes`},
		{"created_at", 0.5, `2 of 2 sample values look like dates`},
		{"marketing_consent", 0.99, `header "Newsletter?" is a synonym of contact.marketing_consent; 2 of 2 sample values look like yes/no values`},
		{"", 0, `no synonym for header "Shoe Size" and no recognisable sample values`},
	}
	for i, w := range want {
		g := got[i]
		if g.Entity != "contact" || g.Target != w.target || g.Confidence != w.conf || g.Reason != w.reason {
			t.Errorf("column %q: got %s %v %q\nwant %s %v %q", header[i], g.Target, g.Confidence, g.Reason, w.target, w.conf, w.reason)
		}
	}
	if t.Failed() {
		for _, g := range got {
			fmt.Printf("%+v\n", g)
		}
	}
}

func TestSuggestContradiction(t *testing.T) {
	got := Suggest([]string{"Email"}, [][]string{{"07911 123456"}, {"01134960000"}})
	if got[0].Target != "emails" || got[0].Confidence != 0.6 || got[0].Reason != `header "Email" is a synonym of contact.emails; but 2 of 2 sample values look like phone numbers` {
		t.Fatalf("got %+v", got[0])
	}
}

func TestNormHeader(t *testing.T) {
	for in, want := range map[string]string{"MailingPostalCode": "mailing postal code", "mailing_postal_code": "mailing postal code", " E-Mail Address ": "e mail address", "Person - Email - Work": "person email work"} {
		if got := normHeader(in); got != want {
			t.Errorf("normHeader(%q) = %q, want %q", in, got, want)
		}
	}
}

// Values are evidence: a column of e-mail addresses is e-mails whatever its
// header says, a column of links is not taken for a name, and postcodes of
// other countries confirm a postcode header.
func TestSuggestTrustsValues(t *testing.T) {
	header := []string{"Kontakt", "Notizen", "Webseite", "PLZ"}
	sample := [][]string{
		{"ann@x.example", "ann@y.example", "https://ann.example", "10115"},
		{"bo@x.example", "bo@y.example", "https://bo.example/de", "80331"},
	}
	got := map[string]Suggestion{}
	for _, s := range Suggest(header, sample) {
		got[s.Column] = s
	}
	if got["Kontakt"].Target != "emails" || got["Notizen"].Target != "emails" || got["Notizen"].Confidence < 0.5 {
		t.Fatalf("e-mail columns: %+v %+v", got["Kontakt"], got["Notizen"])
	}
	if got["Webseite"].Target != "" || !strings.Contains(got["Webseite"].Reason, "web addresses") {
		t.Fatalf("links: %+v", got["Webseite"])
	}
	if got["PLZ"].Target != "postcode" || got["PLZ"].Confidence < 0.95 {
		t.Fatalf("PLZ: %+v", got["PLZ"])
	}
}

// A plural header meets its singular synonym: a list export's "Cities"
// and "Counties" are towns and counties, "Email Addresses" are e-mails.
func TestSuggestReadsPluralHeaders(t *testing.T) {
	got := Suggest([]string{"Cities", "Counties", "Email Addresses", "Status"}, [][]string{{"Modesto", "Stanislaus", "a@example.com", "x"}})
	want := []string{"town", "county", "emails", ""}
	for i, s := range got {
		if s.Target != want[i] {
			t.Errorf("%s -> %q (%s), want %q", s.Column, s.Target, s.Reason, want[i])
		}
	}
	for in, out := range map[string]string{"cities": "city", "email addresses": "email address", "phones": "phone", "status": "status", "boxes": "box", "bus": "bus"} {
		if got := singular(in); got != out {
			t.Errorf("singular(%q) = %q, want %q", in, got, out)
		}
	}
}

// A HubSpot contacts export with associated-company columns repeats
// "Company name" and "Create Date"; the reader numbers the repeats. A
// numbered header is read by its base name, less surely than the first
// occurrence, and never takes the first occurrence's target: the second
// "Create Date" (the company's) must not overwrite created_at, and the
// second "Company name" (the associated company's) feeds the contact's
// company only when no other column does.
func TestSuggestReadsNumberedHeadersByTheirBaseName(t *testing.T) {
	header := []string{"Record ID", "First Name", "Last Name", "Email", "Create Date", "Company name", "Associated Company IDs", "Company name (2)", "Create Date (2)"}
	sample := [][]string{
		{"101", "Ann", "Lee", "ann@example.com", "2023-01-04 10:00", "", "9001", "Acme Ltd", "2020-05-01 09:00"},
		{"102", "Bob", "Stone", "bob@example.com", "2023-02-11 12:30", "Stone & Co", "9002", "Stone & Co", "2021-07-21 15:00"},
	}
	got := map[string]Suggestion{}
	for _, s := range Suggest(header, sample) {
		got[s.Column] = s
	}
	if s := got["Create Date"]; s.Target != "created_at" {
		t.Fatalf("Create Date: %+v", s)
	}
	if s := got["Company name"]; s.Target != "company" {
		t.Fatalf("Company name: %+v", s)
	}
	for _, col := range []string{"Create Date (2)", "Company name (2)"} {
		first := got[strings.TrimSuffix(col, " (2)")]
		if s := got[col]; s.Target == first.Target || !strings.Contains(s.Reason, strings.TrimSuffix(col, " (2)")) {
			t.Errorf("%s takes its first occurrence's target or does not say why not: %+v", col, s)
		}
	}

	// When the first "Company name" feeds something else (here its values
	// are all e-mail addresses), the numbered one is the contact's company,
	// read by its base name and less surely than a header of its own.
	header = []string{"Record ID", "Company name", "Company name (2)"}
	sample = [][]string{{"1", "ann@example.com", "Acme Ltd"}, {"2", "bob@example.com", "Stone & Co"}}
	out := Suggest(header, sample)
	if out[1].Target != "emails" {
		t.Fatalf("the first Company name: %+v", out[1])
	}
	if s := out[2]; s.Target != "company" || s.Confidence <= 0 || s.Confidence >= 0.9 {
		t.Errorf("Company name (2) when nothing else feeds company: %+v", s)
	}
}
