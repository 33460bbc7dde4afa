package destination

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

// The Standard Webhooks test vector (standardwebhooks.com, the reference
// libraries' tests): this secret, id, timestamp and payload sign to this
// signature.
func TestSignMatchesTheStandardWebhooksVector(t *testing.T) {
	key, err := Key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("signature %q, want %q", got, want)
	}
}

func TestVerify(t *testing.T) {
	key, _ := Key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"records":[]}`)
	h := http.Header{}
	SetHeaders(h, key, "msg_1", now, body)
	if err := Verify(key, h, body, now.Add(time.Minute)); err != nil {
		t.Fatalf("a fresh, right signature: %v", err)
	}
	// A sender rotating keys may send two signatures; one right one is enough.
	h2 := h.Clone()
	h2.Set(HeaderSignature, "v1,AAAA "+h.Get(HeaderSignature))
	if err := Verify(key, h2, body, now); err != nil {
		t.Fatalf("two signatures, the second right: %v", err)
	}
	other, _ := Key("whsec_" + strings.Repeat("QUFB", 8))
	cases := map[string]func() error{
		"another body":    func() error { return Verify(key, h, []byte(`{"records":[1]}`), now) },
		"another key":     func() error { return Verify(other, h, body, now) },
		"too old":         func() error { return Verify(key, h, body, now.Add(SignatureTolerance+time.Second)) },
		"from the future": func() error { return Verify(key, h, body, now.Add(-SignatureTolerance-time.Second)) },
		"no id":           func() error { h3 := h.Clone(); h3.Del(HeaderID); return Verify(key, h3, body, now) },
		"a timestamp moved": func() error {
			h3 := h.Clone()
			h3.Set(HeaderTimestamp, "1800000001")
			return Verify(key, h3, body, now)
		},
	}
	for name, f := range cases {
		if err := f(); err != ErrSignature {
			t.Errorf("%s: %v, want ErrSignature", name, err)
		}
	}
	for _, bad := range []string{"", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_!!!", "whsec_QUFB"} {
		if _, err := Key(bad); err == nil {
			t.Errorf("Key(%q) accepted", bad)
		}
	}
}

func TestIdempotencyKeyIsTheBatchForOneTarget(t *testing.T) {
	a := cutover.Target{Env: cutover.EnvLive, TenantID: "acme", MigrationID: "m1"}
	rec := func(id, name string) Record {
		return Record{ID: id, Entity: "contact", Fields: map[string]any{"name": name}}
	}
	key := func(t cutover.Target, recs ...Record) string {
		k, err := BatchKey(t, recs)
		if err != nil {
			panic(err)
		}
		return k
	}
	r1, r2, r3 := rec("r1", "Ann"), rec("r2", "Bo"), rec("r3", "Cy")
	k := key(a, r1, r2, r3)
	if k != key(a, r3, r1, r2) {
		t.Error("the same records in another order make another key")
	}
	for name, other := range map[string]string{
		"one record fewer":          key(a, r1, r2),
		"another tenant":            key(cutover.Target{Env: a.Env, TenantID: "other", MigrationID: "m1"}, r1, r2, r3),
		"another env":               key(cutover.Target{Env: cutover.EnvTest, TenantID: "acme", MigrationID: "m1"}, r1, r2, r3),
		"another round":             key(cutover.Target{Env: a.Env, TenantID: "acme", MigrationID: "m1", Round: 1}, r1, r2, r3),
		"another migration":         key(cutover.Target{Env: a.Env, TenantID: "acme", MigrationID: "m2"}, r1, r2, r3),
		"the same ids, other value": key(a, r1, r2, rec("r3", "Cy Young")),
		"one value moved":           key(a, r1, rec("r2", "Bo Cy"), rec("r3", "")),
	} {
		if other == k {
			t.Errorf("%s makes the same key", name)
		}
	}
}

func TestIDChecksumIsTheSetInAnyOrder(t *testing.T) {
	var a, b, c IDChecksum
	for _, id := range []string{"x", "y", "z"} {
		a.Add(id)
	}
	for _, id := range []string{"z", "x", "y"} {
		b.Add(id)
	}
	for _, id := range []string{"x", "y"} {
		c.Add(id)
	}
	if a != b {
		t.Error("the same ids in another order sum differently")
	}
	if a == c || c.String() == (IDChecksum{}).String() {
		t.Error("a missing id does not change the sum")
	}
	if len(a.String()) != 32 {
		t.Errorf("hex %q", a.String())
	}
}
