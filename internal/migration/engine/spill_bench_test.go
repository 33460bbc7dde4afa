package engine

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/delta"
)

// dirFiles is storage in a local directory, for measuring what the
// pre-flight holds: the in-memory fake would hold the stored runs too.
type dirFiles struct{ dir string }

func (d dirFiles) path(key string) string {
	return filepath.Join(d.dir, strings.ReplaceAll(key, "/", "_"))
}

func (d dirFiles) Open(_ context.Context, key string) (io.ReadCloser, error) {
	return os.Open(d.path(key))
}

func (d dirFiles) OpenRange(context.Context, string, int64, int64) (io.ReadCloser, error) {
	return nil, cutover.Errorf(cutover.EINTERNAL, "no ranges here")
}

func (d dirFiles) Put(_ context.Context, key, _ string, body []byte) error {
	return os.WriteFile(d.path(key), body, 0o600)
}

func (d dirFiles) Stream(_ context.Context, key, _ string, write func(io.Writer) error) error {
	f, err := os.Create(d.path(key))
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// The pre-flight's snapshot of 200,000 contacts, held whole and spilled
// in runs of 8 MiB: peak-MiB is the most heap in use while the records
// are added and then compared with a test snapshot of the same records
// (sampled every 1,000 records and through the comparison). Run:
//
//	go test -run '^$' -bench PreflightSnapshot -benchtime 1x ./internal/migration/engine
func BenchmarkPreflightSnapshot(b *testing.B) {
	const n = 200_000
	entry := func(i int) delta.Entry {
		id := fmt.Sprint(i)
		return delta.FromRecord(cutover.Record{
			Entity: "contact", ID: cutover.RecordID("t", "contact", id), SourceID: id,
			Fields: map[string]string{"first_name": "Person", "last_name": "Number " + id, "emails": "person" + id + "@example.test", "phones": "+44 20 7946 " + id, "notes": strings.Repeat("n", 300)},
		})
	}
	for _, tc := range []struct {
		name     string
		runBytes int64
	}{{"held", 1 << 62}, {"spilled-8MiB", 8 << 20}} {
		b.Run(tc.name, func(b *testing.B) {
			for range b.N {
				ctx := context.Background()
				files := dirFiles{b.TempDir()}
				test := delta.NewSnapshot()
				for i := range n {
					test.Add(entry(i))
				}
				if err := (&base{files: files}).putSnapshot(ctx, "test.jsonl", test); err != nil {
					b.Fatal(err)
				}
				test = nil
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				base0 := ms.HeapInuse
				peak := uint64(0)
				sample := func() {
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapInuse)
				}
				snap := newSpilledSnapshot(&base{files: files}, "runs/", tc.runBytes)
				for i := range n {
					if err := snap.add(ctx, entry(i)); err != nil {
						b.Fatal(err)
					}
					if i%1000 == 0 {
						sample()
					}
				}
				before, err := files.Open(ctx, "test.jsonl")
				if err != nil {
					b.Fatal(err)
				}
				d, err := snap.compare(ctx, before, sampling{io.Discard, sample})
				before.Close()
				if err != nil || len(d.Entities) > 0 && d.Entities[0].Changed+d.Entities[0].Added+d.Entities[0].Removed != 0 {
					b.Fatalf("the comparison of the same records: %+v, %v", d, err)
				}
				sample()
				b.ReportMetric(float64(peak-min(peak, base0))/(1<<20), "peak-MiB")
				b.ReportMetric(float64(len(snap.runs)), "runs")
			}
		})
	}
}

// sampling calls sample on every write through it.
type sampling struct {
	io.Writer
	sample func()
}

func (s sampling) Write(p []byte) (int, error) {
	s.sample()
	return s.Writer.Write(p)
}
