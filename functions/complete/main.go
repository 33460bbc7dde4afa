// Command complete is the Complete step: the migration is live and locked;
// the customer and coordinator are told; then, a slice at a time (one
// invocation each, action "expire"), its TEST records are set to expire
// the retention period after go-live.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/cutover/cutover/internal/awsenv"
	"github.com/cutover/cutover/internal/dynamostore"
	"github.com/cutover/cutover/internal/eventbus"
	"github.com/cutover/cutover/internal/lambdastep"
	"github.com/cutover/cutover/internal/lifecycle"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sesmail"
)

func main() {
	ctx := context.Background()
	cfg, err := awsenv.Setup(ctx)
	if err != nil {
		awsenv.Fatal("config", err)
	}
	env, err := awsenv.Env("MIGRATIONS_TABLE", "SENDER_EMAIL", "SITE_URL", "TEST_RECORDS_TABLE", "EVENT_BUS_NAME")
	if err != nil {
		awsenv.Fatal("config", err)
	}
	retentionDays, err := awsenv.Int("TEST_RECORD_RETENTION_DAYS")
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
	svc, err := migration.NewCompletion(core, &dynamostore.TestEnv{API: db, Table: env["TEST_RECORDS_TABLE"], Retention: time.Duration(retentionDays) * 24 * time.Hour})
	if err != nil {
		awsenv.Fatal("wiring", err)
	}
	lambda.Start(lambdastep.Handler("Complete", svc, migration.CompleteStep.ID, svc.Run))
}
