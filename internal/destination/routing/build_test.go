package routing

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination"
)

var testSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

// memLedger is a delivery ledger in memory.
type memLedger struct {
	mu sync.Mutex
	by map[string]cutover.DeliveryResult
}

func (l *memLedger) Delivered(_ context.Context, _ cutover.Target, ids []string) (map[string]cutover.DeliveryResult, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]cutover.DeliveryResult{}
	for _, id := range ids {
		if r, ok := l.by[id]; ok {
			out[id] = r
		}
	}
	return out, nil
}

func (l *memLedger) Record(_ context.Context, _ cutover.Target, res []cutover.DeliveryResult) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range res {
		if _, ok := l.by[r.ID]; !ok {
			l.by[r.ID] = r
		}
	}
	return nil
}

func secrets(values map[string]string) func(context.Context, string) (string, error) {
	return func(_ context.Context, arn string) (string, error) {
		v, ok := values[arn]
		if !ok {
			return "", errors.New("ResourceNotFoundException")
		}
		return v, nil
	}
}

// TestOpenBuildsTheHTTPSDestinationPerEnvironment delivers through the
// router to a vendor endpoint (an httptest server): the TEST target goes
// to staging's URL, signed with TEST's secret, under its tenant's path,
// with fields typed and references resolved within that tenant.
func TestOpenBuildsTheHTTPSDestinationPerEnvironment(t *testing.T) {
	key, _ := destination.Key(testSecret)
	var got struct {
		path  string
		batch destination.Batch
	}
	staging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := destination.Verify(key, r.Header, body, time.Now()); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		got.path = r.URL.Path
		_ = json.Unmarshal(body, &got.batch)
		res := destination.BatchResult{}
		for _, rec := range got.batch.Records {
			res.Results = append(res.Results, cutover.DeliveryResult{ID: rec.ID, Outcome: cutover.Created})
		}
		_ = json.NewEncoder(w).Encode(res)
	}))
	defer staging.Close()

	var builtinCalls []string
	r, err := Open(context.Background(), env(map[string]string{
		"TEST_DESTINATION": "https", "TEST_DESTINATION_URL": staging.URL + "/cutover", "TEST_DESTINATION_SECRET": "arn:test",
		"LIVE_DESTINATION": "builtin",
	}), Adapters{
		Builtin: named("builtin", &builtinCalls),
		Secret:  secrets(map[string]string{"arn:test": testSecret}),
		Ledger:  &memLedger{by: map[string]cutover.DeliveryResult{}},
	}, cutover.EnvTest, cutover.EnvLive)
	if err != nil {
		t.Fatal(err)
	}
	test := cutover.Target{Env: cutover.EnvTest, TenantID: "acme", MigrationID: "m1", Round: 1}
	rec := cutover.Record{
		ID: cutover.RecordID("acme", "property", "P1"), Entity: "property", SourceID: "P1",
		Fields: map[string]string{"address_line1": "1 High St", "landlord": "C9", "bedrooms": "3"},
	}
	res, err := r.Deliverer(test).Deliver(context.Background(), []cutover.Record{rec})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Outcome != cutover.Created {
		t.Fatalf("results %+v", res)
	}
	if got.path != "/cutover/tenants/acme/records" {
		t.Errorf("posted to %q", got.path)
	}
	if got.batch.TenantID != "acme" || len(got.batch.Records) != 1 {
		t.Fatalf("batch %+v", got.batch)
	}
	f := got.batch.Records[0].Fields
	if f["landlord"] != cutover.RecordID("acme", "contact", "C9") {
		t.Errorf("landlord = %v, want the referenced contact's id in tenant acme", f["landlord"])
	}
	if n, ok := f["bedrooms"].(float64); !ok || n != 3 {
		t.Errorf("bedrooms = %#v, want the number 3", f["bedrooms"])
	}

	// An entity the schema does not know is rejected, not sent.
	res, err = r.Deliverer(test).Deliver(context.Background(), []cutover.Record{{ID: "x", Entity: "spaceship"}})
	if err != nil || len(res) != 1 || res[0].Outcome != cutover.Rejected || !strings.Contains(res[0].Reason, "spaceship") {
		t.Errorf("unknown entity: %+v, %v", res, err)
	}

	// LIVE stays on the built-in destination.
	if _, err := r.Holdings(context.Background(), cutover.Target{Env: cutover.EnvLive, TenantID: "acme", MigrationID: "m1"}); err != nil {
		t.Fatal(err)
	}
	if len(builtinCalls) != 1 || builtinCalls[0] != "builtin holdings live" {
		t.Errorf("built-in calls %v", builtinCalls)
	}
}

func TestBuildRefusesAnUnusableSecretWithoutShowingIt(t *testing.T) {
	c := Config{Env: cutover.EnvLive, Kind: KindHTTPS, URL: "https://vendor.test", Secret: "arn:live"}
	a := Adapters{Ledger: &memLedger{}, Secret: secrets(map[string]string{"arn:live": "not-a-webhook-secret-value"})}
	_, err := Build(context.Background(), c, a)
	if cutover.ErrorCode(err) != cutover.EINVALID || !strings.Contains(err.Error(), "LiveDestinationSecretName") {
		t.Errorf("a non-whsec secret: %v, want EINVALID naming LiveDestinationSecretName", err)
	}
	if err != nil && strings.Contains(err.Error(), "not-a-webhook-secret-value") {
		t.Errorf("the error shows the secret's value: %v", err)
	}

	a.Secret = secrets(nil)
	if _, err := Build(context.Background(), c, a); cutover.ErrorCode(err) != cutover.EUNAVAILABLE || !strings.Contains(err.Error(), "LiveDestinationSecretName") {
		t.Errorf("an unreadable secret: %v, want EUNAVAILABLE naming LiveDestinationSecretName", err)
	}
}

func TestBuildNeedsTheAdaptersItsKindUses(t *testing.T) {
	ctx := context.Background()
	if _, err := Build(ctx, Config{Env: cutover.EnvTest, Kind: KindBuiltin}, Adapters{}); cutover.ErrorCode(err) != cutover.EINTERNAL {
		t.Errorf("builtin without a built-in destination: %v", err)
	}
	if _, err := Build(ctx, Config{Env: cutover.EnvTest, Kind: KindHTTPS, URL: "https://v.test", Secret: "a"}, Adapters{Secret: secrets(nil)}); cutover.ErrorCode(err) != cutover.EINTERNAL {
		t.Errorf("https without a ledger: %v", err)
	}
	if _, err := Build(ctx, Config{Env: cutover.EnvTest, Kind: KindS3, Bucket: "b"}, Adapters{}); cutover.ErrorCode(err) != cutover.EINTERNAL {
		t.Errorf("s3 without a client: %v", err)
	}
	var calls []string
	want := named("builtin", &calls)
	if d, err := Build(ctx, Config{Env: cutover.EnvTest, Kind: KindBuiltin}, Adapters{Builtin: want}); err != nil || d != want {
		t.Errorf("builtin: %v, %v", d, err)
	}
}
