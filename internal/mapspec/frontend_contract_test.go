package mapspec

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// frontendContract is testdata/frontend-contract.json: what the site's
// mapping editor assumes about the engine. frontend/test/spec-contract.test.ts
// checks the site against the same file, so a change on either side that
// the other lacks fails a test.
type frontendContract struct {
	ConversionOps  []string `json:"conversionOps"`
	ColumnIdentity []struct {
		A, B string
		Same bool
	} `json:"columnIdentity"`
}

func readFrontendContract(t *testing.T) frontendContract {
	t.Helper()
	raw, err := os.ReadFile("testdata/frontend-contract.json")
	if err != nil {
		t.Fatal(err)
	}
	var c frontendContract
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// The ops whose result must fit the target's type: conversionOps, and
// period, which checks itself that its field is an enum (periodStep).
func TestFrontendKnowsTheConversionOps(t *testing.T) {
	want := []string{opPeriod}
	for op := range conversionOps {
		want = append(want, op)
	}
	slices.Sort(want)
	got := slices.Sorted(slices.Values(readFrontendContract(t).ConversionOps))
	if !slices.Equal(got, want) {
		t.Fatalf("testdata/frontend-contract.json lists conversion ops %v, the engine has %v: update it and the site's CONVERSION_OPS", got, want)
	}
}

// Two headers name the same column when normCol says so (aliases.go, the
// mapper's header index).
func TestFrontendColumnIdentityCases(t *testing.T) {
	for _, c := range readFrontendContract(t).ColumnIdentity {
		if got := normCol(c.A) == normCol(c.B); got != c.Same {
			t.Errorf("%q and %q: same column = %v, the fixture says %v", c.A, c.B, got, c.Same)
		}
	}
}
