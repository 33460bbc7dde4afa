package workbook

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"

	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pipeline"
	"github.com/cutover/cutover/internal/schema"
	"github.com/cutover/cutover/internal/tabular"
)

type recordSink struct{ write func([]*mapspec.Record) error }

func (s recordSink) Write(_ context.Context, recs []*mapspec.Record) ([]cutover.Refusal, error) {
	return nil, s.write(recs)
}

// The housekeeping rules change records the customer did not edit: the
// workbook must say, per rule, how many records each one changed. The
// expected counts are taken from the records actually written, compared
// with the status the source row gave.
func TestWorkbookCountsHousekeepingRules(t *testing.T) {
	const spec = `{"version":1,"defaults":{"dateFormats":["DD/MM/YYYY"]},"files":[
	 {"name":"applicants","entity":"applicant","sourceId":["Id"],"fields":[
	  {"target":"contact","column":"Contact"},{"target":"expiry_date","column":"Expiry"},{"target":"status","column":"Status"}]},
	 {"name":"tenancies","entity":"tenancy","sourceId":["Id"],"fields":[
	  {"target":"property","column":"Property"},{"target":"tenants","column":"Tenant"},{"target":"start_date","column":"Start"},
	  {"target":"end_date","column":"End"},{"target":"status","column":"Status"}]}]}`
	files := map[string]string{
		"applicants": "Id,Contact,Expiry,Status\nA1,C1,01/01/2020,active\nA2,C1,01/01/2030,active\nA3,C2,01/01/2021,active\nA4,C2,01/01/2021,archived\nA5,C3,01/01/2030,\n",
		"tenancies":  "Id,Property,Tenant,Start,End,Status\nT1,P1,C1,01/01/2020,01/01/2021,active\nT2,P1,C1,01/01/2023,01/01/2030,active\nT3,P2,C2,01/01/2019,01/01/2020,ended\n",
	}
	sp, err := mapspec.Parse([]byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC)
	var reports []*pipeline.Report
	changed := map[string]int{} // rule -> records whose written status differs from the source's
	for _, fs := range sp.Files {
		tables, err := tabular.Open(strings.NewReader(files[fs.Name]), fs.Name+".csv", tabular.Options{})
		if err != nil {
			t.Fatal(err)
		}
		m, err := mapspec.Compile(fs, schema.Default(), tables[0].Header(), "acme", now)
		if err != nil {
			t.Fatal(err)
		}
		src := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(files[fs.Name]), "\n")[1:] {
			cells := strings.Split(line, ",")
			src[cells[0]] = cells[len(cells)-1]
		}
		rule := map[string]string{"applicant": mapspec.RuleApplicantExpiry, "tenancy": mapspec.RuleTenancyStatus}[fs.Entity]
		rep, err := pipeline.Run(context.Background(), fs.Name+".csv", tables[0], m, pipeline.Outputs{Sink: recordSink{func(recs []*mapspec.Record) error {
			for _, r := range recs {
				st, _ := r.Get("status")
				if st.String() != src[r.SourceID] {
					changed[rule]++
				}
			}
			return nil
		}}}, pipeline.Options{})
		if err != nil {
			t.Fatal(err)
		}
		reports = append(reports, rep)
	}
	if changed[mapspec.RuleApplicantExpiry] != 3 || changed[mapspec.RuleTenancyStatus] != 1 {
		t.Fatalf("fixture does not exercise the rules as meant: %v", changed)
	}
	wb := Build(Meta{MigrationID: "m", Round: 1}, reports, nil, nil, 0, nil)
	for _, rc := range wb.Reconciliation {
		rule := map[string]string{"applicant": mapspec.RuleApplicantExpiry, "tenancy": mapspec.RuleTenancyStatus}[rc.Entity]
		if got := rc.Housekeeping[rule]; got != changed[rule] {
			t.Errorf("%s: workbook says rule %s changed %d records; %d were changed", rc.Entity, rule, got, changed[rule])
		}
		if !strings.Contains(rc.Explanation, "changed by the rule "+rule) {
			t.Errorf("%s: explanation does not name the rule: %q", rc.Entity, rc.Explanation)
		}
	}
}
