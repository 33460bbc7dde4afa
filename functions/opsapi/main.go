// Command opsapi is the ops API Lambda: create migrations and invite
// customers, list and inspect them. API Gateway's JWT authorizer guards it.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cutover/cutover/internal/awsenv"
	"github.com/cutover/cutover/internal/dynamostore"
	"github.com/cutover/cutover/internal/httpapi"
	"github.com/cutover/cutover/internal/migration"
)

func main() {
	ctx := context.Background()
	cfg, err := awsenv.Setup(ctx)
	if err != nil {
		awsenv.Fatal("config", err)
	}
	env, err := awsenv.Env("MIGRATIONS_TABLE", "SITE_URL")
	if err != nil {
		awsenv.Fatal("config", err)
	}
	svc := &migration.Service{
		Store:   &dynamostore.Migrations{API: awsenv.DynamoDB(cfg), Table: env["MIGRATIONS_TABLE"]},
		SiteURL: env["SITE_URL"],
	}
	lambda.Start(httpapi.OpsRoutes(svc).Handle)
}
