package pass

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination"
	"github.com/cutover/cutover/internal/schema"
)

// passRecords runs a pass over objects (file id = key) and returns every
// record its sink received, by source id.
func passRecords(t *testing.T, src string, objects map[string]string, names ...string) map[string]cutover.Record {
	t.Helper()
	fs := &files{objects: objects}
	p := Pass{TenantID: "acme", Spec: spec(t, src), ArtifactsPrefix: "a/", Now: time.Now()}
	for _, n := range names {
		p.Files = append(p.Files, cutover.File{ID: n, Name: n + ".csv", Key: n})
	}
	got := map[string]cutover.Record{}
	if _, err := Run(context.Background(), p, fs, sink{WriteFn: func(recs []cutover.Record) error {
		for _, r := range recs {
			got[r.SourceID] = r
		}
		return nil
	}}, fs); err != nil {
		t.Fatal(err)
	}
	return got
}

func wire(t *testing.T, rec cutover.Record) destination.Record {
	t.Helper()
	ent, _ := schema.Default().Entity(rec.Entity)
	w, err := destination.Typed("acme", rec, ent)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// A list item holding "; " (a tag "Smith; Jones") reaches the destination
// as one item: the engine's list travels as a list, not as text split
// again on the separator the engine joined it with.
func TestAListItemWithTheSeparatorStaysOneItem(t *testing.T) {
	src := `{"version":1,"files":[{"name":"c","entity":"contact","sourceId":["Id"],
"fields":[{"target":"full_name","column":"Name"},{"target":"tags","column":"Tag1"},{"target":"tags","column":"Tag2"}]}]}`
	recs := passRecords(t, src, map[string]string{"c": "Id,Name,Tag1,Tag2\n1,Ann,\"Smith; Jones\",vip\n"}, "c")
	got := wire(t, recs["1"]).Fields["tags"]
	if want := []string{"Smith; Jones", "vip"}; !slices.Equal(got.([]string), want) {
		t.Fatalf("tags %#v, want %#v", got, want)
	}
}

// A reference to a company a dedupe merged into another reaches the
// destination as the surviving company's id: the id that company is
// written under, not the id the merged-away source id would have had.
func TestAReferenceToAMergedAliasIsTheSurvivorsID(t *testing.T) {
	src := `{"version":1,"files":[
{"name":"co","entity":"company","sourceId":["Id"],"dedupe":["domain"],"mergeDifferentIds":true,"fields":[{"target":"name","column":"Name"},{"target":"domain","column":"Domain"}]},
{"name":"c","entity":"contact","sourceId":["Id"],"fields":[{"target":"full_name","column":"Name"},{"target":"company_ref","column":"Company"}]}]}`
	recs := passRecords(t, src, map[string]string{
		"co": "Id,Name,Domain\nC1,Acme,acme.com\nC2,Acme Ltd,acme.com\n",
		"c":  "Id,Name,Company\n1,Ann,C2\n2,Bo,C1\n",
	}, "co", "c")
	if _, ok := recs["C2"]; ok {
		t.Fatal("C2 was written: it should have merged into C1")
	}
	survivor := cutover.RecordID("acme", "company", "C1")
	for _, sid := range []string{"1", "2"} {
		if got := wire(t, recs[sid]).Fields["company_ref"]; got != survivor {
			t.Errorf("contact %s: company_ref %v, want the survivor %s", sid, got, survivor)
		}
	}
}
