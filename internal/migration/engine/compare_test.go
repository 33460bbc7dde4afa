package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/delta"
)

// rangedFinal is a signed-off migration whose final extract differs from
// its test extract (rows gone, rows new, names changed), planned into
// several chunks and compared in many key ranges.
func rangedFinal(t *testing.T) (*Service, *memStore, string) {
	t.Helper()
	svc, store, _ := finalService(t, 16<<10)
	svc.Thresholds = &cutover.Thresholds{FillDropPoints: 100, RejectRisePoints: 100}
	svc.CompareBytes = 4 << 10
	id := signedOff(t, svc, store, "acme")
	const n = 2000
	var test, final strings.Builder
	test.WriteString("Id,Email,Name\n")
	final.WriteString("Id,Email,Name\n")
	for i := range n {
		fmt.Fprintf(&test, "%d,p%d@x.com,Ann %d\n", i, i, i)
		name := fmt.Sprintf("Ann %d", i+60)
		if i%3 == 0 {
			name = fmt.Sprintf("Bea %d", i+60)
		}
		fmt.Fprintf(&final, "%d,p%d@x.com,%s\n", i+60, i+60, name)
	}
	files(svc)["k-"+id] = test.String()
	withFinalExtract(t, svc, store, id, final.String())
	return svc, store, id
}

// legacyComparison is what the one-step comparison made of scope: the
// delta, its CSV, the holdings and the pre-flight's per-field counts.
type legacyComparison struct {
	delta    any
	csv      string
	holdings map[string]cutover.Holding
	changed  map[string]int
}

func compareInOne(t *testing.T, f *Final, sc *compareScope) legacyComparison {
	t.Helper()
	ctx := context.Background()
	var buf bytes.Buffer
	d, err := f.compareSnapshots(ctx, sc.before, sc.chunks, &buf)
	if err != nil {
		t.Fatal(err)
	}
	changed, _, err := f.preflightDelta(ctx, sc.m, sc.chunks, nil)
	if err != nil {
		t.Fatal(err)
	}
	snaps := make([]io.Reader, len(sc.chunks))
	for i, c := range sc.chunks {
		rc, err := f.files.Open(ctx, c.Snapshot)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		snaps[i] = rc
	}
	held, err := snapshotHoldings(snaps)
	if err != nil {
		t.Fatal(err)
	}
	return legacyComparison{delta: d, csv: buf.String(), holdings: held, changed: changed}
}

// The comparison in key ranges means what the one streaming merge of every
// snapshot meant: for the go-live pre-flight's dry run and for the final,
// the same delta (counts and examples), the same delta CSV byte for byte,
// the same holdings (counts and id checksums, what LIVE is read back
// against) and the same per-field change counts; and so does a comparison
// of snapshots written before they had an index, read whole.
func TestTheComparisonInKeyRangesMeansTheSameAsInOne(t *testing.T) {
	svc, store, id := rangedFinal(t)
	ctx := context.Background()
	f := svc.final()
	cleared(t, svc, id)

	// The go-live pre-flight's dry run, compared in ranges.
	r, done, err := f.dryRunOf(ctx, FinalStep{MigrationID: id, Round: 1, Phase: cutover.PreflightAtGoLive})
	if err != nil || done != nil {
		t.Fatalf("dry run: %v %v", done, err)
	}
	chunks, err := f.dryChunks(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	dry := dryScope(r, chunks)
	checkRanges(t, f, dry, compareInOne(t, f, dry), false)

	out, err := runFinal(t, svc, id)
	if err != nil {
		t.Fatal(err)
	}
	m := store.migs[id]
	chunks, err = svc.Chunks.ListChunks(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) < 3 || out.Counts.Migrated != 2000 {
		t.Fatalf("%d chunks, counts %+v: want several chunks and every row migrated", len(chunks), out.Counts)
	}
	fin := finalScope(&m, chunks)
	one := compareInOne(t, f, fin)
	checkRanges(t, f, fin, one, true)
	if got := files(svc)[m.FinalReport.DeltaKey]; got != one.csv {
		t.Fatalf("the stored delta CSV (%d bytes) is not the one-step comparison's (%d bytes)", len(got), len(one.csv))
	}
	var rep FinalReport
	if err := json.Unmarshal([]byte(files(svc)[m.FinalReport.ReportKey]), &rep); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(any(rep.Delta), one.delta) {
		t.Fatalf("the final report's delta %+v, the one-step comparison's %+v", rep.Delta, one.delta)
	}

	// Snapshots without an index (written before there were any: here the
	// test's and the first chunk's) are read whole, each range keeping its
	// own lines: the same again.
	for _, k := range []string{m.Workbook.Snapshot, chunks[0].Snapshot} {
		if _, ok := files(svc)[snapshotIndexKey(k)]; !ok {
			t.Fatalf("%s has no index", k)
		}
		delete(files(svc), snapshotIndexKey(k))
	}
	checkRanges(t, f, fin, one, true)
}

// checkRanges plans and runs the comparison of sc in key ranges, as the
// state machine does, and checks that its results add up to one's.
func checkRanges(t *testing.T, f *Final, sc *compareScope, one legacyComparison, final bool) {
	t.Helper()
	ctx := context.Background()
	in := FinalStep{MigrationID: sc.m.ID, Round: 1, Run: &ChunkRun{}}
	if !final {
		in.Run.Phase = cutover.PreflightAtGoLive
	}
	in.Action = FinalComparePlan
	out, err := f.Final(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if out.Compare.Partitions < 8 {
		t.Fatalf("%d key ranges of %s (%+v): want many", out.Compare.Partitions, sc.prefix, out.Compare)
	}
	for i := range out.Compare.Partitions {
		step := FinalStep{Action: FinalComparePartition, MigrationID: sc.m.ID, Round: 1, Index: i, Phase: in.Run.Phase}
		if _, err := f.Final(ctx, step); err != nil {
			t.Fatal(err)
		}
	}
	cmp, err := f.compared(ctx, sc)
	if err != nil || cmp == nil {
		t.Fatalf("compared: %v, %v", cmp, err)
	}
	if !reflect.DeepEqual(any(cmp.Delta), one.delta) {
		t.Fatalf("in ranges the delta is %+v; in one %+v", cmp.Delta, one.delta)
	}
	if !reflect.DeepEqual(cmp.Holdings, one.holdings) {
		t.Fatalf("in ranges the chunks hold %+v; in one %+v", cmp.Holdings, one.holdings)
	}
	if !final && !reflect.DeepEqual(cmp.Changed, one.changed) {
		t.Fatalf("in ranges the changed fields are %v; in one %v", cmp.Changed, one.changed)
	}
	if final {
		key := sc.prefix + "whole-delta.csv"
		if err := f.composeDelta(ctx, key, cmp); err != nil {
			t.Fatal(err)
		}
		rc, err := f.files.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if string(got) != one.csv {
			t.Fatalf("in ranges the delta CSV is %d bytes; in one %d", len(got), len(one.csv))
		}
	}
}

// The test snapshot merged in key ranges (each range merged from its byte
// range of every chunk's snapshot, the ranges then joined within storage)
// is byte for byte the one a single step merges, records merged across
// chunks included, and its index says where each slot begins in it.
func TestTheTestSnapshotMergedInKeyRangesIsTheOneMergedWhole(t *testing.T) {
	body, mapping := mergingContacts(300), dedupeMapping(false)
	one, err := tryTestMapping(t, body, mapping, 0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	many, err := tryTestMapping(t, body, mapping, 700, func(s *Service) {
		s.Chunking.PartitionRows, s.Chunking.MergeRows, s.CompareBytes = 40, 60, 2048
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var plan comparePlan
	if err := json.Unmarshal([]byte(many.objects[testPrefix(many.m.ID, 1)+"compare/plan.json"]), &plan); err != nil {
		t.Fatal(err)
	}
	if len(many.chunks) < 4 || plan.Partitions < 8 {
		t.Fatalf("%d chunks merged in %d key ranges: want several of each", len(many.chunks), plan.Partitions)
	}
	got, want := many.objects[many.m.Workbook.Snapshot], one.objects[one.m.Workbook.Snapshot]
	if got != want || got == "" {
		t.Fatalf("the test snapshot merged in %d ranges (%d bytes) is not the one merged whole (%d bytes)", plan.Partitions, len(got), len(want))
	}
	var x delta.Indexer
	for _, line := range strings.SplitAfter(got, "\n") {
		var e delta.Entry
		if line == "" {
			continue
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		x.Line(e.Key, len(line))
	}
	var idx delta.Index
	if err := json.Unmarshal([]byte(many.objects[snapshotIndexKey(many.m.Workbook.Snapshot)]), &idx); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(idx, x.Index()) || len(idx.Slots) < 100 {
		t.Fatalf("the joined index has %d slots over %d bytes; the snapshot's own %d over %d", len(idx.Slots), idx.Size, len(x.Index().Slots), x.Index().Size)
	}
}
