// Command opsapi is the ops API Lambda: create migrations and mail
// customers their invite (or re-issue it), list and inspect them (with the
// final migration's chunks and the mail sent), and retry failed final chunks
// or resume a failed migration. API Gateway's JWT authorizer guards it. A
// resumed round runs the sign-off clock, so it needs the same sign-off
// settings as the customer API's Submit.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/cutover/cutover/internal/awsenv"
	"github.com/cutover/cutover/internal/dynamostore"
	"github.com/cutover/cutover/internal/httpapi"
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
	env, err := awsenv.Env("MIGRATIONS_TABLE", "SITE_URL", "STATE_MACHINE_ARN", "SENDER_EMAIL", "SIGNOFF_TIMEOUT_SECONDS", "SIGNOFF_REMINDER_SECONDS")
	if err != nil {
		awsenv.Fatal("config", err)
	}
	signOffTimeout, err := awsenv.Seconds("SIGNOFF_TIMEOUT_SECONDS")
	if err != nil {
		awsenv.Fatal("config", err)
	}
	signOffReminder, err := awsenv.Seconds("SIGNOFF_REMINDER_SECONDS")
	if err != nil {
		awsenv.Fatal("config", err)
	}
	migrations := &dynamostore.Migrations{API: awsenv.DynamoDBForAPI(cfg), Table: env["MIGRATIONS_TABLE"]}
	states := sfn.NewFromConfig(cfg)
	core, err := migration.NewMailingCore(migrations, &sesmail.Mailer{API: sesv2.NewFromConfig(cfg), From: env["SENDER_EMAIL"]}, migrations,
		migration.Config{SiteURL: env["SITE_URL"], SignOffTimeoutSeconds: signOffTimeout, SignOffReminderSeconds: signOffReminder})
	if err != nil {
		awsenv.Fatal("wiring", err)
	}
	svc, err := migration.NewOps(core,
		&sfnflow.Flow{API: states, StateMachineARN: env["STATE_MACHINE_ARN"]},
		&sfnflow.Executions{API: states, StateMachineARN: env["STATE_MACHINE_ARN"]},
		migrations, migrations)
	if err != nil {
		awsenv.Fatal("wiring", err)
	}
	lambda.Start(httpapi.OpsRoutes(svc).Handle)
}
