package mapdoc

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// A file's own defaults win member by member; the spec's fill the rest.
// Resolving them changes neither the spec's JSON nor its hash.
func TestResolveDefaults(t *testing.T) {
	var s Spec
	src := `{"version":1,"defaults":{"region":"GB","currency":"GBP","timezone":"Europe/London"},
	 "files":[{"name":"a","entity":"contact","fields":[]},{"name":"b","entity":"contact","defaults":{"region":"FR"},"fields":[]}]}`
	if err := json.Unmarshal([]byte(src), &s); err != nil {
		t.Fatal(err)
	}
	before := s.Hash()
	if got := s.Files[1].EffectiveDefaults(); got.Region != "" {
		t.Fatalf("defaults before resolving = %+v, want none", got)
	}
	s.ResolveDefaults()
	if got := s.Files[0].EffectiveDefaults(); got.Region != "GB" || got.Currency != "GBP" {
		t.Fatalf("a: %+v", got)
	}
	if got := s.Files[1].EffectiveDefaults(); got.Region != "FR" || got.Currency != "GBP" || got.Timezone != "Europe/London" {
		t.Fatalf("b: %+v", got)
	}
	if s.Hash() != before || !strings.HasPrefix(before, "sha256:") || len(before) != len("sha256:")+64 {
		t.Fatalf("hash %s then %s", before, s.Hash())
	}
	if strings.Contains(string(s.JSON()), `"FR"`) != true || strings.Count(string(s.JSON()), `"GBP"`) != 1 {
		t.Fatalf("JSON carries the resolved defaults:\n%s", s.JSON())
	}
}

// A column is found by its own name or any alias, ignoring case, spaces
// and a byte-order mark.
func TestColumnNames(t *testing.T) {
	f := FileSpec{Aliases: map[string][]string{"Tenancy ID": {"Tenancy Ref", "Agreement No"}}}
	if got := f.ColumnNames(" tenancy id"); !slices.Equal(got, []string{" tenancy id", "Tenancy Ref", "Agreement No"}) {
		t.Fatalf("ColumnNames = %q", got)
	}
	if NormColumn("\ufeff Email ") != "email" {
		t.Fatalf("NormColumn = %q", NormColumn("\ufeff Email "))
	}
}
