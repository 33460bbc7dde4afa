package signoff

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

// artifacts is a fake Artifacts built from a function field.
type artifacts struct {
	OpenFn func(key string) ([]byte, error)
}

func (f artifacts) Open(_ context.Context, key string) (io.ReadCloser, error) {
	b, err := f.OpenFn(key)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// downloads is a fake Downloads that records the lifetime it was asked for.
type downloads struct {
	PresignFn func(key string, ttl time.Duration) (string, error)
}

func (f downloads) PresignGet(_ context.Context, key string, ttl time.Duration) (string, error) {
	return f.PresignFn(key, ttl)
}

// The mapping the customer saved: a date column read day-first, a phone
// column read as British, a weekly rent converted to monthly in euros,
// two columns combined into tags, and a field whose conversion comes from
// its type (a phone with the region left to inference).
const approvedMapping = `{"version":1,"defaults":{"region":"auto"},"files":[{"name":"contacts.csv","entity":"contact","sourceId":["ID"],"fields":[
 {"target":"full_name","column":"Name","steps":[{"op":"trim"}]},
 {"target":"phones","column":"Mobile","steps":[{"op":"phone","region":"GB"}]},
 {"target":"phones","column":"Work phone"},
 {"target":"tags","column":"Lifecycle Stage"},
 {"target":"tags","column":"Tags"},
 {"target":"notes","column":"Notes","default":"none"}],"combine":{"tags":{"mode":"combine"}}},
 {"name":"f-2#Lettings","entity":"property","sourceId":["Ref"],"fields":[
 {"target":"created_at","column":"Listed","steps":[{"op":"date","formats":["DD/MM/YYYY"]}]},
 {"target":"rent","column":"Rent","steps":[{"op":"amount","currency":"EUR","per":"monthly"}]}]}]}`

// workbookJSON is a round's workbook artifact: two spot checks, an
// inferred date format and region, a rejects file, a merge and a group of
// possible duplicates. newer adds the parts a newer workbook carries: a
// review file per input file and the duplicate counts.
func workbookJSON(newer bool) []byte {
	wb := map[string]any{
		"round": 1, "seed": 7,
		"reconciliation": []any{map[string]any{"entity": "contacts", "rows": 5, "migrated": 3, "merged": 1, "rejected": 1}},
		"spotChecks": []any{
			map[string]any{
				"entity": "contacts", "why": "sampled", "sourceId": "c-1", "found": true, "file": "contacts.csv", "line": 2,
				"source": []any{map[string]any{"column": "Name", "value": "Ann"}}, "recordId": "r1", "record": map[string]string{"full_name": "Ann"},
			},
			map[string]any{"entity": "contacts", "why": "named by you", "sourceId": "c-9", "found": false},
		},
		"inference": []any{map[string]any{
			"file": "contacts.csv", "entity": "contacts", "region": map[string]any{"region": "GB", "confidence": 0.9, "source": "numbers", "evidence": 40},
			"dates": []any{map[string]any{"column": "Created", "dateFormat": "DD/MM/YYYY", "confidence": 1, "values": 10, "read": 10}},
		}},
		"issues": map[string]any{
			"rejectsFiles":       []any{map[string]any{"file": "contacts.csv", "key": "artifacts/m-1/round-1/test/rejects-contacts.csv"}},
			"possibleDuplicates": 2,
			"duplicates":         []any{map[string]any{"entity": "contacts", "key": "ann@x.com", "ids": []string{"r1", "r2"}, "lines": []int{2, 5}, "sourceIds": []string{"c-1", "c-4"}}},
		},
	}
	if newer {
		wb["issues"].(map[string]any)["reviewFiles"] = []any{map[string]any{"file": "contacts.csv", "key": "artifacts/m-1/round-1/test/review-contacts.csv"}}
		wb["issues"].(map[string]any)["duplicateCounts"] = map[string]any{"merged": 3, "possible": 2}
	}
	b, _ := json.Marshal(wb)
	return b
}

// detailWorld is a world whose migration has a mapping, a workbook and
// the customer's marks, with fake artifact storage and download links.
func detailWorld(t *testing.T, newer bool) (*world, map[string]time.Duration) {
	w := newWorld(t)
	w.mig.Mapping = approvedMapping
	w.mig.Files = []cutover.File{{ID: "f-2", Name: "properties.xlsx", Purpose: cutover.PurposeTest, Round: 1, Complete: true}}
	w.mig.Workbook = &cutover.WorkbookSummary{Round: 1, Key: "artifacts/m-1/round-1/test/workbook.json", Spots: 2}
	w.mig.Review = map[string]cutover.ReviewMark{
		"spot:0": {State: "reviewed", At: t0},
		"spot:1": {State: "waived", Note: "c-9 was deleted in the old CRM last week", At: t0},
	}
	linked := map[string]time.Duration{}
	stored := w.mig.Workbook.Key
	w.svc.Artifacts = artifacts{func(key string) ([]byte, error) {
		if key != stored {
			return nil, cutover.Errorf(cutover.ENOTFOUND, "no such artifact")
		}
		return workbookJSON(newer), nil
	}}
	w.svc.Downloads = downloads{func(key string, ttl time.Duration) (string, error) {
		linked[key] = ttl
		return "https://dl.example/" + key + "?sig=x", nil
	}}
	return w, linked
}

func TestShowCarriesTheMappingAsApproved(t *testing.T) {
	w, linked := detailWorld(t, true)
	v, err := w.svc.Show(context.Background(), w.request(t))
	if err != nil {
		t.Fatal(err)
	}
	if v.Kind != KindSignOff {
		t.Fatalf("kind = %q", v.Kind)
	}
	if len(v.Mapping) != 2 || v.Mapping[0].File != "contacts.csv" || v.Mapping[0].Entity != "contact" || v.Mapping[1].File != "properties.xlsx [Lettings]" || v.Mapping[1].Entry != "f-2#Lettings" || v.Mapping[0].Entry != "contacts.csv" {
		t.Fatalf("mapping = %+v", v.Mapping)
	}
	how := map[string]string{} // "file/column" -> field: how
	for _, f := range v.Mapping {
		for _, fm := range f.Fields {
			how[f.File+"/"+strings.Join(fm.Columns, "+")] = fm.Field + ": " + strings.Join(fm.How, "; ")
		}
	}
	for key, want := range map[string][]string{
		"contacts.csv/Name":                 {"full_name: "},
		"contacts.csv/Mobile":               {"phones: ", "read as GB"},
		"contacts.csv/Work phone":           {"phones: ", "inferred"},
		"contacts.csv/Tags":                 {"tags: ", "combined"},
		"contacts.csv/Notes":                {"notes: ", `"none" when empty`},
		"properties.xlsx [Lettings]/Listed": {"created_at: ", "DD/MM/YYYY"},
		"properties.xlsx [Lettings]/Rent":   {"rent: ", "EUR", "monthly"},
		"contacts.csv/Lifecycle Stage":      {"tags: "},
	} {
		got, ok := how[key]
		if !ok {
			t.Errorf("%s is not shown: %v", key, how)
			continue
		}
		for _, s := range want {
			if !strings.Contains(got, s) {
				t.Errorf("%s = %q, want it to say %q", key, got, s)
			}
		}
	}
	if len(v.Inference) != 1 || v.Inference[0].Region.Region != "GB" || len(v.Inference[0].Dates) != 1 || v.Inference[0].Dates[0].Format != "DD/MM/YYYY" {
		t.Fatalf("inference = %+v", v.Inference)
	}
	if len(v.SpotChecks) != 2 || v.SpotChecks[0].SourceID != "c-1" || v.SpotChecks[0].Record["full_name"] != "Ann" || v.SpotChecks[0].Mark == nil || v.SpotChecks[0].Mark.State != "reviewed" {
		t.Fatalf("spot checks = %+v", v.SpotChecks)
	}
	if m := v.SpotChecks[1].Mark; m == nil || m.State != "waived" || m.Note != "c-9 was deleted in the old CRM last week" || v.SpotChecks[1].Found {
		t.Fatalf("the waived spot check = %+v", v.SpotChecks[1])
	}
	kinds := map[string]string{}
	for _, d := range v.Downloads {
		kinds[d.Kind+"/"+d.File] = d.URL
	}
	if len(v.Downloads) != 2 || !strings.Contains(kinds["rejects/contacts.csv"], "rejects-contacts.csv") || !strings.Contains(kinds["warnings/contacts.csv"], "review-contacts.csv") {
		t.Fatalf("downloads = %+v", v.Downloads)
	}
	if len(linked) != 2 {
		t.Fatalf("links made: %v", linked)
	}
	for key, ttl := range linked {
		if ttl <= 0 || ttl > 15*time.Minute {
			t.Errorf("%s links for %s; a download link must be short-lived", key, ttl)
		}
	}
	d := v.Duplicates
	if d == nil || d.Merged != 3 || d.Possible != 2 || len(d.Groups) != 1 || d.Groups[0].SourceIDs[1] != "c-4" {
		t.Fatalf("duplicates = %+v", d)
	}
	// The page's JSON names what the front end reads.
	b, _ := json.Marshal(v)
	for _, k := range []string{`"kind":"signoff"`, `"mapping":`, `"columns":["Tags"]`, `"inference":`, `"spotChecks":`, `"mark":{"state":"waived"`, `"downloads":`, `"duplicates":{"merged":3,"possible":2`} {
		if !bytes.Contains(b, []byte(k)) {
			t.Errorf("the view's JSON lacks %s: %s", k, b)
		}
	}
}

// A workbook without the newer parts shows what it has: the merged and
// possible-duplicate counts from its reconciliation and issues, no review
// file downloads and no list link.
func TestShowReadsAnOlderWorkbookGenerously(t *testing.T) {
	w, _ := detailWorld(t, false)
	v, err := w.svc.Show(context.Background(), w.request(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Downloads) != 1 || v.Downloads[0].Kind != "rejects" {
		t.Fatalf("downloads = %+v", v.Downloads)
	}
	if d := v.Duplicates; d == nil || d.Merged != 1 || d.Possible != 2 {
		t.Fatalf("duplicates = %+v", d)
	}
	if len(v.SpotChecks) != 2 || len(v.Mapping) != 2 {
		t.Fatalf("spot checks %d, mapping %d", len(v.SpotChecks), len(v.Mapping))
	}
}

// Spot checks waived as a whole carry the section's waiver and its note.
func TestShowSpotChecksWaivedAsAWhole(t *testing.T) {
	w, _ := detailWorld(t, true)
	w.mig.Review = map[string]cutover.ReviewMark{"spotChecks": {State: "waived", Note: "checked in the old CRM", At: t0}}
	v, err := w.svc.Show(context.Background(), w.request(t))
	if err != nil {
		t.Fatal(err)
	}
	for i, sc := range v.SpotChecks {
		if sc.Mark == nil || sc.Mark.State != "waived" || sc.Mark.Note != "checked in the old CRM" {
			t.Fatalf("spot check %d = %+v", i, sc)
		}
	}
	w.svc.Downloads = nil // no presigner: nothing offered for download rather than a dead link
	if v, err = w.svc.Show(context.Background(), w.request(t)); err != nil || len(v.Downloads) != 0 {
		t.Fatalf("without links: %+v, %v", v, err)
	}
}

// A workbook that is no longer stored does not hide the mapping, and the
// page says what it cannot show; storage that fails is an error to retry.
func TestShowWithoutTheWorkbook(t *testing.T) {
	w, _ := detailWorld(t, true)
	tok := w.request(t)
	w.mig.Workbook.Key = "artifacts/m-1/round-1/test/gone.json"
	v, err := w.svc.Show(context.Background(), tok)
	if err != nil || len(v.Mapping) != 2 || len(v.Missing) != 1 || v.SpotChecks != nil {
		t.Fatalf("Show = %+v, %v", v, err)
	}
	w.svc.Artifacts = artifacts{func(string) ([]byte, error) { return nil, cutover.Errorf(cutover.EUNAVAILABLE, "S3 is down") }}
	if _, err := w.svc.Show(context.Background(), tok); cutover.ErrorCode(err) != cutover.EUNAVAILABLE {
		t.Fatalf("storage down: %v", err)
	}
}
