package pipeline

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/cutover/cutover/internal/benchdata"
	"github.com/cutover/cutover/internal/tabular"
)

// BenchmarkPipeline measures, on one generated export in one run, the
// floor (encoding/csv reading the rows), cutover's reader alone, the work
// Miller can also do (renames, trims, case, dates), and the full path with
// and without phone validation. Compare rows/s across the sub-benchmarks;
// infra/bench/mapbench.sh runs the same comparison end to end on files,
// with Miller and peak memory.
func BenchmarkPipeline(b *testing.B) {
	const rows = 50000
	var data bytes.Buffer
	if err := benchdata.WriteContacts(&data, rows, 1); err != nil {
		b.Fatal(err)
	}
	spec := func(name string) string {
		s, err := os.ReadFile(filepath.Join("..", "..", "infra", "bench", name))
		if err != nil {
			b.Fatal(err)
		}
		return string(s)
	}
	noPhone := bytes.Replace([]byte(spec("full.json")), []byte(`{"target": "phones", "column": "Phone Number"},`), nil, 1)
	perRow := func(b *testing.B) {
		b.SetBytes(int64(data.Len()))
		b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	}

	b.Run("encoding-csv", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			r := csv.NewReader(bytes.NewReader(data.Bytes()))
			r.ReuseRecord, r.FieldsPerRecord = true, -1
			for {
				if _, err := r.Read(); errors.Is(err, io.EOF) {
					break
				} else if err != nil {
					b.Fatal(err)
				}
			}
		}
		perRow(b)
	})
	b.Run("tabular", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			ts, err := tabular.Open(bytes.NewReader(data.Bytes()), "c.csv", tabular.Options{})
			if err != nil {
				b.Fatal(err)
			}
			for {
				if _, err := ts[0].Next(); errors.Is(err, io.EOF) {
					break
				} else if err != nil {
					b.Fatal(err)
				}
			}
		}
		perRow(b)
	})
	for _, c := range []struct{ name, spec string }{
		{"shared-work", spec("shared-work.json")},
		{"full-no-phone", string(noPhone)},
		{"full", spec("full.json")},
	} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				tb, m := compile(b, c.spec, data.String())
				if _, err := Run(context.Background(), "c.csv", tb, m, Outputs{}, Options{}); err != nil {
					b.Fatal(err)
				}
			}
			perRow(b)
		})
	}
}
