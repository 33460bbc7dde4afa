package s3drop

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
)

// checkKey fails unless key is a plain path: no empty, "." or ".."
// segment, no leading "/".
func checkKey(t *testing.T, key string) {
	t.Helper()
	if strings.HasPrefix(key, "/") {
		t.Fatalf("%q starts with /", key)
	}
	for _, part := range strings.Split(key, "/") {
		if part == "" || part == "." || part == ".." {
			t.Fatalf("%q has a segment %q", key, part)
		}
	}
}

func keysOf(t *testing.T, prefix, tenant, migration, entity string) {
	d, err := New(fakeAPI{}, Config{Bucket: "b", Prefix: prefix, Claims: fakeClaims{}}, func(cutover.Record) (r destinationRecord, err error) { return })
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range []cutover.Target{
		{Env: cutover.EnvTest, TenantID: tenant, MigrationID: migration, Round: 3},
		{Env: cutover.EnvLive, TenantID: tenant, MigrationID: migration},
	} {
		folder := d.folder(tg)
		rel := objectName(entity, "cut_0123")
		key := folder + rel
		checkKey(t, key)
		wantStart := strings.ReplaceAll(d.prefix, tenantPlaceholder, segment(tenant))
		if !strings.HasPrefix(key, wantStart) {
			t.Fatalf("%q is not under the tenant's prefix %q", key, wantStart)
		}
		// The tenant and the migration are one segment each, the entity one
		// folder: the key has exactly the layout's depth.
		if got, want := strings.Count(key, "/"), strings.Count(wantStart, "/")+4; got != want {
			t.Fatalf("%q has %d folders, want %d", key, got, want)
		}
		if e, ok := entityOf(rel); !ok || e != entity {
			t.Fatalf("entityOf(%q) = %q, %v; want %q", rel, e, ok, entity)
		}
		if strings.HasPrefix(rel, stagingFolder) || rel == manifestName {
			t.Fatalf("the entity %q makes %q, one of cutover's own names", entity, rel)
		}
	}
}

func TestKeysCannotClimbOutOfTheirFolder(t *testing.T) {
	for _, c := range []struct{ tenant, migration, entity string }{
		{"acme", "m1", "contact"},
		{"../other", "m1", "contact"},
		{"acme", "../../live", "contact"},
		{"acme", "m1", "../company"},
		{".", "..", "."},
		{"a/b", "c/d", "e/f"},
		{"ümlaut", "日本", "контакт"},
		{"acme", "m1", "_staging"},
		{"acme", "m1", "manifest.json"},
		{"%2F", "%2e%2e", "%"},
		{"{tenantId}", "m", "x"},
	} {
		t.Run(c.tenant+"|"+c.migration+"|"+c.entity, func(t *testing.T) {
			keysOf(t, "vendor/{tenantId}/drops/", c.tenant, c.migration, c.entity)
			keysOf(t, "", c.tenant, c.migration, c.entity)
		})
	}
}

func TestSegmentIsReversibleAndDistinct(t *testing.T) {
	names := []string{"a", "A", "a-b", "a_b", "_a", "a.b", "a/b", "a%2Fb", "..", ".", "ü", "u"}
	seen := map[string]string{}
	for _, n := range names {
		s := segment(n)
		if other, ok := seen[s]; ok {
			t.Errorf("%q and %q both make %q", n, other, s)
		}
		seen[s] = n
		if back, ok := unsegment(s); !ok || back != n {
			t.Errorf("unsegment(segment(%q)) = %q, %v", n, back, ok)
		}
	}
	for _, bad := range []string{"a/b", "%2", "%zz", "a.b", "", "_x"} {
		if _, ok := unsegment(bad); ok {
			t.Errorf("unsegment(%q) accepted text segment never makes", bad)
		}
	}
}

func TestPrefixesThatBlurTheLayoutAreRefused(t *testing.T) {
	for _, p := range []string{"/abs/{tenantId}/", "a//{tenantId}/", "a/../{tenantId}/", "./{tenantId}", "a/./b/"} {
		if _, err := New(fakeAPI{}, Config{Bucket: "b", Prefix: p, Claims: fakeClaims{}}, func(cutover.Record) (r destinationRecord, err error) { return }); cutover.ErrorCode(err) != cutover.EINVALID {
			t.Errorf("prefix %q: %v, want EINVALID", p, err)
		}
	}
	for p, want := range map[string]string{"": "{tenantId}/", "drops": "drops/{tenantId}/", "drops/": "drops/{tenantId}/", "x/{tenantId}": "x/{tenantId}/"} {
		d, err := New(fakeAPI{}, Config{Bucket: "b", Prefix: p, Claims: fakeClaims{}}, func(cutover.Record) (r destinationRecord, err error) { return })
		if err != nil || d.prefix != want {
			t.Errorf("prefix %q became %q (%v), want %q", p, d.prefix, err, want)
		}
	}
}

func FuzzKeys(f *testing.F) {
	for _, s := range []string{"acme", "../x", "a/b", ".", "..", "ü", "_staging", "manifest.json", "%2F", "\x00", "a\\b"} {
		f.Add(s, s, s)
	}
	f.Fuzz(func(t *testing.T, tenant, migration, entity string) {
		if tenant == "" || migration == "" || entity == "" {
			return
		}
		keysOf(t, "vendor/{tenantId}/", tenant, migration, entity)
		if back, ok := unsegment(segment(entity)); !ok || back != entity {
			t.Fatalf("unsegment(segment(%q)) = %q, %v", entity, back, ok)
		}
	})
}
