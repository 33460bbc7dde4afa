package provision

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/cutover/cutover/infra/emulator"
	"github.com/cutover/cutover/infra/samtemplate"
)

// TestProvisionTheTemplateOnKumo provisions the real template.yaml on kumo
// and reads every resource back with the SDK.
func TestProvisionTheTemplateOnKumo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	bin := filepath.Join(t.TempDir(), "kumo")
	if err := emulator.Build(ctx, filepath.Join("..", ".."), bin); err != nil {
		t.Fatal(err)
	}

	kumo, err := emulator.Start(ctx, emulator.Options{Binary: bin})
	if err != nil {
		t.Fatal(err)
	}

	defer func() { _ = kumo.Close() }()

	m, err := samtemplate.Load("../../template.yaml", samtemplate.Options{
		StackName:  "prov",
		Parameters: map[string]string{"AllowedOrigin": "http://127.0.0.1:8080"},
	})
	if err != nil {
		t.Fatal(err)
	}

	var log bytes.Buffer

	res, err := Provision(ctx, m, Config{
		Endpoint:        kumo.Endpoint,
		InvokeEndpoint:  func(f samtemplate.Function) string { return "http://127.0.0.1:1/invoke/" + f.Name },
		EmailIdentities: []string{m.Parameters["SenderEmail"]},
		Log:             slog.New(slog.NewJSONHandler(&log, nil)),
	})
	if err != nil {
		t.Fatalf("Provision: %v\n%s", err, log.String())
	}

	if len(res.Skipped) != 0 {
		t.Errorf("kumo v0.33.1 implements every bucket call, but these were skipped: %v", res.Skipped)
	}

	cfg := aws.Config{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(kumo.Endpoint),
	}
	b := res.Model

	t.Run("tables", func(t *testing.T) {
		db := dynamodb.NewFromConfig(cfg)

		for _, tb := range b.Tables {
			out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(tb.Name)})
			if err != nil {
				t.Fatalf("%s: %v", tb.LogicalID, err)
			}

			if aws.ToString(out.Table.KeySchema[0].AttributeName) != tb.HashKey || len(out.Table.GlobalSecondaryIndexes) != len(tb.GSIs) {
				t.Errorf("%s: %+v", tb.LogicalID, out.Table)
			}

			ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(tb.Name)})
			if err != nil || aws.ToString(ttl.TimeToLiveDescription.AttributeName) != tb.TTLAttribute {
				t.Errorf("%s TTL: %+v %v", tb.LogicalID, ttl, err)
			}
		}
	})

	t.Run("bucket", func(t *testing.T) {
		s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
		name := aws.String(uploadsBucket(t, b).Name)

		cors, err := s3c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: name})
		if err != nil || !slices.Equal(cors.CORSRules[0].AllowedOrigins, []string{"http://127.0.0.1:8080"}) ||
			!slices.Equal(cors.CORSRules[0].ExposeHeaders, []string{"ETag"}) {
			t.Errorf("CORS %+v %v", cors, err)
		}

		if _, err := s3c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: name}); err != nil {
			t.Errorf("encryption: %v", err)
		}
	})

	t.Run("secret and identity", func(t *testing.T) {
		out, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(b.ARNs["LinkSigningSecret"])})
		if err != nil || aws.ToString(out.SecretString) != res.Secrets["LinkSigningSecret"] || aws.ToString(out.ARN) != b.ARNs["LinkSigningSecret"] {
			t.Errorf("secret: %v", err)
		}

		if _, err := sesv2.NewFromConfig(cfg).GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(m.Parameters["SenderEmail"])}); err != nil {
			t.Errorf("identity: %v", err)
		}
	})

	t.Run("functions", func(t *testing.T) {
		lc := lambda.NewFromConfig(cfg)

		for _, f := range b.Functions {
			out, err := lc.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(f.Name)})
			if err != nil {
				t.Fatalf("%s: %v", f.LogicalID, err)
			}

			if aws.ToInt32(out.Timeout) != int32(f.Timeout) || aws.ToInt32(out.MemorySize) != int32(f.MemorySize) ||
				out.Environment == nil || len(out.Environment.Variables) != len(f.Environment) {
				t.Errorf("%s: %+v", f.LogicalID, out)
			}
		}
	})

	t.Run("state machine", func(t *testing.T) {
		out, err := sfn.NewFromConfig(cfg).DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(b.StateMachines[0].ARN)})
		if err != nil {
			t.Fatal(err)
		}

		def := aws.ToString(out.Definition)
		if strings.Contains(def, "${") || !json.Valid([]byte(def)) {
			t.Errorf("definition not substituted")
		}

		// Every function the template substitutes into the definition
		// (the steps; not the API or reconcile functions) is invoked by it.
		steps := 0
		for _, f := range b.Functions {
			for _, v := range b.StateMachines[0].Substitutions {
				if v != f.ARN {
					continue
				}
				steps++
				if !strings.Contains(def, `"`+f.ARN+`"`) {
					t.Errorf("definition does not invoke %s", f.ARN)
				}
			}
		}
		if steps == 0 {
			t.Error("no function is substituted into the definition")
		}
	})

	t.Run("http api", func(t *testing.T) {
		ac := apigatewayv2.NewFromConfig(cfg)
		api := b.HTTPAPIs[0]

		routes, err := ac.GetRoutes(ctx, &apigatewayv2.GetRoutesInput{ApiId: aws.String(api.ID)})
		if err != nil {
			t.Fatal(err)
		}

		got := map[string]string{}
		for _, r := range routes.Items {
			got[aws.ToString(r.RouteKey)] = string(r.AuthorizationType)
		}

		for _, r := range api.Routes {
			want := "NONE"
			if r.Authorizer != "" {
				want = "JWT"
			}

			if got[r.RouteKey()] != want {
				t.Errorf("route %s: authorization %q, want %q", r.RouteKey(), got[r.RouteKey()], want)
			}
		}

		if len(got) != len(api.Routes) {
			t.Errorf("%d routes on kumo, %d in the template", len(got), len(api.Routes))
		}

		auths, err := ac.GetAuthorizers(ctx, &apigatewayv2.GetAuthorizersInput{ApiId: aws.String(api.ID)})
		if err != nil || len(auths.Items) != 1 || aws.ToString(auths.Items[0].JwtConfiguration.Issuer) != m.Parameters["OpsJwtIssuer"] {
			t.Errorf("authorizers %+v %v", auths, err)
		}

		stage, err := ac.GetStage(ctx, &apigatewayv2.GetStageInput{ApiId: aws.String(api.ID), StageName: aws.String("$default")})
		if err != nil || !aws.ToBool(stage.AutoDeploy) {
			t.Errorf("stage %+v %v", stage, err)
		}
	})
}
