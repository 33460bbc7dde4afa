package e2e

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// namedWorkbook is the part of the workbook these tests read.
type namedWorkbook struct {
	SpotChecks []struct {
		Entity, Why, SourceID, File, Outcome, Says string
		Line                                       int
		Found, WaiveOnly                           bool
	}
	Issues struct {
		Warnings []struct {
			Entity, Reason string
			Count          int
			Examples       []struct {
				File, Field, Value, Reason string
				Line                       int
			}
		}
		ReviewFiles     []struct{ File, URL string }
		DuplicateCounts struct{ Merged, Possible int }
		DuplicateGroups []struct {
			Kind, Entity, Key string
			Total             int
			RecordIDs         []string
			Record            map[string]string
			Rows              []struct {
				File, SourceID, RecordID string
				Line                     int
				Cells                    []struct{ Column, Value string }
			}
		}
	}
}

func (a api) namedWorkbook(id, key string) namedWorkbook {
	a.t.Helper()
	var wb namedWorkbook
	a.must(http.StatusOK, "GET", "/migrations/"+id+"/workbook", key, nil).decode(a.t, &wb)
	return wb
}

// A row the customer named for a spot check was rejected: the workbook
// says so, with its file, line and reason; it cannot be ticked "it is
// right", only waived with a note. The "!" warnings are grouped by reason
// with examples, each group must be marked before sign-off, and the
// per-row review file downloads through its link.
func TestWorkbookSaysANamedRowWasRejected(t *testing.T) {
	a := api{t: t, base: st.APIURL}
	ops := st.MintOpsToken("ana@vendor.test", time.Hour)
	id, key := a.create(ops, "wb-rejected", "Initech", "wb-rejected.test", "bill")
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/checklist", key,
		map[string]any{"counts": map[string]int{"contact": 3}, "spotCheckIds": map[string][]string{"contact": {"2"}}})
	extract := "Contact ID,First Name,Email,Phone\n1,Ann,ann@wb.test,not a phone\n2,,not-an-email,\n3,Cy,cy@wb.test,\n"
	a.upload(id, key, "contacts.csv", "test", []byte(extract))
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
	a.waitStatus(id, key, "awaiting_review", 1)
	wb := a.namedWorkbook(id, key)

	spot := -1
	for i, sc := range wb.SpotChecks {
		if sc.Why == "named by you" && sc.SourceID == "2" {
			spot = i
		}
	}
	if spot < 0 {
		t.Fatalf("no spot check for the named id 2: %+v", wb.SpotChecks)
	}
	sc := wb.SpotChecks[spot]
	if sc.Found || sc.Outcome != "rejected" || !sc.WaiveOnly || sc.File != "contacts.csv" || sc.Line != 3 ||
		!strings.HasPrefix(sc.Says, "rejected at line 3 of contacts.csv: ") || !strings.Contains(sc.Says, "emails") {
		t.Fatalf("the named rejected row's spot check = %+v", sc)
	}
	section := fmt.Sprintf("spot:%d", spot)
	r := a.do("PUT", "/migrations/"+id+"/review", key, map[string]any{"items": []map[string]string{{"section": section, "state": "reviewed"}}})
	if r.Status != http.StatusBadRequest || !strings.Contains(r.errorMessage(), "waive it with a note") {
		t.Fatalf("ticking a rejected row as right: %d %s", r.Status, r.Body)
	}
	r = a.do("PUT", "/migrations/"+id+"/review", key, map[string]any{"items": []map[string]string{{"section": section, "state": "waived"}}})
	if r.Status != http.StatusBadRequest || !strings.Contains(r.errorMessage(), "needs a note") {
		t.Fatalf("a waiver without a note: %d %s", r.Status, r.Body)
	}
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/review", key,
		map[string]any{"items": []map[string]string{{"section": section, "state": "waived", "note": "Contact 2's e-mail is fixed in the old CRM before the final extract"}}})

	// The warning: Ann's phone, left out, grouped with an example.
	if len(wb.Issues.Warnings) != 1 || wb.Issues.Warnings[0].Count != 1 || len(wb.Issues.Warnings[0].Examples) != 1 {
		t.Fatalf("warnings = %+v", wb.Issues.Warnings)
	}
	ex := wb.Issues.Warnings[0].Examples[0]
	if ex.File != "contacts.csv" || ex.Line != 2 || ex.Field != "phones" || ex.Value != "not a phone" || ex.Reason == "" {
		t.Fatalf("warning example = %+v", ex)
	}
	if len(wb.Issues.ReviewFiles) != 1 || wb.Issues.ReviewFiles[0].URL == "" {
		t.Fatalf("review files = %+v", wb.Issues.ReviewFiles)
	}
	resp, err := http.Get(wb.Issues.ReviewFiles[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "not a phone") || !strings.Contains(string(body), "cutover_line") {
		t.Fatalf("review file download: %d %q", resp.StatusCode, body)
	}

	// Everything else reviewed but the warning group: sign-off names it.
	items := []map[string]string{}
	for _, s := range []string{"reconciliation", "issues", "fillRates", "unmapped"} {
		items = append(items, map[string]string{"section": s, "state": "reviewed"})
	}
	for i := range wb.SpotChecks {
		if i != spot {
			items = append(items, map[string]string{"section": fmt.Sprintf("spot:%d", i), "state": "reviewed"})
		}
	}
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/review", key, map[string]any{"items": items})
	if r := a.do("POST", "/migrations/"+id+"/request-signoff", key, nil); r.Status != http.StatusConflict || !strings.Contains(r.errorMessage(), "still open: warn:0") {
		t.Fatalf("sign-off with the warnings unmarked: %d %s", r.Status, r.Body)
	}
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/review", key,
		map[string]any{"items": []map[string]string{{"section": "warn:0", "state": "waived", "note": "Ann's phone is added by hand after the move"}}})
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/request-signoff", key, nil)
	a.waitStatus(id, key, "awaiting_signoff", 1)
}

// Two rows with different source ids and one e-mail: with the mapping's
// dedupe on e-mail they are listed as possible duplicates, both source
// rows shown, and both migrate; with mergeDifferentIds turned on in a
// mapping saved before the round, one record results and the merge is
// listed. TEST's records are counted with the SDK.
func TestWorkbookListsPossibleDuplicatesAndMerges(t *testing.T) {
	db := dynamodb.NewFromConfig(awsConfig(t))
	testTable := st.Names["TestRecordsTable"]
	extract := "Contact ID,First Name,Email\n1,Ann,office@dupes.test\n2,Bo,office@dupes.test\n3,Cy,cy@dupes.test\n"
	for _, merge := range []bool{false, true} {
		t.Run(fmt.Sprintf("mergeDifferentIds=%v", merge), func(t *testing.T) {
			a := api{t: t, base: st.APIURL}
			ops := st.MintOpsToken("ana@vendor.test", time.Hour)
			tenant := fmt.Sprintf("wb-dup-%v", merge)
			id, key := a.create(ops, tenant, "Initech", tenant+".test", "bill")
			fileID := a.upload(id, key, "contacts.csv", "test", []byte(extract))
			spec := map[string]any{"version": 1, "files": []any{map[string]any{
				"name": fileID, "entity": "contact", "sourceId": []string{"Contact ID"}, "dedupe": []string{"emails"}, "mergeDifferentIds": merge,
				"fields": []any{map[string]any{"target": "first_name", "column": "First Name"}, map[string]any{"target": "emails", "column": "Email"}},
			}}}
			a.must(http.StatusOK, "PUT", "/migrations/"+id+"/mapping", key, map[string]any{"mapping": spec})
			a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
			a.waitStatus(id, key, "awaiting_review", 1)
			wb := a.namedWorkbook(id, key)
			recs := records(t, db, testTable, id)
			office := 0
			for _, f := range recs {
				if f["emails"] == "office@dupes.test" {
					office++
				}
			}
			var summary struct {
				Migration struct {
					Workbook struct {
						Duplicates *struct{ Merged, Possible int }
					}
				}
			}
			a.must(http.StatusOK, "GET", "/migrations/"+id, key, nil).decode(t, &summary)
			dups := summary.Migration.Workbook.Duplicates
			if len(wb.Issues.DuplicateGroups) != 1 {
				t.Fatalf("duplicate groups = %+v", wb.Issues.DuplicateGroups)
			}
			g := wb.Issues.DuplicateGroups[0]
			if len(g.Rows) != 2 || g.Rows[0].File != "contacts.csv" || g.Rows[0].Line != 2 || g.Rows[1].Line != 3 ||
				g.Rows[0].SourceID != "1" || g.Rows[1].SourceID != "2" || !hasCell(g.Rows[1].Cells, "First Name", "Bo") || !hasCell(g.Rows[0].Cells, "First Name", "Ann") {
				t.Fatalf("the group's rows = %+v", g.Rows)
			}
			if !merge {
				if len(recs) != 3 || office != 2 {
					t.Fatalf("TEST holds %d records, %d with the shared e-mail; want 3 and 2: %v", len(recs), office, recs)
				}
				if g.Kind != "possible" || len(g.RecordIDs) != 2 || wb.Issues.DuplicateCounts.Possible != 2 || wb.Issues.DuplicateCounts.Merged != 0 {
					t.Fatalf("possible duplicates: group %+v, counts %+v", g, wb.Issues.DuplicateCounts)
				}
				if dups == nil || dups.Possible != 2 || dups.Merged != 0 {
					t.Fatalf("the migration's workbook summary counts %+v", dups)
				}
				for _, rid := range g.RecordIDs {
					if _, ok := recs["contact#"+rid]; !ok {
						t.Fatalf("record %s the group names is not in TEST (%v)", rid, recs)
					}
				}
				return
			}
			if len(recs) != 2 || office != 1 {
				t.Fatalf("TEST holds %d records, %d with the shared e-mail; want 2 and 1: %v", len(recs), office, recs)
			}
			if g.Kind != "merged" || len(g.RecordIDs) != 1 || g.Record["emails"] != "office@dupes.test" || wb.Issues.DuplicateCounts.Merged != 1 {
				t.Fatalf("merge: group %+v, counts %+v", g, wb.Issues.DuplicateCounts)
			}
			if _, ok := recs["contact#"+g.RecordIDs[0]]; !ok {
				t.Fatalf("the merged record %s is not in TEST (%v)", g.RecordIDs[0], recs)
			}
			if dups == nil || dups.Merged != 1 {
				t.Fatalf("the migration's workbook summary counts %+v", dups)
			}
		})
	}
}

func hasCell(cells []struct{ Column, Value string }, column, value string) bool {
	for _, c := range cells {
		if c.Column == column && c.Value == value {
			return true
		}
	}
	return false
}
