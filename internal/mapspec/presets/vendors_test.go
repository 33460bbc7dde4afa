package presets

import (
	"os"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/schema"
)

// vendorFixtures are real-shaped exports written for these tests (in the
// vendors' layouts, with contacts from several countries): each names the
// preset file it must be recognised as and what its rows must become.
var vendorFixtures = []struct {
	fixture, preset, file string
	rows                  []want
}{
	{"google-contacts.csv", "google-contacts", "contacts", []want{
		{fields: map[string]string{
			"title": "Dr.", "first_name": "Jürgen", "last_name": "Weiß", "full_name": "",
			"emails":  "juergen@baeckerei-weiss.example; jw@privat.example; weiss.home@example.de",
			"phones":  "+4915123456789; +49301234567",
			"company": "Bäckerei Weiß GmbH", "job_title": "Inhaber", "address_line1": "Hauptstraße 5", "town": "Berlin", "postcode": "10115",
			"country": "Deutschland", "tags": "myContacts; Stammkunden", "notes": "Kunde seit 2019\nbevorzugt Anrufe",
		}},
		{fields: map[string]string{"first_name": "Anna", "emails": "anna.schmidt@example.de", "phones": "+491609876543", "tags": "myContacts", "address_line1": ""}},
	}},
	{"google-contacts-legacy.csv", "google-contacts", "contacts-legacy", []want{
		{fields: map[string]string{
			"title": "Mme", "first_name": "Hélène", "last_name": "Dupont", "full_name": "Hélène Dupont",
			"emails": "helene.dupont@example.fr; h.dupont@travail.example.fr", "phones": "+33612345678",
			"company": "Librairie Dupont", "job_title": "Gérante", "address_line1": "12 rue de la Paix", "town": "Paris", "county": "Île-de-France",
			"postcode": "75002", "country": "France", "tags": "My Contacts; Clients Paris", "notes": `Rappeler en "septembre"`,
		}},
		{fields: map[string]string{"first_name": "François", "emails": "f.martin@example.fr; francois@example.org", "phones": ""}},
	}},
	{"outlook-contacts.csv", "outlook-contacts", "contacts", []want{
		{fields: map[string]string{
			"title": "Mr.", "first_name": "Oliver", "last_name": "Bennett", "full_name": "",
			"emails": "oliver@bennett.example; ob@home.example", "phones": "+447911123456; +441614960000",
			"company": "Bennett & Sons Ltd", "job_title": "Director", "address_line1": "4 Wharf Road", "town": "Manchester", "postcode": "M1 2AB",
			"country": "United Kingdom", "tags": "Suppliers; VIP", "notes": "Met at the trade fair.\nPrefers e-mail.", "created_at": "",
		}},
	}},
	{"outlook-contacts-quoted.csv", "outlook-contacts", "contacts", []want{
		{fields: map[string]string{
			"first_name": "Sanne", "last_name": "de Vries", "emails": "sanne@devries.example", "phones": "+31201234567",
			"address_line1": "Keizersgracht 12", "town": "Amsterdam", "postcode": "1015 CS", "country": "Nederland", "created_at": "",
		}},
	}},
	{"outlook-contacts-de.csv", "outlook-contacts", "contacts-de", []want{
		{fields: map[string]string{
			"title": "Frau", "first_name": "Ursula", "last_name": "Köhler", "full_name": "", "emails": "u.koehler@example.de",
			"phones": "+491712345678", "company": "Köhler & Partner", "job_title": "Geschäftsführerin", "address_line1": "Lindenallee 3", "town": "München",
			"postcode": "80331", "country": "Deutschland", "tags": "Kunden; Newsletter", "notes": "Rückruf erbeten", "created_at": "",
		}},
	}},
	{"yahoo-contacts.csv", "yahoo-contacts", "contacts", []want{
		{fields: map[string]string{
			"first_name": "María", "last_name": "García", "emails": "maria.garcia@example.com; mgarcia@example.net",
			"phones": "+14155550134", "company": "Garcia Imports", "job_title": "Buyer", "address_line1": "742 Evergreen Terrace", "town": "Springfield",
			"county": "OR", "postcode": "97403", "country": "United States", "notes": "Two lines\nof comments",
		}},
	}},
	{"beehiiv-subscribers.csv", "beehiiv-subscribers", "subscribers", []want{
		{fields: map[string]string{"emails": "reader@example.com", "marketing_consent": "true", "tags": "premium", "created_at": "2024-02-03T09:10:11Z"}},
		{fields: map[string]string{"emails": "gone@example.com", "marketing_consent": "false", "marketing_consent_date": "2024-01-05", "tags": "free"}},
		{fields: map[string]string{"emails": "new@example.com", "marketing_consent": "", "created_at": "2024-05-01T12:00:00Z"}},
	}},
	{"substack-subscribers.csv", "substack-subscribers", "subscribers", []want{
		{fields: map[string]string{"emails": "lena@example.org", "marketing_consent": "true", "tags": "paid", "roles": ""}},
		{fields: map[string]string{"emails": "muted@example.org", "marketing_consent": "false", "tags": "free"}},
	}},
	{"hubspot-companies.csv", "hubspot-companies", "companies", []want{
		{fields: map[string]string{
			"name": "Ferretería Núñez S.L.", "domain": "ferreteria-nunez.example", "owner": "Ana Ruiz", "phones": "+34912345678",
			"address_line1": "Calle Mayor 10", "town": "Madrid", "postcode": "28013", "country": "Spain", "industry": "Retail", "employees": "45",
			"annual_revenue": "1500000.00 GBP", "tags": "customer", "notes": "Proveedor habitual", "created_at": "2023-09-01T10:00:00Z",
		}},
		{fields: map[string]string{"name": "", "domain": "acme.example", "tags": "lead"}},
		{errors: []string{": the row has none of name, domain: nothing identifies this company"}},
	}},
	{"hubspot-companies-default-view.csv", "hubspot-companies", "companies", []want{
		{fields: map[string]string{
			"name": "Boulangerie Lefèvre", "domain": "", "owner": "Marc Dubois", "town": "Lyon", "country": "France",
			"phones": "+33142685300", "industry": "Food & Beverage", "created_at": "2024-03-05T09:15:00Z",
		}},
	}},
	{"hubspot-leads.csv", "hubspot-leads", "leads", []want{
		{fields: map[string]string{
			"full_name": "Carmen Ortega", "company": "Ferretería Núñez S.L.", "company_ref": "9001",
			"tags": "Connected; Sales pipeline", "created_at": "2024-04-02T16:45:00Z",
		}},
	}},
	{"hubspot-contacts-with-company.csv", "hubspot-contacts", "contacts", []want{
		{fields: map[string]string{"first_name": "Lucía", "company": "Ferretería Núñez S.L.", "company_ref": "9001"}},
	}},
	{"salesforce-accounts-report.csv", "salesforce-accounts", "accounts-report", []want{
		{fields: map[string]string{
			"name": "Harbour Foods Ltd", "address_line1": "1 Quay Street, Unit 4", "town": "Bristol", "postcode": "BS1 4DJ",
			"phones": "+441174960123", "domain": "harbourfoods.example", "industry": "Food & Beverage", "employees": "120",
			"annual_revenue": "2500000.00 GBP", "owner": "Jane Ops", "tags": "Customer", "created_at": "2023-04-05T00:00:00Z",
		}},
		{fields: map[string]string{"name": "Dockside Ltd", "address_line1": "9 Mill Lane", "town": "Leeds", "postcode": "LS2 7HH"}},
	}},
	{"salesforce-accounts-api.csv", "salesforce-accounts", "accounts-api", []want{
		{fields: map[string]string{
			"name": "Müller Maschinenbau AG", "address_line1": "Industriestraße 7", "town": "Stuttgart", "county": "BW", "postcode": "70173",
			"country": "Germany", "phones": "+49711123456", "domain": "mueller.example", "employees": "350", "annual_revenue": "",
			"owner": "005x000000OWNER", "created_at": "2021-03-04T05:06:07Z",
		}},
		{skip: "salesforce-deleted"},
		{fields: map[string]string{"name": "Lee Holdings Ltd", "address_line1": "2 Park Row", "town": "Leeds"}},
	}},
	{"salesforce-leads-report.csv", "salesforce-leads", "leads-report", []want{
		{fields: map[string]string{
			"title": "Ms.", "first_name": "Giulia", "last_name": "Rossi", "company": "Studio Rossi", "job_title": "Office Manager",
			"emails": "giulia@studiorossi.example", "phones": "+390212345678", "town": "Milano", "postcode": "20121",
			"tags": "Open - Not Contacted; Web", "marketing_consent": "true", "created_at": "2024-03-12T00:00:00Z",
		}},
	}},
	{"salesforce-leads-api.csv", "salesforce-leads", "leads-api", []want{
		{fields: map[string]string{
			"first_name": "Pieter", "company": "Janssen BV", "emails": "pieter@janssen.example", "postcode": "3011 AD",
			"tags": "Working - Contacted; Partner", "marketing_consent": "false", "created_at": "2024-02-01T10:00:00Z",
		}},
		{skip: "salesforce-lead-converted"},
	}},
	{"zoho-contacts-us.csv", "zoho-contacts", "contacts", []want{
		{fields: map[string]string{
			"first_name": "Tomás", "last_name": "Ibáñez", "company": "Desert Solar LLC", "job_title": "Site Manager",
			"emails": "tomas@desertsolar.example", "phones": "+16025550188", "address_line1": "4100 E Camelback Rd", "town": "Phoenix", "county": "AZ",
			"postcode": "85018", "notes": "Wants a quote in Q3", "tags": "Solar; Priority", "created_at": "2024-02-14T08:04:10Z",
		}},
	}},
	{"mailchimp-blank-leid-pt.csv", "mailchimp-audience", "subscribed", []want{
		{fields: map[string]string{"emails": "joao@example.pt", "first_name": "João", "last_name": "Conceição", "company": "Livraria Conceição", "job_title": "Editora", "tags": "Leitores", "marketing_consent": "true"}},
	}},
}

// TestVendorPresets maps each vendor fixture with the preset it is
// recognised as (and the mapping Propose gives it, which must be that
// preset's), checking the values a person expects in the records.
func TestVendorPresets(t *testing.T) {
	for _, tc := range vendorFixtures {
		t.Run(tc.fixture, func(t *testing.T) {
			header, rows := readCSV(t, tc.fixture)
			matches := Detect(header)
			if len(matches) == 0 {
				t.Fatalf("no preset detected for %s", tc.fixture)
			}
			if m := matches[0]; m.Preset != tc.preset || m.File != tc.file {
				t.Fatalf("detected %s/%s (score %v), want %s/%s", m.Preset, m.File, m.Score, tc.preset, tc.file)
			}
			prop := Propose(tc.fixture, header, rows)
			if prop.Preset != tc.preset {
				t.Fatalf("Propose chose %q (score %v), want preset %s", prop.Preset, prop.Score, tc.preset)
			}
			p, _ := Lookup(tc.preset)
			fs, _ := p.Spec.File(tc.file)
			m, err := mapspec.Compile(fs, schema.Default(), header, "acme", now)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			if len(rows) != len(tc.rows) {
				t.Fatalf("fixture has %d rows, test expects %d", len(rows), len(tc.rows))
			}
			for i, row := range rows {
				w := tc.rows[i]
				o := m.Map(i+2, row)
				if o.SkipRule != w.skip {
					t.Fatalf("row %d: skip = %q, want %q (errors %+v)", i+1, o.SkipRule, w.skip, o.Errors)
				}
				var errs []string
				for _, e := range o.Errors {
					errs = append(errs, e.Field+": "+e.Reason)
				}
				if strings.Join(errs, "\n") != strings.Join(w.errors, "\n") {
					t.Fatalf("row %d: errors = %q, want %q", i+1, errs, w.errors)
				}
				if w.skip != "" || len(w.errors) > 0 {
					continue
				}
				if o.Record == nil {
					t.Fatalf("row %d: no record", i+1)
				}
				for f, v := range w.fields {
					got, _ := o.Record.Get(f)
					if got.String() != v {
						t.Errorf("row %d: %s = %q, want %q", i+1, f, got.String(), v)
					}
				}
			}
		})
	}
}

// TestOutlookDoesNotGuessDatesOrNames: Outlook's Anniversary is not when
// the contact was created, and its Middle Name is not a full name; the
// proposed mapping must read neither (the suggestions alone did).
func TestOutlookDoesNotGuessDatesOrNames(t *testing.T) {
	for _, fx := range []string{"outlook-contacts.csv", "outlook-contacts-quoted.csv", "outlook-contacts-de.csv"} {
		header, rows := readCSV(t, fx)
		prop := Propose(fx, header, rows)
		for _, fm := range prop.File.Fields {
			for _, c := range fm.SourceColumns() {
				switch c {
				case "Anniversary", "Birthday", "Middle Name", "Jahrestag", "Geburtstag", "Weitere Vornamen":
					t.Errorf("%s: column %q is mapped to %s", fx, c, fm.Target)
				}
			}
			if fm.Target == "full_name" || fm.Target == "created_at" {
				t.Errorf("%s: %s is mapped from %v", fx, fm.Target, fm.SourceColumns())
			}
		}
	}
}

// TestGoogleReadsValuesNotLabels: in both Google layouts the "- Label" and
// "- Type" columns say Home or Work; only "- Value" holds addresses.
func TestGoogleReadsValuesNotLabels(t *testing.T) {
	for _, fx := range []string{"google-contacts.csv", "google-contacts-legacy.csv"} {
		header, rows := readCSV(t, fx)
		prop := Propose(fx, header, rows)
		var emailCols []string
		for _, fm := range prop.File.Fields {
			if fm.Target == "emails" {
				emailCols = append(emailCols, fm.SourceColumns()...)
			}
		}
		if len(emailCols) == 0 {
			t.Fatalf("%s: no column mapped to emails", fx)
		}
		for _, c := range emailCols {
			if !strings.HasSuffix(c, " - Value") {
				t.Errorf("%s: emails read from %q", fx, c)
			}
		}
	}
}

// TestSignaturesDoNotStealFiles checks every preset fixture against every
// preset: the file's own preset file must score strictly higher than any
// other preset file whose signature fits it.
func TestSignaturesDoNotStealFiles(t *testing.T) {
	own := map[string]string{}
	for _, tc := range vendorFixtures {
		own[tc.fixture] = tc.preset + "/" + tc.file
	}
	for fx, pf := range map[string]string{
		"hubspot-contacts.csv": "hubspot-contacts/contacts", "salesforce-contacts-report.csv": "salesforce-contacts-report/contacts",
		"salesforce-contacts-api.csv": "salesforce-contacts-api/contacts", "mailchimp-subscribed.csv": "mailchimp-audience/subscribed",
		"mailchimp-unsubscribed.csv": "mailchimp-audience/unsubscribed", "mailchimp-cleaned.csv": "mailchimp-audience/cleaned",
		"pipedrive-people.csv": "pipedrive-people/people", "zoho-contacts.csv": "zoho-contacts/contacts", "accessally-users.csv": "accessally-users/users",
		"crm-contacts.csv": "estate-agency-crm/contacts", "crm-properties.csv": "estate-agency-crm/properties", "crm-tenancies.csv": "estate-agency-crm/tenancies",
		"crm-applicants.csv": "estate-agency-crm/applicants", "crm-diary.csv": "estate-agency-crm/diary",
		"hubspot-extra-columns.csv": "hubspot-contacts/contacts", "mailchimp-blank-leid.csv": "mailchimp-audience/subscribed",
		"pipedrive-people-short.csv":     "pipedrive-people/people",
		"agency-applicants-statuses.csv": "estate-agency-crm/applicants", "agency2-applicants.csv": "estate-agency-crm/applicants",
		"agency-tenancies-names.csv": "estate-agency-crm/tenancies", "agency-tenancies-rents.csv": "estate-agency-crm/tenancies",
		"agency2-tenancies.csv": "estate-agency-crm/tenancies",
		// Contact lists from no particular vendor, in other languages: no
		// preset may claim them (the suggestions map them).
		"contacten-nl.csv": "", "contactos-es.csv": "", "contacts-fr.csv": "", "contatos-pt.csv": "", "contatti-it.csv": "", "kontakte-de.csv": "",
	} {
		own[fx] = pf
	}
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".csv") {
			continue
		}
		want, ok := own[e.Name()]
		if !ok {
			t.Errorf("testdata/%s: no preset named for it in this test", e.Name())
			continue
		}
		header, _ := readCSV(t, e.Name())
		ms := Detect(header)
		if want == "" {
			if len(ms) > 0 && ms[0].Score >= MinPresetScore {
				t.Errorf("%s: %s/%s claims a file of no vendor (score %v)", e.Name(), ms[0].Preset, ms[0].File, ms[0].Score)
			}
			continue
		}
		var ownScore float64 = -1
		for _, m := range ms {
			if m.Preset+"/"+m.File == want {
				ownScore = m.Score
			}
		}
		if ownScore < 0 {
			t.Errorf("%s: its own preset %s does not match it", e.Name(), want)
			continue
		}
		for _, m := range ms {
			if m.Preset+"/"+m.File != want && m.Score >= ownScore {
				t.Errorf("%s: %s/%s scores %v, not below its own %s (%v)", e.Name(), m.Preset, m.File, m.Score, want, ownScore)
			}
		}
	}
}

// TestContactLinksToItsCompany maps a contacts file and a companies file
// of one migration, for each vendor that links them: the contact's account
// or company id becomes a company_ref that resolves to the company record.
func TestContactLinksToItsCompany(t *testing.T) {
	type file struct{ fixture, preset, file string }
	for _, tc := range []struct {
		companies, contacts file
		company             string // the linked company's name
	}{
		{file{"salesforce-accounts-api.csv", "salesforce-accounts", "accounts-api"}, file{"salesforce-contacts-api.csv", "salesforce-contacts-api", "contacts"}, "Lee Holdings Ltd"},
		{file{"hubspot-companies.csv", "hubspot-companies", "companies"}, file{"hubspot-contacts-with-company.csv", "hubspot-contacts", "contacts"}, "Ferretería Núñez S.L."},
		{file{"hubspot-companies.csv", "hubspot-companies", "companies"}, file{"hubspot-leads.csv", "hubspot-leads", "leads"}, "Ferretería Núñez S.L."},
	} {
		t.Run(tc.contacts.fixture, func(t *testing.T) {
			res := mapspec.NewResolver()
			mapAll := func(f file) []*mapspec.Record {
				header, rows := readCSV(t, f.fixture)
				p, ok := Lookup(f.preset)
				if !ok {
					t.Fatalf("no preset %s", f.preset)
				}
				fs, _ := p.Spec.File(f.file)
				m, err := mapspec.Compile(fs, schema.Default(), header, "acme", now)
				if err != nil {
					t.Fatal(err)
				}
				var out []*mapspec.Record
				for i, row := range rows {
					if o := m.Map(i+2, row); o.Record != nil {
						res.AddRecord(o.Record)
						out = append(out, o.Record)
					}
				}
				return out
			}
			var want *mapspec.Record
			for _, c := range mapAll(tc.companies) {
				if v, _ := c.Get("name"); v.String() == tc.company {
					want = c
				}
			}
			contacts := mapAll(tc.contacts)
			if want == nil || len(contacts) == 0 {
				t.Fatalf("company %q found: %v; contacts: %d", tc.company, want != nil, len(contacts))
			}
			person := contacts[0]
			if orphans := res.Resolve(person); len(orphans) != 0 {
				t.Fatalf("orphans: %+v", orphans)
			}
			found := false
			for _, r := range person.Refs {
				if r.Field == "company_ref" {
					found = true
					if r.Entity != "company" || r.ID != want.ID || want.Entity != "company" {
						t.Fatalf("company_ref = %+v, want company record %s", r, want.ID)
					}
				}
			}
			if !found {
				t.Fatalf("contact has no company_ref: %+v", person.Refs)
			}
		})
	}
}
