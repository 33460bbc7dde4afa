package signoff

import (
	"os/exec"
	"strings"
	"testing"
)

// engineDeps are what a Lambda that never maps a row must not link: the
// phone library (about 12 MB), the JSON Schema validators and the mapping
// engine's own packages. requestsignoff and signoffapi link this package.
var engineDeps = []string{
	"github.com/nyaruka/phonenumbers",
	"github.com/xeipuuv/gojsonschema",
	"github.com/santhosh-tekuri/jsonschema/v6",
	"github.com/cutover/cutover/internal/mapspec",
	"github.com/cutover/cutover/internal/mapspec/presets",
	"github.com/cutover/cutover/internal/pipeline",
	"github.com/cutover/cutover/internal/pass",
	"github.com/cutover/cutover/internal/delta",
}

// TestLinksNoEngine lists the packages signoff and the light documents it
// reads (mapdoc, workbook/entry) link, with the go command itself, and
// fails on any engine package among them.
func TestLinksNoEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	for _, pkg := range []string{".", "../mapdoc", "../workbook/entry"} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		deps := map[string]bool{}
		for _, d := range strings.Fields(string(out)) {
			deps[d] = true
		}
		if len(deps) < 10 {
			t.Fatalf("go list -deps %s listed only %v", pkg, deps)
		}
		for _, e := range engineDeps {
			if deps[e] {
				t.Errorf("%s links %s", pkg, e)
			}
		}
	}
}
