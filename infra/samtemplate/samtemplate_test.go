package samtemplate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const realTemplate = "../../template.yaml"

func loadReal(t *testing.T, o Options) *Model {
	t.Helper()

	m, err := Load(realTemplate, o)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	return m
}

// rawYAML reads template.yaml independently of the package under test.
type rawYAML struct {
	Globals struct {
		Function struct {
			Timeout     int `yaml:"Timeout"`
			MemorySize  int `yaml:"MemorySize"`
			Environment struct {
				Variables map[string]yaml.Node `yaml:"Variables"`
			} `yaml:"Environment"`
		} `yaml:"Function"`
	} `yaml:"Globals"`
	Resources map[string]struct {
		Type       string    `yaml:"Type"`
		Properties yaml.Node `yaml:"Properties"`
	} `yaml:"Resources"`
}

func readRawYAML(t *testing.T) rawYAML {
	t.Helper()

	data, err := os.ReadFile(realTemplate)
	if err != nil {
		t.Fatal(err)
	}

	var r rawYAML
	if err := yaml.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}

	return r
}

// rawProps decodes a resource's Properties into v (intrinsic tags decode as
// their scalar argument).
func rawProps(t *testing.T, n yaml.Node, v any) {
	t.Helper()

	if err := n.Decode(v); err != nil {
		t.Fatal(err)
	}
}

type rawEvent struct {
	Type       string `yaml:"Type"`
	Properties struct {
		ApiID  string `yaml:"ApiId"`
		Method string `yaml:"Method"`
		Path   string `yaml:"Path"`
		Auth   struct {
			Authorizer string `yaml:"Authorizer"`
		} `yaml:"Auth"`
	} `yaml:"Properties"`
}

func TestEveryHttpApiEventBecomesARoute(t *testing.T) {
	m := loadReal(t, Options{})
	raw := readRawYAML(t)

	if len(m.HTTPAPIs) != 1 {
		t.Fatalf("want 1 HTTP API, got %d", len(m.HTTPAPIs))
	}

	api := m.HTTPAPIs[0]
	routes := map[string]Route{}

	for _, r := range api.Routes {
		routes[r.Function+"."+r.Event] = r
	}

	events := 0

	for id, res := range raw.Resources {
		if res.Type != "AWS::Serverless::Function" {
			continue
		}

		var props struct {
			Events map[string]rawEvent `yaml:"Events"`
		}

		rawProps(t, res.Properties, &props)

		for name, ev := range props.Events {
			if ev.Type != "HttpApi" {
				continue
			}

			events++

			r, ok := routes[id+"."+name]
			if !ok {
				t.Errorf("event %s.%s has no route", id, name)

				continue
			}

			if ev.Properties.ApiID != api.LogicalID {
				t.Errorf("event %s.%s: ApiId %s, model put it on %s", id, name, ev.Properties.ApiID, api.LogicalID)
			}

			if r.Method != strings.ToUpper(ev.Properties.Method) || r.Path != ev.Properties.Path {
				t.Errorf("event %s.%s: route %q, template says %s %s", id, name, r.RouteKey(), ev.Properties.Method, ev.Properties.Path)
			}

			if r.Authorizer != ev.Properties.Auth.Authorizer {
				t.Errorf("event %s.%s: authorizer %q, template says %q", id, name, r.Authorizer, ev.Properties.Auth.Authorizer)
			}
		}
	}

	if events == 0 || events != len(api.Routes) {
		t.Errorf("template has %d HttpApi events, model has %d routes", events, len(api.Routes))
	}

	if len(api.Authorizers) != 1 || api.Authorizers[0].Name != "OpsAuthorizer" {
		t.Fatalf("authorizers: %+v", api.Authorizers)
	}

	a := api.Authorizers[0]
	if a.Issuer != m.Parameters["OpsJwtIssuer"] || !slices.Equal(a.Audience, []string{m.Parameters["OpsJwtAudience"]}) {
		t.Errorf("authorizer issuer/audience %q %v do not come from the parameters", a.Issuer, a.Audience)
	}

	if !slices.Equal(a.IdentitySources, []string{"$request.header.Authorization"}) {
		t.Errorf("identity sources %v", a.IdentitySources)
	}
}

func TestEveryTableHasItsKeys(t *testing.T) {
	m := loadReal(t, Options{})
	raw := readRawYAML(t)

	tables := map[string]Table{}
	for _, tb := range m.Tables {
		tables[tb.LogicalID] = tb
	}

	n := 0

	for id, res := range raw.Resources {
		if res.Type != "AWS::DynamoDB::Table" {
			continue
		}

		n++

		var props struct {
			AttributeDefinitions []struct {
				AttributeName string `yaml:"AttributeName"`
				AttributeType string `yaml:"AttributeType"`
			} `yaml:"AttributeDefinitions"`
			KeySchema []struct {
				AttributeName string `yaml:"AttributeName"`
				KeyType       string `yaml:"KeyType"`
			} `yaml:"KeySchema"`
			GlobalSecondaryIndexes []struct {
				IndexName string `yaml:"IndexName"`
			} `yaml:"GlobalSecondaryIndexes"`
			TimeToLiveSpecification struct {
				AttributeName string `yaml:"AttributeName"`
			} `yaml:"TimeToLiveSpecification"`
		}

		rawProps(t, res.Properties, &props)

		tb, ok := tables[id]
		if !ok {
			t.Errorf("table %s missing from model", id)

			continue
		}

		if tb.Name != "cutover-"+id {
			t.Errorf("table %s physical name %q", id, tb.Name)
		}

		for _, k := range props.KeySchema {
			got := tb.HashKey
			if k.KeyType == "RANGE" {
				got = tb.RangeKey
			}

			if got != k.AttributeName {
				t.Errorf("table %s %s key: got %q want %q", id, k.KeyType, got, k.AttributeName)
			}
		}

		for _, a := range props.AttributeDefinitions {
			if tb.Attributes[a.AttributeName] != a.AttributeType {
				t.Errorf("table %s attribute %s: got %q want %q", id, a.AttributeName, tb.Attributes[a.AttributeName], a.AttributeType)
			}
		}

		if len(tb.GSIs) != len(props.GlobalSecondaryIndexes) {
			t.Errorf("table %s: %d GSIs, template has %d", id, len(tb.GSIs), len(props.GlobalSecondaryIndexes))
		}

		for _, g := range tb.GSIs {
			if _, ok := tb.Attributes[g.HashKey]; !ok || g.ProjectionType == "" {
				t.Errorf("table %s index %s: %+v", id, g.Name, g)
			}
		}

		if tb.TTLAttribute != props.TimeToLiveSpecification.AttributeName {
			t.Errorf("table %s TTL %q, template %q", id, tb.TTLAttribute, props.TimeToLiveSpecification.AttributeName)
		}
	}

	if n == 0 || n != len(m.Tables) {
		t.Errorf("template has %d tables, model %d", n, len(m.Tables))
	}
}

func TestBucketSecretAndIgnoredProperties(t *testing.T) {
	m := loadReal(t, Options{Parameters: map[string]string{"AllowedOrigin": "http://127.0.0.1:8080"}})

	var names []string
	var b Bucket
	for _, x := range m.Buckets {
		names = append(names, x.LogicalID)
		if x.LogicalID == "UploadsBucket" {
			b = x
		}
	}
	if strings.Join(names, ",") != "SiteBucket,UploadsBucket" {
		t.Fatalf("buckets: %v", names)
	}
	if b.Name != "cutover-uploadsbucket" {
		t.Errorf("bucket name %q (must be lower case)", b.Name)
	}

	if len(b.CORS) != 1 || !slices.Equal(b.CORS[0].AllowedOrigins, []string{"http://127.0.0.1:8080"}) ||
		!slices.Equal(b.CORS[0].ExposedHeaders, []string{"ETag"}) || b.CORS[0].MaxAgeSeconds != 3600 {
		t.Errorf("CORS %+v", b.CORS)
	}

	// The retention parameters' defaults, resolved into the rules.
	wantLifecycle := []LifecycleRule{
		{ID: "AbortIncompleteUploads", Enabled: true, AbortIncompleteMultipartUploadDays: 1},
		{ID: "ExpireUploads", Enabled: true, Prefix: "migrations/", ExpirationDays: 90},
		{ID: "ExpireArtifacts", Enabled: true, Prefix: "artifacts/", ExpirationDays: 365},
	}
	if !slices.Equal(b.Lifecycle, wantLifecycle) {
		t.Errorf("lifecycle %+v; want %+v", b.Lifecycle, wantLifecycle)
	}

	if p := b.PublicAccessBlock; p == nil || !p.BlockPublicAcls || !p.BlockPublicPolicy || !p.IgnorePublicAcls || !p.RestrictPublicBuckets {
		t.Errorf("public access block %+v", p)
	}

	if len(b.Encryption) != 1 || b.Encryption[0].Algorithm != "AES256" {
		t.Errorf("encryption %+v", b.Encryption)
	}

	if len(m.Secrets) != 1 || m.Secrets[0].Generate == nil || m.Secrets[0].Generate.Length != 64 || !m.Secrets[0].Generate.ExcludePunctuation {
		t.Errorf("secrets %+v", m.Secrets)
	}

	if !slices.Contains(m.Ignored, "CustomerApiFunction.LoggingConfig") || !slices.Contains(m.Ignored, "CutoverApi.AccessLogSettings") {
		t.Errorf("ignored properties not reported: %v", m.Ignored)
	}
}

func TestEveryDefinitionSubstitutionResolves(t *testing.T) {
	m := loadReal(t, Options{})

	if len(m.StateMachines) != 1 {
		t.Fatalf("state machines: %+v", m.StateMachines)
	}

	sm := m.StateMachines[0]
	if sm.ARN != "arn:aws:states:us-east-1:000000000000:stateMachine:cutover-MigrationStateMachine" {
		t.Errorf("state machine ARN %q", sm.ARN)
	}

	def, err := sm.Definition()
	if err != nil {
		t.Fatal(err)
	}

	if strings.Contains(def, "${") {
		t.Errorf("definition still has a placeholder")
	}

	var asl struct {
		States map[string]struct {
			Type       string         `json:"Type"`
			Parameters map[string]any `json:"Parameters"`
		} `json:"States"`
	}

	if err := json.Unmarshal([]byte(def), &asl); err != nil {
		t.Fatal(err)
	}

	fnARNs := map[string]bool{}
	for _, f := range m.Functions {
		fnARNs[f.ARN] = true
	}

	tasks := 0

	for name, st := range asl.States {
		if st.Type != "Task" {
			continue
		}

		tasks++

		arn, _ := st.Parameters["FunctionName"].(string)
		if !fnARNs[arn] {
			t.Errorf("state %s invokes %q, which is no template function's ARN", name, arn)
		}
	}

	if tasks == 0 {
		t.Error("no Task states found")
	}
}

func TestFunctionsGetGlobalsAndResolvedEnvironment(t *testing.T) {
	// TestStagingUrl is optional (empty by default); set here so that every
	// declared variable has a value to check.
	m := loadReal(t, Options{StackName: "e2e1", Parameters: map[string]string{"SiteUrl": "http://127.0.0.1:9999", "TestStagingUrl": "https://staging.example.com/{tenantId}"}})
	raw := readRawYAML(t)

	fnCount := 0

	for id, res := range raw.Resources {
		if res.Type != "AWS::Serverless::Function" {
			continue
		}

		fnCount++

		var props struct {
			CodeURI     string `yaml:"CodeUri"`
			Timeout     int    `yaml:"Timeout"`
			MemorySize  int    `yaml:"MemorySize"`
			Environment struct {
				Variables map[string]yaml.Node `yaml:"Variables"`
			} `yaml:"Environment"`
		}

		rawProps(t, res.Properties, &props)

		f, ok := m.Function(id)
		if !ok {
			t.Errorf("function %s missing", id)

			continue
		}

		wantTimeout, wantMem := raw.Globals.Function.Timeout, raw.Globals.Function.MemorySize
		if props.Timeout != 0 {
			wantTimeout = props.Timeout
		}

		if props.MemorySize != 0 {
			wantMem = props.MemorySize
		}

		if f.Timeout != wantTimeout || f.MemorySize != wantMem {
			t.Errorf("%s: timeout/memory %d/%d, want %d/%d", id, f.Timeout, f.MemorySize, wantTimeout, wantMem)
		}

		if f.CodeDir != filepath.Join(m.Dir, filepath.Clean(props.CodeURI)) {
			t.Errorf("%s: CodeDir %q from CodeUri %q", id, f.CodeDir, props.CodeURI)
		}

		if f.Name != "e2e1-"+id || f.ARN != "arn:aws:lambda:us-east-1:000000000000:function:e2e1-"+id {
			t.Errorf("%s: name %q arn %q", id, f.Name, f.ARN)
		}

		want := map[string]bool{}
		for k := range raw.Globals.Function.Environment.Variables {
			want[k] = true
		}

		// A variable chosen by !If (a destination kind's settings) is set
		// only when its condition holds: with the default parameters
		// (builtin destinations) it is absent, and resolved when present.
		for k, v := range props.Environment.Variables {
			if v.Tag == "!If" {
				if got, ok := f.Environment[k]; ok && (got == "" || strings.Contains(got, unresolvedPrefix)) {
					t.Errorf("%s: conditional env %s=%q is not resolved", id, k, got)
				}

				continue
			}

			want[k] = true
		}

		if len(f.Environment) != len(want) {
			t.Errorf("%s: %d env vars, template declares %d", id, len(f.Environment), len(want))
		}

		for k := range want {
			v := f.Environment[k]
			if v == "" || strings.Contains(v, unresolvedPrefix) {
				t.Errorf("%s: env %s=%q is not resolved", id, k, v)
			}
		}

		if f.Environment["SITE_URL"] != "http://127.0.0.1:9999" {
			t.Errorf("%s: SITE_URL %q ignores the parameter override", id, f.Environment["SITE_URL"])
		}

		if f.Environment["MIGRATIONS_TABLE"] != "e2e1-MigrationsTable" || f.Environment["UPLOADS_BUCKET"] != "e2e1-uploadsbucket" {
			t.Errorf("%s: resource refs not resolved to local names: %v", id, f.Environment)
		}
	}

	if fnCount == 0 || fnCount != len(m.Functions) {
		t.Errorf("template has %d functions, model %d", fnCount, len(m.Functions))
	}

	c, _ := m.Function("CustomerApiFunction")
	if c.Environment["STATE_MACHINE_ARN"] != m.StateMachines[0].ARN {
		t.Errorf("STATE_MACHINE_ARN %q", c.Environment["STATE_MACHINE_ARN"])
	}

	r, _ := m.Function("RequestSignOffFunction")
	if r.Environment["SIGNOFF_TIMEOUT_SECONDS"] != "604800" || r.Environment["LINK_SECRET_ARN"] != m.Secrets[0].ARN {
		t.Errorf("RequestSignOff env %v", r.Environment)
	}
}

func TestBindReplacesEmulatorAssignedIdentifiers(t *testing.T) {
	m := loadReal(t, Options{})

	const secretARN = "arn:aws:secretsmanager:us-east-1:000000000000:secret:cutover-LinkSigningSecret-AbC123"

	b, err := m.Bind(map[string]Binding{"LinkSigningSecret": {ARN: secretARN}, "CutoverApi": {Name: "abc123"}})
	if err != nil {
		t.Fatal(err)
	}

	f, _ := b.Function("SignOffApiFunction")
	if f.Environment["LINK_SECRET_ARN"] != secretARN || b.ARNs["LinkSigningSecret"] != secretARN {
		t.Errorf("secret ARN not bound: %q", f.Environment["LINK_SECRET_ARN"])
	}

	if b.HTTPAPIs[0].ID != "abc123" || b.Names["CutoverApi"] != "abc123" {
		t.Errorf("api id not bound: %+v", b.HTTPAPIs[0])
	}

	if m.HTTPAPIs[0].ID != "" {
		t.Error("Bind changed the original model")
	}
}

func TestParameterOverridesAreChecked(t *testing.T) {
	cases := map[string]map[string]string{
		"unknown parameter": {"NoSuchParameter": "x"},
		"below MinValue":    {"SignOffTimeoutSeconds": "0"},
		"not a number":      {"SignOffTimeoutSeconds": "soon"},
		"not allowed":       {"LogRetentionDays": "2"},
	}

	for name, params := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Load(realTemplate, Options{Parameters: params}); err == nil {
				t.Errorf("Load accepted %v", params)
			}
		})
	}
}

func writeTemplate(t *testing.T, body string) string {
	t.Helper()

	dir := t.TempDir()
	p := filepath.Join(dir, "template.yaml")

	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}

	return p
}

func TestIntrinsicsOnASmallTemplate(t *testing.T) {
	p := writeTemplate(t, `
Transform: AWS::Serverless-2016-10-31
Parameters:
  Env: { Type: String, Default: dev }
Resources:
  Q:
    Type: AWS::SNS::Topic
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: bootstrap
      Runtime: provided.al2023
      Environment:
        Variables:
          REGION: !Sub "${AWS::Region}-${Env}"
          LITERAL: !Sub "${!NotAVar}"
          LISTFORM: !Sub ["${A}/${Q.TopicName}", { A: !Ref Env }]
          TOPIC: !Ref Q
          JOINED: !Join ["-", [!Ref "AWS::AccountId", !Ref "AWS::Partition"]]
`)

	m, err := Load(p, Options{StackName: "s"})
	if err != nil {
		t.Fatal(err)
	}

	f, _ := m.Function("Fn")
	want := map[string]string{
		"REGION":   "us-east-1-dev",
		"LITERAL":  "${NotAVar}",
		"LISTFORM": "dev/s-Q",
		"TOPIC":    "arn:aws:sns:us-east-1:000000000000:s-Q",
		"JOINED":   "000000000000-aws",
	}

	for k, v := range want {
		if f.Environment[k] != v {
			t.Errorf("%s = %q, want %q", k, f.Environment[k], v)
		}
	}

	if f.Timeout != 3 || f.MemorySize != 128 {
		t.Errorf("SAM defaults not applied: %d/%d", f.Timeout, f.MemorySize)
	}
}

func TestUnresolvableValuesAreErrors(t *testing.T) {
	cases := map[string]string{
		"getatt of unknown attribute": `
Resources:
  T: { Type: AWS::DynamoDB::Table, Properties: { KeySchema: [{AttributeName: K, KeyType: HASH}], AttributeDefinitions: [{AttributeName: K, AttributeType: S}] } }
  Fn:
    Type: AWS::Serverless::Function
    Properties: { CodeUri: fn/, Environment: { Variables: { S: !GetAtt T.StreamArn } } }
`,
		"ref to nothing": `
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: { CodeUri: fn/, Environment: { Variables: { S: !Ref Missing } } }
`,
		"key without attribute definition": `
Resources:
  T: { Type: AWS::DynamoDB::Table, Properties: { KeySchema: [{AttributeName: K, KeyType: HASH}], AttributeDefinitions: [{AttributeName: X, AttributeType: S}] } }
`,
		"condition over a resource": `
Conditions:
  C: !Equals [!Ref T, b]
Resources:
  T: { Type: AWS::SNS::Topic }
`,
		"undeclared condition": `
Resources:
  T: { Type: AWS::SNS::Topic, Condition: Nowhere }
`,
		"http api event without api": `
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Events: { E: { Type: HttpApi, Properties: { Method: GET, Path: /x } } }
`,
	}

	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Load(writeTemplate(t, "Transform: AWS::Serverless-2016-10-31\n"+body), Options{}); err == nil {
				t.Error("Load succeeded")
			} else {
				t.Log(err)
			}
		})
	}
}

func TestDefinitionReportsMissingSubstitution(t *testing.T) {
	dir := t.TempDir()
	def := filepath.Join(dir, "sm.json")

	if err := os.WriteFile(def, []byte(`{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"${Known}","Next":"B"},"B":{"Type":"Task","Resource":"${Unknown}","End":true}}}`), 0o600); err != nil {
		t.Fatal(err)
	}

	sm := StateMachine{LogicalID: "SM", DefinitionPath: def, Substitutions: map[string]string{"Known": "arn:x"}}

	_, err := sm.Definition()
	if err == nil || !strings.Contains(err.Error(), "Unknown") {
		t.Fatalf("want an error naming Unknown, got %v", err)
	}

	sm.Substitutions["Unknown"] = "arn:y"

	out, err := sm.Definition()
	if err != nil || !strings.Contains(out, `"arn:y"`) {
		t.Fatalf("%q %v", out, err)
	}
}

// TestFunctionBuildMethodIsRead checks that a function's Metadata
// BuildMethod reaches the model, and that every function of the real
// template is built by its Makefile target: SAM's go1.x BuildMethod takes no
// -ldflags, so only a makefile build strips the binary (issue 13).
func TestFunctionBuildMethodIsRead(t *testing.T) {
	p := writeTemplate(t, `
Transform: AWS::Serverless-2016-10-31
Resources:
  Made:
    Type: AWS::Serverless::Function
    Metadata: { BuildMethod: makefile }
    Properties: { CodeUri: made/, Handler: bootstrap, Runtime: provided.al2023 }
  Plain:
    Type: AWS::Serverless::Function
    Properties: { CodeUri: plain/, Handler: bootstrap, Runtime: provided.al2023 }
`)

	m, err := Load(p, Options{})
	if err != nil {
		t.Fatal(err)
	}

	if f, _ := m.Function("Made"); f.BuildMethod != "makefile" {
		t.Errorf("Made: BuildMethod %q, want makefile", f.BuildMethod)
	}

	if f, _ := m.Function("Plain"); f.BuildMethod != "" {
		t.Errorf("Plain: BuildMethod %q, want none", f.BuildMethod)
	}

	var raw struct {
		Resources map[string]struct {
			Type     string `yaml:"Type"`
			Metadata struct {
				BuildMethod string `yaml:"BuildMethod"`
			} `yaml:"Metadata"`
		} `yaml:"Resources"`
	}

	data, err := os.ReadFile(realTemplate)
	if err != nil {
		t.Fatal(err)
	}

	if err := yaml.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}

	real := loadReal(t, Options{})
	n := 0

	for id, r := range raw.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}

		n++

		if r.Metadata.BuildMethod != "makefile" {
			t.Errorf("%s: template BuildMethod %q, want makefile", id, r.Metadata.BuildMethod)
		}

		if f, ok := real.Function(id); !ok || f.BuildMethod != r.Metadata.BuildMethod {
			t.Errorf("%s: model BuildMethod %q, template %q", id, f.BuildMethod, r.Metadata.BuildMethod)
		}
	}

	if n == 0 || n != len(real.Functions) {
		t.Errorf("template has %d functions, model %d", n, len(real.Functions))
	}
}
