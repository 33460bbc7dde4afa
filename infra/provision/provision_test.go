package provision

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apitypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go"

	"github.com/cutover/cutover/infra/samtemplate"
)

// recorder fakes every client provisioning uses and records the calls.
type recorder struct {
	calls        []string
	tables       []*dynamodb.CreateTableInput
	ttl          []*dynamodb.UpdateTimeToLiveInput
	functions    []FunctionSpec
	machines     []*sfn.CreateStateMachineInput
	authorizers  []*apigatewayv2.CreateAuthorizerInput
	integrations []*apigatewayv2.CreateIntegrationInput
	routes       []*apigatewayv2.CreateRouteInput
	stages       []*apigatewayv2.CreateStageInput
	cors         []*s3.PutBucketCorsInput
	encryption   error // what PutBucketEncryption answers
	events       eventsRecorder
}

func (r *recorder) CreateTable(_ context.Context, in *dynamodb.CreateTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	r.calls = append(r.calls, "CreateTable")
	r.tables = append(r.tables, in)

	return &dynamodb.CreateTableOutput{}, nil
}

func (r *recorder) UpdateTimeToLive(_ context.Context, in *dynamodb.UpdateTimeToLiveInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error) {
	r.ttl = append(r.ttl, in)

	return &dynamodb.UpdateTimeToLiveOutput{}, nil
}

func (r *recorder) CreateBucket(context.Context, *s3.CreateBucketInput, ...func(*s3.Options)) (*s3.CreateBucketOutput, error) {
	r.calls = append(r.calls, "CreateBucket")

	return &s3.CreateBucketOutput{}, nil
}

func (r *recorder) PutBucketCors(_ context.Context, in *s3.PutBucketCorsInput, _ ...func(*s3.Options)) (*s3.PutBucketCorsOutput, error) {
	r.calls = append(r.calls, "PutBucketCors")
	r.cors = append(r.cors, in)

	return &s3.PutBucketCorsOutput{}, nil
}

func (r *recorder) PutBucketLifecycleConfiguration(context.Context, *s3.PutBucketLifecycleConfigurationInput, ...func(*s3.Options)) (*s3.PutBucketLifecycleConfigurationOutput, error) {
	r.calls = append(r.calls, "PutBucketLifecycleConfiguration")

	return &s3.PutBucketLifecycleConfigurationOutput{}, nil
}

func (r *recorder) PutPublicAccessBlock(context.Context, *s3.PutPublicAccessBlockInput, ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error) {
	r.calls = append(r.calls, "PutPublicAccessBlock")

	return &s3.PutPublicAccessBlockOutput{}, nil
}

func (r *recorder) PutBucketEncryption(context.Context, *s3.PutBucketEncryptionInput, ...func(*s3.Options)) (*s3.PutBucketEncryptionOutput, error) {
	r.calls = append(r.calls, "PutBucketEncryption")

	return &s3.PutBucketEncryptionOutput{}, r.encryption
}

const suffixedSecretARN = "arn:aws:secretsmanager:us-east-1:000000000000:secret:cutover-LinkSigningSecret-Xy12Zq"

func (r *recorder) CreateSecret(context.Context, *secretsmanager.CreateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error) {
	r.calls = append(r.calls, "CreateSecret")

	return &secretsmanager.CreateSecretOutput{ARN: aws.String(suffixedSecretARN)}, nil
}

func (r *recorder) CreateEmailIdentity(context.Context, *sesv2.CreateEmailIdentityInput, ...func(*sesv2.Options)) (*sesv2.CreateEmailIdentityOutput, error) {
	r.calls = append(r.calls, "CreateEmailIdentity")

	return &sesv2.CreateEmailIdentityOutput{}, nil
}

func (r *recorder) CreateStateMachine(_ context.Context, in *sfn.CreateStateMachineInput, _ ...func(*sfn.Options)) (*sfn.CreateStateMachineOutput, error) {
	r.calls = append(r.calls, "CreateStateMachine")
	r.machines = append(r.machines, in)

	return &sfn.CreateStateMachineOutput{
		StateMachineArn: aws.String("arn:aws:states:us-east-1:000000000000:stateMachine:" + aws.ToString(in.Name)),
	}, nil
}

func (r *recorder) CreateApi(context.Context, *apigatewayv2.CreateApiInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.CreateApiOutput, error) {
	r.calls = append(r.calls, "CreateApi")

	return &apigatewayv2.CreateApiOutput{ApiId: aws.String("api123")}, nil
}

func (r *recorder) CreateAuthorizer(_ context.Context, in *apigatewayv2.CreateAuthorizerInput, _ ...func(*apigatewayv2.Options)) (*apigatewayv2.CreateAuthorizerOutput, error) {
	r.authorizers = append(r.authorizers, in)

	return &apigatewayv2.CreateAuthorizerOutput{AuthorizerId: aws.String("auth-" + aws.ToString(in.Name))}, nil
}

func (r *recorder) CreateIntegration(_ context.Context, in *apigatewayv2.CreateIntegrationInput, _ ...func(*apigatewayv2.Options)) (*apigatewayv2.CreateIntegrationOutput, error) {
	r.integrations = append(r.integrations, in)

	return &apigatewayv2.CreateIntegrationOutput{IntegrationId: aws.String("int-" + aws.ToString(in.IntegrationUri))}, nil
}

func (r *recorder) CreateRoute(_ context.Context, in *apigatewayv2.CreateRouteInput, _ ...func(*apigatewayv2.Options)) (*apigatewayv2.CreateRouteOutput, error) {
	r.routes = append(r.routes, in)

	return &apigatewayv2.CreateRouteOutput{}, nil
}

func (r *recorder) CreateStage(_ context.Context, in *apigatewayv2.CreateStageInput, _ ...func(*apigatewayv2.Options)) (*apigatewayv2.CreateStageOutput, error) {
	r.stages = append(r.stages, in)

	return &apigatewayv2.CreateStageOutput{}, nil
}

func (r *recorder) CreateFunction(_ context.Context, spec FunctionSpec) (string, error) {
	r.calls = append(r.calls, "CreateFunction")
	r.functions = append(r.functions, spec)

	return "arn:aws:lambda:us-east-1:000000000000:function:" + spec.Name, nil
}

func fakeProvisioner(rec *recorder, log *bytes.Buffer) *provisioner {
	return &provisioner{
		tables: rec, buckets: rec, secrets: rec, email: rec, machines: rec, apis: rec, functions: rec, events: &rec.events,
		invokeURL:  func(f samtemplate.Function) string { return "http://runner/invoke/" + f.Name },
		identities: []string{"migrations@cutover.example.com"},
		log:        slog.New(slog.NewJSONHandler(log, nil)),
	}
}

func loadTemplate(t *testing.T) *samtemplate.Model {
	t.Helper()

	m, err := samtemplate.Load("../../template.yaml", samtemplate.Options{})
	if err != nil {
		t.Fatal(err)
	}

	return m
}

func TestProvisionBuildsEveryRouteAndBindsTheSecret(t *testing.T) {
	m := loadTemplate(t)
	rec := &recorder{}

	var log bytes.Buffer

	res, err := fakeProvisioner(rec, &log).run(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}

	if len(rec.tables) != len(m.Tables) || len(rec.functions) != len(m.Functions) || len(rec.machines) != len(m.StateMachines) {
		t.Fatalf("created %d tables, %d functions, %d machines", len(rec.tables), len(rec.functions), len(rec.machines))
	}

	// Resources the functions need exist before the functions.
	if first, last := strings.Join(rec.calls, ","), "CreateFunction"; strings.Index(first, "CreateSecret") > strings.Index(first, last) ||
		strings.Index(first, "CreateApi") > strings.Index(first, last) {
		t.Errorf("call order %v", rec.calls)
	}

	for _, f := range rec.functions {
		if f.InvokeEndpoint != "http://runner/invoke/"+f.Name {
			t.Errorf("%s: InvokeEndpoint %q", f.Name, f.InvokeEndpoint)
		}

		if v, ok := f.Environment["LINK_SECRET_ARN"]; ok && v != suffixedSecretARN {
			t.Errorf("%s: LINK_SECRET_ARN %q is not the ARN the emulator assigned", f.Name, v)
		}
	}

	if secret := res.Secrets["LinkSigningSecret"]; len(secret) != 64 {
		t.Errorf("secret of %d characters", len(secret))
	}

	if strings.Contains(log.String(), res.Secrets["LinkSigningSecret"]) {
		t.Error("the secret value was logged")
	}

	api := res.Model.HTTPAPIs[0]
	if api.ID != "api123" || len(rec.routes) != len(api.Routes) || len(rec.routes) == 0 {
		t.Fatalf("api %q: %d routes created for %d", api.ID, len(rec.routes), len(api.Routes))
	}

	want := map[string]string{}
	for _, r := range api.Routes {
		want[r.RouteKey()] = r.Authorizer
	}

	for _, r := range rec.routes {
		key := aws.ToString(r.RouteKey)

		auth, ok := want[key]
		if !ok {
			t.Errorf("route %q is not in the template", key)

			continue
		}

		if auth == "" && (r.AuthorizationType != apitypes.AuthorizationTypeNone || r.AuthorizerId != nil) {
			t.Errorf("%s: open route got authorization %s", key, r.AuthorizationType)
		}

		if auth != "" && (r.AuthorizationType != apitypes.AuthorizationTypeJwt || aws.ToString(r.AuthorizerId) != "auth-"+auth) {
			t.Errorf("%s: authorizer %s %v, want JWT %s", key, r.AuthorizationType, r.AuthorizerId, auth)
		}

		if !strings.HasPrefix(aws.ToString(r.Target), "integrations/int-arn:aws:lambda:") {
			t.Errorf("%s: target %q", key, aws.ToString(r.Target))
		}
	}

	if len(rec.integrations) != 3 {
		t.Errorf("%d integrations; the template routes to 3 functions", len(rec.integrations))
	}

	for _, in := range rec.integrations {
		if in.IntegrationType != apitypes.IntegrationTypeAwsProxy || aws.ToString(in.PayloadFormatVersion) != "2.0" {
			t.Errorf("integration %+v", in)
		}
	}

	if len(rec.authorizers) != 1 || aws.ToString(rec.authorizers[0].JwtConfiguration.Issuer) != m.Parameters["OpsJwtIssuer"] ||
		rec.authorizers[0].JwtConfiguration.Audience[0] != m.Parameters["OpsJwtAudience"] {
		t.Errorf("authorizers %+v", rec.authorizers)
	}

	if len(rec.stages) != 1 || aws.ToString(rec.stages[0].StageName) != "$default" || !aws.ToBool(rec.stages[0].AutoDeploy) {
		t.Errorf("stages %+v", rec.stages)
	}

	def := aws.ToString(rec.machines[0].Definition)
	if strings.Contains(def, "${") || !strings.Contains(def, "arn:aws:lambda:us-east-1:000000000000:function:cutover-MappingFunction") {
		t.Error("state machine definition not substituted")
	}

	// The sign-off requests, the TEST records and the ledger's TEST
	// deliveries expire; nothing else does (LIVE deliveries never expire).
	var ttl []string
	for _, c := range rec.ttl {
		ttl = append(ttl, aws.ToString(c.TableName)+" "+aws.ToString(c.TimeToLiveSpecification.AttributeName))
	}
	slices.Sort(ttl)
	if !slices.Equal(ttl, []string{"cutover-DeliveryLedgerTable PurgeAt", "cutover-SignOffsTable PurgeAt", "cutover-TestRecordsTable PurgeAt"}) {
		t.Errorf("TTL calls %q", ttl)
	}
}

type apiError struct{ code string }

func (e apiError) Error() string                 { return e.code }
func (e apiError) ErrorCode() string             { return e.code }
func (e apiError) ErrorMessage() string          { return e.code }
func (e apiError) ErrorFault() smithy.ErrorFault { return smithy.FaultServer }

// uploadsBucket is the template's uploads bucket, the one with every
// bucket configuration (CORS, lifecycle, encryption, ...).
func uploadsBucket(t *testing.T, m *samtemplate.Model) samtemplate.Bucket {
	t.Helper()
	for _, b := range m.Buckets {
		if b.LogicalID == "UploadsBucket" {
			return b
		}
	}
	t.Fatal("the template has no UploadsBucket")
	return samtemplate.Bucket{}
}

func TestBucketCallsKumoLacksAreSkippedOthersFail(t *testing.T) {
	m := loadTemplate(t)

	rec := &recorder{encryption: apiError{code: "NotImplemented"}}

	var log bytes.Buffer

	skipped, err := fakeProvisioner(rec, &log).createBucket(context.Background(), uploadsBucket(t, m))
	if err != nil {
		t.Fatal(err)
	}

	if len(skipped) != 1 || skipped[0] != "UploadsBucket: PutBucketEncryption" {
		t.Errorf("skipped %v", skipped)
	}

	if !strings.Contains(log.String(), `"operation":"PutBucketEncryption"`) {
		t.Errorf("skip not logged: %s", log.String())
	}

	for _, op := range []string{"PutBucketCors", "PutBucketLifecycleConfiguration", "PutPublicAccessBlock"} {
		if !strings.Contains(strings.Join(rec.calls, ","), op) {
			t.Errorf("%s not called", op)
		}
	}

	rec = &recorder{encryption: errors.New("connection reset")}

	_, err = fakeProvisioner(rec, &log).createBucket(context.Background(), uploadsBucket(t, m))
	if err == nil || !strings.Contains(err.Error(), "UploadsBucket") || !strings.Contains(err.Error(), "PutBucketEncryption") {
		t.Errorf("a real failure must fail provisioning, naming bucket and call: %v", err)
	}
}

func TestGeneratedSecretsFollowTheTemplate(t *testing.T) {
	g := &samtemplate.GenerateSecret{Length: 64, ExcludePunctuation: true, ExcludeCharacters: "abc"}

	a, err := generateSecret(g)
	if err != nil {
		t.Fatal(err)
	}

	b, _ := generateSecret(g)

	if len(a) != 64 || a == b {
		t.Errorf("secrets %q %q", a, b)
	}

	if strings.ContainsAny(a, "abc!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ ") {
		t.Errorf("secret %q has excluded characters", a)
	}

	if _, err := generateSecret(&samtemplate.GenerateSecret{
		Length: 8, ExcludeUppercase: true, ExcludeLowercase: true,
		ExcludeNumbers: true, ExcludePunctuation: true,
	}); err == nil {
		t.Error("an empty alphabet must be an error")
	}
}
