package dynamostore_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/dynamostore"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pass"
)

// uploads is an in-memory Opener and Putter: the uploaded files by key.
type uploads map[string]string

func (u uploads) Open(_ context.Context, key string) (io.ReadCloser, error) {
	s, ok := u[key]
	if !ok {
		return nil, cutover.Errorf(cutover.ENOTFOUND, "missing %s", key)
	}
	return io.NopCloser(strings.NewReader(s)), nil
}

func (u uploads) Put(_ context.Context, key, _ string, body []byte) error {
	u[key] = string(body)
	return nil
}

// A row with a phone that cannot be read is migrated without the phone,
// and the TEST record written to DynamoDB keeps the raw phone and why it
// was left out; a good row's record has no invalid attribute.
func TestTestRecordKeepsTheValueItLeftOut(t *testing.T) {
	db, table := recordsTable(t)
	spec, err := mapspec.Parse([]byte(`{"version":1,"defaults":{"region":"GB"},"files":[
	 {"name":"c","entity":"contact","sourceId":["Id"],"fields":[{"target":"full_name","column":"Name"},{"target":"emails","column":"Email"},{"target":"phones","column":"Phone"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	files := uploads{"kc": "Id,Name,Email,Phone\nC1,Ann Lee,ann@example.com,call me maybe\nC2,Bob Stone,bob@example.com,020 7946 0018\n"}
	env := &dynamostore.TestEnv{API: db, Table: table}
	const mig = "m-invalid"
	p := pass.Pass{
		TenantID: "t1", Spec: spec, Files: []cutover.File{{ID: "c", Name: "contacts.csv", Key: "kc"}},
		ArtifactsPrefix: "a/", Now: time.Date(2024, 6, 15, 0, 0, 0, 0, time.UTC),
	}
	res, err := pass.Run(context.Background(), p, files, testSink(env, mig), files)
	if err != nil {
		t.Fatal(err)
	}
	if res.Counts.Migrated != 2 {
		t.Fatalf("counts %+v, want both rows migrated", res.Counts)
	}
	item := func(src string) map[string]ddb.AttributeValue {
		out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &table, Key: map[string]ddb.AttributeValue{
			"PK": &ddb.AttributeValueMemberS{Value: dynamostore.TestPartition(mig, cutover.RecordID("t1", "contact", src))},
			"SK": &ddb.AttributeValueMemberS{Value: "contact#" + cutover.RecordID("t1", "contact", src)},
		}, ConsistentRead: aws.Bool(true)})
		if err != nil || out.Item == nil {
			t.Fatalf("read %s back: %v (item %v)", src, err, out)
		}
		return out.Item
	}
	bad := item("C1")
	if _, ok := bad["fields"].(*ddb.AttributeValueMemberM).Value["phones"]; ok {
		t.Errorf("the unreadable phone was written as a phone")
	}
	inv, ok := bad["invalid"].(*ddb.AttributeValueMemberM)
	if !ok {
		t.Fatalf("the record of the row with a bad phone has no invalid attribute: %v", bad)
	}
	ph, ok := inv.Value["phones"].(*ddb.AttributeValueMemberM)
	if !ok {
		t.Fatalf("invalid has no phones: %v", inv.Value)
	}
	if v := ph.Value["value"].(*ddb.AttributeValueMemberS).Value; v != "call me maybe" {
		t.Errorf("invalid.phones.value = %q, want the raw text", v)
	}
	if r := ph.Value["reason"].(*ddb.AttributeValueMemberS).Value; r == "" {
		t.Errorf("invalid.phones has no reason")
	}
	good := item("C2")
	if _, ok := good["invalid"]; ok {
		t.Errorf("a record with nothing left out has an invalid attribute: %v", good["invalid"])
	}
	if _, ok := good["fields"].(*ddb.AttributeValueMemberM).Value["phones"]; !ok {
		t.Errorf("the good phone was not written")
	}
}
