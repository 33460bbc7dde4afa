package pass

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pipeline"
)

// files is a fake Opener and Putter over in-memory objects.
type files struct {
	objects map[string]string
	put     map[string][]byte
}

func (f *files) Open(_ context.Context, key string) (io.ReadCloser, error) {
	s, ok := f.objects[key]
	if !ok {
		return nil, cutover.Errorf(cutover.ENOTFOUND, "missing %s", key)
	}
	return io.NopCloser(strings.NewReader(s)), nil
}

func (f *files) Put(_ context.Context, key, _ string, body []byte) error {
	if f.put == nil {
		f.put = map[string][]byte{}
	}
	f.put[key] = append([]byte(nil), body...)
	return nil
}

// sink is a fake Sink built from a function field.
type sink struct {
	WriteFn func(recs []cutover.Record) error
	// RefuseFn, if set, is the destination's reason for refusing a record
	// ("" to take it): a refused record is not given to WriteFn.
	RefuseFn func(rec cutover.Record) string
}

func (s sink) Write(_ context.Context, recs []cutover.Record) ([]cutover.Refusal, error) {
	var refused []cutover.Refusal
	var took []cutover.Record
	for _, r := range recs {
		if s.RefuseFn != nil {
			if why := s.RefuseFn(r); why != "" {
				refused = append(refused, cutover.Refusal{Entity: r.Entity, ID: r.ID, Reason: why})
				continue
			}
		}
		took = append(took, r)
	}
	return refused, s.WriteFn(took)
}

func spec(t *testing.T, src string) *mapspec.Spec {
	t.Helper()
	s, err := mapspec.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const contacts = `{"version":1,"defaults":{"region":"GB"},"files":[{"name":"f1","entity":"contact","sourceId":["Id"],
"fields":[{"target":"emails","column":"Email","strict":true},{"target":"full_name","column":"Name"},{"target":"notes","column":"Note"}]}]}`

func TestRunAccountsForEveryRowAndKeepsRejects(t *testing.T) {
	src := "Id,Email,Name,Note\n1,a@x.com,Ann,hi\n2,bad,\"=HYPERLINK(\"\"x\"\")\",+1\n,,,\n3,b@x.com,Bo,\n4,c@x.com,Cy,\"two\nlines\"\n"
	fs := &files{objects: map[string]string{"k1": src}}
	var written []cutover.Record
	p := Pass{TenantID: "acme", Spec: spec(t, contacts), Files: []cutover.File{{ID: "f1", Name: "contacts.csv", Key: "k1"}}, ArtifactsPrefix: "artifacts/m/round-1/test/", Now: time.Now()}
	res, err := Run(context.Background(), p, fs, sink{WriteFn: func(recs []cutover.Record) error { written = append(written, recs...); return nil }}, fs)
	if err != nil {
		t.Fatal(err)
	}
	counts := res.Counts
	if counts.Read != 5 || counts.Migrated != 3 || counts.Rejected != 1 || counts.Skipped != 1 || len(written) != 3 || !counts.Balanced() {
		t.Fatalf("counts = %+v, written %d", counts, len(written))
	}
	if written[0].Fields["emails"] != "a@x.com" || written[0].ID != cutover.RecordID("acme", "contact", "1") || written[2].Fields["notes"] != "two\nlines" {
		t.Fatalf("records = %+v", written)
	}
	rej, ok := fs.put["artifacts/m/round-1/test/rejects-f1.csv"]
	if !ok {
		t.Fatalf("no rejects file; have %v", fs.put)
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(rej, []byte{0xEF, 0xBB, 0xBF}))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || strings.Join(rows[0], "|") != "Id|Email|Name|Note|cutover_line|cutover_reasons" {
		t.Fatalf("rejects = %q", rows)
	}
	if rows[1][2] != `'=HYPERLINK("x")` || rows[1][3] != "'+1" || rows[1][4] != "3" || !strings.Contains(rows[1][5], `"bad" is not a valid email address`) {
		t.Fatalf("reject row = %q", rows[1])
	}
}

func TestRunStopsOnSinkFailure(t *testing.T) {
	fs := &files{objects: map[string]string{"k1": "Id,Email,Name,Note\n1,a@x.com,Ann,\n"}}
	boom := cutover.Errorf(cutover.EUNAVAILABLE, "throttled")
	p := Pass{TenantID: "t", Spec: spec(t, contacts), Files: []cutover.File{{ID: "f1", Name: "c.csv", Key: "k1"}}}
	_, err := Run(context.Background(), p, fs, sink{WriteFn: func([]cutover.Record) error { return boom }}, fs)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the sink's error", err)
	}
}

func TestRunNamesTheFileOnMalformedCSV(t *testing.T) {
	fs := &files{objects: map[string]string{"k1": "Id,Email,Name,Note\n1,a@x.com,\"Ann\n"}}
	p := Pass{TenantID: "t", Spec: spec(t, contacts), Files: []cutover.File{{ID: "f1", Name: "contacts.csv", Key: "k1"}}}
	_, err := Run(context.Background(), p, fs, sink{WriteFn: func([]cutover.Record) error { return nil }}, fs)
	if cutover.ErrorCode(err) != cutover.EINVALID || !strings.HasPrefix(cutover.ErrorMessage(err), "contacts.csv") || !strings.Contains(cutover.ErrorMessage(err), "line 2") {
		t.Fatalf("err = %v", err)
	}
}

// Dedupe keys merge duplicates across files before anything is written,
// and every row is still accounted for.
func TestRunMergesDuplicatesAcrossFiles(t *testing.T) {
	dedupe := strings.Replace(contacts, `"sourceId":["Id"],`, `"sourceId":["Id"],"dedupe":["emails"],"mergeDifferentIds":true,`, 1)
	dedupe = strings.Replace(dedupe, `"files":[{"name":"f1"`, `"files":[{"name":"f2","entity":"contact","sourceId":["Id"],"dedupe":["emails"],"mergeDifferentIds":true,"fields":[{"target":"emails","column":"Email"}]},{"name":"f1"`, 1)
	fs := &files{objects: map[string]string{"k1": "Id,Email,Name,Note\n1,a@x.com,Ann,\n2,A@X.com,Ann L,\n", "k2": "Id,Email\n9,a@x.com\n10,z@x.com\n"}}
	var written []cutover.Record
	p := Pass{TenantID: "t", Spec: spec(t, dedupe), Files: []cutover.File{{ID: "f1", Name: "a.csv", Key: "k1"}, {ID: "f2", Name: "b.csv", Key: "k2"}}}
	res, err := Run(context.Background(), p, fs, sink{WriteFn: func(recs []cutover.Record) error { written = append(written, recs...); return nil }}, fs)
	if err != nil {
		t.Fatal(err)
	}
	c := res.Counts
	if c.Read != 4 || c.Migrated != 2 || c.Merged != 2 || len(written) != 2 || !c.Balanced() {
		t.Fatalf("counts %+v, written %d", c, len(written))
	}
}

// Without the explicit rule, rows with different ids that share an e-mail
// are all kept, and reported as possible duplicates.
func TestRunKeepsDifferentIDsApartByDefault(t *testing.T) {
	dedupe := strings.Replace(contacts, `"sourceId":["Id"],`, `"sourceId":["Id"],"dedupe":["emails"],`, 1)
	fs := &files{objects: map[string]string{"k1": "Id,Email,Name,Note\n1,a@x.com,Ann,\n2,A@X.com,Ann L,\n3,b@x.com,Bo,\n"}}
	var written []cutover.Record
	p := Pass{TenantID: "t", Spec: spec(t, dedupe), Files: []cutover.File{{ID: "f1", Name: "a.csv", Key: "k1"}}}
	res, err := Run(context.Background(), p, fs, sink{WriteFn: func(recs []cutover.Record) error { written = append(written, recs...); return nil }}, fs)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, r := range written {
		ids[r.ID] = true
	}
	if c := res.Counts; c.Migrated != 3 || c.Merged != 0 || len(ids) != 3 {
		t.Fatalf("counts %+v, %d distinct records written", c, len(ids))
	}
	if pd := res.PossibleDuplicates; len(pd) != 1 || len(pd[0].SourceIDs) != 2 {
		t.Fatalf("possible duplicates %+v", pd)
	}
}

// The repro: with a dedupe-by-email mapping, two rows with id 1 and
// different e-mails must not claim two migrated records when one is
// written. The second is rejected; the distinct records the sink received
// equal the migrated count.
func TestRunWithDedupeRejectsARepeatedSourceID(t *testing.T) {
	dedupe := strings.Replace(contacts, `"sourceId":["Id"],`, `"sourceId":["Id"],"dedupe":["emails"],`, 1)
	fs := &files{objects: map[string]string{"k1": "Id,Email,Name,Note\n1,a@x.com,Ann,\n1,b@x.com,Bo,\n"}}
	ids := map[string]bool{}
	p := Pass{TenantID: "t", Spec: spec(t, dedupe), Files: []cutover.File{{ID: "f1", Name: "a.csv", Key: "k1"}}, ArtifactsPrefix: "a/", Now: time.Now()}
	res, err := Run(context.Background(), p, fs, sink{WriteFn: func(recs []cutover.Record) error {
		for _, r := range recs {
			ids[r.Entity+"#"+r.ID] = true
		}
		return nil
	}}, fs)
	if err != nil {
		t.Fatal(err)
	}
	c := res.Counts
	if c.Read != 2 || c.Migrated != 1 || c.Rejected != 1 || len(ids) != c.Migrated {
		t.Fatalf("counts %+v, %d distinct records written", c, len(ids))
	}
	if !strings.Contains(string(fs.put["a/rejects-f1.csv"]), "b@x.com") {
		t.Fatalf("rejects: %q", fs.put["a/rejects-f1.csv"])
	}
}

// offerNothing is a Spotter that wants nothing.
type offerNothing struct{}

func (offerNothing) Offer(string, []string, int, []string, *mapspec.Record) {}

// A pass told of repeated rows spills the record before each without its
// sighting, so one that also watches sightings is a wiring mistake,
// refused before a row is read; either alone runs.
func TestRunRefusesRepeatedWithSpot(t *testing.T) {
	fs := &files{objects: map[string]string{"k1": "Id,Email,Name,Note\n1,a@x.com,Ann,\n1,b@x.com,Ann,\n"}}
	base := Pass{TenantID: "t", Spec: spec(t, contacts), Files: []cutover.File{{ID: "f1", Name: "c.csv", Key: "k1"}}}
	spill := func(*mapspec.Record, string, *pipeline.Sighting) error { return nil }
	repeated := 0
	p := base
	p.Spill, p.Repeated, p.Spot = spill, func(*mapspec.Record, string, []*mapspec.Record) { repeated++ }, offerNothing{}
	if _, err := Run(context.Background(), p, fs, nil, fs); cutover.ErrorCode(err) != cutover.EINTERNAL || repeated != 0 {
		t.Fatalf("Repeated and Spot: %v, %d rows told; want EINTERNAL before a row is read", err, repeated)
	}
	p.Spot = nil
	if res, err := Run(context.Background(), p, fs, nil, fs); err != nil || repeated != 1 || res.Counts.Rejected != 1 {
		t.Fatalf("Repeated alone: %v, %d rows told; want the repeat of 1 told and rejected", err, repeated)
	}
	p.Spot, p.Repeated = offerNothing{}, nil
	if _, err := Run(context.Background(), p, fs, nil, fs); err != nil {
		t.Fatalf("Spot alone: %v", err)
	}
}
