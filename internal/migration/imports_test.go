package migration

import (
	"os/exec"
	"strings"
	"testing"
)

// heavy are the packages a Lambda that never maps a row must not link:
// the mapping engine and the libraries only it needs (the phone library
// alone is about 12 MB and most of a cold start's package init).
var heavy = []string{
	"github.com/cutover/cutover/internal/mapspec",
	"github.com/cutover/cutover/internal/mapspec/presets",
	"github.com/cutover/cutover/internal/pipeline",
	"github.com/cutover/cutover/internal/pass",
	"github.com/cutover/cutover/internal/delta",
	"github.com/cutover/cutover/internal/workbook",
	"github.com/cutover/cutover/internal/migration/engine",
	"github.com/nyaruka/phonenumbers",
	"github.com/xeipuuv/gojsonschema",
	"github.com/santhosh-tekuri/jsonschema",
}

// importGraph returns each package the roots link, transitively, with its
// imports, as the go command sees them (one go list for all roots).
func importGraph(t *testing.T, roots ...string) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list", "-deps", "-f", "{{.ImportPath}}:{{join .Imports \" \"}}"}, roots...)...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	graph := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ":")
		graph[pkg] = strings.Fields(imports)
	}
	return graph
}

// deps returns every package root links, transitively, with the package
// that first imports it.
func deps(graph map[string][]string, root string) map[string]string {
	seen := map[string]string{root: ""}
	queue := []string{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, imp := range graph[p] {
			if _, ok := seen[imp]; !ok {
				seen[imp] = p
				queue = append(queue, imp)
			}
		}
	}
	return seen
}

// TestLightPackagesLinkNoEngine: this package, the HTTP adapter the ops API
// uses, and the AWS adapters are linked by the Lambdas that never map a row
// (park, complete, markfailed, opsapi, reconcile), so none of them may
// reach the mapping engine, not even through a port check.
func TestLightPackagesLinkNoEngine(t *testing.T) {
	var roots []string
	for _, p := range []string{"migration", "httpapi", "dynamostore", "s3blob", "sfnflow", "sesmail", "lambdastep", "awsenv", "cutover"} {
		roots = append(roots, "github.com/cutover/cutover/internal/"+p)
	}
	graph := importGraph(t, roots...)
	for _, path := range roots {
		linked := deps(graph, path)
		for _, h := range heavy {
			for l, by := range linked {
				if l == h || strings.HasPrefix(l, h+"/") {
					t.Errorf("%s links %s (imported by %s)", path, l, by)
				}
			}
		}
	}
}

// TestStepsLinkNoS3OrSecrets: the helpers every Lambda links (awsenv) and
// the adapters of the steps that touch neither S3 nor the link secret do
// not link those SDK clients (about a megabyte of binary each); the
// functions that need them get them from s3blob and awsenv/secret.
func TestStepsLinkNoS3OrSecrets(t *testing.T) {
	var roots []string
	for _, p := range []string{"migration", "httpapi", "dynamostore", "sfnflow", "sesmail", "lambdastep", "awsenv"} {
		roots = append(roots, "github.com/cutover/cutover/internal/"+p)
	}
	graph := importGraph(t, roots...)
	for _, path := range roots {
		linked := deps(graph, path)
		for _, sdk := range []string{"github.com/aws/aws-sdk-go-v2/service/s3", "github.com/aws/aws-sdk-go-v2/service/secretsmanager"} {
			if by, ok := linked[sdk]; ok {
				t.Errorf("%s links %s (imported by %s)", path, sdk, by)
			}
		}
	}
}
