package workbook

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pipeline"
	"github.com/cutover/cutover/internal/schema"
	"github.com/cutover/cutover/internal/tabular"
)

// The workbook's spot check of a field two columns fill comes from the
// rows the mapper really mapped: each column's value beside the result,
// and the values a first-non-empty field did not migrate, counted.
func TestWorkbookShowsFieldsSeveralColumnsFill(t *testing.T) {
	sp, err := mapspec.Parse([]byte(`{"version":1,"files":[{"name":"f","entity":"contact","sourceId":["ID"],"fields":[
		{"target":"emails","column":"Email"},{"target":"tags","column":"Stage"},{"target":"tags","column":"Tags"},
		{"target":"company","column":"Company"},{"target":"company","column":"Employer"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	src := "ID,Email,Stage,Tags,Company,Employer\n1,a@x.com,Lead,vip,Acme,Globex\n2,b@x.com,Customer,,Acme,\n3,c@x.com,,vip,,Hooli\n"
	tables, err := tabular.Open(strings.NewReader(src), "c.csv", tabular.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapspec.Compile(sp.Files[0], schema.Default(), tables[0].Header(), "t", time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := pipeline.Run(t.Context(), "c.csv", tables[0], m, pipeline.Outputs{}, pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wb := Build(Meta{}, []*pipeline.Report{rep}, nil, nil, 0, nil)
	wb.AddCombined([]*pipeline.Report{rep})
	if len(wb.Combined) != 1 || wb.Combined[0].File != "c.csv" || len(wb.Combined[0].Fields) != 2 {
		t.Fatalf("combined = %+v, want tags and company of c.csv", wb.Combined)
	}
	tags, company := wb.Combined[0].Fields[0], wb.Combined[0].Fields[1]
	if tags.Field != "tags" || tags.Mode != mapspec.CombineAll || tags.Rows != 1 || tags.Dropped != 0 || len(tags.Examples) != 1 || tags.Examples[0].Result != "Lead; vip" {
		t.Fatalf("tags = %+v, want row 1 combined into Lead; vip", tags)
	}
	if company.Mode != mapspec.CombineFirst || company.Dropped != 1 || company.DroppedBy["Employer"] != 1 || company.DroppedExamples[0].Line != 2 || company.DroppedExamples[0].SourceID != "1" {
		t.Fatalf("company = %+v, want Globex of line 2 reported as not migrated", company)
	}
	if wb.DroppedValues() != 1 {
		t.Fatalf("dropped = %d, want 1", wb.DroppedValues())
	}
	b, _ := json.Marshal(wb)
	if !strings.Contains(string(b), `"combined":[{"file":"c.csv"`) {
		t.Fatalf("workbook JSON lacks the spot check: %s", b)
	}
}
