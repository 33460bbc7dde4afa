// Command customerapi is the customer API Lambda: migration status,
// presigned multipart uploads (and the parts already stored, for resume),
// submit, the final extract (whose go-live mail it sends), and browsing the
// TEST records of the round under review.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/cutover/cutover/internal/awsenv"
	"github.com/cutover/cutover/internal/dynamostore"
	"github.com/cutover/cutover/internal/eventbus"
	"github.com/cutover/cutover/internal/httpapi/customerroutes"
	"github.com/cutover/cutover/internal/lifecycle"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/migration/engine"
	"github.com/cutover/cutover/internal/s3blob"
	"github.com/cutover/cutover/internal/sesmail"
	"github.com/cutover/cutover/internal/sfnflow"
	"github.com/cutover/cutover/internal/tabular"
)

func main() {
	ctx := context.Background()
	cfg, err := awsenv.Setup(ctx)
	if err != nil {
		awsenv.Fatal("config", err)
	}
	env, err := awsenv.Env("MIGRATIONS_TABLE", "UPLOADS_BUCKET", "STATE_MACHINE_ARN", "SITE_URL", "SENDER_EMAIL", "SIGNOFF_TIMEOUT_SECONDS", "SIGNOFF_REMINDER_SECONDS", "TEST_RECORDS_TABLE", "EVENT_BUS_NAME")
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
	s3c := s3blob.NewClient(cfg)
	bucket := &s3blob.Bucket{API: s3c, Presign: s3blob.PresignClient{Client: s3.NewPresignClient(s3c)}, Name: env["UPLOADS_BUCKET"]}
	db := awsenv.DynamoDBForAPI(cfg)
	migrations := &dynamostore.Migrations{API: db, Table: env["MIGRATIONS_TABLE"]}
	flow := &sfnflow.Flow{API: sfn.NewFromConfig(cfg), StateMachineARN: env["STATE_MACHINE_ARN"]}
	core, err := migration.NewMailingCore(migrations, &sesmail.Mailer{API: sesv2.NewFromConfig(cfg), From: env["SENDER_EMAIL"]}, migrations,
		migration.Config{SiteURL: env["SITE_URL"], SignOffTimeoutSeconds: signOffTimeout, SignOffReminderSeconds: signOffReminder})
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
	svc, err := migration.NewCustomer(core, bucket, flow)
	if err != nil {
		awsenv.Fatal("wiring", err)
	}
	rows, err := engine.NewCustomer(core, bucket, bucket, bucket, flow)
	if err != nil {
		awsenv.Fatal("wiring", err)
	}
	rows.ReadLimits = tabular.XLSXLimitsForMemory(awsenv.MemoryBytes())
	// TEST_DESTINATION (builtin, https or s3; unset is builtin) and
	// TEST_STAGING_URL (the vendor's staging UI, optional) say where the
	// customer browses the TEST records.
	browse, err := migration.NewTestBrowser(&dynamostore.TestEnv{API: db, Table: env["TEST_RECORDS_TABLE"]},
		migration.BrowseConfig{Destination: os.Getenv("TEST_DESTINATION"), StagingURL: os.Getenv("TEST_STAGING_URL")})
	if err != nil {
		awsenv.Fatal("config", err)
	}
	lambda.Start(customerroutes.Routes(svc, rows, browse).Handle)
}
