package pipeline

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/mapspec"
)

// runAll maps src with spec and returns the records by source id.
func runAll(t *testing.T, spec, src string, o Options) (map[string]*mapspec.Record, *Report, string) {
	t.Helper()
	tb, m := compile(t, spec, src)
	recs := map[string]*mapspec.Record{}
	var rejects bytes.Buffer
	rep, err := Run(context.Background(), "f.csv", tb, m, Outputs{Rejects: &rejects, Sink: sink{func(rs []*mapspec.Record) error {
		for _, r := range rs {
			recs[r.SourceID] = r
		}
		return nil
	}}}, o)
	if err != nil {
		t.Fatal(err)
	}
	return recs, rep, rejects.String()
}

func field(r *mapspec.Record, name string) string {
	if r == nil {
		return "<no record>"
	}
	v, _ := r.Get(name)
	return v.String()
}

// A US export (Salesforce-like layout): no region in the spec, numbers
// mostly +1, some national. The national ones are read as US numbers,
// because the file's own numbers say it is American; a row whose country
// column says Australia is read as Australian.
const usSpec = `{"version":1,"files":[{"name":"c","entity":"contact","sourceId":["Id"],
"fields":[{"target":"full_name","column":"Name"},{"target":"phones","column":"Phone"},{"target":"created_at","column":"CreatedDate"},{"target":"country","column":"MailingCountry"}]}]}`

func TestRegionInferredFromTheFileAndTheRow(t *testing.T) {
	src := "Id,Name,Phone,CreatedDate,MailingCountry\n" +
		"1,Ann Lee,+1 415 555 0132,3/14/2024 9:05,\n" +
		"2,Bo Diaz,(415) 555-0199,12/1/2023 14:30,USA\n" +
		"3,Cy Tran,+1 (212) 555-0147,1/2/2024 8:00,\n" +
		"4,Di Ng,02 9374 4000,1/3/2024 10:00,Australia\n" +
		"5,Ed Moss,+1 312 555 0170,11/30/2023 17:45,Vereinigte Staaten\n"
	recs, rep, rejects := runAll(t, usSpec, src, Options{})
	if rep.Counts.Migrated != 5 || rep.Counts.LeftOut != 0 {
		t.Fatalf("counts = %+v, rejects %s, invalid %+v", rep.Counts, rejects, recs["2"])
	}
	if got := field(recs["2"], "phones"); got != "+14155550199" {
		t.Errorf("national US number = %q", got)
	}
	if got := field(recs["4"], "phones"); got != "+61293744000" {
		t.Errorf("Australian row = %q", got)
	}
	// M/D/YYYY with a time: 3/14 and 11/30 decide the column is month first.
	if got := field(recs["3"], "created_at"); got != "2024-01-02T08:00:00Z" {
		t.Errorf("created_at = %q", got)
	}
	inf := rep.Inference
	if inf == nil || inf.Region.Region != "US" || inf.Region.Source != "numbers" {
		t.Fatalf("region = %+v", inf)
	}
	if len(inf.Dates) != 1 || inf.Dates[0].Format != "M/D/YYYY" || inf.Dates[0].Ambiguous || inf.Dates[0].Confidence != 1 {
		t.Fatalf("dates = %+v", inf.Dates)
	}
}

// A German export: dd.mm.yyyy dates, national numbers only, "Land"
// column. The country column decides the region; the market is not
// needed.
const deSpec = `{"version":1,"files":[{"name":"c","entity":"contact","sourceId":["Kundennr"],
"fields":[{"target":"first_name","column":"Vorname"},{"target":"last_name","column":"Nachname"},{"target":"phones","column":"Telefon"},{"target":"marketing_consent_date","column":"Einwilligung am"}]}]}`

func TestGermanExport(t *testing.T) {
	src := "Kundennr;Vorname;Nachname;Telefon;Einwilligung am;Land\n" +
		"K1;Jürgen;Groß;030 1234567;05.01.2023;Deutschland\n" +
		"K2;Anna;Weiß;0171 2345678;24.12.2022;Deutschland\n" +
		"K3;Eva;Schön;089 12345678;0/0/00;DE\n"
	recs, rep, rejects := runAll(t, deSpec, src, Options{})
	if rep.Counts.Migrated != 3 || rep.Counts.LeftOut != 0 {
		t.Fatalf("counts = %+v, rejects %s", rep.Counts, rejects)
	}
	if got := field(recs["K1"], "phones"); got != "+49301234567" {
		t.Errorf("phone = %q", got)
	}
	if got := field(recs["K1"], "marketing_consent_date"); got != "2023-01-05" {
		t.Errorf("date = %q", got)
	}
	if _, ok := recs["K3"].Get("marketing_consent_date"); ok || len(recs["K3"].Invalid) != 0 {
		t.Errorf("Outlook's 0/0/00 should be no date: %+v", recs["K3"])
	}
	if rep.Inference.Region.Region != "DE" || rep.Inference.Region.Source != "country column" {
		t.Fatalf("region = %+v", rep.Inference.Region)
	}
}

// A French export whose dates are all 12 or less in both places: the
// column is ambiguous. The market breaks the tie, and the ambiguity is
// reported with examples; national numbers in the market are no warning.
const frSpec = `{"version":1,"files":[{"name":"c","entity":"contact","sourceId":["Réf"],
"fields":[{"target":"last_name","column":"Nom"},{"target":"phones","column":"Téléphone"},{"target":"marketing_consent_date","column":"Date"}]}]}`

func TestAmbiguousDatesUseTheMarketAndSaySo(t *testing.T) {
	src := "Réf,Nom,Téléphone,Date\n" +
		"1,Durand,01 23 45 67 89,03/04/2023\n" +
		"2,Martin,06 12 34 56 78,05/06/2023\n"
	recs, rep, _ := runAll(t, frSpec, src, Options{Market: "FR"})
	if got := field(recs["1"], "marketing_consent_date"); got != "2023-04-03" {
		t.Errorf("date = %q, want day first for FR", got)
	}
	if rep.Counts.Warned != 0 || field(recs["2"], "phones") != "+33612345678" {
		t.Errorf("warned = %d, phone %q", rep.Counts.Warned, field(recs["2"], "phones"))
	}
	d := rep.Inference.Dates
	if len(d) != 1 || !d[0].Ambiguous || d[0].Format != "D/M/YYYY" || d[0].Other != "M/D/YYYY" || len(d[0].Examples) == 0 || d[0].Confidence >= 1 {
		t.Fatalf("dates = %+v", d)
	}
	// The same file for a US market reads month first, still flagged.
	recs, rep, _ = runAll(t, frSpec, src, Options{Market: "US"})
	if got := field(recs["1"], "marketing_consent_date"); got != "2023-03-04" || !rep.Inference.Dates[0].Ambiguous {
		t.Errorf("US market: date = %q, %+v", got, rep.Inference.Dates)
	}
	// Without a market and without evidence, a national number cannot be
	// placed: it is left out with a reason, not read as British.
	recs, rep, _ = runAll(t, frSpec, src, Options{})
	if rep.Counts.Migrated != 2 || len(recs["1"].Invalid) != 1 || !strings.Contains(recs["1"].Invalid[0].Reason, "market") {
		t.Fatalf("no market: counts %+v, invalid %+v", rep.Counts, recs["1"].Invalid)
	}
}

// Vendor date layouts in one go, each column inferred on its own.
func TestVendorDateLayouts(t *testing.T) {
	spec := `{"version":1,"files":[{"name":"c","entity":"contact","sourceId":["id"],"fields":[{"target":"full_name","column":"n"},
{"target":"created_at","column":"zoho"},{"target":"updated_at","column":"beehiiv"},{"target":"marketing_consent_date","column":"hubspot"}]}]}`
	src := "id,n,zoho,beehiiv,hubspot\n" +
		"1,A,2023/01/05 14:30:00,2023-01-05 10:00:00 UTC,1/5/23 9:05\n" +
		"2,B,2023/11/25 08:00:00,2023-11-25 18:00:00 UTC,11/25/23 18:00\n"
	recs, rep, rejects := runAll(t, spec, src, Options{})
	if rep.Counts.Migrated != 2 || rep.Counts.LeftOut != 0 {
		t.Fatalf("counts = %+v %s %+v", rep.Counts, rejects, recs["1"])
	}
	for f, want := range map[string]string{"created_at": "2023-01-05T14:30:00Z", "updated_at": "2023-01-05T10:00:00Z", "marketing_consent_date": "2023-01-05"} {
		if got := field(recs["1"], f); got != want {
			t.Errorf("%s = %q, want %q", f, got, want)
		}
	}
}
