// Command finalmigrate runs the final migration's steps: the pre-flight
// (a dry run of the final extract against the signed-off test, holding
// go-live past the deployment's thresholds), plan the final
// extract into chunks, migrate one chunk into LIVE, record a chunk the
// state machine gave up on, and finish with the final report. The
// signed-off mapping runs exactly once per tenant.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

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
	"github.com/cutover/cutover/internal/sesmail"
	"github.com/cutover/cutover/internal/tabular"
)

func main() {
	ctx := context.Background()
	cfg, err := awsenv.Setup(ctx)
	if err != nil {
		awsenv.Fatal("config", err)
	}
	env, err := awsenv.Env("MIGRATIONS_TABLE", "UPLOADS_BUCKET", "LIVE_RECORDS_TABLE", "FINAL_CHUNK_BYTES", "SENDER_EMAIL", "SITE_URL", "DELIVERY_LEDGER_TABLE",
		"PREFLIGHT_FILL_DROP_POINTS", "PREFLIGHT_REJECT_RISE_POINTS", "PREFLIGHT_DELTA_PCT", "PREFLIGHT_HOLD_UNEXPLAINED", "EVENT_BUS_NAME")
	if err != nil {
		awsenv.Fatal("config", err)
	}
	chunkBytes, err := awsenv.Int("FINAL_CHUNK_BYTES")
	if err != nil {
		awsenv.Fatal("config", err)
	}
	// How much snapshot one key range of the comparison after the chunks
	// reads (engine's compare.go).
	compareBytes, err := awsenv.Int("FINAL_COMPARE_BYTES")
	if err != nil {
		awsenv.Fatal("config", err)
	}
	// How the state machine's Distributed Map runs the chunks: PlanFinal
	// hands these to it with the manifest.
	concurrency, err := awsenv.Int("CHUNK_CONCURRENCY")
	if err != nil {
		awsenv.Fatal("config", err)
	}
	tolerated, err := awsenv.Percent("CHUNK_TOLERATED_FAILURE_PERCENTAGE")
	if err != nil {
		awsenv.Fatal("config", err)
	}
	thresholds, err := cutover.ParseThresholds(env["PREFLIGHT_FILL_DROP_POINTS"], env["PREFLIGHT_REJECT_RISE_POINTS"], env["PREFLIGHT_DELTA_PCT"], env["PREFLIGHT_HOLD_UNEXPLAINED"])
	if err != nil {
		awsenv.Fatal("config", err)
	}
	db := awsenv.DynamoDB(cfg)
	migrations := &dynamostore.Migrations{API: db, Table: env["MIGRATIONS_TABLE"]}
	core, err := migration.NewMailingCore(migrations, &sesmail.Mailer{API: sesv2.NewFromConfig(cfg), From: env["SENDER_EMAIL"]}, migrations,
		migration.Config{SiteURL: env["SITE_URL"]})
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
	s3c := s3blob.NewClient(cfg)
	// LIVE goes where the deployment chose (LiveDestination): the built-in
	// LIVE table, the vendor's production over HTTPS, or an S3 drop.
	dest, err := routing.Open(ctx, os.Getenv, routing.Adapters{
		Builtin: &dynamostore.Destination{Live: &dynamostore.LiveEnv{API: db, Table: env["LIVE_RECORDS_TABLE"]}, Reader: db},
		Secret:  func(ctx context.Context, arn string) (string, error) { return secret.Read(ctx, cfg, arn) },
		Ledger:  &dynamostore.DeliveryLedger{API: db, Table: env["DELIVERY_LEDGER_TABLE"]},
		S3:      s3c,
		Claims:  &dynamostore.DropClaims{API: db, Table: env["DELIVERY_LEDGER_TABLE"]},
	}, cutover.EnvLive)
	if err != nil {
		awsenv.Fatal("config", err)
	}
	svc, err := engine.NewFinal(core, &s3blob.Bucket{API: s3c, Name: env["UPLOADS_BUCKET"]}, dest, migrations,
		engine.FinalConfig{
			ChunkBytes: int64(chunkBytes), CompareBytes: int64(compareBytes), Thresholds: &thresholds,
			Chunking: engine.Chunking{Concurrency: concurrency, ToleratedFailurePercentage: tolerated},
		})
	if err != nil {
		awsenv.Fatal("wiring", err)
	}
	svc.ReadLimits = tabular.XLSXLimitsForMemory(awsenv.MemoryBytes())
	lambda.Start(lambdastep.Handler("FinalMigrate", svc, engine.FinalStep.ID, svc.Final))
}
