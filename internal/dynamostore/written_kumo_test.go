package dynamostore_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/dynamostore"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pass"
)

// memFiles is an Opener and Putter over in-memory objects.
type memFiles map[string]string

func (f memFiles) Open(_ context.Context, key string) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader(f[key])), nil
}

func (f memFiles) Put(_ context.Context, key, _ string, body []byte) error {
	f[key] = string(body)
	return nil
}

// A pass with a dedupe-by-email mapping over rows that repeat an id writes
// exactly as many records to TEST and to LIVE as it says it migrated,
// counted in the tables with the SDK.
func TestPassWritesAsManyRecordsAsItCounts(t *testing.T) {
	db, table := recordsTable(t)
	spec, err := mapspec.Parse([]byte(`{"version":1,"files":[{"name":"f1","entity":"contact","sourceId":["Id"],"dedupe":["emails"],
"fields":[{"target":"emails","column":"Email"},{"target":"first_name","column":"Name"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	files := memFiles{"k1": "Id,Email,Name\n1,a@x.com,Ann\n1,b@x.com,Bo\n2,a@x.com,Al\n3,c@x.com,Cy\n3,c@x.com,Cy\n"}
	p := pass.Pass{TenantID: "t9", Spec: spec, Files: []cutover.File{{ID: "f1", Name: "c.csv", Key: "k1"}}, ArtifactsPrefix: "a/", Now: time.Now()}
	ctx := context.Background()
	for name, sink := range map[string]struct {
		sink      cutover.Sink
		partition string
	}{
		"TEST": {testSink(&dynamostore.TestEnv{API: db, Table: table}, "m9"), "m9"},
		"LIVE": {liveSink(&dynamostore.LiveEnv{API: db, Table: table}, "t9", "m9"), "t9"},
	} {
		res, err := pass.Run(ctx, p, files, sink.sink, files)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c := res.Counts
		// 1 Ann; 1 Bo repeats id 1 with another e-mail (rejected); 2 Al
		// shares Ann's e-mail but has another id, so is kept apart (a
		// possible duplicate, never merged silently); 3 Cy; 3 Cy again
		// merges into itself.
		if c.Read != 5 || c.Migrated != 3 || c.Merged != 1 || c.Rejected != 1 {
			t.Fatalf("%s: counts %+v", name, c)
		}
		if got := countItems(t, db, table, sink.partition); got != c.Migrated {
			t.Fatalf("%s holds %d records; the pass says %d were migrated", name, got, c.Migrated)
		}
	}
}

// countItems counts a partition's items (under its key and its shard
// keys) with the SDK.
func countItems(t *testing.T, db *dynamodb.Client, table, partition string) int {
	t.Helper()
	return len(partitionItems(t, db, table, partition))
}
