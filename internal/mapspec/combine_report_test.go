package mapspec

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/schema"
)

// A field that is not a list keeps the first non-empty value by default,
// and every row where another column's value was not migrated says so:
// in the outcome (for the workbook), and as a warning on the row.
func TestFirstNonEmptyReportsWhatItDrops(t *testing.T) {
	m := compileJSON(t, `{"version":1,"files":[{"name":"f","entity":"contact","sourceId":["ID"],"fields":[
		{"target":"emails","column":"Email"},{"target":"company","column":"Company"},{"target":"company","column":"Employer"}]}]}`,
		[]string{"ID", "Email", "Company", "Employer"})
	out := m.Map(7, []string{"1", "a@example.com", "Acme", "Globex"})
	if got := get(out.Record, "company").String(); got != "Acme" {
		t.Fatalf("company = %q, want the first non-empty, Acme", got)
	}
	if len(out.Combined) != 1 {
		t.Fatalf("combined = %+v, want one account of company", out.Combined)
	}
	cv := out.Combined[0]
	if cv.Field != "company" || cv.Line != 7 || cv.SourceID != "1" || cv.Result != "Acme" || strings.Join(cv.Dropped, ",") != "Employer" {
		t.Fatalf("combined = %+v, want Employer dropped at line 7", cv)
	}
	if len(cv.Sources) != 2 || cv.Sources[1] != (Source{Column: "Employer", Value: "Globex"}) {
		t.Fatalf("sources = %+v, want each column's value", cv.Sources)
	}
	warned := false
	for _, w := range out.Warnings {
		warned = warned || w.Field == "company" && w.Value == "Globex" && strings.Contains(w.Reason, "not migrated")
	}
	if !warned {
		t.Fatalf("warnings = %+v, want the dropped Globex flagged", out.Warnings)
	}

	// The same value in both columns loses nothing; an empty one neither.
	for _, row := range [][]string{{"2", "b@example.com", "Acme", "Acme"}, {"3", "c@example.com", "", "Globex"}} {
		out = m.Map(8, row)
		for _, cv := range out.Combined {
			if len(cv.Dropped) > 0 {
				t.Fatalf("row %v: dropped %v, want nothing", row, cv.Dropped)
			}
		}
	}

	// Tallied per file: how many rows, which columns, examples.
	fields := m.Combined()
	for _, row := range [][]string{{"1", "a@example.com", "Acme", "Globex"}, {"2", "b@example.com", "Acme", "Acme"}, {"4", "d@example.com", "Initech", "Hooli"}} {
		TallyCombined(fields, m.Map(2, row).Combined)
	}
	if len(fields) != 1 || fields[0].Mode != CombineFirst || fields[0].Explicit {
		t.Fatalf("fields = %+v, want company, first non-empty by default", fields)
	}
	f := fields[0]
	if f.Rows != 3 || f.Dropped != 2 || f.DroppedBy["Employer"] != 2 || len(f.DroppedExamples) != 2 || len(f.Examples) != 3 {
		t.Fatalf("tally = %+v, want 3 rows with both, 2 rows with Employer dropped", f)
	}
}

// An explicit "first" drops the same values and reports them in the
// outcome, without a warning on every row: the customer chose it.
func TestExplicitFirstReportsWithoutWarning(t *testing.T) {
	m := compileJSON(t, `{"version":1,"files":[{"name":"f","entity":"contact","sourceId":["ID"],"combine":{"tags":{"mode":"first"}},"fields":[
		{"target":"emails","column":"Email"},{"target":"tags","column":"Lifecycle Stage"},{"target":"tags","column":"Tags"}]}]}`,
		[]string{"ID", "Email", "Lifecycle Stage", "Tags"})
	out := m.Map(2, []string{"1", "a@example.com", "Customer", "vip"})
	if got := get(out.Record, "tags").String(); got != "Customer" {
		t.Fatalf("tags = %q, want Customer", got)
	}
	if len(out.Combined) != 1 || strings.Join(out.Combined[0].Dropped, ",") != "Tags" {
		t.Fatalf("combined = %+v, want Tags dropped", out.Combined)
	}
	if len(out.Warnings) != 0 {
		t.Fatalf("warnings = %+v, want none", out.Warnings)
	}
}

// A choice that cannot apply is refused with the JSON path of the rule.
func TestCombineRuleErrors(t *testing.T) {
	fields := `"fields":[{"target":"emails","column":"Email"},{"target":"emails","column":"Work"},{"target":"company","column":"Company"},{"target":"company","column":"Employer"},{"target":"notes","column":"Notes"}]`
	for rule, want := range map[string]string{
		`{"company":{"mode":"combine"}}`:                                              "$.files[0].combine.company.mode: ",
		`{"emails":{"mode":"concat"}}`:                                                "$.files[0].combine.emails.mode: ",
		`{"company":{"mode":"first","separator":"/"}}`:                                "$.files[0].combine.company.separator: ",
		`{"notes":{"mode":"concat"}}`:                                                 "$.files[0].combine.notes: ",
		`{"nope":{"mode":"first"}}`:                                                   "$.files[0].combine.nope: ",
		`{"company":{"mode":"sum"}}`:                                                  "$.files[0].combine.company.mode",
		`{"company":{"mode":"concat","separator":"` + strings.Repeat("-", 21) + `"}}`: "separator",
	} {
		_, err := Parse([]byte(`{"version":1,"files":[{"name":"f","entity":"contact","combine":` + rule + `,` + fields + `}]}`))
		if cutover.ErrorCode(err) != cutover.EINVALID || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want EINVALID at %s", rule, err, want)
		}
	}
	sp, err := Parse([]byte(`{"version":1,"files":[{"name":"f","entity":"contact",` + fields + `}]}`))
	if err != nil {
		t.Fatal(err)
	}
	withRule, err := Parse([]byte(`{"version":1,"files":[{"name":"f","entity":"contact","combine":{"company":{"mode":"concat","separator":" / "}},` + fields + `}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if sp.Hash() == withRule.Hash() {
		t.Fatal("the combine rule does not change the spec's hash")
	}
}

// A proposal whose mappings feed one list from two columns says so.
func TestProposeCombinesMakesListsExplicit(t *testing.T) {
	ent, _ := schema.Default().Entity("contact")
	fs := FileSpec{Name: "f", Entity: "contact", Fields: []FieldMapping{{Target: "tags", Column: "A"}, {Target: "tags", Column: "B"}, {Target: "company", Column: "C"}, {Target: "company", Column: "D"}}}
	ProposeCombines(&fs, ent)
	if len(fs.Combine) != 1 || fs.Combine["tags"].Mode != CombineAll {
		t.Fatalf("combine = %+v, want tags combined and company left to the default", fs.Combine)
	}
}

// The examples keep each value cut to a bound, so a long notes column
// cannot make the report stored with each final chunk too big.
func TestCombinedExamplesAreBounded(t *testing.T) {
	m := compileJSON(t, `{"version":1,"files":[{"name":"f","entity":"contact","sourceId":["ID"],"combine":{"notes":{"mode":"concat"}},"fields":[
		{"target":"emails","column":"Email"},{"target":"notes","column":"Notes"},{"target":"notes","column":"More"}]}]}`,
		[]string{"ID", "Email", "Notes", "More"})
	long := strings.Repeat("é", 1000)
	fields := m.Combined()
	TallyCombined(fields, m.Map(2, []string{"1", "a@example.com", long, "short"}).Combined)
	ex := fields[0].Examples[0]
	if len(ex.Sources[0].Value) > CombinedValueBytes || len(ex.Result) > CombinedValueBytes || !strings.HasSuffix(ex.Result, "…") || ex.Sources[1].Value != "short" {
		t.Fatalf("example = %d/%d bytes, want at most %d each", len(ex.Sources[0].Value), len(ex.Result), CombinedValueBytes)
	}
}
