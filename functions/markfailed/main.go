// Command markfailed is the MarkFailed step: it records why a migration
// failed, for the customer's status page and for ops. Only the execution
// the migration follows can fail it, and never once it is live (see
// migration.Steps.MarkFailed). It mails the customer what happens next.
package main

import (
	"context"

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
	env, err := awsenv.Env("MIGRATIONS_TABLE", "SENDER_EMAIL", "SITE_URL", "EVENT_BUS_NAME")
	if err != nil {
		awsenv.Fatal("config", err)
	}
	migrations := &dynamostore.Migrations{API: awsenv.DynamoDB(cfg), Table: env["MIGRATIONS_TABLE"]}
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
	svc, err := migration.NewSteps(core)
	if err != nil {
		awsenv.Fatal("wiring", err)
	}
	lambda.Start(lambdastep.Handler("MarkFailed", nil, migration.FailInput.ID, lambdastep.NoOutput(svc.MarkFailed)))
}
