// Command finalmigrate is the FinalMigrate step: the signed-off mapping on
// the final extract into LIVE, exactly once per tenant.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cutover/cutover/internal/awsenv"
	"github.com/cutover/cutover/internal/dynamostore"
	"github.com/cutover/cutover/internal/lambdastep"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/s3blob"
)

func main() {
	ctx := context.Background()
	cfg, err := awsenv.Setup(ctx)
	if err != nil {
		awsenv.Fatal("config", err)
	}
	env, err := awsenv.Env("MIGRATIONS_TABLE", "UPLOADS_BUCKET", "LIVE_RECORDS_TABLE")
	if err != nil {
		awsenv.Fatal("config", err)
	}
	db := awsenv.DynamoDB(cfg)
	svc := &migration.Service{
		Store: &dynamostore.Migrations{API: db, Table: env["MIGRATIONS_TABLE"]},
		Files: &s3blob.Bucket{API: awsenv.S3(cfg), Name: env["UPLOADS_BUCKET"]},
		Live:  &dynamostore.LiveEnv{API: db, Table: env["LIVE_RECORDS_TABLE"]},
	}
	lambda.Start(lambdastep.Handler("FinalMigrate", svc, migration.StepInput.ID, svc.FinalMigrate))
}
