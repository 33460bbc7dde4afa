package pass

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pipeline"
)

const notHere = "this e-mail address belongs to another account"

// refuseSource refuses the records of the given source ids.
func refuseSource(ids ...string) func(cutover.Record) string {
	return func(r cutover.Record) string {
		for _, id := range ids {
			if r.SourceID == id {
				return notHere
			}
		}
		return ""
	}
}

// rejectsRows reads a stored rejects CSV.
func rejectsRows(t *testing.T, fs *files, key string) [][]string {
	t.Helper()
	b, ok := fs.put[key]
	if !ok {
		t.Fatalf("no rejects file %s; have %v", key, fs.put)
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF}))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// written collects the distinct records a sink took.
type written map[string]cutover.Record

func (w written) take(recs []cutover.Record) error {
	for _, r := range recs {
		w[r.Entity+"#"+r.ID] = r
	}
	return nil
}

// A streamed record the destination refuses becomes a rejected row of
// its file: counted rejected (not migrated), its reason grouped with the
// report's reasons, its row in the rejects file with its line, and the
// pass's check of distinct records taken still agrees.
func TestRunRejectsARowWhoseRecordTheDestinationRefused(t *testing.T) {
	fs := &files{objects: map[string]string{"k1": "Id,Email,Name,Note\n1,a@x.com,Ann,\n2,b@x.com,Bo,\n3,c@x.com,Cy,\n"}}
	p := Pass{TenantID: "acme", Spec: spec(t, contacts), Files: []cutover.File{{ID: "f1", Name: "c.csv", Key: "k1"}}, ArtifactsPrefix: "a/", Now: time.Now()}
	got := written{}
	res, err := Run(context.Background(), p, fs, sink{WriteFn: got.take, RefuseFn: refuseSource("2")}, fs)
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Counts; c.Read != 3 || c.Migrated != 2 || c.Rejected != 1 || !c.Balanced() || len(got) != 2 {
		t.Fatalf("counts %+v, %d records taken", c, len(got))
	}
	rep := res.Reports[0]
	if rep.Counts.Migrated != 2 || rep.Counts.Rejected != 1 || rep.Reasons[pipeline.RefusedReason(notHere)] != 1 {
		t.Fatalf("report %+v, reasons %v", rep.Counts, rep.Reasons)
	}
	for _, f := range rep.FillRates {
		if f.Field == "emails" && (f.Filled != 2 || f.Rate != 1) {
			t.Errorf("emails fill %+v, want the 2 records migrated", f)
		}
	}
	if len(res.Rejects) != 1 {
		t.Fatalf("rejects files %+v", res.Rejects)
	}
	rows := rejectsRows(t, fs, res.Rejects[0].Key)
	if len(rows) != 2 || strings.Join(rows[1], ",") != "2,b@x.com,Bo,,3,Refused by the destination: "+notHere {
		t.Fatalf("rejects %q", rows)
	}
}

// A record held for merging is written at the end of the pass. Refused,
// the row it was built from becomes a rejected row of its file, read
// again for the rejects file, and so does every row merged into it, in
// its own file's rejects CSV: its data did not land either (issue 14).
func TestRunRejectsEveryRowOfARefusedMergedRecord(t *testing.T) {
	dedupe := strings.Replace(contacts, `"sourceId":["Id"],`, `"sourceId":["Id"],"dedupe":["emails"],"mergeDifferentIds":true,`, 1)
	fs := &files{objects: map[string]string{
		"k1": "Id,Email,Name,Note\n1,a@x.com,Ann,first\n3,c@x.com,Cy,\n5,a@x.com,Ann L,third\n",
		"k2": "Id,Email,Name,Note\n2,a@x.com,Ann Lee,second\n4,d@x.com,Di,\n",
	}}
	p := Pass{
		TenantID: "acme", Spec: spec(t, dedupe), Files: []cutover.File{{ID: "f1", Name: "a.csv", Key: "k1"}, {ID: "f2", Name: "b.csv", Key: "k2"}}, ArtifactsPrefix: "a/", Now: time.Now(),
		Choose: func(s *mapspec.Spec, _ string, _ []string) (mapspec.FileSpec, error) { return s.Files[0], nil },
	}
	got := written{}
	res, err := Run(context.Background(), p, fs, sink{WriteFn: got.take, RefuseFn: refuseSource("1", "4")}, fs)
	if err != nil {
		t.Fatal(err)
	}
	c := res.Counts
	if c.Read != 5 || c.Migrated != 1 || c.Merged != 0 || c.Rejected != 4 || !c.Balanced() || len(got) != 1 {
		t.Fatalf("counts %+v, %d records taken", c, len(got))
	}
	if len(res.Rejects) != 2 {
		t.Fatalf("rejects files %+v", res.Rejects)
	}
	a := rejectsRows(t, fs, "a/rejects-f1.csv")
	b := rejectsRows(t, fs, "a/rejects-f2.csv")
	merged := pipeline.MergedRefusedReason(notHere)
	if len(a) != 3 || strings.Join(a[1], ",") != "1,a@x.com,Ann,first,2,Refused by the destination: "+notHere ||
		strings.Join(a[2], ",") != "5,a@x.com,Ann L,third,4,"+merged {
		t.Errorf("a.csv rejects %q", a)
	}
	if len(b) != 3 || strings.Join(b[1], ",") != "2,a@x.com,Ann Lee,second,2,"+merged ||
		strings.Join(b[2], ",") != "4,d@x.com,Di,,3,Refused by the destination: "+notHere {
		t.Errorf("b.csv rejects %q", b)
	}
	want := map[string]cutover.Counts{"a.csv": {Read: 3, Migrated: 1, Rejected: 2}, "b.csv": {Read: 2, Rejected: 2}}
	for _, rep := range res.Reports {
		w := want[rep.File]
		rc := rep.Counts
		if rc.Read != w.Read || rc.Migrated != w.Migrated || rc.Merged != 0 || rc.Rejected != w.Rejected || !rc.Balanced() ||
			rep.Reasons[pipeline.RefusedReason(notHere)] != 1 || rep.Reasons[merged] != 1 {
			t.Errorf("%s: %+v %v", rep.File, rc, rep.Reasons)
		}
	}
}

// A person derived from a name on a row is not a row: refused, it is no
// longer counted derived, and the row that named it stays migrated (its
// own record landed). It is not silent: the naming row's report counts it
// under "the destination refused a person named in this row", and the
// reference to it from the row's record is an orphan.
func TestRunDoesNotCountARefusedDerivedPerson(t *testing.T) {
	const sp = `{"version":1,"defaults":{"region":"GB","dateFormats":["DD/MM/YYYY"]},"files":[
	 {"name":"t","entity":"tenancy","sourceId":["Ref"],"inline":[{"target":"tenants","name":"Tenant Name(s)"}],
	  "fields":[{"target":"property","column":"Property"},{"target":"start_date","column":"Start"}]}]}`
	fs := &files{objects: map[string]string{"kt": "Ref,Property,Tenant Name(s),Start\nT1,P1,Bob Stone & Cara Stone,01/01/2024\n"}}
	p := Pass{TenantID: "acme", Spec: spec(t, sp), Files: []cutover.File{{ID: "t", Name: "tenancies.csv", Key: "kt"}}, ArtifactsPrefix: "a/", Now: time.Now()}
	got := written{}
	refuseCara := func(r cutover.Record) string {
		if r.Entity == "contact" && strings.Contains(r.Fields["full_name"], "Cara") {
			return notHere
		}
		return ""
	}
	res, err := Run(context.Background(), p, fs, sink{WriteFn: got.take, RefuseFn: refuseCara}, fs)
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Counts; c.Migrated != 1 || c.Derived != 1 || c.Rejected != 0 || c.Orphans != 2 || len(got) != 2 {
		t.Fatalf("counts %+v (want 2 orphans: the tenancy's property, in no file, and Cara), %d records taken", c, len(got))
	}
	// It leaves a trace: the naming row's report counts it by reason.
	if rep := res.Reports[0]; rep.RefusedPeople[pipeline.RefusedPersonGroup(notHere)] != 1 || rep.Counts.Migrated != 1 || rep.Counts.Rejected != 0 {
		t.Fatalf("report %+v, refused people %v", rep.Counts, rep.RefusedPeople)
	}
}
