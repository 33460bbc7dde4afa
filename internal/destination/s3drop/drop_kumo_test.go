package s3drop_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination/s3drop"
)

var (
	test1 = cutover.Target{Env: cutover.EnvTest, TenantID: "acme", MigrationID: "m1", Round: 1}
	live  = cutover.Target{Env: cutover.EnvLive, TenantID: "acme", MigrationID: "m1"}
)

func TestDeliveringTwiceWritesEachBatchOnceAndAnswersExists(t *testing.T) {
	e := newEnv(t)
	d := e.drop(t, nil, "vendor/{tenantId}/", 0)
	ctx := context.Background()
	recs := append(records("contact", 0, 200), records("company", 0, 50)...)
	refused := cutover.Record{ID: "contact-refused", Entity: "contact", Fields: map[string]string{"refuse": "no e-mail address"}}
	recs = append(recs, refused)

	res, err := d.Deliverer(live).Deliver(ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	if n := outcomes(t, res, recs); n[cutover.Created] != 250 || n[cutover.Rejected] != 1 {
		t.Fatalf("first delivery: %v, want 250 created and 1 rejected", n)
	}
	for _, r := range res {
		if r.ID == refused.ID && (r.Outcome != cutover.Rejected || !strings.Contains(r.Reason, "no e-mail address")) {
			t.Errorf("the refused record: %+v", r)
		}
	}
	first := e.view(t)
	if len(first.objects) != 3 { // contact 100 + 100, company 50
		t.Fatalf("%d record objects after the first delivery, want 3: %v", len(first.objects), first.keys)
	}
	for k := range first.objects {
		if !strings.HasPrefix(k, "vendor/acme/live/m1/round-0/") || !strings.HasSuffix(k, ".jsonl") {
			t.Errorf("object %s is not in the target's folder", k)
		}
	}

	// The same delivery again (a retried Lambda): nothing new, all exists.
	res, err = d.Deliverer(live).Deliver(ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	if n := outcomes(t, res, recs); n[cutover.Existed] != 250 || n[cutover.Rejected] != 1 {
		t.Fatalf("second delivery: %v, want 250 exists and 1 rejected", n)
	}
	second := e.view(t)
	if !reflect.DeepEqual(first.keys, second.keys) {
		t.Errorf("the second delivery changed the bucket:\n%v\n%v", first.keys, second.keys)
	}
	held := second.timesHeld(t)
	for _, r := range recs[:250] {
		if held[r.ID] != 1 {
			t.Errorf("%s is held %d times", r.ID, held[r.ID])
		}
	}
	if held[refused.ID] != 0 {
		t.Errorf("the refused record was written")
	}
	for _, b := range second.objects {
		for _, l := range lines(t, b) {
			if l.TenantID != "acme" || l.MigrationID != "m1" || l.Environment != "live" || l.Round != 0 || l.Fields["name"] == nil {
				t.Fatalf("a line without its target or fields: %+v", l)
			}
		}
	}
}

// failingPuts fails the PutObject of record objects (not of staged copies)
// while armed: a Lambda that died after claiming, before writing.
type failingPuts struct {
	*s3.Client
	armed atomic.Bool
}

func (f *failingPuts) PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	if f.armed.Load() && !strings.Contains(*in.Key, "/_staging/") {
		return nil, fmt.Errorf("the function was killed")
	}
	return f.Client.PutObject(ctx, in, opts...)
}

func TestARetryThatBatchesDifferentlyNeverDuplicatesARecord(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	recs := records("contact", 0, 250)

	// The first try writes 0..149 in batches of 100 and 50.
	if _, err := e.drop(t, nil, "", 0).Deliverer(test1).Deliver(ctx, recs[:150]); err != nil {
		t.Fatal(err)
	}
	// A second try dies after claiming 150..189, before writing them.
	dying := &failingPuts{Client: e.c.s3}
	dying.armed.Store(true)
	if _, err := e.drop(t, dying, "", 40).Deliverer(test1).Deliver(ctx, recs[150:190]); err == nil {
		t.Fatal("the killed delivery succeeded")
	}
	// The retry cuts the records into other batches, and overlaps both.
	retry := recs[20:250]
	res, err := e.drop(t, nil, "", 30).Deliverer(test1).Deliver(ctx, retry)
	if err != nil {
		t.Fatal(err)
	}
	n := outcomes(t, res, retry)
	if n[cutover.Existed] != 170 || n[cutover.Created] != 60 {
		t.Errorf("retry: %v, want 170 exists (20..189) and 60 created", n)
	}
	held := e.view(t).timesHeld(t)
	for _, r := range recs {
		if held[r.ID] != 1 {
			t.Errorf("%s is held %d times, want once", r.ID, held[r.ID])
		}
	}
	if len(held) != len(recs) {
		t.Errorf("the drop holds %d ids, want %d", len(held), len(recs))
	}
}

func TestConcurrentDeliveriesCreateEachRecordOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	same := records("contact", 0, 80)
	var created atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	deliver := func(recs []cutover.Record) {
		defer wg.Done()
		res, err := e.drop(t, nil, "", 0).Deliverer(live).Deliver(ctx, recs)
		if err != nil {
			errs <- err
			return
		}
		for _, r := range res {
			if r.Outcome == cutover.Created {
				created.Add(1)
			}
		}
	}
	// The same batch from two writers at once.
	wg.Add(2)
	go deliver(same)
	go deliver(same)
	wg.Wait()
	if v := e.view(t); len(v.objects) != 1 {
		t.Fatalf("%d objects for one batch delivered twice at once, want 1: %v", len(v.objects), v.keys)
	}
	if created.Load() != 80 {
		t.Errorf("%d records answered created, want 80 (each once)", created.Load())
	}
	// Overlapping batches from four writers at once (chunks deriving the
	// same records).
	created.Store(0)
	more := records("contact", 80, 200)
	wg.Add(4)
	go deliver(more[0:60])
	go deliver(more[30:90])
	go deliver(more[60:120])
	go deliver(more[10:100])
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if created.Load() != 120 {
		t.Errorf("%d of the overlapping records answered created, want 120", created.Load())
	}
	held := e.view(t).timesHeld(t)
	for _, r := range append(same, more...) {
		if held[r.ID] != 1 {
			t.Errorf("%s is held %d times, want once", r.ID, held[r.ID])
		}
	}
}

func TestHoldingsReadWhatTheDropHolds(t *testing.T) {
	e := newEnv(t)
	d := e.drop(t, nil, "", 0)
	ctx := context.Background()
	contacts, companies := records("contact", 0, 130), records("company", 0, 7)
	if _, err := d.Deliverer(test1).Deliver(ctx, append(contacts, companies...)); err != nil {
		t.Fatal(err)
	}
	folder := "acme/test/m1/round-1/"
	got, err := d.Holdings(ctx, test1)
	if err != nil {
		t.Fatal(err)
	}
	v := e.view(t)
	if want := v.counted(t, folder); !reflect.DeepEqual(got, want) {
		t.Fatalf("Holdings %v, a plain reader counts %v", got, want)
	}
	if got["contact"] != checksum(contacts) || got["company"] != checksum(companies) {
		t.Fatalf("Holdings %v is not what was delivered", got)
	}
	// Other targets hold nothing of it.
	for _, other := range []cutover.Target{live, {Env: cutover.EnvTest, TenantID: "acme", MigrationID: "m1", Round: 2}, {Env: cutover.EnvTest, TenantID: "acme2", MigrationID: "m1", Round: 1}} {
		if h, err := d.Holdings(ctx, other); err != nil || len(h) != 0 {
			t.Errorf("%+v holds %v (%v)", other, h, err)
		}
	}

	// A line deleted behind the drop's back.
	var key string
	for k := range v.objects {
		if strings.Contains(k, "/company/") {
			key = k
		}
	}
	body := v.objects[key]
	cut := body[strings.IndexByte(string(body), '\n')+1:]
	e.put(t, key, cut)
	got, err = d.Holdings(ctx, test1)
	if err != nil {
		t.Fatal(err)
	}
	if got["company"].Count != 6 || got["company"] == checksum(companies) {
		t.Errorf("a deleted line: Holdings %v", got["company"])
	}
	// The line back, twice: the record held twice is not hidden.
	first := body[:strings.IndexByte(string(body), '\n')+1]
	e.put(t, key, append(append(append([]byte{}, first...), first...), cut...))
	got, err = d.Holdings(ctx, test1)
	if err != nil {
		t.Fatal(err)
	}
	if got["company"].Count != 8 || got["company"] == checksum(companies) {
		t.Errorf("a duplicated line: Holdings %v", got["company"])
	}
	if want := e.view(t).counted(t, folder); !reflect.DeepEqual(got, want) {
		t.Errorf("Holdings %v, a plain reader counts %v", got, want)
	}
	// An object copied under another name: every record of it twice.
	e.put(t, folder+"company/copy.jsonl", body)
	e.put(t, key, body)
	got, err = d.Holdings(ctx, test1)
	if err != nil {
		t.Fatal(err)
	}
	if got["company"].Count != 14 {
		t.Errorf("a copied object: Holdings %v", got["company"])
	}
	// The vendor's own marks (names starting with "_") are not records.
	e.put(t, folder+"_loaded/company.done", []byte("loaded\n"))
	if again, err := d.Holdings(ctx, test1); err != nil || !reflect.DeepEqual(again, got) {
		t.Errorf("a vendor's mark changed Holdings: %v (%v), want %v", again, err, got)
	}
	// Something that is not a record fails the read-back.
	e.put(t, folder+"notes.txt", []byte("hello\n"))
	if _, err := d.Holdings(ctx, test1); cutover.ErrorCode(err) != cutover.EINVALID {
		t.Errorf("an object outside the layout: %v, want EINVALID", err)
	}
	if _, err := e.c.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &e.bucket, Key: aws.String(folder + "notes.txt")}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Holdings(ctx, test1); err != nil {
		t.Fatalf("the drop without notes.txt: %v", err)
	}
	e.put(t, folder+"company/junk.jsonl", []byte("not json\n"))
	if _, err := d.Holdings(ctx, test1); cutover.ErrorCode(err) != cutover.EINVALID {
		t.Errorf("a line that is not a record: %v, want EINVALID", err)
	}
}

func TestSealWritesTheManifestLastAndOnce(t *testing.T) {
	e := newEnv(t)
	d := e.drop(t, nil, "drops", 0)
	ctx := context.Background()
	recs := append(records("contact", 0, 230), records("company", 0, 12)...)
	if _, err := d.Deliverer(live).Deliver(ctx, recs); err != nil {
		t.Fatal(err)
	}
	folder := "drops/acme/live/m1/round-0/"
	delivered := map[string]cutover.Holding{"contact": checksum(recs[:230]), "company": checksum(recs[230:])}

	// Holdings that are not the drop's are refused, and nothing is sealed.
	wrong := map[string]cutover.Holding{"contact": checksum(recs[:229]), "company": delivered["company"]}
	if err := d.Seal(ctx, live, wrong, 0); cutover.ErrorCode(err) != cutover.EINTERNAL {
		t.Fatalf("sealing other holdings than the drop's: %v, want EINTERNAL", err)
	}
	for _, k := range e.view(t).keys {
		if strings.Contains(k, "/_manifest/") {
			t.Errorf("a seal refused wrote %s", k)
		}
	}
	if err := d.Seal(ctx, live, delivered, 0); err != nil {
		t.Fatal(err)
	}
	v := e.view(t)
	if n, most := e.checkManifest(t, v, folder, delivered); n != 4 || most != 4 { // contact 100+100+30, company 12
		t.Errorf("%d objects listed, at most %d a list; want 4 in one list (the drop read whole)", n, most)
	}

	// Sealing again with the same holdings is a no-op; with others a conflict.
	if err := d.Seal(ctx, live, delivered, 0); err != nil {
		t.Errorf("sealing again: %v", err)
	}
	if err := d.Seal(ctx, live, wrong, 0); cutover.ErrorCode(err) != cutover.ECONFLICT {
		t.Errorf("sealing again with other holdings: %v, want ECONFLICT", err)
	}
	// Nothing more lands in a sealed drop; what it holds is still exists.
	if _, err := d.Deliverer(live).Deliver(ctx, records("contact", 500, 501)); cutover.ErrorCode(err) != cutover.ECONFLICT {
		t.Errorf("delivering to a sealed drop: %v, want ECONFLICT", err)
	}
	res, err := d.Deliverer(live).Deliver(ctx, recs[:5])
	if err != nil || outcomes(t, res, recs[:5])[cutover.Existed] != 5 {
		t.Errorf("re-delivering sealed records: %v %v", res, err)
	}
	if after := e.view(t); !reflect.DeepEqual(after.keys, v.keys) {
		t.Errorf("the sealed drop changed:\n%v\n%v", v.keys, after.keys)
	}

	// An empty delivery seals too: a complete drop of nothing.
	empty := cutover.Target{Env: cutover.EnvTest, TenantID: "acme", MigrationID: "m1", Round: 4}
	if err := d.Seal(ctx, empty, nil, 0); err != nil {
		t.Fatal(err)
	}
	var none struct {
		Entities    map[string]cutover.Holding `json:"entities"`
		ObjectLists []json.RawMessage          `json:"objectLists"`
	}
	if err := json.Unmarshal(e.get(t, "drops/acme/test/m1/round-4/manifest.json"), &none); err != nil || none.ObjectLists == nil || len(none.ObjectLists) != 0 || len(none.Entities) != 0 {
		t.Errorf("empty manifest %+v %v", none, err)
	}
}

func TestBadTargetsAndConfigurationsAreRefused(t *testing.T) {
	e := newEnv(t)
	d := e.drop(t, nil, "", 0)
	ctx := context.Background()
	for _, tg := range []cutover.Target{
		{Env: "staging", TenantID: "acme", MigrationID: "m1"},
		{Env: cutover.EnvLive, MigrationID: "m1"},
		{Env: cutover.EnvLive, TenantID: "acme", MigrationID: "m1", Round: 2},
	} {
		if _, err := d.Deliverer(tg).Deliver(ctx, records("contact", 0, 1)); cutover.ErrorCode(err) != cutover.EINVALID {
			t.Errorf("deliver to %+v: %v, want EINVALID", tg, err)
		}
		if _, err := d.Holdings(ctx, tg); cutover.ErrorCode(err) != cutover.EINVALID {
			t.Errorf("holdings of %+v: %v, want EINVALID", tg, err)
		}
	}
	if _, err := d.Deliverer(live).Deliver(ctx, append(records("contact", 0, 1), records("contact", 0, 1)...)); cutover.ErrorCode(err) != cutover.EINTERNAL {
		t.Errorf("one id twice: %v, want EINTERNAL", err)
	}
	missing := s3dropConfigErrors(e)
	for name, err := range missing {
		if cutover.ErrorCode(err) != cutover.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
	// S3 that cannot be reached is EUNAVAILABLE.
	down := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: strPtr("http://127.0.0.1:1"), UsePathStyle: true, RetryMaxAttempts: 1})
	if _, err := e.drop(t, down, "", 0).Holdings(ctx, live); cutover.ErrorCode(err) != cutover.EUNAVAILABLE {
		t.Errorf("S3 down: %v, want EUNAVAILABLE", err)
	}
}

// claimsDownOnce fails the first Claim: a delivery that died after its
// staged copy, before claiming.
type claimsDownOnce struct {
	s3drop.Claims
	failed atomic.Bool
}

func (c *claimsDownOnce) Claim(ctx context.Context, t cutover.Target, object string, ids []string) (map[string]string, error) {
	if c.failed.CompareAndSwap(false, true) {
		return nil, cutover.Errorf(cutover.EUNAVAILABLE, "the register is down")
	}
	return c.Claims.Claim(ctx, t, object, ids)
}

func TestADeliveryThatDiedBeforeItsClaimIsDeliveredByTheRetry(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	recs := records("contact", 0, 10)
	down := &claimsDownOnce{Claims: e.claims}
	d, err := s3drop.New(e.c.s3, s3drop.Config{Bucket: e.bucket, Claims: down}, convert)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Deliverer(test1).Deliver(ctx, recs); cutover.ErrorCode(err) != cutover.EUNAVAILABLE {
		t.Fatalf("the register down: %v, want EUNAVAILABLE", err)
	}
	if v := e.view(t); len(v.objects) != 0 {
		t.Fatalf("records written without a claim: %v", v.keys)
	}
	res, err := d.Deliverer(test1).Deliver(ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	if n := outcomes(t, res, recs); n[cutover.Created] != 10 {
		t.Errorf("the retry: %v, want 10 created", n)
	}
	v := e.view(t)
	if len(v.objects) != 1 {
		t.Fatalf("%d objects, want 1: %v", len(v.objects), v.keys)
	}
	for k, body := range v.objects {
		staged := e.get(t, strings.Replace(k, "round-1/", "round-1/_staging/", 1))
		if string(staged) != string(body) {
			t.Errorf("%s is not its staged copy", k)
		}
	}
}
