// Command markfailed is the MarkFailed step: it records why a migration
// failed, for the customer's status page and for ops. Only the execution
// the migration follows can fail it, and never once it is live (see
// migration.Service.MarkFailed).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cutover/cutover/internal/awsenv"
	"github.com/cutover/cutover/internal/dynamostore"
	"github.com/cutover/cutover/internal/lambdastep"
	"github.com/cutover/cutover/internal/migration"
)

func main() {
	ctx := context.Background()
	cfg, err := awsenv.Setup(ctx)
	if err != nil {
		awsenv.Fatal("config", err)
	}
	env, err := awsenv.Env("MIGRATIONS_TABLE")
	if err != nil {
		awsenv.Fatal("config", err)
	}
	svc := &migration.Service{Store: &dynamostore.Migrations{API: awsenv.DynamoDB(cfg), Table: env["MIGRATIONS_TABLE"]}}
	lambda.Start(lambdastep.Handler("MarkFailed", nil, migration.FailInput.ID, lambdastep.NoOutput(svc.MarkFailed)))
}
