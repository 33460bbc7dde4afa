package e2e

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/cutover/cutover/infra/receiver"
	"github.com/cutover/cutover/internal/destination"
)

// vendor is the product being joined, as the stack sees it: one base URL
// for its staging (/staging, TEST) and one for its production
// (/production, LIVE), behind which each tenant has its own reference
// receiver. It checks that TEST batches reach staging and LIVE batches
// production, and can lose a LIVE batch's answer by killing the final
// migration's process while the receiver stores it.
type vendor struct {
	url    string
	dir    string
	secret string
	kill   func(r *http.Request) error // kills the process that sent r

	mu        sync.Mutex
	tenants   map[string]*product
	misrouted []string
}

// product is one tenant's receiver.
type product struct {
	h     *receiver.Handler
	store *receiver.Store
	db    string
	// killAt, when positive, is the LIVE batch (counting those the
	// receiver stored and answered 200) whose answer is lost: the final
	// migration's process is killed before it is given.
	killAt       int
	liveAnswered int
	killed       int
	// sent counts, per record id, the LIVE batches whose 200 answer
	// reached the sender with the record in them: the delivery ledger must
	// keep a retried chunk from sending an answered record again.
	sent map[string]int
}

func newVendor(dir, secret string) (*vendor, error) {
	if _, err := destination.Key(secret); err != nil {
		return nil, err
	}
	return &vendor{dir: dir, secret: secret, tenants: map[string]*product{}}, nil
}

// tenant returns (opening on first use) the tenant's receiver.
func (v *vendor) tenant(id string) (*product, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if p, ok := v.tenants[id]; ok {
		return p, nil
	}
	db := filepath.Join(v.dir, "receiver-"+id+".db")
	store, err := receiver.Open(db)
	if err != nil {
		return nil, err
	}
	key, _ := destination.Key(v.secret)
	p := &product{h: receiver.New(key, store, receiver.Options{Logger: slog.New(slog.DiscardHandler)}), store: store, db: db, sent: map[string]int{}}
	v.tenants[id] = p
	return p, nil
}

func (v *vendor) close() {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, p := range v.tenants {
		_ = p.store.Close()
	}
}

// ServeHTTP routes /{staging|production}/tenants/{tenant}/... to the
// tenant's receiver (and /admin/faults?tenant= to its faults).
func (v *vendor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/admin/faults" {
		p, err := v.tenant(r.URL.Query().Get("tenant"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		p.h.ServeHTTP(w, r)
		return
	}
	site, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	parts := strings.Split(rest, "/")
	if (site != "staging" && site != "production") || len(parts) < 3 || parts[0] != "tenants" {
		http.NotFound(w, r)
		return
	}
	p, err := v.tenant(parts[1])
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	body, _ := io.ReadAll(r.Body)
	env := r.URL.Query().Get("environment")
	if r.Method == http.MethodPost {
		var b struct{ Environment string }
		_ = json.Unmarshal(body, &b)
		env = b.Environment
	}
	if want := map[string]string{"staging": "test", "production": "live"}[site]; env != want {
		v.mu.Lock()
		v.misrouted = append(v.misrouted, fmt.Sprintf("%s %s (environment %q)", r.Method, r.URL.Path, env))
		v.mu.Unlock()
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + rest
	r2.URL.RawPath = ""
	r2.Body = io.NopCloser(bytes.NewReader(body))
	if r.Method != http.MethodPost || env != "live" {
		p.h.ServeHTTP(w, r2)
		return
	}
	rec := httptest.NewRecorder()
	p.h.ServeHTTP(rec, r2)
	v.mu.Lock()
	lose := false
	if rec.Code == http.StatusOK {
		p.liveAnswered++
		lose = p.killAt > 0 && p.liveAnswered == p.killAt
	}
	v.mu.Unlock()
	if lose {
		// Stored, but the sender never hears: its process dies first.
		if err := v.kill(r); err == nil {
			v.mu.Lock()
			p.killed++
			v.mu.Unlock()
		}
		http.Error(w, "the sender's process was killed", http.StatusBadGateway)
		return
	}
	if rec.Code == http.StatusOK {
		var b destination.Batch
		if err := json.Unmarshal(body, &b); err == nil {
			v.mu.Lock()
			for _, r := range b.Records {
				p.sent[r.ID]++
			}
			v.mu.Unlock()
		}
	}
	for k, vals := range rec.Header() {
		w.Header()[k] = vals
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// setFaults sets the tenant's receiver's faults through its admin
// endpoint (receiver.Faults' JSON).
func setFaults(t *testing.T, tenant string, faults map[string]any) {
	t.Helper()
	b, _ := json.Marshal(faults)
	resp, err := http.Post(products.url+"/admin/faults?tenant="+tenant, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("set faults: %d %s", resp.StatusCode, body)
	}
}

// faultsLeft returns the tenant's receiver's faults not yet used up.
func faultsLeft(t *testing.T, tenant string) receiver.Faults {
	t.Helper()
	resp, err := http.Get(products.url + "/admin/faults?tenant=" + tenant)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var f receiver.Faults
	if err := json.NewDecoder(resp.Body).Decode(&f); err != nil {
		t.Fatal(err)
	}
	return f
}

// arrived counts, in the tenant's receiver database on a connection of
// the test's own (not the receiver's code), the records of environment
// (and of migration in test), by record id: each id's number of rows.
func arrived(t *testing.T, tenant, environment, migration string) map[string]int {
	t.Helper()
	db := receiverDB(t, tenant)
	defer db.Close()
	rows, err := db.Query(`SELECT record_id, count(*) FROM records WHERE tenant_id = ? AND environment = ? AND (? = '' OR migration_id = ?) GROUP BY record_id`,
		tenant, environment, migration, migration)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// fieldsOf returns a stored record's fields as the receiver keeps them.
func fieldsOf(t *testing.T, tenant, environment, id string) map[string]any {
	t.Helper()
	db := receiverDB(t, tenant)
	defer db.Close()
	var text string
	if err := db.QueryRow(`SELECT fields FROM records WHERE tenant_id = ? AND environment = ? AND record_id = ?`, tenant, environment, id).Scan(&text); err != nil {
		t.Fatalf("record %s in %s: %v", id, environment, err)
	}
	var f map[string]any
	if err := json.Unmarshal([]byte(text), &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// receiverDB opens the tenant's receiver database read-only, on a
// connection of the test's own (not the receiver's code), so what the
// tests count is what the receiver really stored.
func receiverDB(t *testing.T, tenant string) *sql.DB {
	t.Helper()
	p, err := products.tenant(tenant)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+p.db+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// exactlyOnce fails unless got holds every id of want once and nothing else.
func exactlyOnce(t *testing.T, what string, got map[string]int, want []string) {
	t.Helper()
	var missing, twice, extra []string
	wantSet := map[string]bool{}
	for _, id := range want {
		wantSet[id] = true
		switch got[id] {
		case 0:
			missing = append(missing, id)
		case 1:
		default:
			twice = append(twice, id)
		}
	}
	for id := range got {
		if !wantSet[id] {
			extra = append(extra, id)
		}
	}
	sort.Strings(extra)
	if len(missing)+len(twice)+len(extra) > 0 {
		t.Fatalf("%s: %d of %d records arrived; missing %v, more than once %v, unexpected %v", what, len(got), len(want), missing, twice, extra)
	}
}

// answeredOnce fails unless each of ids reached the tenant's production
// in exactly one batch whose answer the sender got.
func answeredOnce(t *testing.T, tenant string, ids []string) {
	t.Helper()
	p, err := products.tenant(tenant)
	if err != nil {
		t.Fatal(err)
	}
	products.mu.Lock()
	defer products.mu.Unlock()
	var wrong []string
	for _, id := range ids {
		if n := p.sent[id]; n != 1 {
			wrong = append(wrong, fmt.Sprintf("%s×%d", id, n))
		}
	}
	if len(wrong) > 0 || len(p.sent) != len(ids) {
		t.Fatalf("records answered to the sender other than once: %v (%d ids answered, want %d)", wrong, len(p.sent), len(ids))
	}
}

// misrouted returns the requests that reached the other environment's URL.
func misrouted() []string {
	products.mu.Lock()
	defer products.mu.Unlock()
	return append([]string(nil), products.misrouted...)
}
