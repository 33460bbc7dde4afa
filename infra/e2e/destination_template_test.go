package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/cutover/cutover/infra/samtemplate"
)

// A deployment chooses the TEST and the LIVE destination independently
// (issue 14): each function gets only its own environment's settings, an
// https destination's signing secret is a Secrets Manager secret named by
// ARN (never a value in a parameter) that only that function may read,
// and an s3 drop's bucket is granted only to it, only under its prefix;
// a kind not chosen grants nothing.
func TestTemplateDestinationsAreChosenPerEnvironment(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	params := mapValue(doc.Content[0], "Parameters")
	for i := 0; i+1 < len(params.Content); i += 2 {
		if d := mapValue(params.Content[i+1], "Default"); d != nil && strings.Contains(d.Value, "whsec_") {
			t.Errorf("parameter %s has a signing secret as its default", params.Content[i].Value)
		}
	}
	for _, env := range []string{"Test", "Live"} {
		kind := mapValue(params, env+"Destination")
		if kind == nil {
			t.Fatalf("no %sDestination parameter", env)
		}
		if d := mapValue(kind, "Default"); d == nil || d.Value != "builtin" {
			t.Errorf("%sDestination's default is not builtin", env)
		}
		if got := scalars(mapValue(kind, "AllowedValues")); !slices.Equal(got, []string{"builtin", "https", "s3"}) {
			t.Errorf("%sDestination allows %v", env, got)
		}
		for _, p := range []string{"Url", "SecretName", "Bucket", "Prefix"} {
			if mapValue(params, env+"Destination"+p) == nil {
				t.Errorf("no %sDestination%s parameter", env, p)
			}
		}
	}

	resources, stmts := templateStatements(t)
	owners := map[string]string{"Test": "TestMigrateFunction", "Live": "FinalMigrateFunction"}
	for env, owner := range owners {
		var secretGrants, bucketGrants int
		for _, s := range stmts {
			names := strings.Join(s.resources, " ")
			if strings.Contains(names, env+"DestinationSecretName") {
				secretGrants++
				if s.owner != owner || s.condition != env+"IsHttps" || !slices.Equal(s.actions, []string{"secretsmanager:GetSecretValue"}) {
					t.Errorf("%s may %v on %s (condition %q); only %s may read it, only when %sIsHttps", s.owner, s.actions, names, s.condition, owner, env)
				}
			}
			if strings.Contains(names, env+"DestinationBucket") {
				bucketGrants++
				if s.owner != owner || s.condition != env+"IsS3" {
					t.Errorf("%s may %v on %s (condition %q); only %s may, only when %sIsS3", s.owner, s.actions, names, s.condition, owner, env)
				}
				for _, a := range s.actions {
					if a != "s3:PutObject" && a != "s3:GetObject" && a != "s3:ListBucket" {
						t.Errorf("%s may %s on the %s drop", s.owner, a, env)
					}
				}
			}
		}
		if secretGrants != 1 || bucketGrants == 0 {
			t.Errorf("%s: %d grants of its signing secret, %d of its drop bucket", owner, secretGrants, bucketGrants)
		}
	}
	// A destination's settings (URL, secret, bucket, prefix) reach only the
	// function that writes there. The customer API may know the TEST
	// destination's kind alone (to say where the TEST records can be
	// browsed), which grants nothing.
	prefix := map[string]string{"TEST_": "TestMigrateFunction", "LIVE_": "FinalMigrateFunction"}
	for name, body := range resources {
		vars := mapValue(mapValue(mapValue(body, "Properties"), "Environment"), "Variables")
		for i := 0; vars != nil && i+1 < len(vars.Content); i += 2 {
			v := vars.Content[i].Value
			if v == "TEST_DESTINATION" && name == "CustomerApiFunction" {
				continue
			}
			for p, owner := range prefix {
				if strings.HasPrefix(v, p+"DESTINATION") && name != owner {
					t.Errorf("%s has %s; only %s writes that environment", name, v, owner)
				}
			}
		}
	}

	// The template as deployments choose it, resolved with its Conditions.
	fnEnv := func(params map[string]string, fn string) map[string]string {
		t.Helper()
		m, err := samtemplate.Load(filepath.Join("..", "..", "template.yaml"), samtemplate.Options{Parameters: params})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m.Functions {
			if f.LogicalID == fn {
				return f.Environment
			}
		}
		t.Fatalf("no %s", fn)
		return nil
	}
	if e := fnEnv(nil, "TestMigrateFunction"); e["TEST_DESTINATION"] != "builtin" || e["TEST_DESTINATION_URL"] != "" || e["TEST_DESTINATION_SECRET"] != "" {
		t.Errorf("by default TestMigrate has %v", e)
	}
	https := map[string]string{
		"TestDestination": "https", "TestDestinationUrl": "https://staging.vendor.test", "TestDestinationSecretName": "cutover/staging",
		"LiveDestination": "s3", "LiveDestinationBucket": "vendor-drop",
	}
	if e := fnEnv(https, "TestMigrateFunction"); e["TEST_DESTINATION"] != "https" || e["TEST_DESTINATION_URL"] != "https://staging.vendor.test" ||
		e["TEST_DESTINATION_SECRET"] != https["TestDestinationSecretName"] || e["DESTINATION_BATCH_RECORDS"] == "" || e["TEST_DESTINATION_BUCKET"] != "" {
		t.Errorf("TestMigrate with an https TEST has %v", e)
	}
	if e := fnEnv(https, "FinalMigrateFunction"); e["LIVE_DESTINATION"] != "s3" || e["LIVE_DESTINATION_BUCKET"] != "vendor-drop" || e["LIVE_DESTINATION_PREFIX"] == "" ||
		e["LIVE_DESTINATION_URL"] != "" || e["DESTINATION_BATCH_RECORDS"] != "" {
		t.Errorf("FinalMigrate with an s3 LIVE has %v", e)
	}
}
