package presets

import (
	"encoding/csv"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/schema"
)

var now = time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC)

func readCSV(t *testing.T, name string) ([]string, [][]string) {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows[0], rows[1:]
}

// readBLM reads a Rightmove BLM file: #DEFINITION# names the fields, #DATA#
// holds records, "^" between fields and "~" ending each.
func readBLM(t *testing.T, name string) ([]string, [][]string) {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	def := s[strings.Index(s, "#DEFINITION#")+len("#DEFINITION#") : strings.Index(s, "#DATA#")]
	data := s[strings.Index(s, "#DATA#")+len("#DATA#") : strings.Index(s, "#END#")]
	split := func(rec string) []string {
		rec = strings.TrimSpace(rec)
		return strings.Split(strings.TrimSuffix(rec, "^"), "^")
	}
	header := split(strings.TrimSuffix(strings.TrimSpace(def), "~"))
	var rows [][]string
	for _, rec := range strings.Split(data, "~") {
		if strings.TrimSpace(rec) != "" {
			rows = append(rows, split(rec))
		}
	}
	return header, rows
}

type want struct {
	skip   string            // rule name
	errors []string          // "field: reason"
	fields map[string]string // Value.String() per field; "" means absent
	warns  int
}

func TestPresetFixtures(t *testing.T) {
	for _, tc := range []struct {
		fixture, preset, file string
		rows                  []want
	}{
		{"hubspot-contacts.csv", "hubspot-contacts", "contacts", []want{
			{fields: map[string]string{
				"first_name": "Ann", "last_name": "Lee", "emails": "ann.lee@example.com", "phones": "+442079460958; +447911123456",
				"postcode": "LS1 4AP", "town": "Leeds", "company": "Acme Ltd", "tags": "lead", "marketing_consent": "true", "created_at": "2023-05-12T14:33:00Z",
			}, warns: 1},
			{warns: 1, fields: map[string]string{"emails": ""}}, // "bob@stone" is left out; the row migrates
		}},
		{"salesforce-contacts-report.csv", "salesforce-contacts-report", "contacts", []want{
			{fields: map[string]string{
				"title": "Ms.", "first_name": "Ann", "emails": "ann@example.com", "phones": "+441134960000; +447911123456", "address_line1": "1 High Street",
				"postcode": "LS1 4AP", "county": "West Yorkshire", "marketing_consent": "true", "created_at": "2023-04-05T00:00:00Z",
			}, warns: 2},
		}},
		{"salesforce-contacts-api.csv", "salesforce-contacts-api", "contacts", []want{
			{fields: map[string]string{"first_name": "Ann", "last_name": "Lee", "phones": "+441134960000", "marketing_consent": "false", "created_at": "2023-04-05T10:11:12Z", "updated_at": "2023-04-06T08:00:00Z"}},
			{skip: "salesforce-deleted"},
		}},
		{"mailchimp-subscribed.csv", "mailchimp-audience", "subscribed", []want{
			{fields: map[string]string{
				"emails": "ann@example.com", "first_name": "Ann", "tags": "Buyer; Newsletter", "marketing_consent": "true",
				"marketing_consent_date": "2023-01-15", "address_line1": "1 High Street, Leeds, LS1 4AP, GB", "updated_at": "2023-02-01T08:00:00Z",
			}, warns: 1},
		}},
		{"mailchimp-unsubscribed.csv", "mailchimp-audience", "unsubscribed", []want{
			{fields: map[string]string{"emails": "bob@example.com", "marketing_consent": "false", "marketing_consent_date": "2023-07-04", "notes": "I no longer want to receive these emails"}},
		}},
		{"mailchimp-cleaned.csv", "mailchimp-audience", "cleaned", []want{{skip: "mailchimp-cleaned"}}},
		{"pipedrive-people.csv", "pipedrive-people", "people", []want{
			{fields: map[string]string{
				"full_name": "Ann Lee", "emails": "ann@acme.example; ann@home.example", "phones": "+441134960000", "company": "Acme Ltd",
				"tags": "Hot lead", "marketing_consent": "true", "created_at": "2023-05-12T14:33:00Z",
			}},
			{skip: "pipedrive-archived"},
		}},
		{"zoho-contacts.csv", "zoho-contacts", "contacts", []want{
			{fields: map[string]string{
				"title": "Mrs.", "first_name": "Ann", "emails": "ann@example.com", "phones": "+441134960000", "postcode": "LS1 4AP",
				"tags": "VIP; Landlord", "marketing_consent": "true", "updated_at": "2024-01-02T09:00:00Z",
			}, warns: 1},
		}},
		{"accessally-users.csv", "accessally-users", "users", []want{
			{fields: map[string]string{"first_name": "Ann", "emails": "ann@example.com", "tags": "Member; Course A", "referring_affiliate": "jane-affiliate", "order_ids": "1001; 1002", "created_at": "2022-11-30T08:15:00Z"}},
		}},
		{"rightmove.blm", "rightmove-blm", "properties", []want{
			{fields: map[string]string{
				"address_line1": "12 Acacia Avenue", "postcode": "LS1 4AP", "bedrooms": "3", "transaction": "sale", "price": "250000.00 GBP", "rent": "",
				"status": "available", "property_type": "house", "created_at": "2024-01-10T09:00:00Z",
			}},
			{fields: map[string]string{
				"address_line1": "Flat 2 Mill Lane", "postcode": "LS2 7HH", "transaction": "let", "price": "", "rent": "950.00 GBP", "rent_frequency": "monthly",
				"status": "let_agreed", "property_type": "flat",
			}},
			{skip: "blm-unpublished"},
		}},
		{"crm-contacts.csv", "estate-agency-crm", "contacts", []want{
			{fields: map[string]string{
				"first_name": "Ann", "last_name": "Lee", "roles": "landlord; vendor", "postcode": "LS1 4AP", "marketing_consent": "true",
				"marketing_consent_date": "2023-02-01", "created_at": "2023-02-01T09:30:00Z", "updated_at": "2023-02-02T00:00:00Z",
			}, warns: 1},
			{fields: map[string]string{"first_name": "Bob", "roles": "tenant", "marketing_consent": "false", "phones": "+441134960000"}, warns: 1},
			{skip: "crm-inactive-contact"},
		}},
		{"crm-properties.csv", "estate-agency-crm", "properties", []want{
			{fields: map[string]string{"property_type": "house", "transaction": "let", "rent": "1250.00 GBP", "rent_frequency": "monthly", "status": "available", "landlord": "C1"}},
		}},
		{"crm-tenancies.csv", "estate-agency-crm", "tenancies", []want{
			{fields: map[string]string{"property": "P1", "tenants": "C2; C9", "start_date": "2023-07-01", "end_date": "2025-06-30", "rent": "1250.00 GBP", "deposit": "1442.30 GBP", "frequency": "monthly", "status": "active"}},
			{fields: map[string]string{"status": "ended"}, warns: 1},
		}},
		{"crm-applicants.csv", "estate-agency-crm", "applicants", []want{
			{fields: map[string]string{"contact": "C2", "min_price": "200000.00 GBP", "areas": "Leeds; Headingley", "status": "archived", "min_bedrooms": "2"}},
			{fields: map[string]string{"transaction": "rent", "status": "active"}},
		}},
		{"crm-diary.csv", "estate-agency-crm", "diary", []want{
			{fields: map[string]string{"start": "2024-06-10T13:00:00Z", "end": "2024-06-10T13:30:00Z", "type": "viewing", "property": "P1", "contacts": "C2", "notes": "Second viewing"}},
		}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			var header []string
			var rows [][]string
			if strings.HasSuffix(tc.fixture, ".blm") {
				header, rows = readBLM(t, tc.fixture)
			} else {
				header, rows = readCSV(t, tc.fixture)
			}
			matches := Detect(header)
			if len(matches) == 0 {
				t.Fatalf("no preset detected for %v", header)
			}
			if m := matches[0]; m.Preset != tc.preset || m.File != tc.file {
				t.Fatalf("detected %s/%s (score %v), want %s/%s; all: %+v", m.Preset, m.File, m.Score, tc.preset, tc.file, matches)
			}
			if len(matches) > 1 && matches[1].Score >= matches[0].Score {
				t.Fatalf("ambiguous detection: %+v", matches[:2])
			}
			p, _ := Lookup(tc.preset)
			fs, _ := p.Spec.File(tc.file)
			m, err := mapspec.Compile(fs, schema.Default(), header, "acme", now)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			m.Infer(rows, "") // as the pipeline does, with no market: the files themselves say they are British
			if len(rows) != len(tc.rows) {
				t.Fatalf("fixture has %d rows, test expects %d", len(rows), len(tc.rows))
			}
			for i, row := range rows {
				w := tc.rows[i]
				o := m.Map(i+2, row)
				kinds := 0
				if o.Record != nil {
					kinds++
				}
				if len(o.Errors) > 0 {
					kinds++
				}
				if o.SkipRule != "" {
					kinds++
				}
				if kinds != 1 {
					t.Fatalf("row %d: outcome is not exactly one of record/errors/skip: %+v", i+1, o)
				}
				if o.SkipRule != w.skip {
					t.Fatalf("row %d: skip = %q, want %q", i+1, o.SkipRule, w.skip)
				}
				var errs []string
				for _, e := range o.Errors {
					errs = append(errs, e.Field+": "+e.Reason)
				}
				if strings.Join(errs, "\n") != strings.Join(w.errors, "\n") {
					t.Fatalf("row %d: errors = %q, want %q", i+1, errs, w.errors)
				}
				if len(o.Warnings) != w.warns {
					t.Errorf("row %d: %d warnings, want %d: %+v", i+1, len(o.Warnings), w.warns, o.Warnings)
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

func TestAllPresetsLoad(t *testing.T) {
	ids := map[string]bool{}
	for _, p := range All() {
		ids[p.ID] = true
		if p.Spec.Hash() == "" || p.Title == "" {
			t.Errorf("%s: missing hash or title", p.ID)
		}
	}
	for _, id := range []string{"hubspot-contacts", "salesforce-contacts-report", "salesforce-contacts-api", "mailchimp-audience", "pipedrive-people", "zoho-contacts", "accessally-users", "rightmove-blm", "estate-agency-crm"} {
		if !ids[id] {
			t.Errorf("preset %s is missing", id)
		}
	}
}

func TestDetectUnknown(t *testing.T) {
	if m := Detect([]string{"Name", "E-mail", "Tel"}); len(m) != 0 {
		t.Fatalf("Detect on an unknown header = %+v", m)
	}
}

func TestParsePresetErrors(t *testing.T) {
	_, err := Parse([]byte(`{"id":"x","signatures":{"other":{"require":["A"]}},"spec":{"version":1,"files":[{"name":"f","entity":"contact","fields":[{"target":"emails","column":"A"}]}]}}`), schema.Default())
	if err == nil || !strings.Contains(err.Error(), `signature for file "other", which the spec does not have`) {
		t.Fatalf("err = %v", err)
	}
}

// A match lists the columns it misses in one order, so the same file is
// described the same way every time (inspect, the proposal's notes).
func TestAMatchListsItsMissingColumnsInOrder(t *testing.T) {
	header, _ := readCSV(t, "zoho-contacts.csv")
	ms := Detect(header)
	if len(ms) < 2 {
		t.Fatalf("%d matches; want the preset and others that partly fit", len(ms))
	}
	for _, m := range ms {
		if len(m.Missing) > 1 && !slices.IsSorted(m.Missing) {
			t.Errorf("%s/%s misses %q, not in order", m.Preset, m.File, m.Missing)
		}
	}
}
