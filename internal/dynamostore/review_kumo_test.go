package dynamostore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/dynamostore"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/s3blob"
	"github.com/cutover/cutover/internal/sfnflow"
)

// migrationsTable creates a migrations table (PK, SK, the ByCreated index)
// on the emulator, as the template declares it.
func migrationsTable(t *testing.T) (*dynamodb.Client, string) {
	t.Helper()
	db, err := kumoDB()
	if err != nil {
		t.Fatalf("start the emulator: %v", err)
	}
	name := fmt.Sprintf("migrations-%d", time.Now().UnixNano())
	s := func(n string) ddb.AttributeDefinition {
		return ddb.AttributeDefinition{AttributeName: aws.String(n), AttributeType: ddb.ScalarAttributeTypeS}
	}
	_, err = db.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            &name,
		BillingMode:          ddb.BillingModePayPerRequest,
		AttributeDefinitions: []ddb.AttributeDefinition{s("PK"), s("SK"), s("GSI1PK"), s("GSI1SK")},
		KeySchema: []ddb.KeySchemaElement{
			{AttributeName: aws.String("PK"), KeyType: ddb.KeyTypeHash},
			{AttributeName: aws.String("SK"), KeyType: ddb.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []ddb.GlobalSecondaryIndex{{
			IndexName: aws.String("ByCreated"),
			KeySchema: []ddb.KeySchemaElement{
				{AttributeName: aws.String("GSI1PK"), KeyType: ddb.KeyTypeHash},
				{AttributeName: aws.String("GSI1SK"), KeyType: ddb.KeyTypeRange},
			},
			Projection: &ddb.Projection{ProjectionType: ddb.ProjectionTypeAll},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return db, name
}

// A workbook can have far more than 100 things to mark (up to 20 named
// spot checks per entity, then 10 sampled per entity): marking them all
// in one request is saved, with its audit trail, on the real emulator; a
// request with more marks than the workbook has things is a clear
// EINVALID, never a storage failure.
func TestMarkingAWholeLargeWorkbookIsSaved(t *testing.T) {
	db, table := migrationsTable(t)
	store := &dynamostore.Migrations{API: db, Table: table}
	ctx := context.Background()
	const spots = 130
	m := &cutover.Migration{
		ID: "m-review", TenantID: "acme", Status: cutover.StatusAwaitingReview, Round: 1,
		Workbook: &cutover.WorkbookSummary{Round: 1, Key: "wb", Spots: spots}, CreatedAt: time.Now().UTC(),
	}
	if err := store.CreateMigration(ctx, m, cutover.AuditEvent{At: time.Now().UTC(), Actor: "ops", Action: "migration.created"}); err != nil {
		t.Fatal(err)
	}
	core, err := migration.NewCore(store, migration.Config{})
	if err != nil {
		t.Fatal(err)
	}
	// Marking the workbook touches neither uploads nor the state machine:
	// the customer service gets unconnected adapters for them.
	svc, err := migration.NewCustomer(core, &s3blob.Bucket{}, &sfnflow.Flow{})
	if err != nil {
		t.Fatal(err)
	}
	var items []migration.ReviewItem
	for _, s := range []string{"reconciliation", "issues", "fillRates", "unmapped"} {
		items = append(items, migration.ReviewItem{Section: s, State: migration.Reviewed})
	}
	for i := 0; i < spots; i++ {
		items = append(items, migration.ReviewItem{Section: fmt.Sprintf("spot:%d", i), State: migration.Reviewed, Note: strings.Repeat("n", 200)})
	}
	cur, err := store.GetMigration(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.MarkReview(ctx, cur, migration.ReviewInput{Items: items})
	if err != nil {
		t.Fatalf("marking %d items: %v", len(items), err)
	}
	if open := migration.Unreviewed(got); len(open) != 0 {
		t.Fatalf("still open: %v", open)
	}
	saved, err := store.GetMigration(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(saved.Review) != len(items) {
		t.Fatalf("the stored migration has %d marks; want %d", len(saved.Review), len(items))
	}
	// The audit trail, read with the SDK: every mark is named in it.
	audit := auditDetails(t, db, table, m.ID, "workbook.marked")
	for _, it := range items {
		if !strings.Contains(audit, " "+it.Section+" reviewed") {
			t.Fatalf("the audit trail does not name %s", it.Section)
		}
	}

	// More marks than the workbook has things to mark, or one thing twice.
	for name, in := range map[string][]migration.ReviewItem{
		"too many":   append(append([]migration.ReviewItem(nil), items...), items...),
		"duplicated": append(append([]migration.ReviewItem(nil), items[:10]...), items[3]),
	} {
		_, err := svc.MarkReview(ctx, saved, migration.ReviewInput{Items: in})
		if cutover.ErrorCode(err) != cutover.EINVALID {
			t.Fatalf("%s: %v, want invalid", name, err)
		}
		t.Logf("%s: %s", name, cutover.ErrorMessage(err))
	}

	// A save with more events than one transaction holds is refused
	// clearly, not sent to DynamoDB to fail as "unavailable".
	events := make([]cutover.AuditEvent, 100)
	for i := range events {
		events[i] = cutover.AuditEvent{At: time.Now().UTC(), Actor: "test", Action: "x"}
	}
	err = store.SaveMigration(ctx, saved, events...)
	if cutover.ErrorCode(err) != cutover.EINTERNAL || !strings.Contains(cutover.ErrorMessage(err), "at most 99") {
		t.Fatalf("100 events: %v", err)
	}
	if err := store.SaveMigration(ctx, saved, events[:99]...); err != nil {
		t.Fatalf("99 events: %v", err)
	}
}

// auditDetails reads the details of a migration's audit events of one
// action with the SDK, joined by newlines.
func auditDetails(t *testing.T, db *dynamodb.Client, table, id, action string) string {
	t.Helper()
	var b strings.Builder
	p := dynamodb.NewQueryPaginator(db, &dynamodb.QueryInput{
		TableName:              &table,
		ConsistentRead:         aws.Bool(true),
		KeyConditionExpression: aws.String("PK = :p AND begins_with(SK, :a)"),
		ExpressionAttributeValues: map[string]ddb.AttributeValue{
			":p": &ddb.AttributeValueMemberS{Value: "MIG#" + id}, ":a": &ddb.AttributeValueMemberS{Value: "AUDIT#"},
		},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			if a, ok := it["action"].(*ddb.AttributeValueMemberS); ok && a.Value == action {
				b.WriteString(it["detail"].(*ddb.AttributeValueMemberS).Value + "\n")
			}
		}
	}
	return b.String()
}
