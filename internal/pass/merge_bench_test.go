package pass

import (
	"bytes"
	"context"
	encsv "encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/benchdata"
	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pipeline"
)

// benchDedupe maps the generated contacts and merges them by e-mail, as
// the proposed mapping of such an export does.
const benchDedupe = `{"version":1,"defaults":{"region":"GB"},"files":[{"name":"f1","entity":"contact","sourceId":["Record ID"],"dedupe":["emails"],
"fields":[{"target":"first_name","column":"First Name"},{"target":"last_name","column":"Last Name"},{"target":"emails","column":"Email"},
{"target":"phones","column":"Phone Number"},{"target":"company","column":"Company Name"},{"target":"notes","column":"Notes"}]}]}`

// peakHeap samples the heap in use every few milliseconds while fn runs
// and returns the most it saw above what was in use before.
func peakHeap(fn func()) float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	fn()
	close(done)
	wg.Wait()
	return float64(peak.Load()-min(base, peak.Load())) / (1 << 20)
}

// The most heap one step holds for a final migration of 220,000 generated
// contacts merged by e-mail (the last 20,000 repeat the first): as one pass that merges every record (the
// one chunk such a mapping used to be), and as 8 chunks that spill their
// records to 4 merge partitions (about 50,000 records each, the
// default), each step run alone as its Lambda would run it. Run:
//
//	go test -run '^$' -bench MergeSteps -benchtime 1x ./internal/pass
func BenchmarkMergeSteps(b *testing.B) {
	const rows, chunks, parts = 200_000, 8, 4
	var csv bytes.Buffer
	if err := benchdata.WriteContacts(&csv, rows, 7); err != nil {
		b.Fatal(err)
	}
	recs, err := encsv.NewReader(&csv).ReadAll()
	if err != nil {
		b.Fatal(err)
	}
	header, recs := recs[0], append(recs[1:], recs[1:rows/10+1]...) // the first tenth again, at the end: they merge into the first chunk's records
	write := func(rs [][]string) string {
		var out bytes.Buffer
		w := encsv.NewWriter(&out)
		_ = w.Write(header)
		_ = w.WriteAll(rs) // a bytes.Buffer does not fail
		return out.String()
	}
	spec, err := mapspec.Parse([]byte(benchDedupe))
	if err != nil {
		b.Fatal(err)
	}
	discard := sink{WriteFn: func([]cutover.Record) error { return nil }}
	pass := func(objects map[string]string, claimed []Claim, spill func(*mapspec.Record, string, *pipeline.Sighting) error) *Result {
		fs := &files{objects: objects}
		p := Pass{TenantID: "acme", Spec: spec, Files: []cutover.File{{ID: "f1", Name: "contacts.csv", Key: "k"}}, ArtifactsPrefix: "a/", Now: time.Now(), Spill: spill, Claimed: claimed}
		res, err := Run(context.Background(), p, fs, discard, fs)
		if err != nil {
			b.Fatal(err)
		}
		return res
	}
	b.Run("one-pass", func(b *testing.B) {
		for range b.N {
			obj := map[string]string{"k": write(recs)}
			var res *Result
			b.ReportMetric(peakHeap(func() { res = pass(obj, nil, nil) }), "peak-MiB")
			b.ReportMetric(float64(res.Counts.Merged), "merged")
		}
	})
	b.Run("chunks-and-partitions", func(b *testing.B) {
		for range b.N {
			dir := b.TempDir()
			chunkPeak, partPeak, merged := 0.0, 0.0, 0
			per := (len(recs) + chunks - 1) / chunks
			objs := make([]map[string]string, chunks)
			// The id shuffle, as the engine runs it (not measured here):
			// each chunk's ids with their keys, and for each chunk the ids
			// an earlier chunk kept, with the key it kept them under.
			type first struct {
				chunk int
				key   string
			}
			firsts, claims := map[Claim]first{}, make([][]Claim, chunks)
			for c := range chunks {
				objs[c] = map[string]string{"k": write(recs[min(c*per, len(recs)):min((c+1)*per, len(recs))])}
				pass(objs[c], nil, func(rec *mapspec.Record, key string, _ *pipeline.Sighting) error {
					id := Claim{Entity: rec.Entity, ID: rec.ID}
					if f, ok := firsts[id]; !ok {
						firsts[id] = first{c, key}
					} else if f.chunk != c {
						claims[c] = append(claims[c], Claim{Entity: rec.Entity, ID: rec.ID, Key: f.key})
					}
					return nil
				})
			}
			firsts = nil
			for c := range chunks {
				obj := objs[c]
				objs[c] = nil
				bufs := make([][]byte, parts)
				chunkPeak = max(chunkPeak, peakHeap(func() {
					pass(obj, claims[c], func(rec *mapspec.Record, key string, seen *pipeline.Sighting) error {
						i := SpillPartition(rec, key, parts)
						bufs[i] = AppendSpilled(bufs[i], rec, key, seen)
						return nil
					})
				}))
				for i, buf := range bufs {
					if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("p%d-c%d", i, c)), buf, 0o600); err != nil {
						b.Fatal(err)
					}
				}
			}
			for i := range parts {
				partPeak = max(partPeak, peakHeap(func() {
					spilled := make([][]byte, chunks)
					for c := range chunks {
						var err error
						if spilled[c], err = os.ReadFile(filepath.Join(dir, fmt.Sprintf("p%d-c%d", i, c))); err != nil {
							b.Fatal(err)
						}
					}
					res, err := Merge(context.Background(), MergeInput{Spec: spec, Spilled: spilled}, discard, putNowhere{})
					if err != nil {
						b.Fatal(err)
					}
					merged += res.Counts.Merged
				}))
			}
			b.ReportMetric(chunkPeak, "chunk-peak-MiB")
			b.ReportMetric(partPeak, "partition-peak-MiB")
			b.ReportMetric(float64(merged), "merged")
		}
	})
}

type putNowhere struct{}

func (putNowhere) Put(context.Context, string, string, []byte) error { return nil }
