package cutover

import (
	"go/build"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// TestMarketsAreThePhoneLibrarysRegions ties the markets CheckMarket
// accepts to the regions the engine's phone library has a numbering plan
// for: the list is kept here so that the domain (linked by every Lambda)
// does not link the phone library; upgrading the library with new regions
// makes this test fail until the list follows.
func TestMarketsAreThePhoneLibrarysRegions(t *testing.T) {
	var want []string
	for r := range phonenumbers.GetSupportedRegions() {
		want = append(want, r)
	}
	sort.Strings(want)
	got := strings.Fields(markets)
	if !slices.Equal(got, want) {
		t.Fatalf("markets (%d) differ from phonenumbers.GetSupportedRegions (%d):\n got %v\nwant %v", len(got), len(want), got, want)
	}
	for _, r := range want {
		if err := CheckMarket(strings.ToLower(r)); err != nil {
			t.Errorf("CheckMarket(%q) = %v; the phone library reads it", r, err)
		}
	}
	if CheckMarket("ZZ") == nil || CheckMarket("GBR") == nil {
		t.Error("CheckMarket accepts a region the phone library has no plan for")
	}
}

// TestDomainLinksNoPhoneLibrary: the domain package is linked by every
// Lambda, including those that never map a row.
func TestDomainLinksNoPhoneLibrary(t *testing.T) {
	pkg, err := build.Import("github.com/cutover/cutover/internal/cutover", ".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if strings.Contains(imp, "phonenumbers") {
			t.Errorf("internal/cutover imports %s", imp)
		}
	}
}
