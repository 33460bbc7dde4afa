package destination

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cutover/cutover/internal/cutover"
)

// The OpenAPI document is the contract written down for vendors; these
// tests hold it to the Go wire types and constants, so neither can change
// without the other.

func loadOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	return doc
}

// at walks doc along keys, failing the test when a key is missing.
func at(t *testing.T, doc any, keys ...string) any {
	t.Helper()
	cur := doc
	for i, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("openapi.yaml: %s is not a map", strings.Join(keys[:i], "."))
		}
		if cur, ok = m[k]; !ok {
			t.Fatalf("openapi.yaml: no %s", strings.Join(keys[:i+1], "."))
		}
	}
	return cur
}

func strs(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			s, _ := x.(string)
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

func keys(v any) []string {
	var out []string
	if m, ok := v.(map[string]any); ok {
		for k := range m {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// jsonFields returns a struct's JSON names, and those without omitempty
// (which the schema must list as required).
func jsonFields(typ reflect.Type) (all, required []string) {
	for f := range typ.Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		all = append(all, name)
		if !strings.Contains(opts, "omitempty") {
			required = append(required, name)
		}
	}
	sort.Strings(all)
	sort.Strings(required)
	return all, required
}

func TestOpenAPIIsVersion31(t *testing.T) {
	doc := loadOpenAPI(t)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Fatalf("openapi %q, want 3.1.x", v)
	}
	var refs func(node any)
	refs = func(node any) {
		switch n := node.(type) {
		case map[string]any:
			if _, ok := n["$ref"]; ok {
				deref(t, doc, n)
			}
			for _, v := range n {
				refs(v)
			}
		case []any:
			for _, v := range n {
				refs(v)
			}
		}
	}
	refs(doc) // every $ref resolves
	if got := keys(at(t, doc, "paths")); !slices.Equal(got, []string{
		"/tenants/{tenantId}/migrations/{migrationId}/counts", "/tenants/{tenantId}/records",
	}) {
		t.Fatalf("paths %v", got)
	}
}

func TestOpenAPISchemasAreTheWireTypes(t *testing.T) {
	doc := loadOpenAPI(t)
	for name, typ := range map[string]reflect.Type{
		"Batch":          reflect.TypeFor[Batch](),
		"Record":         reflect.TypeFor[Record](),
		"BatchResult":    reflect.TypeFor[BatchResult](),
		"DeliveryResult": reflect.TypeFor[cutover.DeliveryResult](),
		"Counts":         reflect.TypeFor[Counts](),
		"Holding":        reflect.TypeFor[cutover.Holding](),
	} {
		schema := at(t, doc, "components", "schemas", name)
		all, required := jsonFields(typ)
		if got := keys(at(t, schema, "properties")); !slices.Equal(got, all) {
			t.Errorf("%s: properties %v, the Go type's JSON fields %v", name, got, all)
		}
		if got := strs(at(t, schema, "required")); !slices.Equal(got, required) {
			t.Errorf("%s: required %v, the Go type's fields without omitempty %v", name, got, required)
		}
	}
	statuses := strs(at(t, doc, "components", "schemas", "DeliveryResult", "properties", "status", "enum"))
	if want := []string{cutover.Existed, cutover.Created, cutover.Rejected}; !slices.Equal(statuses, sorted(want)) {
		t.Errorf("status enum %v, want %v", statuses, want)
	}
	envs := strs(at(t, doc, "components", "schemas", "Batch", "properties", "environment", "enum"))
	if want := []string{cutover.EnvLive, cutover.EnvTest}; !slices.Equal(envs, want) {
		t.Errorf("environment enum %v, want %v", envs, want)
	}
	countsEnv := strs(at(t, doc, "components", "parameters", "environment", "schema", "enum"))
	if !slices.Equal(countsEnv, envs) {
		t.Errorf("counts environment enum %v, want %v", countsEnv, envs)
	}
}

func sorted(xs []string) []string {
	out := append([]string(nil), xs...)
	sort.Strings(out)
	return out
}

// deref follows node's $ref within doc, if it has one.
func deref(t *testing.T, doc map[string]any, node any) any {
	t.Helper()
	m, _ := node.(map[string]any)
	ref, ok := m["$ref"].(string)
	if !ok {
		return node
	}
	path, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		t.Fatalf("$ref %q is not local", ref)
	}
	return at(t, doc, strings.Split(path, "/")...)
}

// headerParams returns the header names of an operation's parameters,
// following $refs into components.parameters.
func headerParams(t *testing.T, doc map[string]any, op any) []string {
	t.Helper()
	var names []string
	params, _ := at(t, op, "parameters").([]any)
	for _, p := range params {
		p = deref(t, doc, p)
		if at(t, p, "in") == "header" {
			names = append(names, at(t, p, "name").(string))
		}
	}
	sort.Strings(names)
	return names
}

func TestOpenAPIHeadersAreTheConstants(t *testing.T) {
	doc := loadOpenAPI(t)
	post := at(t, doc, "paths", "/tenants/{tenantId}/records", "post")
	if got, want := headerParams(t, doc, post), sorted([]string{HeaderID, HeaderTimestamp, HeaderSignature, HeaderIdempotencyKey}); !slices.Equal(got, want) {
		t.Errorf("POST records headers %v, want %v", got, want)
	}
	get := at(t, doc, "paths", "/tenants/{tenantId}/migrations/{migrationId}/counts", "get")
	if got, want := headerParams(t, doc, get), sorted([]string{HeaderID, HeaderTimestamp, HeaderSignature}); !slices.Equal(got, want) {
		t.Errorf("GET counts headers %v, want %v", got, want)
	}
	for _, code := range []string{"200", "400", "401", "413", "422", "429", "5XX"} {
		at(t, post, "responses", code)
	}
	at(t, deref(t, doc, at(t, post, "responses", "429")), "headers", "Retry-After")
	for _, code := range []string{"200", "400", "401", "429", "5XX"} {
		at(t, get, "responses", code)
	}
	if got := at(t, doc, "x-signature-tolerance-seconds"); got != int(SignatureTolerance/time.Second) {
		t.Errorf("x-signature-tolerance-seconds %v, want %v", got, SignatureTolerance/time.Second)
	}
}

// The document's worked examples are computed by the code: a vendor who
// implements them from the words gets what cutover computes.
func TestOpenAPIExamplesAreComputedByTheCode(t *testing.T) {
	doc := loadOpenAPI(t)
	ck := at(t, doc, "x-examples", "idChecksum")
	var sum IDChecksum
	for _, id := range strs(at(t, ck, "ids")) {
		sum.Add(id)
	}
	if got := at(t, ck, "idChecksum"); got != sum.String() {
		t.Errorf("idChecksum example %v, the code computes %s", got, sum.String())
	}
	var empty IDChecksum
	if got := at(t, doc, "x-examples", "emptyIdChecksum"); got != empty.String() {
		t.Errorf("empty idChecksum example %v, want %s", got, empty.String())
	}
	sig := at(t, doc, "x-examples", "signature")
	key, err := Key(at(t, sig, "secret").(string))
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := at(t, sig, "webhook-timestamp").(int)
	got := Sign(key, at(t, sig, "webhook-id").(string), time.Unix(int64(ts), 0), []byte(at(t, sig, "body").(string)))
	if want := at(t, sig, "webhook-signature"); got != want {
		t.Errorf("signature example %v, the code signs %s", want, got)
	}
	ik := at(t, doc, "x-examples", "idempotencyKey")
	target := cutover.Target{Env: at(t, ik, "environment").(string), TenantID: at(t, ik, "tenantId").(string), MigrationID: at(t, ik, "migrationId").(string), Round: at(t, ik, "round").(int)}
	rawRecs, _ := at(t, ik, "records").([]any)
	var recs []Encoded
	for _, x := range rawRecs {
		js := x.(string)
		var r Record
		if err := json.Unmarshal([]byte(js), &r); err != nil {
			t.Fatalf("idempotencyKey example record %s: %v", js, err)
		}
		if enc, err := Encode(r); err != nil || string(enc.JSON) != js {
			t.Fatalf("idempotencyKey example record %s is not as cutover encodes it (%s, %v)", js, enc.JSON, err)
		}
		recs = append(recs, Encoded{ID: r.ID, JSON: json.RawMessage(js)})
	}
	if len(recs) < 2 {
		t.Fatal("the idempotencyKey example has no records")
	}
	if got, want := IdempotencyKey(target, recs), at(t, ik, "key"); got != want {
		t.Errorf("idempotency key example %v, the code computes %s", want, got)
	}
}
