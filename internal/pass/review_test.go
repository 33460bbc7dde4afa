package pass

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

// A pass stores the per-row review file (the rows migrated with a "!"
// warning) of each file that has warnings, beside its rejects file, so the
// workbook can offer it for download.
func TestRunKeepsTheReviewFile(t *testing.T) {
	src := "Id,Email,Phone\n1,a@x.com,not a phone\n2,b@x.com,\n"
	spec := spec(t, `{"version":1,"defaults":{"region":"GB"},"files":[{"name":"f1","entity":"contact","sourceId":["Id"],"fields":[{"target":"emails","column":"Email"},{"target":"phones","column":"Phone"}]}]}`)
	fs := &files{objects: map[string]string{"k1": src}}
	p := Pass{TenantID: "acme", Spec: spec, Files: []cutover.File{{ID: "f1", Name: "contacts.csv", Key: "k1"}}, ArtifactsPrefix: "artifacts/m/round-1/test/", Now: time.Now(), KeepReview: true}
	res, err := Run(context.Background(), p, fs, sink{WriteFn: func([]cutover.Record) error { return nil }}, fs)
	if err != nil {
		t.Fatal(err)
	}
	body, ok := fs.put["artifacts/m/round-1/test/review-f1.csv"]
	if !ok {
		t.Fatalf("no review file; have %d artifacts", len(fs.put))
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte{0xEF, 0xBB, 0xBF}))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[1][0] != "2" || rows[1][1] != "1" || rows[1][5] != "not a phone" || !strings.HasPrefix(rows[1][6], "! ") {
		t.Fatalf("review rows = %q", rows)
	}
	if len(res.Reviews) != 1 || res.Reviews[0].File != "contacts.csv" || res.Reviews[0].Key != "artifacts/m/round-1/test/review-f1.csv" {
		t.Fatalf("reviews = %+v", res.Reviews)
	}

	// A pass that does not ask for it (a final chunk) keeps no review file.
	fs = &files{objects: map[string]string{"k1": src}}
	p.KeepReview = false
	if res, err = Run(context.Background(), p, fs, sink{WriteFn: func([]cutover.Record) error { return nil }}, fs); err != nil || len(res.Reviews) != 0 || len(fs.put) != 0 {
		t.Fatalf("without KeepReview: %v, reviews %+v, artifacts %d", err, res.Reviews, len(fs.put))
	}
}
