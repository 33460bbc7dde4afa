package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Issue 12, item 3: two columns mapped to one list field, combined. The
// customer saves the mapping before the first round; the test migration
// on the real stack writes TEST records that carry both columns' values
// (read back with the SDK, not from our own counts), and the workbook
// shows the spot check: each column's value beside the result, and the
// values a first-non-empty field did not migrate.
func TestTwoColumnsCombineIntoOneListField(t *testing.T) {
	db := dynamodb.NewFromConfig(awsConfig(t))
	a := api{t: t, base: st.APIURL}
	ops := st.MintOpsToken("ana@vendor.test", time.Hour)
	id, key := a.create(ops, "combine", "Combine Lettings", "combine.test", "boss")
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/checklist", key, map[string]any{"counts": map[string]int{"contact": 3}})

	extract := "Contact ID,Email,Lifecycle Stage,Tags,Company,Employer\n" +
		"1,ann@combine.test,Customer,vip;newsletter,Acme,Globex\n" +
		"2,bo@combine.test,Lead,,Initech,\n" +
		"3,cy@combine.test,,newsletter,,Hooli\n"
	fileID := a.upload(id, key, "contacts.csv", "test", []byte(extract))

	mapping := map[string]any{"version": 1, "files": []any{map[string]any{
		"name": fileID, "entity": "contact", "sourceId": []string{"Contact ID"},
		"combine": map[string]any{"tags": map[string]string{"mode": "combine"}},
		"fields": []any{
			map[string]any{"target": "emails", "column": "Email"},
			map[string]any{"target": "tags", "column": "Lifecycle Stage"},
			map[string]any{"target": "tags", "column": "Tags", "steps": []any{map[string]any{"op": "split", "separator": ";"}}},
			map[string]any{"target": "company", "column": "Company"},
			map[string]any{"target": "company", "column": "Employer"},
		},
	}}}
	// A choice that cannot apply is refused with its JSON path, as people read it.
	bad := map[string]any{"version": 1, "files": []any{map[string]any{
		"name": fileID, "entity": "contact", "combine": map[string]any{"company": map[string]string{"mode": "combine"}},
		"fields": []any{map[string]any{"target": "company", "column": "Company"}, map[string]any{"target": "company", "column": "Employer"}},
	}}}
	if r := a.do("PUT", "/migrations/"+id+"/mapping", key, map[string]any{"mapping": bad}); r.Status != http.StatusBadRequest || !strings.Contains(r.errorMessage(), "$.files[0].combine.company.mode") {
		t.Fatalf("combine on a single-value field: %d %s", r.Status, r.Body)
	}
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/mapping", key, map[string]any{"mapping": mapping})
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
	v := a.waitStatus(id, key, "awaiting_review", 1)
	if c := v.Migration.Test; c == nil || c.Read != 3 || c.Migrated != 3 {
		t.Fatalf("round 1 counts = %+v", v.Migration.Test)
	}

	// What TEST holds, read back with the SDK.
	byEmail := map[string]map[string]string{}
	for _, f := range records(t, db, st.Names["TestRecordsTable"], id) {
		byEmail[f["emails"]] = f
	}
	for email, want := range map[string]string{"ann@combine.test": "Customer; vip; newsletter", "bo@combine.test": "Lead", "cy@combine.test": "newsletter"} {
		if got := byEmail[email]["tags"]; got != want {
			t.Errorf("TEST %s tags = %q, want %q (both columns' values)", email, got, want)
		}
	}
	if got := byEmail["ann@combine.test"]["company"]; got != "Acme" {
		t.Errorf("TEST ann company = %q, want the first non-empty, Acme", got)
	}
	if len(byEmail) != 3 {
		t.Fatalf("TEST holds %d records, want 3: %v", len(byEmail), byEmail)
	}

	// The workbook's spot check.
	type value struct {
		Line     int
		SourceID string
		Sources  []struct{ Column, Value string }
		Result   string
		Dropped  []string
	}
	var wb struct {
		Combined []struct {
			File   string
			Fields []struct {
				Field           string
				Mode            string
				Explicit        bool
				Columns         []string
				Rows            int
				DroppedRows     int            `json:"droppedRows"`
				DroppedBy       map[string]int `json:"droppedBy"`
				Examples        []value
				DroppedExamples []value `json:"droppedExamples"`
			}
		}
	}
	a.must(http.StatusOK, "GET", "/migrations/"+id+"/workbook", key, nil).decode(t, &wb)
	if len(wb.Combined) != 1 || wb.Combined[0].File != "contacts.csv" || len(wb.Combined[0].Fields) != 2 {
		t.Fatalf("workbook combined = %+v", wb.Combined)
	}
	tags, company := wb.Combined[0].Fields[0], wb.Combined[0].Fields[1]
	if tags.Field != "tags" || tags.Mode != "combine" || !tags.Explicit || tags.Rows != 1 || tags.DroppedRows != 0 || len(tags.Examples) != 1 {
		t.Fatalf("tags spot check = %+v", tags)
	}
	ex := tags.Examples[0]
	if ex.SourceID != "1" || ex.Result != "Customer; vip; newsletter" || len(ex.Sources) != 2 || ex.Sources[0].Value != "Customer" || ex.Sources[1].Value != "vip;newsletter" {
		t.Fatalf("tags example = %+v, want each column's value beside the result", ex)
	}
	if company.Field != "company" || company.Mode != "first" || company.Explicit || company.DroppedRows != 1 || company.DroppedBy["Employer"] != 1 ||
		len(company.DroppedExamples) != 1 || company.DroppedExamples[0].SourceID != "1" || strings.Join(company.DroppedExamples[0].Dropped, ",") != "Employer" {
		t.Fatalf("company spot check = %+v, want Globex of contact 1 reported as not migrated", company)
	}
}
