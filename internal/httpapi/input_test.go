package httpapi

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
)

func TestDecodeRefusesDataAfterTheJSON(t *testing.T) {
	var v struct {
		A int `json:"a"`
	}
	for body, ok := range map[string]bool{
		`{"a":1}`:          true,
		"{\"a\":1}\r\n \t": true,
		`{"a":1} x`:        false,
		`{"a":1}{"a":2}`:   false,
		`{"a":1}]`:         false,
		`{"a":1} null`:     false,
	} {
		err := Decode(Request{Body: body}, &v)
		if (err == nil) != ok || (err != nil && (cutover.ErrorCode(err) != cutover.EINVALID || !strings.Contains(cutover.ErrorMessage(err), "after the JSON"))) {
			t.Errorf("Decode(%q) = %v", body, err)
		}
	}
}

// routeDecl is a route as template.yaml declares it for API Gateway:
// "Method: X, Path: /y" on one line, or on two.
var routeDecl = regexp.MustCompile(`Method:\s*([A-Z]+)[,\s]+Path:\s*("[^"]+"|[^\s,]+)`)

// Every route a Lambda serves is declared in the template, and every
// declared route is served: a route missing from either side is a 404 that
// only shows up once deployed.
func TestRoutesAreTheTemplates(t *testing.T) {
	raw, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, m := range routeDecl.FindAllStringSubmatch(string(raw), -1) {
		declared = append(declared, m[1]+" "+strings.Trim(m[2], `"`))
	}
	var served []string
	for _, rt := range []Router{CustomerRoutes(&migration.Service{}), OpsRoutes(&migration.Service{}), SignOffRoutes(nil)} {
		for k := range rt {
			served = append(served, k)
		}
	}
	slices.Sort(declared)
	slices.Sort(served)
	if !slices.Equal(declared, served) {
		t.Fatalf("template declares\n  %s\nLambdas serve\n  %s", strings.Join(declared, "\n  "), strings.Join(served, "\n  "))
	}
	if !slices.Contains(served, "DELETE /migrations/{id}/uploads/{fileId}") {
		t.Fatal("no route removes an upload")
	}
}
