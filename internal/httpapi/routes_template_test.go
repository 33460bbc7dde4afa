package httpapi_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/httpapi"
	"github.com/cutover/cutover/internal/httpapi/customerroutes"
	"github.com/cutover/cutover/internal/httpapi/signoffroutes"
)

// routeDecl is a route as template.yaml declares it for API Gateway:
// "Method: X, Path: /y" on one line, or on two.
var routeDecl = regexp.MustCompile(`Method:\s*([A-Z]+)[,\s]+Path:\s*("[^"]+"|[^\s,]+)`)

// Every route a Lambda serves (the three API Lambdas' routers, whose
// packages are apart so that each Lambda links only its own) is declared in the template, and every
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
	for _, rt := range []httpapi.Router{customerroutes.Routes(nil, nil, nil), httpapi.OpsRoutes(nil), signoffroutes.Routes(nil)} {
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
