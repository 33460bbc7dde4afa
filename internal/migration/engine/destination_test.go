package engine

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
)

// liveWriter and testWriter are the LIVE and TEST fakes the engine's tests
// write through: a sink per tenant (LIVE) or per migration (TEST).
type (
	liveWriter interface {
		Writer(tenantID, migrationID string) cutover.Sink
	}
	testWriter interface {
		Writer(migrationID string) cutover.Sink
	}
)

// sinkDestination is a fake cutover.Destination over a Service's TEST and
// LIVE sinks: Deliver writes through the sink (and flushes one that writes
// in the background), reports every record created, and remembers the ids
// its sink accepted; Holdings reports them, or what HoldingsFn says.
type sinkDestination struct {
	svc        *Service
	HoldingsFn func(t cutover.Target, held map[string]cutover.Holding) map[string]cutover.Holding
	// Refuse, by source id, is the reason the destination refuses a
	// record for: it is not written, and answered rejected.
	Refuse map[string]string

	mu   sync.Mutex
	held map[cutover.Target]accepted
}

func (d *sinkDestination) Deliverer(t cutover.Target) cutover.Deliverer {
	return delivererFunc(func(ctx context.Context, recs []cutover.Record) ([]cutover.DeliveryResult, error) {
		var sink cutover.Sink = unwiredSink{}
		if t.Env == cutover.EnvTest {
			if w, ok := d.svc.Test.(testWriter); ok {
				sink = w.Writer(t.MigrationID)
			}
		} else if d.svc.Live != nil {
			sink = d.svc.Live.Writer(t.TenantID, t.MigrationID)
		}
		var take []cutover.Record
		out := make([]cutover.DeliveryResult, len(recs))
		for i, r := range recs {
			if reason, ok := d.Refuse[r.SourceID]; ok {
				out[i] = cutover.DeliveryResult{ID: r.ID, Outcome: cutover.Rejected, Reason: reason}
				continue
			}
			take = append(take, r)
			out[i] = cutover.DeliveryResult{ID: r.ID, Outcome: cutover.Created}
		}
		if _, err := sink.Write(ctx, take); err != nil {
			return nil, err
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.held[t] == nil {
			d.held[t] = accepted{}
		}
		for _, r := range take {
			d.held[t].add(r.Entity, r.ID)
		}
		return out, nil
	})
}

func (d *sinkDestination) Holdings(_ context.Context, t cutover.Target) (map[string]cutover.Holding, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	h := d.held[t].holdings()
	if d.HoldingsFn != nil {
		h = d.HoldingsFn(t, h)
	}
	return h, nil
}

// writtenFor is the one target of env the destination was written for;
// the test fails when it was written for none or several.
func (d *sinkDestination) writtenFor(t *testing.T, env string) cutover.Target {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []cutover.Target
	for tg := range d.held {
		if tg.Env == env {
			out = append(out, tg)
		}
	}
	if len(out) != 1 {
		t.Fatalf("%s was written for %d targets %v; want 1", env, len(out), out)
	}
	return out[0]
}

type delivererFunc func(ctx context.Context, recs []cutover.Record) ([]cutover.DeliveryResult, error)

func (f delivererFunc) Deliver(ctx context.Context, recs []cutover.Record) ([]cutover.DeliveryResult, error) {
	return f(ctx, recs)
}

// A destination that holds fewer records of an entity than the test
// migration wrote fails the step, naming the entity and both counts.
func TestTestMigrateFailsWhenTheDestinationHoldsLessThanWasWritten(t *testing.T) {
	svc, store, id := mappedMigration(t)
	fake := &sinkDestination{svc: svc, held: map[cutover.Target]accepted{}}
	fake.HoldingsFn = func(_ cutover.Target, h map[string]cutover.Holding) map[string]cutover.Holding {
		c := h["contact"]
		c.Count--
		h["contact"] = c
		return h
	}
	svc.Dest = fake
	_, err := svc.TestMigrate(context.Background(), migration.StepInput{MigrationID: id, Round: 1})
	if cutover.ErrorCode(err) != cutover.EINTERNAL {
		t.Fatalf("TestMigrate: %v, want EINTERNAL", err)
	}
	msg := cutover.ErrorMessage(err)
	if !strings.Contains(msg, "contact") || !strings.Contains(msg, "holds 1 contact") || !strings.Contains(msg, "wrote 2") {
		t.Errorf("message %q does not name the entity and both counts", msg)
	}
	if store.migs[id].Workbook != nil {
		t.Error("a workbook was recorded for a test migration whose read-back failed")
	}
}

// The same ids in the same number pass; other ids in the same number do not.
func TestTestMigrateReadBackComparesTheIdsNotOnlyTheCount(t *testing.T) {
	svc, _, id := mappedMigration(t)
	fake := &sinkDestination{svc: svc, held: map[cutover.Target]accepted{}}
	svc.Dest = fake
	if _, err := svc.TestMigrate(context.Background(), migration.StepInput{MigrationID: id, Round: 1}); err != nil {
		t.Fatalf("an honest destination: %v", err)
	}
	svc2, _, id2 := mappedMigration(t)
	fake2 := &sinkDestination{svc: svc2, held: map[cutover.Target]accepted{}}
	fake2.HoldingsFn = func(_ cutover.Target, h map[string]cutover.Holding) map[string]cutover.Holding {
		c := h["contact"]
		c.IDChecksum = strings.Repeat("0", 32)
		h["contact"] = c
		return h
	}
	svc2.Dest = fake2
	_, err := svc2.TestMigrate(context.Background(), migration.StepInput{MigrationID: id2, Round: 1})
	if cutover.ErrorCode(err) != cutover.EINTERNAL || !strings.Contains(cutover.ErrorMessage(err), "not the same ones") {
		t.Fatalf("swapped ids: %v", err)
	}
}

// mappedMigration is a migration mapped and ready for its test migration:
// two contacts migrate, one row is rejected.
func mappedMigration(t *testing.T) (*Service, *memStore, string) {
	t.Helper()
	store := newMemStore()
	svc, _ := newService(store)
	svc.Files, svc.Test = objects{}, discardTest{}
	ctx := context.Background()
	id := create(t, svc, "acme").Migration.ID
	uploaded(t, store, id, cutover.File{ID: "f1", Name: "c.csv", Key: "k-" + id, Purpose: cutover.PurposeTest, Round: 1, Complete: true})
	files(svc)["k-"+id] = "Id,Email,Name\n1,a@x.com,Ann\n2,b@x.com,Bo\n3,bad,\n"
	m, _ := store.GetMigration(ctx, id)
	if _, err := svc.Submit(ctx, m); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Map(ctx, migration.StepInput{MigrationID: id, Round: 1}); err != nil {
		t.Fatal(err)
	}
	return svc, store, id
}

// LIVE is read back once every chunk is done: a destination that lost a
// record of an entity fails FinishFinal, naming the entity, and the
// migration is not recorded as migrated. Chunk size 8 makes several
// chunks, so the comparison is over all of them.
func TestFinishFinalFailsWhenLiveHoldsLessThanTheChunksWrote(t *testing.T) {
	svc, store, _ := finalService(t, 8)
	id := signedOff(t, svc, store, "acme")
	fake := &sinkDestination{svc: svc, held: map[cutover.Target]accepted{}}
	fake.HoldingsFn = func(t cutover.Target, h map[string]cutover.Holding) map[string]cutover.Holding {
		if t.Env == cutover.EnvLive {
			c := h["contact"]
			c.Count--
			h["contact"] = c
		}
		return h
	}
	svc.Dest = fake
	_, err := runFinal(t, svc, id)
	if cutover.ErrorCode(err) != cutover.EINTERNAL || !strings.Contains(cutover.ErrorMessage(err), "holds 1 contact record(s); the migration wrote 2") {
		t.Fatalf("final with a record lost: %v", err)
	}
	if store.migs[id].Final != nil {
		t.Error("the migration was recorded as migrated")
	}
	fake.HoldingsFn = nil
	if out, err := svc.FinishFinal(context.Background(), FinalStep{MigrationID: id, Round: 1}); err != nil || out.Counts.Migrated != 2 {
		t.Fatalf("finish once LIVE holds every record: %+v %v", out, err)
	}
}

// Chunks' snapshots are merged: a record two chunks wrote is one record.
func TestSnapshotHoldingsCountsDistinctRecordsAcrossChunks(t *testing.T) {
	a := `{"k":"contact#a1","e":"contact","s":"1","f":{}}` + "\n" + `{"k":"contact#b2","e":"contact","s":"2","f":{}}` + "\n"
	b := `{"k":"company#z","e":"company","s":"9","f":{}}` + "\n" + `{"k":"contact#b2","e":"contact","s":"2","f":{}}` + "\n" + `{"k":"contact#c3","e":"contact","s":"3","f":{}}` + "\n"
	got, err := snapshotHoldings([]io.Reader{strings.NewReader(a), strings.NewReader(b), strings.NewReader("")})
	if err != nil {
		t.Fatal(err)
	}
	want := accepted{}
	for _, id := range []string{"a1", "b2", "c3"} {
		want.add("contact", id)
	}
	want.add("company", "z")
	if !reflect.DeepEqual(got, want.holdings()) {
		t.Errorf("got %+v, want %+v", got, want.holdings())
	}
	if _, err := snapshotHoldings([]io.Reader{strings.NewReader("not json\n")}); cutover.ErrorCode(err) != cutover.EINVALID {
		t.Errorf("a malformed snapshot: %v", err)
	}
}

// sealingDestination records the seals a destination is asked for.
type sealingDestination struct {
	*sinkDestination
	seals []map[string]cutover.Holding
}

func (d *sealingDestination) Seal(_ context.Context, t cutover.Target, delivered map[string]cutover.Holding, parts int) error {
	if t.Env != cutover.EnvTest || t.Round != 1 || parts != 0 {
		return cutover.Errorf(cutover.EINVALID, "sealed %+v", t)
	}
	d.seals = append(d.seals, delivered)
	return nil
}

// A destination that closes its deliveries is sealed once, with what it
// was seen to hold, and only after the read-back agreed.
func TestTestMigrateSealsTheDestinationOnlyAfterTheReadBackAgreed(t *testing.T) {
	svc, _, id := mappedMigration(t)
	fake := &sealingDestination{sinkDestination: &sinkDestination{svc: svc, held: map[cutover.Target]accepted{}}}
	svc.Dest = fake
	if _, err := svc.TestMigrate(context.Background(), migration.StepInput{MigrationID: id, Round: 1}); err != nil {
		t.Fatalf("TestMigrate: %v", err)
	}
	if len(fake.seals) != 1 || fake.seals[0]["contact"].Count != 2 {
		t.Fatalf("seals = %+v, want one seal holding 2 contacts", fake.seals)
	}

	svc2, _, id2 := mappedMigration(t)
	short := &sealingDestination{sinkDestination: &sinkDestination{svc: svc2, held: map[cutover.Target]accepted{}}}
	short.HoldingsFn = func(_ cutover.Target, h map[string]cutover.Holding) map[string]cutover.Holding {
		delete(h, "contact")
		return h
	}
	svc2.Dest = short
	if _, err := svc2.TestMigrate(context.Background(), migration.StepInput{MigrationID: id2, Round: 1}); cutover.ErrorCode(err) != cutover.EINTERNAL {
		t.Fatalf("TestMigrate with a short read-back: %v, want EINTERNAL", err)
	}
	if len(short.seals) != 0 {
		t.Errorf("a delivery whose read-back failed was sealed: %+v", short.seals)
	}
}

// wholeCounting is a sinkDestination that counts the whole read-backs it
// is asked for, per environment.
type wholeCounting struct {
	*sinkDestination
	whole map[string]int
}

func newWholeCounting(svc *Service) *wholeCounting {
	return &wholeCounting{sinkDestination: &sinkDestination{svc: svc, held: map[cutover.Target]accepted{}}, whole: map[string]int{}}
}

func (d *wholeCounting) Holdings(ctx context.Context, t cutover.Target) (map[string]cutover.Holding, error) {
	d.mu.Lock()
	d.whole[t.Env]++
	d.mu.Unlock()
	return d.sinkDestination.Holdings(ctx, t)
}

// rangeDestination is a destination that also reads back by key range
// (cutover.RangeHolder), counting what it was asked: whole read-backs and
// ranges, per environment. Lose, when set, is a record id LIVE's ranges
// no longer find (lost behind the writer's back).
type rangeDestination struct {
	*wholeCounting
	Lose   string
	ranges map[string]int
}

func (d *rangeDestination) HoldingsIn(_ context.Context, t cutover.Target, lo, hi string) (map[string]cutover.Holding, bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ranges[t.Env]++
	in := accepted{}
	for e, ids := range d.held[t] {
		for id := range ids {
			lost := t.Env == cutover.EnvLive && id == d.Lose
			if k := e + "#" + id; !lost && k >= lo && (hi == "" || k < hi) {
				in.add(e, id)
			}
		}
	}
	return in.holdings(), true, nil
}

// A destination that reads back by key range is read back in the
// comparison's ranges, a step each, for the test round and for the
// final, and never whole in the finish steps: at 100M records one step
// could not read them all. A record lost from one range fails the final
// as a whole read-back would. A comparison of fewer ranges than
// rangeReadBackRanges is read back whole, once, in the finish step.
func TestTheReadBackRunsInTheKeyRanges(t *testing.T) {
	svc, store, _ := finalService(t, 8)
	id := signedOff(t, svc, store, "acme")
	small := &rangeDestination{wholeCounting: newWholeCounting(svc), ranges: map[string]int{}}
	svc.Dest = small
	if _, err := runFinal(t, svc, id); err != nil {
		t.Fatal(err)
	}
	if small.whole[cutover.EnvLive] != 1 || small.ranges[cutover.EnvLive] != 0 {
		t.Fatalf("a small final read back whole %v and by range %v; want once whole", small.whole, small.ranges)
	}

	for _, lose := range []bool{false, true} {
		svc, store, id := rangedFinal(t)
		dest := &rangeDestination{wholeCounting: newWholeCounting(svc), ranges: map[string]int{}}
		svc.Dest = dest
		if lose {
			dest.Lose = cutover.RecordID("acme", "contact", "1000")
		}
		out, err := runFinal(t, svc, id)
		if lose {
			if cutover.ErrorCode(err) != cutover.EINTERNAL || !strings.Contains(cutover.ErrorMessage(err), "Read-back of LIVE") || store.migs[id].Final != nil {
				t.Fatalf("a record lost from LIVE: %v; want the read-back to fail the final", err)
			}
			continue
		}
		if err != nil || out.Counts.Migrated != 2000 {
			t.Fatalf("final: %+v %v", out, err)
		}
		if dest.whole[cutover.EnvLive] != 0 || dest.whole[cutover.EnvTest] != 0 || dest.ranges[cutover.EnvLive] < 3 || dest.ranges[cutover.EnvTest] < 3 {
			t.Fatalf("read back whole %v and by range %v; want every read-back in several ranges", dest.whole, dest.ranges)
		}
	}
}

// partDestination is a destination that reads back in parts of its own
// (cutover.PartHolder: an id's part is its last byte modulo n, as
// unrelated to the key ranges as a drop's objects are) and seals,
// recording per environment the parts asked, the whole read-backs, and
// the seals with the parts they were told of. Lose is as
// rangeDestination's.
type partDestination struct {
	*wholeCounting
	Lose  string
	parts map[string][]string
	seals map[string][]string
}

func newPartDestination(svc *Service) *partDestination {
	return &partDestination{wholeCounting: newWholeCounting(svc), parts: map[string][]string{}, seals: map[string][]string{}}
}

func (d *partDestination) HoldingsOfPart(_ context.Context, t cutover.Target, i, n int) (map[string]cutover.Holding, bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.parts[t.Env] = append(d.parts[t.Env], fmt.Sprintf("%d/%d", i, n))
	in := accepted{}
	for e, ids := range d.held[t] {
		for id := range ids {
			lost := t.Env == cutover.EnvLive && id == d.Lose
			if !lost && int(id[len(id)-1])%n == i {
				in.add(e, id)
			}
		}
	}
	return in.holdings(), true, nil
}

func (d *partDestination) Seal(_ context.Context, t cutover.Target, delivered map[string]cutover.Holding, parts int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if want := d.held[t].holdings(); !reflect.DeepEqual(delivered, want) {
		return cutover.Errorf(cutover.EINTERNAL, "sealed %v, holding %v", delivered, want)
	}
	d.seals[t.Env] = append(d.seals[t.Env], fmt.Sprintf("parts %d", parts))
	return nil
}

// A destination that cannot read a key range but reads itself back in
// parts (the S3 drop) is read back a part per key range, range i of n
// reading part i of n, for the test round and for the final, never whole,
// and is sealed told how many parts were read: at 100M records neither
// the read-back nor the seal can read them all in one step. A record lost
// from one part fails the final, unsealed. A comparison of fewer ranges
// than rangeReadBackRanges is read back whole and sealed with no parts.
func TestTheReadBackRunsInPartsWhereTheDestinationCannotReadARange(t *testing.T) {
	svc, store, _ := finalService(t, 8)
	id := signedOff(t, svc, store, "acme")
	small := newPartDestination(svc)
	svc.Dest = small
	if _, err := runFinal(t, svc, id); err != nil {
		t.Fatal(err)
	}
	if small.whole[cutover.EnvLive] != 1 || len(small.parts[cutover.EnvLive]) != 0 || !reflect.DeepEqual(small.seals[cutover.EnvLive], []string{"parts 0"}) {
		t.Fatalf("a small final read back whole %v and in parts %v, sealed %v; want once whole, sealed with no parts", small.whole, small.parts, small.seals)
	}

	for _, lose := range []bool{false, true} {
		svc, store, id := rangedFinal(t)
		dest := newPartDestination(svc)
		svc.Dest = dest
		if lose {
			dest.Lose = cutover.RecordID("acme", "contact", "1000")
		}
		out, err := runFinal(t, svc, id)
		if lose {
			if cutover.ErrorCode(err) != cutover.EINTERNAL || !strings.Contains(cutover.ErrorMessage(err), "Read-back of LIVE") || store.migs[id].Final != nil || len(dest.seals[cutover.EnvLive]) != 0 {
				t.Fatalf("a record lost from LIVE: %v, sealed %v; want the read-back to fail the final, unsealed", err, dest.seals)
			}
			continue
		}
		if err != nil || out.Counts.Migrated != 2000 {
			t.Fatalf("final: %+v %v", out, err)
		}
		if dest.whole[cutover.EnvLive] != 0 || dest.whole[cutover.EnvTest] != 0 {
			t.Fatalf("read back whole %v; want every read-back in parts", dest.whole)
		}
		for _, env := range []string{cutover.EnvTest, cutover.EnvLive} {
			asked := dest.parts[env]
			n := len(asked)
			want := make([]string, n)
			for i := range n {
				want[i] = fmt.Sprintf("%d/%d", i, n)
			}
			sort.Strings(asked)
			sort.Strings(want)
			if n < rangeReadBackRanges || !reflect.DeepEqual(asked, want) || !reflect.DeepEqual(dest.seals[env], []string{fmt.Sprintf("parts %d", n)}) {
				t.Errorf("%s: parts read %v, sealed %v; want each of n >= %d parts once, then a seal of n parts", env, asked, dest.seals[env], rangeReadBackRanges)
			}
		}
	}
}

// mixedDestination reads the first key range back by key and, for the
// others, says it cannot, so they read parts.
type mixedDestination struct{ *partDestination }

func (d mixedDestination) HoldingsIn(_ context.Context, t cutover.Target, lo, hi string) (map[string]cutover.Holding, bool, error) {
	if lo != "" {
		return nil, false, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	in := accepted{}
	for e, ids := range d.held[t] {
		for id := range ids {
			if k := e + "#" + id; hi == "" || k < hi {
				in.add(e, id)
			}
		}
	}
	return in.holdings(), true, nil
}

// Ranges that read back partly by key and partly in parts add up to
// neither: the finish steps read the whole back and seal without parts.
func TestAReadBackOfRangesAndPartsTogetherIsReadAgainWhole(t *testing.T) {
	svc, _, id := rangedFinal(t)
	dest := mixedDestination{newPartDestination(svc)}
	svc.Dest = dest
	if out, err := runFinal(t, svc, id); err != nil || out.Counts.Migrated != 2000 {
		t.Fatalf("final: %+v %v", out, err)
	}
	for _, env := range []string{cutover.EnvTest, cutover.EnvLive} {
		if len(dest.parts[env]) == 0 || dest.whole[env] != 1 || !reflect.DeepEqual(dest.seals[env], []string{"parts 0"}) {
			t.Errorf("%s: %d parts read, %d whole, sealed %v; want parts read, then once whole and a seal without parts", env, len(dest.parts[env]), dest.whole[env], dest.seals[env])
		}
	}
}
