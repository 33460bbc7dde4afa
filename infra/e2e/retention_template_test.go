package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// templateDoc reads template.yaml as a YAML tree.
func templateDoc(t *testing.T) *yaml.Node {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Content[0]
}

// Personal data is not kept for ever: uploads and artifacts expire by
// prefix after periods the deployment chooses, incomplete multipart
// uploads are aborted, TEST records carry a TTL whose period the
// deployment chooses, and LIVE has none.
func TestTemplateRetentionIsConfigured(t *testing.T) {
	doc := templateDoc(t)
	params := mapValue(doc, "Parameters")
	for _, p := range []string{"UploadRetentionDays", "ArtifactRetentionDays", "TestRecordRetentionDays", "IncompleteUploadDays"} {
		n := mapValue(params, p)
		if n == nil {
			t.Errorf("no parameter %s", p)
			continue
		}
		if v := mapValue(n, "Type"); v == nil || v.Value != "Number" {
			t.Errorf("%s must be a Number", p)
		}
		for _, k := range []string{"Default", "MinValue", "Description"} {
			if mapValue(n, k) == nil {
				t.Errorf("%s has no %s", p, k)
			}
		}
		if v := mapValue(n, "MinValue"); v != nil && v.Value != "1" {
			t.Errorf("%s MinValue %s; want 1 (0 days is no retention at all)", p, v.Value)
		}
	}

	res := mapValue(doc, "Resources")
	rules := mapValue(mapValue(mapValue(mapValue(res, "UploadsBucket"), "Properties"), "LifecycleConfiguration"), "Rules")
	if rules == nil {
		t.Fatal("UploadsBucket has no lifecycle rules")
	}
	var got []string
	for _, r := range rules.Content {
		if v := mapValue(r, "Status"); v == nil || v.Value != "Enabled" {
			t.Errorf("lifecycle rule %s is not enabled", text(r))
		}
		prefix := ""
		if v := mapValue(r, "Prefix"); v != nil {
			prefix = v.Value
		}
		if v := mapValue(r, "ExpirationInDays"); v != nil {
			got = append(got, "expire "+prefix+" "+text(v))
		}
		if v := mapValue(mapValue(r, "AbortIncompleteMultipartUpload"), "DaysAfterInitiation"); v != nil {
			got = append(got, "abort "+prefix+" "+text(v))
		}
	}
	want := []string{"abort  !Ref IncompleteUploadDays", "expire artifacts/ !Ref ArtifactRetentionDays", "expire migrations/ !Ref UploadRetentionDays"}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("lifecycle rules %q; want %q", got, want)
	}

	ttl := mapValue(mapValue(mapValue(res, "TestRecordsTable"), "Properties"), "TimeToLiveSpecification")
	if v := mapValue(ttl, "AttributeName"); v == nil || v.Value != "PurgeAt" {
		t.Errorf("TestRecordsTable TTL %s; want PurgeAt", text(ttl))
	}
	if v := mapValue(ttl, "Enabled"); v == nil || v.Value != "true" {
		t.Error("TestRecordsTable TTL is not enabled")
	}
	if mapValue(mapValue(mapValue(res, "LiveRecordsTable"), "Properties"), "TimeToLiveSpecification") != nil {
		t.Error("LiveRecordsTable has a TTL: live records are never deleted")
	}

	// The TEST writer and the Complete step read the period.
	env := mapValue(mapValue(mapValue(mapValue(doc, "Globals"), "Function"), "Environment"), "Variables")
	if v := mapValue(env, "TEST_RECORD_RETENTION_DAYS"); v == nil || strings.TrimSpace(text(v)) != "!Ref TestRecordRetentionDays" {
		t.Errorf("TEST_RECORD_RETENTION_DAYS = %q; want !Ref TestRecordRetentionDays", text(v))
	}
	_, stmts := templateStatements(t)
	var complete []string
	for _, s := range stmts {
		if s.owner != "CompleteFunction" {
			continue
		}
		for _, r := range s.resources {
			if strings.Contains(r, "TestRecordsTable") {
				complete = append(complete, s.actions...)
			}
		}
	}
	slices.Sort(complete)
	if !slices.Equal(complete, []string{"dynamodb:BatchWriteItem", "dynamodb:Query"}) {
		t.Errorf("CompleteFunction may %v on TEST; it needs exactly Query and BatchWriteItem to set its records' expiry", complete)
	}
}
