package pass

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pipeline"
)

// Two files run as two chunks that spill their records, then one merge
// partition: the records merge across the chunks as in one pass, and a
// merged record the destination refuses makes every row merged into it a
// rejected row (as TestRunRejectsEveryRowOfARefusedMergedRecord's one
// pass does): the counts and each file's report, with the merge's
// differences added, are one pass's, and the partition's rejects file
// names each row with its file, line and reason.
func TestSpilledChunksMergeAsOnePass(t *testing.T) {
	dedupe := strings.Replace(contacts, `"sourceId":["Id"],`, `"sourceId":["Id"],"dedupe":["emails"],"mergeDifferentIds":true,`, 1)
	fs := &files{objects: map[string]string{
		"k1": "Id,Email,Name,Note\n1,a@x.com,Ann,first\n3,c@x.com,Cy,\n5,a@x.com,Ann L,third\n",
		"k2": "Id,Email,Name,Note\n2,a@x.com,Ann Lee,second\n4,d@x.com,Di,\n",
	}}
	ctx := context.Background()
	var bodies [][]byte
	total := cutover.Counts{}
	reports := map[string]*pipeline.Counts{}
	for i, f := range []cutover.File{{ID: "f1", Name: "a.csv", Key: "k1"}, {ID: "f2", Name: "b.csv", Key: "k2"}} {
		var body []byte
		p := Pass{
			TenantID: "acme", Spec: spec(t, dedupe), Files: []cutover.File{f}, ArtifactsPrefix: "a/", Now: time.Now(),
			Choose: func(s *mapspec.Spec, _ string, _ []string) (mapspec.FileSpec, error) { return s.Files[0], nil },
			Spill: func(rec *mapspec.Record, key string, seen *pipeline.Sighting) error {
				body = AppendSpilled(body, rec, key, seen)
				return nil
			},
		}
		res, err := Run(ctx, p, fs, sink{WriteFn: func([]cutover.Record) error { t.Fatal("a spilling chunk wrote"); return nil }}, fs)
		if err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
		total = total.Add(res.Counts)
		for _, r := range res.Reports {
			c := r.Counts
			reports[r.File] = &c
		}
		bodies = append(bodies, body)
	}
	got := written{}
	var told []string
	refusedNote := func(entity, id, reason string) {
		if reason != pipeline.RefusedReason(notHere) {
			t.Errorf("told %q of a refusal", reason)
		}
		told = append(told, entity+"#"+id)
	}
	res, err := Merge(ctx, MergeInput{Spec: spec(t, dedupe), Spilled: bodies, ArtifactsPrefix: "m/", Refused: refusedNote}, sink{WriteFn: got.take, RefuseFn: refuseSource("1", "4")}, fs)
	if err != nil {
		t.Fatal(err)
	}
	if len(told) != 2 || told[0] == told[1] {
		t.Errorf("told of %d refusals; want the records of 1 and 4", len(told))
	}
	total = total.Add(res.Counts)
	if total.Read != 5 || total.Migrated != 1 || total.Merged != 0 || total.Rejected != 4 || !total.Balanced() || len(got) != 1 || res.Records != 1 {
		t.Fatalf("counts %+v, %d records taken", total, len(got))
	}
	for _, r := range res.Reports {
		c := reports[r.File]
		c.Migrated += r.Counts.Migrated
		c.Merged += r.Counts.Merged
		c.Rejected += r.Counts.Rejected
	}
	want := map[string]cutover.Counts{"a.csv": {Read: 3, Migrated: 1, Rejected: 2}, "b.csv": {Read: 2, Rejected: 2}}
	for file, w := range want {
		if c := reports[file]; c.Read != w.Read || c.Migrated != w.Migrated || c.Merged != 0 || c.Rejected != w.Rejected {
			t.Errorf("%s: %+v, want %+v", file, *c, w)
		}
	}
	rows := rejectsRows(t, fs, "m/rejects-merged.csv")
	merged := pipeline.MergedRefusedReason(notHere)
	if len(res.Rejects) != 1 || len(rows) != 5 || strings.Join(rows[0], ",") != "File,Line,Reason" ||
		strings.Join(rows[1], ",") != "a.csv,2,Refused by the destination: "+notHere ||
		strings.Join(rows[2], ",") != "a.csv,4,"+merged || strings.Join(rows[3], ",") != "b.csv,2,"+merged ||
		strings.Join(rows[4], ",") != "b.csv,3,Refused by the destination: "+notHere {
		t.Fatalf("the partition's rejects %+v: %q", res.Rejects, rows)
	}
}

// A damaged spill is refused, naming the chunk, not merged as something else.
func TestMergeRefusesADamagedSpill(t *testing.T) {
	_, err := Merge(context.Background(), MergeInput{Spec: spec(t, contacts), Spilled: [][]byte{nil, {5, 'a'}}}, sink{WriteFn: func([]cutover.Record) error { return nil }}, &files{})
	if cutover.ErrorCode(err) != cutover.EINVALID || !strings.Contains(cutover.ErrorMessage(err), "chunk 2") {
		t.Fatalf("a cut frame: %v; want EINVALID naming chunk 2", err)
	}
}

// A person named inline, spilled by a chunk and refused by the
// destination in the merge partition, is accounted for as one pass
// accounts for it: no longer derived, counted among the naming file's
// refused people, and the row that named them stays migrated.
func TestAMergeRefusingADerivedPersonCountsItAsOnePass(t *testing.T) {
	const sp = `{"version":1,"files":[
	 {"name":"c","entity":"contact","sourceId":["Id"],"dedupe":["emails"],"fields":[{"target":"full_name","column":"Name"},{"target":"emails","column":"Email"}]},
	 {"name":"t","entity":"tenancy","sourceId":["Ref"],"inline":[{"target":"tenants","name":"Tenant Name(s)"}],
	  "fields":[{"target":"property","column":"Property"},{"target":"start_date","column":"Start"}]}]}`
	fs := &files{objects: map[string]string{
		"kc": "Id,Name,Email\nC1,Ann Lee,ann@example.com\n",
		"kt": "Ref,Property,Tenant Name(s),Start\nT1,P1,Bob Stone & Cara Stone,2024-01-01\nT2,P2,Bob Stone,2024-02-01\n",
	}}
	ctx := context.Background()
	refuseBob := refuseSource(mapspec.InlinePrefix + "bob stone")
	files := []cutover.File{{ID: "t", Name: "tenancies.csv", Key: "kt"}, {ID: "c", Name: "contacts.csv", Key: "kc"}}
	one, err := Run(ctx, Pass{TenantID: "acme", Spec: spec(t, sp), Files: files, ArtifactsPrefix: "one/", Now: time.Now()}, fs, sink{WriteFn: written{}.take, RefuseFn: refuseBob}, fs)
	if err != nil {
		t.Fatal(err)
	}
	var body []byte
	p := Pass{
		TenantID: "acme", Spec: spec(t, sp), Files: files, ArtifactsPrefix: "a/", Now: time.Now(),
		Elsewhere: &Elsewhere{Missing: map[string]bool{ // what the id shuffle finds: no file has the properties
			"property#" + cutover.RecordID("acme", "property", "P1"): true, "property#" + cutover.RecordID("acme", "property", "P2"): true,
		}},
		Spill: func(rec *mapspec.Record, key string, seen *pipeline.Sighting) error {
			body = AppendSpilled(body, rec, key, seen)
			return nil
		},
	}
	chunk, err := Run(ctx, p, fs, sink{WriteFn: func([]cutover.Record) error { t.Fatal("a spilling chunk wrote"); return nil }}, fs)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Merge(ctx, MergeInput{Spec: spec(t, sp), Spilled: [][]byte{body}, ArtifactsPrefix: "m/"}, sink{WriteFn: written{}.take, RefuseFn: refuseBob}, fs)
	if err != nil {
		t.Fatal(err)
	}
	total := chunk.Counts.Add(res.Counts)
	total.RejectsKey, one.Counts.RejectsKey = "", ""
	if total != one.Counts || total.Derived != 1 || total.Migrated != 3 {
		t.Fatalf("counts: chunk and merge %+v, one pass %+v; want 3 migrated and Cara alone derived", total, one.Counts)
	}
	refused := func(reps []*pipeline.Report) (int, int) {
		people, derived := 0, 0
		for _, r := range reps {
			if r.File == "tenancies.csv" {
				for _, n := range r.RefusedPeople {
					people += n
				}
				derived += r.Counts.Derived["contact"]
			}
		}
		return people, derived
	}
	p1, d1 := refused(one.Reports)
	p2, d2 := refused(append(chunk.Reports, res.Reports...))
	if p1 != 1 || p2 != p1 || d2 != d1 {
		t.Fatalf("tenancies.csv: %d refused people and %d derived in chunks, %d and %d in one pass", p2, d2, p1, d1)
	}
}
