package stack

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/cutover/cutover/infra/samtemplate"
)

const fixtureRoot = "testdata/root"

type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.String()
}

// TestStackFromATemplate stands a small template (testdata/root) up and
// exercises everything Start promises: site, API proxy with the JWT
// authorizer, function errors, Step Functions Catch, the provisioned
// resources, and a Close that leaves nothing running.
func TestStackFromATemplate(t *testing.T) {
	log := &logBuffer{}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	st, err := Start(ctx, Options{Root: fixtureRoot, StackName: "fixture", Log: log})
	if err != nil {
		t.Fatalf("Start: %v\n%s", err, log.String())
	}

	closed := false

	t.Cleanup(func() {
		if !closed {
			_ = st.Close()
		}

		if t.Failed() {
			t.Logf("stack log:\n%s", log.String())
		}
	})

	t.Run("site", func(t *testing.T) { checkSite(t, st) })
	t.Run("api", func(t *testing.T) { checkAPI(t, st) })
	t.Run("ops authorizer", func(t *testing.T) { checkOpsAuthorizer(t, st) })
	t.Run("step functions", func(t *testing.T) { checkStepFunctions(ctx, t, st) })
	t.Run("resources", func(t *testing.T) { checkResources(ctx, t, st) })

	if strings.Contains(log.String(), st.SigningKey) {
		t.Error("the signing key reached the log")
	}

	root, _ := filepath.Abs(fixtureRoot)
	buildDir := filepath.Join(root, ".build")

	if pids := processesRunning(buildDir); len(pids) == 0 {
		t.Errorf("found no running processes from %s; the orphan check below would prove nothing", buildDir)
	}

	closed = true

	if err := st.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}

	if pids := processesRunning(buildDir); len(pids) > 0 {
		t.Errorf("processes still running after Close: %v", pids)
	}

	for _, u := range []string{st.Endpoint + "/health", st.SiteURL + "/config.js"} {
		if resp, err := http.Get(u); err == nil {
			_ = resp.Body.Close()
			t.Errorf("%s still answers after Close", u)
		}
	}
}

func get(t *testing.T, url, bearer string) (int, string) {
	t.Helper()

	return do(t, http.MethodGet, url, bearer)
}

func do(t *testing.T, method, url, bearer string) (int, string) {
	t.Helper()

	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}

	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}

	defer func() { _ = resp.Body.Close() }()

	b, _ := io.ReadAll(resp.Body)

	return resp.StatusCode, string(b)
}

func checkSite(t *testing.T, st *Stack) {
	if status, body := get(t, st.SiteURL+"/", ""); status != http.StatusOK || !strings.Contains(body, "fixture site") {
		t.Errorf("index: %d %q", status, body)
	}

	if status, body := get(t, st.SiteURL+"/config.js", ""); status != http.StatusOK || body != `window.CUTOVER = {"apiBase": "/api"};`+"\n" {
		t.Errorf("config.js: %d %q", status, body)
	}

	if st.APIURL != st.SiteURL+"/api" {
		t.Errorf("APIURL %q", st.APIURL)
	}
}

func checkAPI(t *testing.T, st *Stack) {
	status, body := get(t, st.APIURL+"/hello/world", "")
	if status != http.StatusOK {
		t.Fatalf("GET /hello/world: %d %s", status, body)
	}

	var seen struct {
		RouteKey, Name, SiteURL, Table, SecretARN string
		SecretSize                                int
	}

	if err := json.Unmarshal([]byte(body), &seen); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}

	if seen.RouteKey != "GET /hello/{name}" || seen.Name != "world" {
		t.Errorf("route %q name %q", seen.RouteKey, seen.Name)
	}

	// Parameter overrides, resolved names and the secret's real ARN (with
	// kumo's random suffix) reach the function's environment.
	if seen.SiteURL != st.SiteURL || seen.Table != "fixture-ItemsTable" || seen.Table != st.Names["ItemsTable"] {
		t.Errorf("environment %+v", seen)
	}

	if seen.SecretARN != st.ARNs["LinkSigningSecret"] ||
		!regexp.MustCompile(`^arn:aws:secretsmanager:us-east-1:000000000000:secret:fixture-LinkSigningSecret-.{6}$`).MatchString(seen.SecretARN) {
		t.Errorf("secret ARN %q (stack says %q)", seen.SecretARN, st.ARNs["LinkSigningSecret"])
	}

	if seen.SecretSize != 64 {
		t.Errorf("the function could not read its 64-character secret from kumo: size %d", seen.SecretSize)
	}

	if status, body := do(t, http.MethodPost, st.APIURL+"/fail", ""); status != http.StatusInternalServerError {
		t.Errorf("a function error must be a 500: %d %s", status, body)
	}

	if status, _ := get(t, st.APIURL+"/nowhere", ""); status != http.StatusNotFound {
		t.Errorf("unknown route: %d", status)
	}

	// The API is also reachable directly on kumo.
	if !strings.HasPrefix(st.ExecuteAPIURL, "http://"+st.Names["Api"]+".execute-api.localhost:") {
		t.Errorf("ExecuteAPIURL %q, api id %q", st.ExecuteAPIURL, st.Names["Api"])
	}
}

func checkOpsAuthorizer(t *testing.T, st *Stack) {
	url := st.APIURL + "/ops/hello"

	if status, _ := get(t, url, ""); status != http.StatusUnauthorized {
		t.Errorf("no token: %d", status)
	}

	status, body := get(t, url, st.MintOpsToken("ana@vendor.test", time.Hour))
	if status != http.StatusOK || !strings.Contains(body, `"sub":"ana@vendor.test"`) {
		t.Errorf("minted token: %d %s", status, body)
	}

	if status, _ := get(t, url, st.MintOpsToken("ana@vendor.test", -time.Minute)); status != http.StatusUnauthorized {
		t.Errorf("expired token: %d", status)
	}

	now := time.Now()
	for name, claims := range map[string]map[string]any{
		"wrong issuer":   {"iss": "https://elsewhere.example/", "aud": "fixture-ops", "sub": "x", "exp": now.Add(time.Hour).Unix()},
		"wrong audience": {"iss": LocalOpsIssuer, "aud": "other", "sub": "x", "exp": now.Add(time.Hour).Unix()},
	} {
		if status, _ := get(t, url, signHS256([]byte("k"), claims)); status != http.StatusUnauthorized {
			t.Errorf("%s: %d", name, status)
		}
	}
}

func awsConfig(st *Stack) aws.Config {
	return aws.Config{
		Region:       st.Region,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(st.Endpoint),
	}
}

func checkStepFunctions(ctx context.Context, t *testing.T, st *Stack) {
	sc := sfn.NewFromConfig(awsConfig(st))

	run := func(fail bool) map[string]any {
		ex, err := sc.StartExecution(ctx, &sfn.StartExecutionInput{
			StateMachineArn: aws.String(st.ARNs["Machine"]),
			Input:           aws.String(`{"fail":` + strconv.FormatBool(fail) + `}`),
		})
		if err != nil {
			t.Fatal(err)
		}

		for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
			d, err := sc.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: ex.ExecutionArn})
			if err != nil {
				t.Fatal(err)
			}

			if d.Status == sfntypes.ExecutionStatusSucceeded {
				var out map[string]any
				_ = json.Unmarshal([]byte(aws.ToString(d.Output)), &out)

				return out
			}

			if d.Status != sfntypes.ExecutionStatusRunning {
				t.Fatalf("execution %s: %s", d.Status, aws.ToString(d.Cause))
			}

			if time.Now().After(deadline) {
				t.Fatal("execution still running")
			}
		}
	}

	if out := run(false); out["outcome"] != "done" {
		t.Errorf("success path: %v", out)
	}

	out := run(true)
	e, _ := out["error"].(map[string]any)
	if out["outcome"] != "failed" || e["Error"] != "States.TaskFailed" {
		t.Errorf("a failing task must reach the Catch: %v", out)
	}

	// The runner names the function's error type in the failure kumo reports.
	if cause, _ := e["Cause"].(string); !strings.Contains(cause, "/failed/"+st.Names["StepFunction"]+"/errorString") {
		t.Errorf("cause %q does not carry the error type", cause)
	}
}

func checkResources(ctx context.Context, t *testing.T, st *Stack) {
	cfg := awsConfig(st)

	db := dynamodb.NewFromConfig(cfg)

	table, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(st.Names["ItemsTable"])})
	if err != nil {
		t.Fatal(err)
	}

	if gsis := table.Table.GlobalSecondaryIndexes; len(gsis) != 1 || aws.ToString(gsis[0].IndexName) != "ByOwner" {
		t.Errorf("indexes %+v", gsis)
	}

	ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(st.Names["ItemsTable"])})
	if err != nil || aws.ToString(ttl.TimeToLiveDescription.AttributeName) != "ExpiresAt" {
		t.Errorf("TTL %+v %v", ttl, err)
	}

	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	bucket := aws.String(st.Names["FilesBucket"])

	cors, err := s3c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: bucket})
	if err != nil || len(cors.CORSRules) != 1 || len(cors.CORSRules[0].AllowedOrigins) != 1 || cors.CORSRules[0].AllowedOrigins[0] != st.SiteURL {
		t.Errorf("CORS %+v %v (want origin %s)", cors, err, st.SiteURL)
	}

	pab, err := s3c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: bucket})
	if err != nil || !aws.ToBool(pab.PublicAccessBlockConfiguration.BlockPublicAcls) || !aws.ToBool(pab.PublicAccessBlockConfiguration.RestrictPublicBuckets) {
		t.Errorf("public access block %+v %v", pab, err)
	}

	enc, err := s3c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: bucket})
	if err != nil || len(enc.ServerSideEncryptionConfiguration.Rules) != 1 ||
		enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != "AES256" {
		t.Errorf("encryption %+v %v", enc, err)
	}

	lc, err := s3c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: bucket})
	if err != nil || len(lc.Rules) != 1 || lc.Rules[0].AbortIncompleteMultipartUpload == nil ||
		aws.ToInt32(lc.Rules[0].AbortIncompleteMultipartUpload.DaysAfterInitiation) != 1 {
		t.Errorf("lifecycle %+v %v", lc, err)
	}

	secret, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(st.ARNs["LinkSigningSecret"])})
	if err != nil || aws.ToString(secret.SecretString) != st.SigningKey || !regexp.MustCompile(`^[A-Za-z0-9]{64}$`).MatchString(st.SigningKey) {
		t.Errorf("secret: %v (signing key of %d characters)", err, len(st.SigningKey))
	}

	if _, err := sesv2.NewFromConfig(cfg).GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("sender@example.com")}); err != nil {
		t.Errorf("SES identity: %v", err)
	}
}

// processesRunning lists running (not zombie) processes whose executable
// lies under dir. It returns nil where /proc is not available.
func processesRunning(dir string) []string {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}

	var out []string

	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}

		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !strings.HasPrefix(string(cmdline), dir+string(filepath.Separator)) {
			continue
		}

		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err == nil {
			s := string(stat)
			if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) && s[i+2] == 'Z' {
				continue
			}
		}

		out = append(out, fmt.Sprintf("%d %s", pid, strings.ReplaceAll(string(cmdline), "\x00", " ")))
	}

	return out
}

func TestMintOpsTokenClaimsAndSignature(t *testing.T) {
	s := &Stack{issuer: LocalOpsIssuer, audience: "cutover-ops"}
	if err := s.newJWTKey(); err != nil {
		t.Fatal(err)
	}

	before := time.Now().Unix()
	tok := s.MintOpsToken("ana@vendor.test", time.Hour)
	parts := strings.Split(tok, ".")

	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}

	mac := hmac.New(sha256.New, s.jwtKey)
	mac.Write([]byte(parts[0] + "." + parts[1]))

	if sig, _ := base64.RawURLEncoding.DecodeString(parts[2]); !hmac.Equal(sig, mac.Sum(nil)) {
		t.Error("signature does not verify with the stack's key")
	}

	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}

	var c struct {
		Iss, Aud, Sub, Email string
		Exp, Iat             int64
	}

	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}

	if c.Iss != LocalOpsIssuer || c.Aud != "cutover-ops" || c.Sub != "ana@vendor.test" || c.Email != "ana@vendor.test" {
		t.Errorf("claims %+v", c)
	}

	if c.Iat < before || c.Exp != c.Iat+3600 {
		t.Errorf("iat %d exp %d (minted after %d)", c.Iat, c.Exp, before)
	}
}

func TestTemplateFunctionWithoutMainPackageIsNamed(t *testing.T) {
	dir := t.TempDir()

	write := func(rel, content string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}

		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	write("functions/good/main.go", "package main\n\nfunc main() {}\n")
	write("functions/lib/lib.go", "package lib\n")
	write("functions/lib/lib_test.go", "package main\n")

	m := &samtemplate.Model{Dir: dir, Functions: []samtemplate.Function{
		{LogicalID: "GoodFunction", CodeDir: filepath.Join(dir, "functions/good")},
		{LogicalID: "LibFunction", CodeDir: filepath.Join(dir, "functions/lib")},
		{LogicalID: "MissingFunction", CodeDir: filepath.Join(dir, "functions/missing")},
	}}

	err := checkMainPackages(m)
	if err == nil {
		t.Fatal("no error")
	}

	for _, want := range []string{"LibFunction (CodeUri functions/lib)", "MissingFunction (CodeUri functions/missing)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}

	if strings.Contains(err.Error(), "GoodFunction") {
		t.Errorf("error %q names a function that has a main package", err)
	}
}
