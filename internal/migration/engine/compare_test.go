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
		var buf bytes.Buffer
		if err := f.concatCSVs(ctx, cmp.csvs, &buf); err != nil {
			t.Fatal(err)
		}
		if buf.String() != one.csv {
			t.Fatalf("in ranges the delta CSV is %d bytes; in one %d", buf.Len(), len(one.csv))
		}
	}
}
