// Command requestsignoff is the RequestSignOff callback step (it keeps the
// task token server-side and mails the coordinator an opaque, signed,
// expiring, single-use link), the SignOffClock step that times its
// reminders and expiry, and the AwaitReapproval callback step (action
// "reapproval": the same kind of link for a go-live its pre-flight held).
package main

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/cutover/cutover/internal/awsenv"
	"github.com/cutover/cutover/internal/awsenv/secret"
	"github.com/cutover/cutover/internal/dynamostore"
	"github.com/cutover/cutover/internal/eventbus"
	"github.com/cutover/cutover/internal/lambdastep"
	"github.com/cutover/cutover/internal/lifecycle"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sesmail"
	"github.com/cutover/cutover/internal/signoff"
)

func main() {
	ctx := context.Background()
	cfg, err := awsenv.Setup(ctx)
	if err != nil {
		awsenv.Fatal("config", err)
	}
	env, err := awsenv.Env("MIGRATIONS_TABLE", "SIGNOFFS_TABLE", "LINK_SECRET_ARN", "SIGNOFF_TIMEOUT_SECONDS", "SITE_URL", "SENDER_EMAIL", "EVENT_BUS_NAME")
	if err != nil {
		awsenv.Fatal("config", err)
	}
	seconds, err := awsenv.Seconds("SIGNOFF_TIMEOUT_SECONDS")
	if err != nil {
		awsenv.Fatal("config", err)
	}
	key, err := secret.Read(ctx, cfg, env["LINK_SECRET_ARN"])
	if err != nil {
		awsenv.Fatal("link signing key", err)
	}
	db := awsenv.DynamoDB(cfg)
	migrations := &dynamostore.Migrations{API: db, Table: env["MIGRATIONS_TABLE"]}
	svc, err := signoff.NewRequester(signoff.Links{Key: []byte(key)}, &dynamostore.SignOffs{API: db, Table: env["SIGNOFFS_TABLE"]}, migrations,
		&sesmail.Mailer{API: sesv2.NewFromConfig(cfg), From: env["SENDER_EMAIL"]}, env["SITE_URL"], time.Duration(seconds)*time.Second)
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
	// A failing sign-off step keeps its message on the migration; the
	// light core is all that needs.
	rec, err := migration.NewCore(migrations, migration.Config{})
	if err != nil {
		awsenv.Fatal("wiring", err)
	}
	lambda.Start(lambdastep.Handler("RequestSignOff", rec, signoff.StepRequest.ID, svc.Step))
}
