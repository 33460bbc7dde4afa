// Command testmigrate runs the test migration's steps: plan the round's
// test extract into chunks as the final migration would (resetting TEST),
// migrate one chunk into TEST (a child of the Distributed Map), record a
// chunk the state machine gave up on, and finish with the workbook.
package main

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cutover/cutover/internal/awsenv"
	"github.com/cutover/cutover/internal/awsenv/secret"
	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination/routing"
	"github.com/cutover/cutover/internal/dynamostore"
	"github.com/cutover/cutover/internal/eventbus"
	"github.com/cutover/cutover/internal/lambdastep"
	"github.com/cutover/cutover/internal/lifecycle"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/migration/engine"
	"github.com/cutover/cutover/internal/s3blob"
	"github.com/cutover/cutover/internal/tabular"
)

func main() {
	ctx := context.Background()
	cfg, err := awsenv.Setup(ctx)
	if err != nil {
		awsenv.Fatal("config", err)
	}
	env, err := awsenv.Env("MIGRATIONS_TABLE", "UPLOADS_BUCKET", "TEST_RECORDS_TABLE", "DELIVERY_LEDGER_TABLE", "EVENT_BUS_NAME", "SITE_URL")
	if err != nil {
		awsenv.Fatal("config", err)
	}
	retentionDays, err := awsenv.Int("TEST_RECORD_RETENTION_DAYS")
	if err != nil {
		awsenv.Fatal("config", err)
	}
	// The test migration rehearses the final one: the same chunk size,
	// run as the deployment runs the final's chunks.
	chunkBytes, err := awsenv.Int("FINAL_CHUNK_BYTES")
	if err != nil {
		awsenv.Fatal("config", err)
	}
	compareBytes, err := awsenv.Int("FINAL_COMPARE_BYTES")
	if err != nil {
		awsenv.Fatal("config", err)
	}
	concurrency, err := awsenv.Int("CHUNK_CONCURRENCY")
	if err != nil {
		awsenv.Fatal("config", err)
	}
	tolerated, err := awsenv.Percent("CHUNK_TOLERATED_FAILURE_PERCENTAGE")
	if err != nil {
		awsenv.Fatal("config", err)
	}
	db := awsenv.DynamoDB(cfg)
	migrations := &dynamostore.Migrations{API: db, Table: env["MIGRATIONS_TABLE"]}
	// SiteURL: the workbook link in the test-completed event.
	core, err := migration.NewCore(migrations, migration.Config{SiteURL: env["SITE_URL"]})
	if err != nil {
		awsenv.Fatal("wiring", err)
	}
	// Lifecycle events go on the deployment's event bus, through the
	// outbox kept beside each migration (package lifecycle).
	announcer, err := lifecycle.New(&eventbus.Bus{API: eventbus.NewClient(cfg), Name: env["EVENT_BUS_NAME"]}, migrations, nil)
	if err == nil {
		err = core.AnnounceWith(announcer)
	}
	if err != nil {
		awsenv.Fatal("wiring", err)
	}
	retention := time.Duration(retentionDays) * 24 * time.Hour
	test := &dynamostore.TestEnv{API: db, Table: env["TEST_RECORDS_TABLE"], Retention: retention}
	s3c := s3blob.NewClient(cfg)
	// TEST goes where the deployment chose (TestDestination): the built-in
	// TEST table, the vendor's staging over HTTPS, or an S3 drop.
	dest, err := routing.Open(ctx, os.Getenv, routing.Adapters{
		Builtin: &dynamostore.Destination{Test: test},
		Secret:  func(ctx context.Context, arn string) (string, error) { return secret.Read(ctx, cfg, arn) },
		Ledger:  &dynamostore.DeliveryLedger{API: db, Table: env["DELIVERY_LEDGER_TABLE"], TestRetention: retention},
		S3:      s3c,
		Claims:  &dynamostore.DropClaims{API: db, Table: env["DELIVERY_LEDGER_TABLE"], TestRetention: retention},
	}, cutover.EnvTest)
	if err != nil {
		awsenv.Fatal("config", err)
	}
	svc, err := engine.NewTestRun(core, &s3blob.Bucket{API: s3c, Name: env["UPLOADS_BUCKET"]}, test, dest, migrations,
		engine.TestConfig{ChunkBytes: int64(chunkBytes), CompareBytes: int64(compareBytes), Chunking: engine.Chunking{Concurrency: concurrency, ToleratedFailurePercentage: tolerated}})
	if err != nil {
		awsenv.Fatal("wiring", err)
	}
	svc.ReadLimits = tabular.XLSXLimitsForMemory(awsenv.MemoryBytes())
	lambda.Start(lambdastep.Handler("TestMigrate", svc, engine.TestStep.ID, svc.Test))
}
