package engine

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
)

// memStore is an in-memory migration.Store with the same conditional semantics as
// the DynamoDB one: versioned saves and a take-once tenant lock.
type memStore struct {
	mu    sync.Mutex
	migs  map[string]cutover.Migration
	audit map[string][]cutover.AuditEvent
	locks map[string]cutover.TenantLock
}

func newMemStore() *memStore {
	return &memStore{migs: map[string]cutover.Migration{}, audit: map[string][]cutover.AuditEvent{}, locks: map[string]cutover.TenantLock{}}
}

func (s *memStore) CreateMigration(_ context.Context, m *cutover.Migration, ev cutover.AuditEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.migs[m.ID] = *m
	s.audit[m.ID] = append(s.audit[m.ID], ev)
	return nil
}

func (s *memStore) GetMigration(_ context.Context, id string) (*cutover.Migration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.migs[id]
	if !ok {
		return nil, cutover.Errorf(cutover.ENOTFOUND, "no %s", id)
	}
	m.Files = append([]cutover.File(nil), m.Files...)
	return &m, nil
}

func (s *memStore) ListMigrations(_ context.Context, limit int) ([]*cutover.Migration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*cutover.Migration
	for _, m := range s.migs {
		if len(out) == limit {
			break
		}
		cp := m
		out = append(out, &cp)
	}
	return out, nil
}

func (s *memStore) SaveMigration(_ context.Context, m *cutover.Migration, ev ...cutover.AuditEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.migs[m.ID].Version != m.Version {
		return cutover.Errorf(cutover.ECONFLICT, "moved")
	}
	cp := *m
	cp.Version++
	s.migs[m.ID] = cp
	s.audit[m.ID] = append(s.audit[m.ID], ev...)
	return nil
}

func (s *memStore) ListAudit(_ context.Context, id string) ([]cutover.AuditEvent, error) {
	return s.audit[id], nil
}

func (s *memStore) GetTenantLock(_ context.Context, t string) (*cutover.TenantLock, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.locks[t]; ok {
		return &l, nil
	}
	return nil, nil
}

func (s *memStore) TakeTenantLock(_ context.Context, l cutover.TenantLock) (*cutover.TenantLock, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h, ok := s.locks[l.TenantID]; ok {
		return &h, nil
	}
	s.locks[l.TenantID] = l
	return &l, nil
}

// fakeFlow is a migration.Flow built from function fields.
type fakeFlow struct {
	StartFn  func(name string, in any) error
	ResumeFn func(token string, out any) error
}

func (f fakeFlow) Start(_ context.Context, name string, in any) error { return f.StartFn(name, in) }

func (f fakeFlow) Resume(_ context.Context, tok string, out any) error { return f.ResumeFn(tok, out) }

// objects is a fake Files over in-memory objects. Steps may read and
// write several at once (the id shuffle does), as S3 allows: objectsMu
// guards every map of objects the steps use; a test reads them after the
// steps returned.
type objects map[string]string

var objectsMu sync.Mutex

func (o objects) Open(_ context.Context, key string) (io.ReadCloser, error) {
	objectsMu.Lock()
	body, ok := o[key]
	objectsMu.Unlock()
	if !ok {
		return nil, cutover.Errorf(cutover.ENOTFOUND, "no object %s", key)
	}
	return io.NopCloser(strings.NewReader(body)), nil
}

func (o objects) OpenRange(ctx context.Context, key string, start, end int64) (io.ReadCloser, error) {
	objectsMu.Lock()
	body, ok := o[key]
	objectsMu.Unlock()
	if !ok || end > int64(len(body)) || start >= end {
		return nil, cutover.Errorf(cutover.ENOTFOUND, "no range %d-%d of %s", start, end, key)
	}
	return io.NopCloser(strings.NewReader(body[start:end])), nil
}

// Compose joins the pieces as S3 does (cutover.Composer): nothing is
// stored when a piece is missing or out of its object.
func (o objects) Compose(_ context.Context, key, _ string, pieces []cutover.Piece) error {
	objectsMu.Lock()
	defer objectsMu.Unlock()
	var b strings.Builder
	for _, p := range pieces {
		body, ok := o[p.Key]
		if !ok || p.Start < 0 || p.End < p.Start || p.End > int64(len(body)) {
			return cutover.Errorf(cutover.ENOTFOUND, "no range %d-%d of %s", p.Start, p.End, p.Key)
		}
		b.WriteString(body[p.Start:p.End])
	}
	o[key] = b.String()
	return nil
}

func (o objects) Put(_ context.Context, key, _ string, body []byte) error {
	objectsMu.Lock()
	defer objectsMu.Unlock()
	o[key] = string(body)
	return nil
}

// Stream stores what write writes, as S3 would: nothing when it fails.
func (o objects) Stream(_ context.Context, key, _ string, write func(io.Writer) error) error {
	var b strings.Builder
	if err := write(&b); err != nil {
		return err
	}
	objectsMu.Lock()
	defer objectsMu.Unlock()
	o[key] = b.String()
	return nil
}

// liveTable is a fake LiveEnv that, like the real one, creates records only
// if absent and can neither update nor delete.
type liveTable struct {
	mu      sync.Mutex
	records map[string]cutover.Record
	writes  int
	failAt  int // fail the write with this ordinal (1-based) once, to simulate a crash
}

type liveSink struct {
	l      *liveTable
	tenant string
}

func (s liveSink) Write(_ context.Context, recs []cutover.Record) ([]cutover.Refusal, error) {
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	for _, r := range recs {
		s.l.writes++
		if s.l.writes == s.l.failAt {
			return nil, cutover.Errorf(cutover.EUNAVAILABLE, "crashed midway")
		}
		k := s.tenant + "/" + r.ID
		if _, ok := s.l.records[k]; !ok {
			s.l.records[k] = r
		}
	}
	return nil, nil
}

func (l *liveTable) Writer(tenant, _ string) cutover.Sink { return liveSink{l, tenant} }

var now0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func newService(store *memStore) (*Service, *[]string) {
	var started []string
	return &Service{
		Store: store, SiteURL: "https://site", Now: func() time.Time { return now0 },
		Flow: fakeFlow{
			StartFn:  func(name string, _ any) error { started = append(started, name); return nil },
			ResumeFn: func(string, any) error { return nil },
		},
	}, &started
}

func create(t testing.TB, svc *Service, tenant string) *migration.Created {
	t.Helper()
	c, err := svc.Create(context.Background(), "ops:ana", migration.CreateInput{TenantID: tenant, CustomerName: "Acme", CustomerEmail: "c@acme.test", CoordinatorEmail: "k@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCreateValidatesAndAuthorizeIsolatesMigrations(t *testing.T) {
	svc, _ := newService(newMemStore())
	if _, err := svc.Create(context.Background(), "ops", migration.CreateInput{TenantID: "Bad Tenant!", CustomerName: "x", CustomerEmail: "a@b.c", CoordinatorEmail: "a@b.c"}); cutover.ErrorCode(err) != cutover.EINVALID {
		t.Fatalf("bad tenant: %v", err)
	}
	if _, err := svc.Create(context.Background(), "ops", migration.CreateInput{TenantID: "acme", CustomerName: "x", CustomerEmail: "nope", CoordinatorEmail: "a@b.c"}); cutover.ErrorCode(err) != cutover.EINVALID {
		t.Fatalf("bad email: %v", err)
	}
	a, b := create(t, svc, "acme"), create(t, svc, "globex")
	if !strings.Contains(a.InviteURL, "#m="+a.Migration.ID+"&k="+a.CustomerKey) || strings.Contains(a.Migration.KeyHash, a.CustomerKey) {
		t.Fatalf("invite = %q", a.InviteURL)
	}
	ctx := context.Background()
	if m, err := svc.Authorize(ctx, a.Migration.ID, a.CustomerKey); err != nil || m.ID != a.Migration.ID {
		t.Fatalf("own key: %v", err)
	}
	for name, tc := range map[string]struct{ id, key, code string }{
		"no key":            {a.Migration.ID, "", cutover.EUNAUTHORIZED},
		"another's key":     {a.Migration.ID, b.CustomerKey, cutover.EFORBIDDEN},
		"unknown migration": {"m-nope", a.CustomerKey, cutover.ENOTFOUND},
	} {
		if _, err := svc.Authorize(ctx, tc.id, tc.key); cutover.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", name, err, tc.code)
		}
	}
}

// uploaded puts a completed test file on the migration.
func uploaded(t testing.TB, store *memStore, id string, f cutover.File) {
	t.Helper()
	m := store.migs[id]
	m.Files = append(m.Files, f)
	store.migs[id] = m
}

func TestSubmitNeedsAnExtractAndIsIdempotent(t *testing.T) {
	store := newMemStore()
	svc, started := newService(store)
	c := create(t, svc, "acme")
	ctx := context.Background()
	if _, err := svc.Submit(ctx, c.Migration); cutover.ErrorCode(err) != cutover.ECONFLICT {
		t.Fatalf("submit without extract: %v", err)
	}
	uploaded(t, store, c.Migration.ID, cutover.File{ID: "f1", Name: "c.csv", Key: "k", Purpose: cutover.PurposeTest, Round: 1, Complete: true})
	m, _ := store.GetMigration(ctx, c.Migration.ID)
	if m, err := svc.Submit(ctx, m); err != nil || m.Status != cutover.StatusSubmitted || m.Round != 1 {
		t.Fatalf("submit: %+v %v", m, err)
	}
	m, _ = store.GetMigration(ctx, c.Migration.ID)
	if _, err := svc.Submit(ctx, m); err != nil {
		t.Fatalf("second submit: %v", err)
	}
	if len(*started) != 2 || (*started)[0] != (*started)[1] || (*started)[0] != c.Migration.ID+"-r1" {
		t.Fatalf("executions = %v; a repeated submit must reuse the deterministic name", *started)
	}
}

// signedOff builds a migration that has been mapped, test-migrated and
// approved, with its extract in objects.
func signedOff(t *testing.T, svc *Service, store *memStore, tenant string) string {
	t.Helper()
	ctx := context.Background()
	c := create(t, svc, tenant)
	id := c.Migration.ID
	uploaded(t, store, id, cutover.File{ID: "f1", Name: "c.csv", Key: "k-" + id, Purpose: cutover.PurposeTest, Round: 1, Complete: true})
	files(svc)["k-"+id] = "Id,Email,Name\n1,a@x.com,Ann\n2,b@x.com,Bo\n3,bad,\n" // 3 is rejected: its only identity, the e-mail, is not one
	m, _ := store.GetMigration(ctx, id)
	if _, err := svc.Submit(ctx, m); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Map(ctx, migration.StepInput{MigrationID: id, Round: 1}); err != nil {
		t.Fatal(err)
	}
	m, _ = store.GetMigration(ctx, id)
	m.Status = cutover.StatusScheduled
	m.SignOff = &cutover.SignOffRecord{Round: 1, MappingVersion: m.MappingVersion, MappingHash: m.MappingHash}
	if err := store.SaveMigration(ctx, m); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestMarkFailedKeepsTheStepsOwnReason(t *testing.T) {
	store := newMemStore()
	svc, _ := newService(store)
	c := create(t, svc, "acme")
	ctx := context.Background()
	svc.RecordStepFailure(ctx, c.Migration.ID, "Map", "contacts.csv: The file is not valid CSV at line 3.")
	if err := svc.MarkFailed(ctx, migration.FailInput{StepInput: migration.StepInput{MigrationID: c.Migration.ID, Round: 1}, Error: migration.StepError{Error: "States.TaskFailed", Cause: "opaque"}}); err != nil {
		t.Fatal(err)
	}
	m := store.migs[c.Migration.ID]
	if m.Status != cutover.StatusFailed || m.Failure.Reason != "contacts.csv: The file is not valid CSV at line 3." {
		t.Fatalf("failure = %+v", m.Failure)
	}
	if got := migration.FailureReason(migration.StepError{Error: "ConflictError", Cause: `{"errorMessage":"Tenant acme already went live","errorType":"ConflictError"}`}); got != "Tenant acme already went live" {
		t.Fatalf("reason from AWS cause = %q", got)
	}
}

// The customer's action is recorded before the state machine hears of it
// (its next step must find it), and undone when the task cannot be resumed.
func TestHandOverOrderAndUndo(t *testing.T) {
	store := newMemStore()
	svc, _ := newService(store)
	svc.Files, svc.Live = objects{}, &liveTable{records: map[string]cutover.Record{}}
	ctx := context.Background()
	id := signedOff(t, svc, store, "acme")
	m := store.migs[id]
	m.Status, m.Pending = cutover.StatusAwaitingFinal, &cutover.PendingTask{Kind: cutover.TaskFinal, Token: "tok"}
	store.migs[id] = m
	goLive := now0.Add(time.Hour).Format(time.RFC3339)

	resumed := 0
	svc.Flow = fakeFlow{ResumeFn: func(tok string, _ any) error {
		resumed++
		if cur := store.migs[id]; cur.Status != cutover.StatusScheduled || tok != "tok" {
			t.Errorf("resumed while the migration was %s (token %q)", cur.Status, tok)
		}
		return cutover.Errorf(cutover.EGONE, "no longer waiting")
	}}
	cur, _ := store.GetMigration(ctx, id)
	if _, err := svc.SubmitFinal(ctx, cur, FinalInput{GoLiveAt: goLive}); cutover.ErrorCode(err) != cutover.EGONE {
		t.Fatalf("SubmitFinal = %v, want the flow's error", err)
	}
	if got := store.migs[id]; resumed != 1 || got.Status != cutover.StatusAwaitingFinal || got.Pending == nil || !got.GoLiveAt.IsZero() {
		t.Fatalf("after a failed resume: status %s, pending %v, go-live %v", got.Status, got.Pending, got.GoLiveAt)
	}

	svc.Flow = fakeFlow{ResumeFn: func(string, any) error { return nil }}
	cur, _ = store.GetMigration(ctx, id)
	if m, err := svc.SubmitFinal(ctx, cur, FinalInput{GoLiveAt: goLive}); err != nil || m.Status != cutover.StatusScheduled {
		t.Fatalf("retry: %+v, %v", m, err)
	}
	for name, at := range map[string]string{"past": now0.Add(-time.Hour).Format(time.RFC3339), "far": now0.AddDate(1, 0, 0).Format(time.RFC3339), "garbage": "tomorrow"} {
		m := store.migs[id]
		m.Status = cutover.StatusAwaitingFinal
		if _, err := svc.SubmitFinal(ctx, &m, FinalInput{GoLiveAt: at}); cutover.ErrorCode(err) != cutover.EINVALID {
			t.Errorf("%s go-live: %v", name, err)
		}
	}
}
