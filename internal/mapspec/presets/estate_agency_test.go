package presets

import (
	"slices"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/schema"
)

// mapAgencyFixture detects the fixture's preset file, checks it is want,
// and maps every row with it as the Lambdas do (Propose).
func mapAgencyFixture(t *testing.T, fixture, wantFile string) []mapspec.Outcome {
	t.Helper()
	header, rows := readCSV(t, fixture)
	prop := Propose(fixture, header, rows)
	if prop.Preset != "estate-agency-crm" || prop.File.Entity != wantFile {
		t.Fatalf("%s proposed as %q/%s, want estate-agency-crm/%s", fixture, prop.Preset, prop.File.Entity, wantFile)
	}
	fs := prop.File
	if fs.Defaults == nil {
		d := prop.Defaults
		fs.Defaults = &d
	}
	sp, err := mapspec.Parse(mustJSON(t, &mapspec.Spec{Version: 1, Defaults: prop.Defaults, Files: []mapspec.FileSpec{fs}}))
	if err != nil {
		t.Fatalf("proposed spec does not parse: %v", err)
	}
	m, err := mapspec.Compile(sp.Files[0], schema.Default(), header, "acme", now)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	var out []mapspec.Outcome
	for i, row := range rows {
		out = append(out, m.Map(i+2, row))
	}
	return out
}

func checkRows(t *testing.T, outs []mapspec.Outcome, want []map[string]string) {
	t.Helper()
	if len(outs) != len(want) {
		t.Fatalf("%d rows, want %d", len(outs), len(want))
	}
	for i, o := range outs {
		if o.Record == nil {
			var errs []string
			for _, e := range o.Errors {
				errs = append(errs, e.Field+": "+e.Reason)
			}
			t.Errorf("row %d rejected: %s", i+2, strings.Join(errs, "; "))
			continue
		}
		for f, v := range want[i] {
			got, _ := o.Record.Get(f)
			if got.String() != v {
				t.Errorf("row %d: %s = %q, want %q", i+2, f, got.String(), v)
			}
		}
	}
}

// An agency's tenancies carry their rent with its period in one cell and
// statuses in the agency's words; none of these rows may be rejected.
func TestAgencyTenancyRentsAndStatuses(t *testing.T) {
	outs := mapAgencyFixture(t, "agency-tenancies-rents.csv", "tenancy")
	checkRows(t, outs, []map[string]string{
		{"rent": "1250.00 GBP", "frequency": "monthly", "rent_monthly": "1250.00 GBP", "deposit": "1442.30 GBP", "status": "active"},
		{"rent": "295.00 GBP", "frequency": "weekly", "rent_monthly": "1278.33 GBP", "deposit": "1500.00 GBP", "status": "ended"},
		{"rent": "14400.00 GBP", "frequency": "annually", "rent_monthly": "1200.00 GBP", "tenants": "C3; C4"},
		{"rent": "950.00 GBP", "frequency": "monthly", "status": "periodic"},
		{"rent": "1200.00 GBP", "frequency": "monthly", "status": "periodic"},
		{"rent": "1100.00 GBP", "frequency": "monthly", "status": "active"},
		{"rent": "150.00 GBP", "frequency": "weekly", "rent_monthly": "650.00 GBP", "status": "ended"},
		{"rent": "800.00 GBP", "status": "ended"},
	})
}

// Applicants' budgets may be written as rents, and their statuses in the
// agency's words.
func TestAgencyApplicantBudgetsAndStatuses(t *testing.T) {
	outs := mapAgencyFixture(t, "agency-applicants-statuses.csv", "applicant")
	checkRows(t, outs, []map[string]string{
		{"max_price": "1100.00 GBP", "status": "active", "areas": "Leeds; Headingley"},
		{"min_price": "250000.00 GBP", "max_price": "300000.00 GBP", "status": "archived"},
		{"max_price": "300.00 GBP", "status": "active"},
	})
}

// A tenancy whose tenants are named, not listed by id, migrates linked to
// derived contacts; a separate frequency column gives the period.
func TestAgencyTenantsNamedInline(t *testing.T) {
	outs := mapAgencyFixture(t, "agency-tenancies-names.csv", "tenancy")
	checkRows(t, outs, []map[string]string{
		{"tenants": "C2", "rent": "1250.00 GBP", "frequency": "monthly", "rent_monthly": "1250.00 GBP"},
		{"tenants": "inline:ann lee|ann@example.com", "frequency": "weekly", "rent_monthly": "1278.33 GBP"},
		{"tenants": "inline:bob stone; inline:cara stone", "rent": "1100.00 GBP", "frequency": "monthly"},
	})
	if n := len(outs[0].Derived) + len(outs[1].Derived) + len(outs[2].Derived); n != 3 {
		t.Fatalf("%d derived records, want 3 (none for the row with ids)", n)
	}
}

// Another agency CRM's layout, in other words: the entities are still
// recognised and every row maps, the people named inline.
func TestAgencyOtherLayoutIsRecognised(t *testing.T) {
	outs := mapAgencyFixture(t, "agency2-tenancies.csv", "tenancy")
	checkRows(t, outs, []map[string]string{
		{"property": "PR-10", "tenants": "inline:ann lee|ann@example.com", "start_date": "2023-07-01", "rent": "1250.00 GBP", "frequency": "monthly", "deposit": "1442.30 GBP", "status": "active"},
		{"tenants": "inline:bob stone; inline:cara stone", "rent_monthly": "1278.33 GBP", "status": "ended"},
		{"frequency": "monthly", "status": "periodic"},
	})
	outs = mapAgencyFixture(t, "agency2-applicants.csv", "applicant")
	checkRows(t, outs, []map[string]string{
		{"contact": "inline:eve post|eve@example.com", "transaction": "rent", "min_bedrooms": "2", "max_price": "1100.00 GBP", "areas": "Leeds; Headingley", "status": "active"},
		{"contact": "inline:finn gale", "transaction": "buy", "max_price": "300000.00 GBP", "status": "active"},
	})
	if len(outs[0].Derived) != 1 {
		t.Fatalf("applicant derived %+v", outs[0].Derived)
	}
	if v, _ := outs[0].Derived[0].Get("phones"); v.String() != "+447911123456" {
		t.Errorf("applicant phone = %q", v.String())
	}
}

// A layout whose columns the preset knows by other names (its aliases)
// is proposed as the mapping reads it: its id column is the records' id,
// not "blank in most rows", and each column is shown going where the
// mapping sends it, the columns naming people inline to the reference
// they fill, so what a person reviews is what migrates.
func TestAnAliasedLayoutIsDescribedAsItMaps(t *testing.T) {
	for _, x := range []struct {
		fixture, id string
		want        map[string]string
	}{
		{"agency2-tenancies.csv", "Tenancy Ref", map[string]string{
			"Property Ref": "property", "Tenant Name(s)": "tenants", "Tenant Email": "tenants", "Tenancy Start": "start_date",
			"Tenancy End": "end_date", "Deposit": "deposit", "Tenancy Status": "status",
		}},
		{"agency-tenancies-names.csv", "Tenancy ID", map[string]string{"Tenant Name(s)": "tenants", "Tenant Email": "tenants", "Start Date": "start_date"}},
		{"agency2-applicants.csv", "Applicant Ref", map[string]string{"Applicant": "contact", "Email": "contact"}},
	} {
		header, rows := readCSV(t, x.fixture)
		prop := Propose(x.fixture, header, rows)
		for _, n := range prop.Notes {
			if strings.Contains(n, "blank in most rows") || strings.Contains(n, "No column identifies") {
				t.Errorf("%s: note %q; its %s column is filled", x.fixture, n, x.id)
			}
		}
		outs := mapAgencyFixture(t, x.fixture, prop.File.Entity)
		for i, o := range outs {
			if o.Record == nil || o.Record.SourceID != rows[i][slices.Index(header, x.id)] {
				t.Errorf("%s row %d: %+v; want the id of its %s column", x.fixture, i+2, o.Record, x.id)
			}
		}
		for _, c := range prop.Columns {
			if want, ok := x.want[c.Column]; ok && c.Target != want {
				t.Errorf("%s: column %q is shown going to %q (%s); the mapping sends it to %q", x.fixture, c.Column, c.Target, c.Reason, want)
			}
			if c.SourceID != (c.Column == x.id) {
				t.Errorf("%s: column %q shown as the id: %v", x.fixture, c.Column, c.SourceID)
			}
		}
	}
}
