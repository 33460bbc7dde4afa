// Command reconcile keeps each migration's status true to its execution:
// on a Step Functions status change (EventBridge) and on a schedule, it
// marks failed, and mails ops about, every migration whose execution
// failed, timed out, was stopped outside the service or no longer exists,
// and tells its customer. The scheduled sweep also re-sends mail that failed
// to send (the outbox).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/cutover/cutover/internal/awsenv"
	"github.com/cutover/cutover/internal/dynamostore"
	"github.com/cutover/cutover/internal/eventbus"
	"github.com/cutover/cutover/internal/lifecycle"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sesmail"
	"github.com/cutover/cutover/internal/sfnflow"
)

func main() {
	ctx := context.Background()
	cfg, err := awsenv.Setup(ctx)
	if err != nil {
		awsenv.Fatal("config", err)
	}
	env, err := awsenv.Env("MIGRATIONS_TABLE", "STATE_MACHINE_ARN", "SENDER_EMAIL", "OPS_EMAIL", "SITE_URL", "EVENT_BUS_NAME")
	if err != nil {
		awsenv.Fatal("config", err)
	}
	migrations := &dynamostore.Migrations{API: awsenv.DynamoDB(cfg), Table: env["MIGRATIONS_TABLE"]}
	core, err := migration.NewMailingCore(migrations, &sesmail.Mailer{API: sesv2.NewFromConfig(cfg), From: env["SENDER_EMAIL"]}, migrations,
		migration.Config{SiteURL: env["SITE_URL"], OpsEmail: env["OPS_EMAIL"]})
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
	svc, err := migration.NewReconciler(core, &sfnflow.Executions{API: sfn.NewFromConfig(cfg), StateMachineARN: env["STATE_MACHINE_ARN"]})
	if err != nil {
		awsenv.Fatal("wiring", err)
	}
	lambda.Start(svc.Reconcile)
}
