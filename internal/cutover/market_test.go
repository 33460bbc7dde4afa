package cutover

import (
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// The regions a market may be are the phone library's, written out so
// the library is not linked; this ties the two lists together.
func TestMarketRegionsAreThePhoneLibrarys(t *testing.T) {
	var lib []string
	for r := range phonenumbers.GetSupportedRegions() {
		lib = append(lib, r)
	}
	sort.Strings(lib)
	ours := marketRegionList()
	if !slices.Equal(ours, lib) {
		t.Fatalf("marketRegions has %d regions, phonenumbers %d: update marketRegions to\n%s", len(ours), len(lib), strings.Join(lib, " "))
	}
	if len(marketRegions) != 3*len(lib) {
		t.Fatalf("marketRegions must be two letters and a space per region")
	}
	for _, r := range lib {
		if CheckMarket(r) != nil || CheckMarket(strings.ToLower(r)) != nil {
			t.Errorf("CheckMarket(%q) refused a region with a numbering plan", r)
		}
	}
	for _, bad := range []string{"XX", "ZZ", "G", "GBR", "B ", " B", "UK", "EU"} {
		if ErrorCode(CheckMarket(bad)) != EINVALID {
			t.Errorf("CheckMarket(%q) accepted", bad)
		}
	}
}

// Every Lambda links this package: it must not link the phone library.
func TestLinksNoPhoneLibrary(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "github.com/cutover/cutover/internal/cutover") {
		t.Fatalf("go list -deps listed:\n%s", out)
	}
	if strings.Contains(string(out), "phonenumbers") {
		t.Fatal("internal/cutover links github.com/nyaruka/phonenumbers")
	}
}
