// Command park is every callback step that waits for a person: it parks the
// task token on the migration until someone acts. The customer: AwaitReview,
// SignOffExpired, AwaitRevision, AwaitFinalExtract. Ops: AwaitChunkRetry (a
// final migration whose chunk failed). It is named after Steps.Park.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/cutover/cutover/internal/awsenv"
	"github.com/cutover/cutover/internal/dynamostore"
	"github.com/cutover/cutover/internal/lambdastep"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sesmail"
)

func main() {
	ctx := context.Background()
	cfg, err := awsenv.Setup(ctx)
	if err != nil {
		awsenv.Fatal("config", err)
	}
	env, err := awsenv.Env("MIGRATIONS_TABLE", "SITE_URL", "SENDER_EMAIL", "OPS_EMAIL")
	if err != nil {
		awsenv.Fatal("config", err)
	}
	migrations := &dynamostore.Migrations{API: awsenv.DynamoDB(cfg), Table: env["MIGRATIONS_TABLE"]}
	core, err := migration.NewMailingCore(migrations, &sesmail.Mailer{API: sesv2.NewFromConfig(cfg), From: env["SENDER_EMAIL"]}, migrations,
		migration.Config{SiteURL: env["SITE_URL"], OpsEmail: env["OPS_EMAIL"]})
	if err != nil {
		awsenv.Fatal("wiring", err)
	}
	svc, err := migration.NewSteps(core)
	if err != nil {
		awsenv.Fatal("wiring", err)
	}
	lambda.Start(lambdastep.Handler("Park", svc, migration.ParkInput.ID, lambdastep.NoOutput(svc.Park)))
}
