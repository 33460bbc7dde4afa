package pass

import (
	"context"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
)

const datedContacts = `{"version":1,"files":[{"name":"contacts","entity":"contact","sourceId":["Id"],
"fields":[{"target":"emails","column":"Email"},{"target":"marketing_consent_date","column":"Consent"}]}]}`

// The test migration reads the whole file, whose dates are day-first
// (13/02/2024 reads no other way). A final chunk of the same extract
// whose rows alone read month-first (12/13/2024) still reads day-first:
// it uses what the test inferred, and the value that does not read that
// way is left out and flagged rather than silently read otherwise.
func TestFinalChunkKeepsTheTestsDateFormat(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	sp := spec(t, datedContacts)
	test := "Id,Email,Consent\n1,a@x.com,13/02/2024\n2,b@x.com,02/03/2024\n3,c@x.com,25/12/2023\n"
	chunk := "Id,Email,Consent\n4,d@x.com,02/03/2024\n5,e@x.com,04/05/2024\n6,f@x.com,12/13/2024\n"
	fs := &files{objects: map[string]string{"test": test, "chunk": chunk}}
	noSink := sink{WriteFn: func([]cutover.Record) error { return nil }}
	res, err := Run(ctx, Pass{TenantID: "acme", Spec: sp, Files: []cutover.File{{ID: "contacts", Name: "contacts.csv", Key: "test"}}, Now: now}, fs, noSink, fs)
	if err != nil {
		t.Fatal(err)
	}
	inferred := res.Inferred()
	if g := inferred["contacts"]; g == nil || len(g.Dates) != 1 || g.Dates[0].Format != "D/M/YYYY" {
		t.Fatalf("test inferred %+v, want D/M/YYYY for the contacts entry", g)
	}

	final := func(inf map[string]*mapspec.Inference) map[string]cutover.Record {
		got := map[string]cutover.Record{}
		_, err := Run(ctx, Pass{TenantID: "acme", Spec: sp, Files: []cutover.File{{ID: "final-1", Name: "renamed.csv", Key: "chunk"}}, Now: now, Choose: func(s *mapspec.Spec, _ string, h []string) (mapspec.FileSpec, error) { return ByName(s, "contacts", h) }, Inferred: inf},
			fs, sink{WriteFn: func(recs []cutover.Record) error {
				for _, r := range recs {
					got[r.SourceID] = r
				}
				return nil
			}}, fs)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	// Without the test's inference the chunk reads month-first: the
	// failure this guards against.
	if got := final(nil)["4"].Fields["marketing_consent_date"]; got != "2024-02-03" {
		t.Fatalf("uninformed chunk read 02/03/2024 as %q; the test's premise is that it reads month-first", got)
	}
	got := final(inferred)
	if v := got["4"].Fields["marketing_consent_date"]; v != "2024-03-02" {
		t.Fatalf("02/03/2024 = %q, want 2024-03-02 as the test read it", v)
	}
	if v := got["5"].Fields["marketing_consent_date"]; v != "2024-05-04" {
		t.Fatalf("04/05/2024 = %q, want 2024-05-04", v)
	}
	if r := got["6"]; r.Fields["marketing_consent_date"] != "" || r.Invalid["marketing_consent_date"].Value != "12/13/2024" {
		t.Fatalf("12/13/2024 = %+v, want it left out and kept under invalid", r)
	}
}
