// Command signoffapi is the coordinator's sign-off API Lambda: GET and HEAD
// show what a link asks to approve (with the workbook or pre-flight report
// read from the artifacts, and short-lived download links), POST decides.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/cutover/cutover/internal/awsenv"
	"github.com/cutover/cutover/internal/awsenv/secret"
	"github.com/cutover/cutover/internal/dynamostore"
	"github.com/cutover/cutover/internal/eventbus"
	"github.com/cutover/cutover/internal/httpapi/signoffroutes"
	"github.com/cutover/cutover/internal/lifecycle"
	"github.com/cutover/cutover/internal/s3blob"
	"github.com/cutover/cutover/internal/sfnflow"
	"github.com/cutover/cutover/internal/signoff"
)

func main() {
	ctx := context.Background()
	cfg, err := awsenv.Setup(ctx)
	if err != nil {
		awsenv.Fatal("config", err)
	}
	env, err := awsenv.Env("MIGRATIONS_TABLE", "SIGNOFFS_TABLE", "LINK_SECRET_ARN", "UPLOADS_BUCKET", "EVENT_BUS_NAME")
	if err != nil {
		awsenv.Fatal("config", err)
	}
	key, err := secret.Read(ctx, cfg, env["LINK_SECRET_ARN"])
	if err != nil {
		awsenv.Fatal("link signing key", err)
	}
	db := awsenv.DynamoDBForAPI(cfg)
	s3c := s3blob.NewClient(cfg)
	bucket := &s3blob.Bucket{API: s3c, Presign: s3blob.PresignClient{Client: s3.NewPresignClient(s3c)}, Name: env["UPLOADS_BUCKET"]}
	migrations := &dynamostore.Migrations{API: db, Table: env["MIGRATIONS_TABLE"]}
	svc, err := signoff.NewDesk(signoff.Links{Key: []byte(key)}, &dynamostore.SignOffs{API: db, Table: env["SIGNOFFS_TABLE"]},
		migrations, &sfnflow.Flow{API: sfn.NewFromConfig(cfg)}, bucket, bucket)
	if err != nil {
		awsenv.Fatal("wiring", err)
	}
	// Lifecycle events go on the deployment's event bus, through the
	// outbox kept beside each migration (package lifecycle).
	announcer, err := lifecycle.New(&eventbus.Bus{API: eventbus.NewClient(cfg), Name: env["EVENT_BUS_NAME"]}, migrations, nil)
	if err == nil {
		err = svc.AnnounceWith(announcer)
	}
	if err != nil {
		awsenv.Fatal("wiring", err)
	}
	lambda.Start(signoffroutes.Routes(svc).Handle)
}
