package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// mapValue returns the value of key in a YAML mapping node.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// scalars flattens a scalar or a sequence of scalars, keeping tags (so
// `!GetAtt LiveRecordsTable.Arn` reads "!GetAtt LiveRecordsTable.Arn").
func scalars(n *yaml.Node) []string {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.SequenceNode {
		var out []string
		for _, c := range n.Content {
			out = append(out, scalars(c)...)
		}
		return out
	}
	if n.Tag != "" && strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return []string{n.Tag + " " + n.Value}
	}
	return []string{n.Value}
}

type statement struct {
	owner     string
	actions   []string
	resources []string
	// condition is the Condition of the !If the statement stands in
	// ("!Not" prefixed for its false branch); "" when unconditional.
	condition string
}

// text flattens every scalar under n, so a resource in any form
// (`!GetAtt X.Arn`, `{"Fn::GetAtt": [...]}`, `!Sub "${X.Arn}/*"`) can be
// searched for the resource it names.
func text(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	if len(n.Content) == 0 {
		return n.Tag + " " + n.Value
	}
	var parts []string
	for _, c := range n.Content {
		parts = append(parts, text(c))
	}
	return strings.Join(parts, " ")
}

// templateStatements returns the template's resources and every inline
// policy statement. A SAM policy template other than LambdaInvokePolicy
// fails the test: its actions are not visible here, so none may be used
// without extending this check.
func templateStatements(t *testing.T) (map[string]*yaml.Node, []statement) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	res := mapValue(doc.Content[0], "Resources")
	resources := map[string]*yaml.Node{}
	var stmts []statement
	for i := 0; i+1 < len(res.Content); i += 2 {
		name, body := res.Content[i].Value, res.Content[i+1]
		resources[name] = body
		policies := mapValue(mapValue(body, "Properties"), "Policies")
		if policies == nil {
			continue
		}
		for _, pol := range policies.Content {
			sts := mapValue(pol, "Statement")
			if doc := mapValue(pol, "PolicyDocument"); sts == nil && doc != nil {
				sts = mapValue(doc, "Statement") // an IAM role's inline policy
			}
			if sts == nil {
				if pol.Kind != yaml.MappingNode || len(pol.Content) != 2 || pol.Content[0].Value != "LambdaInvokePolicy" {
					t.Errorf("%s uses the policy %q, whose actions this test cannot see: write an inline statement", name, text(pol))
				}
				continue
			}
			for _, st := range sts.Content {
				stmts = append(stmts, policyStatements(name, "", st)...)
			}
		}
	}
	if len(stmts) < 10 {
		t.Fatalf("found only %d policy statements; is the template readable?", len(stmts))
	}
	return resources, stmts
}

// policyStatements reads one statement, or both branches of a statement
// chosen by !If (a deployment's destination kinds grant only what their
// kind uses); !Ref AWS::NoValue is no statement.
func policyStatements(owner, condition string, st *yaml.Node) []statement {
	if st.Tag == "!If" && st.Kind == yaml.SequenceNode && len(st.Content) == 3 {
		c := st.Content[0].Value
		return append(policyStatements(owner, c, st.Content[1]), policyStatements(owner, "!Not "+c, st.Content[2])...)
	}
	if st.Kind != yaml.MappingNode {
		return nil
	}
	res := mapValue(st, "Resource")
	resources := scalars(res)
	// One resource written as a function (`{"Fn::GetAtt": ...}`, or a
	// `!Join` whose parts, "*" among them, are not resources each).
	if res != nil && (res.Kind == yaml.MappingNode || (res.Kind == yaml.SequenceNode && strings.HasPrefix(res.Tag, "!") && !strings.HasPrefix(res.Tag, "!!"))) {
		resources = []string{text(res)}
	}
	return []statement{{owner: owner, actions: scalars(mapValue(st, "Action")), resources: resources, condition: condition}}
}

// Nothing in the service can delete or overwrite live records: the only
// action any function holds on the LIVE table is PutItem (always used with
// attribute_not_exists), and the table outlives the stack.
func TestTemplateLiveTableIsCreateOnly(t *testing.T) {
	resources, stmts := templateStatements(t)
	writers := 0
	for _, s := range stmts {
		for _, r := range s.resources {
			if !strings.Contains(r, "LiveRecordsTable") {
				continue
			}
			for _, a := range s.actions {
				switch a {
				case "dynamodb:PutItem":
					writers++
				case "dynamodb:GetItem", "dynamodb:Query":
				default:
					t.Errorf("%s may %s on the LIVE table", s.owner, a)
				}
			}
		}
	}
	if writers != 1 {
		t.Errorf("%d functions may write LIVE; want exactly one (FinalMigrateFunction)", writers)
	}
	live := resources["LiveRecordsTable"]
	if v := mapValue(live, "DeletionPolicy"); v == nil || v.Value != "Retain" {
		t.Error("LiveRecordsTable must have DeletionPolicy: Retain")
	}
	if v := mapValue(mapValue(live, "Properties"), "DeletionProtectionEnabled"); v == nil || v.Value != "true" {
		t.Error("LiveRecordsTable must have deletion protection")
	}
}

// Least privilege: no wildcard actions, and "*" resources only for the
// vended log delivery actions that AWS documents as having no resource type.
func TestTemplatePoliciesAreNarrow(t *testing.T) {
	_, stmts := templateStatements(t)
	for _, s := range stmts {
		for _, a := range s.actions {
			if strings.Contains(a, "*") {
				t.Errorf("%s has wildcard action %q", s.owner, a)
			}
		}
		for _, r := range s.resources {
			if r != "*" {
				continue
			}
			for _, a := range s.actions {
				if !strings.HasPrefix(a, "logs:") || !(strings.Contains(a, "LogDeliver") || strings.Contains(a, "ResourcePolic") || a == "logs:DescribeLogGroups") {
					t.Errorf("%s grants %s on *", s.owner, a)
				}
			}
		}
	}
}

// The local stack does not enforce IAM, so a step that writes where its
// role may not passes every end-to-end test and fails on AWS. These are
// the artifacts each step writes (internal/migration/engine: the Map step's entry
// identities, the test migration's workbook, rejects, snapshot and
// inference, the final migration's chunks, pre-flight and report).
func TestTemplateGrantsWhatTheStepsWrite(t *testing.T) {
	_, stmts := templateStatements(t)
	for _, want := range []struct{ owner, action, resource string }{
		{"MappingFunction", "s3:PutObject", "/artifacts/*"},
		{"TestMigrateFunction", "s3:PutObject", "/artifacts/*"},
		{"FinalMigrateFunction", "s3:PutObject", "/artifacts/*"},
		{"FinalMigrateFunction", "s3:GetObject", "/artifacts/*"},
		{"FinalMigrateFunction", "ses:SendEmail", "identity/"},
		{"SignOffApiFunction", "s3:GetObject", "/artifacts/*"},
		{"CustomerApiFunction", "s3:GetObject", "/artifacts/*"},
	} {
		found := false
		for _, s := range stmts {
			if s.owner != want.owner || !slices.Contains(s.actions, want.action) {
				continue
			}
			found = found || slices.ContainsFunc(s.resources, func(r string) bool { return strings.Contains(r, want.resource) })
		}
		if !found {
			t.Errorf("%s may not %s on %s, which its code does", want.owner, want.action, want.resource)
		}
	}
}

// The final migration's chunks run as a Distributed Map (issue 15): the
// state machine starts, reads and stops its own child executions, reads
// the chunk manifests and writes the Map's results, and nothing more. Its
// own ARN is built from its Name (a state machine's policy cannot !Ref the
// state machine: that is a circular dependency), so the two must agree.
// The local stack does not enforce IAM, so only this test sees a gap.
func TestTemplateGrantsTheDistributedMapWhatItNeeds(t *testing.T) {
	resources, stmts := templateStatements(t)
	const name = "${AWS::StackName}-MigrationStateMachine"
	props := mapValue(resources["MigrationStateMachine"], "Properties")
	if n := mapValue(props, "Name"); n == nil || n.Tag != "!Sub" || n.Value != name {
		t.Fatalf("MigrationStateMachine's Name is %q; want !Sub %q, which its policy names", text(n), name)
	}
	grants := map[string][]string{} // action -> resources, the state machine's
	for _, s := range stmts {
		if s.owner != "MigrationStateMachine" {
			continue
		}
		for _, a := range s.actions {
			grants[a] = append(grants[a], s.resources...)
		}
	}
	for _, want := range []struct{ action, resource string }{
		{"states:StartExecution", ":stateMachine:" + name},
		{"states:DescribeExecution", ":execution:" + name + "/*"},
		{"states:StopExecution", ":execution:" + name + "/*"},
		{"s3:GetObject", "${UploadsBucket.Arn}/artifacts/*/chunks.jsonl"},
		{"s3:GetObject", "${UploadsBucket.Arn}/artifacts/*/partitions.jsonl"},
		{"s3:GetObject", "${UploadsBucket.Arn}/artifacts/*/merges.jsonl"},
		{"s3:GetObject", "${UploadsBucket.Arn}/artifacts/*/planning/scan.jsonl"},
		{"s3:GetObject", "${UploadsBucket.Arn}/artifacts/*/planning/check.jsonl"},
		{"s3:PutObject", "${UploadsBucket.Arn}/artifacts/*/chunk-results/*"},
		{"s3:GetObject", "${UploadsBucket.Arn}/artifacts/*/chunk-results/*"},
		{"s3:ListMultipartUploadParts", "${UploadsBucket.Arn}/artifacts/*/chunk-results/*"},
		{"s3:AbortMultipartUpload", "${UploadsBucket.Arn}/artifacts/*/chunk-results/*"},
	} {
		if !slices.ContainsFunc(grants[want.action], func(r string) bool { return strings.HasSuffix(r, want.resource) }) {
			t.Errorf("the state machine may not %s on …%s (it may on %v)", want.action, want.resource, grants[want.action])
		}
	}
	for a, rs := range grants {
		for _, r := range rs {
			if strings.HasPrefix(a, "s3:") && !strings.Contains(r, "/artifacts/*/chunk") && !strings.HasSuffix(r, "/artifacts/*/partitions.jsonl") && !strings.HasSuffix(r, "/artifacts/*/merges.jsonl") &&
				!strings.HasSuffix(r, "/artifacts/*/planning/scan.jsonl") && !strings.HasSuffix(r, "/artifacts/*/planning/check.jsonl") {
				t.Errorf("the state machine may %s on %s, beyond the chunk, partition, merge and planning manifests and results", a, r)
			}
			if strings.HasPrefix(a, "states:") && !strings.Contains(r, name) {
				t.Errorf("the state machine may %s on %s, beyond its own executions", a, r)
			}
		}
	}
}
