// Command mapping is the Map step: it profiles the round's uploaded files
// and builds the mapping the test migration will use.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cutover/cutover/internal/awsenv"
	"github.com/cutover/cutover/internal/dynamostore"
	"github.com/cutover/cutover/internal/lambdastep"
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
	env, err := awsenv.Env("MIGRATIONS_TABLE", "UPLOADS_BUCKET")
	if err != nil {
		awsenv.Fatal("config", err)
	}
	core, err := migration.NewCore(&dynamostore.Migrations{API: awsenv.DynamoDB(cfg), Table: env["MIGRATIONS_TABLE"]}, migration.Config{})
	if err != nil {
		awsenv.Fatal("wiring", err)
	}
	svc, err := engine.NewMapper(core, &s3blob.Bucket{API: s3blob.NewClient(cfg), Name: env["UPLOADS_BUCKET"]})
	if err != nil {
		awsenv.Fatal("wiring", err)
	}
	svc.ReadLimits = tabular.XLSXLimitsForMemory(awsenv.MemoryBytes())
	lambda.Start(lambdastep.Handler("Map", svc, migration.StepInput.ID, svc.Map))
}
