package mapspec

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/schema"
)

func compileDefault(t testing.TB, spec string, file int, header []string) *Mapper {
	t.Helper()
	sp, err := Parse([]byte(spec))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	m, err := Compile(sp.Files[file], schema.Default(), header, "acme", fixedNow)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return m
}

const tenancySpec = `{"version":1,"defaults":{"dateFormats":["ISO"]},"files":[{"name":"t","entity":"tenancy","sourceId":["id"],"fields":[
 {"target":"property","column":"prop"},{"target":"tenants","column":"tenants","steps":[{"op":"split","separator":";"}]},
 {"target":"start_date","column":"start"},{"target":"end_date","column":"end"},{"target":"renewal_date","column":"renewal"},
 {"target":"status","column":"status"}]}]}`

func TestTenancyStatusRule(t *testing.T) {
	m := compileDefault(t, tenancySpec, 0, []string{"id", "prop", "tenants", "start", "end", "renewal", "status"})
	// now is 2024-06-15.
	for name, tc := range map[string]struct {
		start, end, renewal, src, want, warn string
	}{
		"fixed term running":       {"2024-01-01", "2024-12-31", "", "", "active", ""},
		"not started":              {"2024-07-01", "2025-06-30", "", "", "active", ""},
		"end passed":               {"2022-01-01", "2023-12-31", "", "", "ended", ""},
		"end passed, src active":   {"2022-01-01", "2023-12-31", "", "active", "ended", `status "active" in the source, but the end date 2023-12-31 has passed: set to "ended"`},
		"end passed, src periodic": {"2022-01-01", "2023-12-31", "", "periodic", "periodic", ""},
		"ends today":               {"2023-06-16", "2024-06-15", "", "", "active", ""},
		"src ended kept":           {"2024-01-01", "2024-12-31", "", "ended", "ended", ""},
		"renewed":                  {"2022-01-01", "2025-01-01", "2024-01-01", "", "renewed", ""},
		"renewal in future":        {"2022-01-01", "2025-01-01", "2024-07-01", "", "active", ""},
		"no end date":              {"2020-01-01", "", "", "", "periodic", ""},
		"no end, src active":       {"2020-01-01", "", "", "active", "periodic", `status "active" in the source, but it has started and has no end date: set to "periodic"`},
		"no end, future start":     {"2024-09-01", "", "", "", "active", ""},
	} {
		t.Run(name, func(t *testing.T) {
			o := m.Map(2, []string{"T1", "P1", "C1", tc.start, tc.end, tc.renewal, tc.src})
			if o.Record == nil {
				t.Fatalf("errors: %+v", o.Errors)
			}
			if v, _ := o.Record.Get("status"); v.Str != tc.want {
				t.Fatalf("status = %q, want %q", v.Str, tc.want)
			}
			var warns []string
			for _, w := range o.Warnings {
				warns = append(warns, w.Reason)
			}
			if strings.Join(warns, "|") != tc.warn {
				t.Fatalf("warnings = %q, want %q", warns, tc.warn)
			}
			changed := tc.want != tc.src
			if changed != (len(o.Rules) == 1 && o.Rules[0] == RuleTenancyStatus) {
				t.Fatalf("rules = %v", o.Rules)
			}
		})
	}
}

func TestApplicantExpiryRule(t *testing.T) {
	spec := `{"version":1,"files":[{"name":"a","entity":"applicant","sourceId":["id"],"fields":[{"target":"contact","column":"c"},{"target":"expiry_date","column":"exp"},{"target":"status","column":"st"}]}]}`
	m := compileDefault(t, spec, 0, []string{"id", "c", "exp", "st"})
	for _, tc := range []struct{ exp, st, want string }{
		{"2024-06-14", "active", "archived"},
		{"2024-06-14", "", "archived"},
		{"2024-06-15", "", "active"},
		{"2025-01-01", "archived", "archived"},
		{"", "", "active"},
	} {
		o := m.Map(2, []string{"A1", "C1", tc.exp, tc.st})
		if v, _ := o.Record.Get("status"); v.Str != tc.want {
			t.Errorf("expiry %q status %q: got %q, want %q", tc.exp, tc.st, v.Str, tc.want)
		}
	}
	// derive: [] switches the rule off.
	spec = strings.Replace(spec, `"sourceId"`, `"derive":[],"sourceId"`, 1)
	m = compileDefault(t, spec, 0, []string{"id", "c", "exp", "st"})
	if v, _ := m.Map(2, []string{"A1", "C1", "2020-01-01", "active"}).Record.Get("status"); v.Str != "active" {
		t.Fatalf("with derive [] status = %q", v.Str)
	}
}

const contactSpec = `{"version":1,"defaults":{"region":"GB"},"files":[{"name":"c","entity":"contact","sourceId":["id"],"dedupe":["emails"],
 "skip":[{"name":"mailchimp-unsubscribed","when":{"column":"status","in":["unsubscribed","cleaned"]}}],
 "fields":[{"target":"first_name","column":"first"},{"target":"emails","column":"email"},{"target":"phones","column":"phone"},{"target":"tags","column":"tags","steps":[{"op":"split","separator":","}]},
 {"target":"town","column":"town"}]}]}`

func TestSkipAndAccounting(t *testing.T) {
	m := compileDefault(t, contactSpec, 0, []string{"id", "first", "email", "phone", "tags", "town", "status"})
	rows := [][]string{
		{"1", "Ann", "ann@example.com", "", "a", "Leeds", "subscribed"},
		{"2", "Bob", "bob@", "", "", "", "subscribed"},
		{"3", "Cy", "cy@example.com", "", "", "", "Cleaned"},
		{"", "Di", "di@example.com", "", "", "", ""},
		{"5", "", "", "", "", "", ""},
	}
	counts := map[string]int{}
	skips := map[string]int{}
	for i, r := range rows {
		o := m.Map(i+2, r)
		counts[o.Kind()]++
		if o.SkipRule != "" {
			skips[o.SkipRule]++
		}
	}
	// Bob's e-mail is unreadable but his name identifies him: he migrates
	// without it.
	if counts[Migrated] != 2 || counts[Rejected] != 2 || counts[Skipped] != 1 || skips["mailchimp-unsubscribed"] != 1 {
		t.Fatalf("counts = %v, skips = %v", counts, skips)
	}
	if got := m.Map(5, rows[3]).Errors; len(got) != 1 || got[0].Reason != "the source id is empty" || got[0].Column != "id" {
		t.Fatalf("empty id errors = %+v", got)
	}
	if got := m.Map(6, rows[4]).Errors; len(got) != 1 || got[0].Reason != "the row has none of first_name, last_name, full_name, emails, phones: nothing identifies this contact" {
		t.Fatalf("anyOf errors = %+v", got)
	}
	if u := strings.Join(m.Unmapped(), ","); u != "" {
		t.Fatalf("unmapped = %q", u)
	}
}

func TestCompileErrors(t *testing.T) {
	sp, err := Parse([]byte(contactSpec))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Compile(sp.Files[0], schema.Default(), []string{"id", "first", "email", "phone", "tags", "status"}, "acme", fixedNow)
	if cutover.ErrorCode(err) != cutover.EINVALID || cutover.ErrorMessage(err) != `file "c": column "town" is not in the file (its columns: "id", "first", "email", "phone", "tags", "status")` {
		t.Fatalf("err = %v", err)
	}
	_, err = Compile(sp.Files[0], schema.Default(), []string{"id", "first", "email", "Email", "phone", "tags", "town", "status"}, "acme", fixedNow)
	if cutover.ErrorMessage(err) != `file "c": column "email" appears more than once in the header` {
		t.Fatalf("err = %v", err)
	}
}

func TestRecordIDsDeterministic(t *testing.T) {
	m := compileDefault(t, contactSpec, 0, []string{"id", "first", "email", "phone", "tags", "town", "status"})
	o := m.Map(2, []string{"42", "Ann", "Ann@Example.com", "", "", "", ""})
	if o.Record.ID != cutover.RecordID("acme", "contact", "42") || o.Record.SourceID != "42" || o.Record.Line != 2 || o.DedupeKey != "ann@example.com" {
		t.Fatalf("record = %+v key %q", o.Record, o.DedupeKey)
	}
}

func TestMergerAndResolver(t *testing.T) {
	cm := compileDefault(t, contactSpec, 0, []string{"id", "first", "email", "phone", "tags", "town", "status"})
	mg := NewMergerFor(&Spec{Files: []FileSpec{{Entity: "contact", MergeDifferentIDs: true}}}) // the customer's explicit rule
	for i, r := range [][]string{
		{"C1", "Ann", "ann@example.com", "", "buyer", "Leeds", ""},
		{"C2", "Bob", "bob@example.com", "", "", "", ""},
		{"C3", "Annie", "ANN@example.com", "+44 113 496 0000", "landlord", "", ""},
	} {
		o := cm.Map(i+2, r)
		mg.Add(o.Record, o.DedupeKey)
	}
	recs := mg.Records()
	if len(recs) != 2 {
		t.Fatalf("%d records after merge, want 2", len(recs))
	}
	ann := recs[0]
	for f, want := range map[string]string{"first_name": "Ann", "tags": "buyer; landlord", "phones": "+441134960000", "town": "Leeds"} {
		if v, _ := ann.Get(f); v.String() != want {
			t.Errorf("merged %s = %q, want %q", f, v.String(), want)
		}
	}
	ms := mg.Merges()
	if len(ms) != 1 || strings.Join(ms[0].SourceIDs, ",") != "C1,C3" || ms[0].Lines[1] != 4 || ms[0].ID != ann.ID {
		t.Fatalf("merges = %+v", ms)
	}
	if c := ms[0].Conflicts; len(c) != 1 || c[0] != (Conflict{Field: "first_name", Line: 4, Kept: "Ann", Dropped: "Annie"}) {
		t.Fatalf("conflicts = %+v", c)
	}

	tm := compileDefault(t, tenancySpec, 0, []string{"id", "prop", "tenants", "start", "end", "renewal", "status"})
	o := tm.Map(2, []string{"T1", "P1", "C3;C2;C9", "2024-01-01", "2024-12-31", "", ""})
	r := NewResolver()
	for _, rec := range recs {
		r.AddRecord(rec)
	}
	r.AddAliases(mg.Aliases())
	r.Add("property", "P1", "prop-id")
	orphans := r.Resolve(o.Record)
	if len(orphans) != 1 || orphans[0] != (Orphan{Entity: "tenancy", SourceID: "T1", Line: 2, Field: "tenants", Target: "contact", Missing: "C9"}) {
		t.Fatalf("orphans = %+v", orphans)
	}
	if iss := orphans[0].Issue(); iss.Reason != `no contact with source id "C9" is in the files` {
		t.Fatalf("issue = %+v", iss)
	}
	refs := o.Record.Refs
	if refs[0].ID != "prop-id" || refs[1].ID != ann.ID || refs[2].ID != recs[1].ID || refs[3].ID != "" {
		t.Fatalf("refs = %+v", refs)
	}
}

func TestSpecHashAndParseErrors(t *testing.T) {
	a, _ := Parse([]byte(contactSpec))
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(contactSpec), "", "\t"); err != nil {
		t.Fatal(err)
	}
	b, _ := Parse(buf.Bytes())
	if a.Hash() != b.Hash() || !strings.HasPrefix(a.Hash(), "sha256:") {
		t.Fatalf("hashes differ on formatting: %s %s", a.Hash(), b.Hash())
	}
	c, _ := Parse([]byte(strings.Replace(contactSpec, `"town"}`, `"city"}`, 1)))
	if c == nil || c.Hash() == a.Hash() {
		t.Fatalf("hash does not change with content")
	}
	for src, want := range map[string]string{
		``:                         "mapping spec: the file is empty",
		`{"version":1,`:            "mapping spec: line 1, column 13: invalid JSON",
		`{"version":2,"files":[]}`: "mapping spec: $.files: needs at least 1 item(s); $.version: must be 1",
		`{"version":1,"files":[{"name":"x","entity":"house","fields":[{"target":"a","column":"b"}]}]}`:                                    `mapping spec: $.files[0].entity: unknown entity "house" (known: contact, property, tenancy, applicant, appointment, order, company)`,
		`{"version":1,"files":[{"name":"x","entity":"tenancy","fields":[{"target":"property","column":"b"}]}]}`:                           `mapping spec: $.files[0].fields: required field "tenants" of entity "tenancy" has no mapping`,
		`{"version":1,"files":[{"name":"x","entity":"contact","skip":[{"name":"r"}],"fields":[{"target":"emails","column":"b"}]}]}`:       `mapping spec: $.files[0].skip[0]: a skip rule needs exactly one of "always" and "when"`,
		`{"version":1,"files":[{"name":"x","entity":"contact","derive":["tenancy-status"],"fields":[{"target":"emails","column":"b"}]}]}`: `mapping spec: $.files[0].derive[0]: rule "tenancy-status" needs a date field "start_date" in entity "contact"`,
		`{"version":1,"defaults":{"region":"XX"},"files":[{"name":"x","entity":"contact","fields":[{"target":"phones","column":"b"}]}]}`:  `mapping spec: $.defaults.region: "XX" is not a region phone numbers know`,
	} {
		_, err := Parse([]byte(src))
		if cutover.ErrorCode(err) != cutover.EINVALID || !strings.HasPrefix(cutover.ErrorMessage(err), want) {
			t.Errorf("Parse(%s):\n got  %q\n want %q", src, cutover.ErrorMessage(err), want)
		}
	}
}
