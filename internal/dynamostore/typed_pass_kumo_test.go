package dynamostore_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/dynamostore"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pass"
)

// A real pass into the built-in destination: a contact's reference to a
// company a dedupe merged into another is stored as the surviving
// company's id (the record that exists), and a tag holding "; " is one
// item of the stored list.
func TestBuiltInDestinationStoresTheEnginesListsAndResolvedReferences(t *testing.T) {
	db, table := recordsTable(t)
	ctx := context.Background()
	spec, err := mapspec.Parse([]byte(`{"version":1,"files":[
{"name":"co","entity":"company","sourceId":["Id"],"dedupe":["domain"],"mergeDifferentIds":true,"fields":[{"target":"name","column":"Name"},{"target":"domain","column":"Domain"}]},
{"name":"c","entity":"contact","sourceId":["Id"],"fields":[{"target":"full_name","column":"Name"},{"target":"company_ref","column":"Company"},{"target":"tags","column":"Tag1"},{"target":"tags","column":"Tag2"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	fs := memFiles{
		"co": "Id,Name,Domain\nC1,Acme,acme.com\nC2,Acme Ltd,acme.com\n",
		"c":  "Id,Name,Company,Tag1,Tag2\n1,Ann,C2,\"Smith; Jones\",vip\n",
	}
	p := pass.Pass{TenantID: "t9", Spec: spec, Files: []cutover.File{{ID: "co", Name: "co.csv", Key: "co"}, {ID: "c", Name: "c.csv", Key: "c"}}, ArtifactsPrefix: "a/", Now: time.Now()}
	live := &dynamostore.LiveEnv{API: db, Table: table}
	if _, err := pass.Run(ctx, p, fs, liveSink(live, "t9", "m1"), fs); err != nil {
		t.Fatal(err)
	}
	item, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: map[string]ddb.AttributeValue{
		"PK": &ddb.AttributeValueMemberS{Value: "t9"}, "SK": &ddb.AttributeValueMemberS{Value: "contact#" + cutover.RecordID("t9", "contact", "1")},
	}})
	if err != nil || item.Item == nil {
		t.Fatalf("the contact: %v", err)
	}
	f := item.Item["fields"].(*ddb.AttributeValueMemberM).Value
	if got, want := f["company_ref"].(*ddb.AttributeValueMemberS).Value, cutover.RecordID("t9", "company", "C1"); got != want {
		t.Errorf("company_ref stored as %s, want the surviving company %s", got, want)
	}
	tags := f["tags"].(*ddb.AttributeValueMemberL).Value
	if len(tags) != 2 || tags[0].(*ddb.AttributeValueMemberS).Value != "Smith; Jones" {
		t.Errorf("tags stored as %#v, want [\"Smith; Jones\", \"vip\"]", tags)
	}
}
