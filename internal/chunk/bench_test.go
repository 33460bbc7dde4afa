package chunk

import (
	"bytes"
	"encoding/csv"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/cutover/cutover/internal/benchdata"
	"github.com/cutover/cutover/internal/tabular"
)

// export generates a CRM contacts export of n rows (internal/benchdata:
// quoted notes with commas and line breaks, blank rows); with
// allQuoted every field is quoted, as Salesforce and HubSpot write them.
func export(n int, allQuoted bool) []byte {
	var b bytes.Buffer
	if err := benchdata.WriteContacts(&b, n, 42); err != nil {
		panic(err)
	}
	if !allQuoted {
		return b.Bytes()
	}
	r := csv.NewReader(&b)
	r.FieldsPerRecord = -1
	var q bytes.Buffer
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return q.Bytes()
		}
		if err != nil {
			panic(err)
		}
		for i, v := range rec {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString(`"` + strings.ReplaceAll(v, `"`, `""`) + `"`)
		}
		q.WriteString("\r\n")
	}
}

var benchData = sync.OnceValues(func() ([]byte, []byte) {
	return export(200_000, false), export(200_000, true)
})

// BenchmarkScanner measures the scanner alone, tabular's read of the same
// file for comparison, and the two together as the planner runs them.
func BenchmarkScanner(b *testing.B) {
	mixed, quoted := benchData()
	format := tabular.Format{Kind: "csv", Encoding: "utf-8", Delimiter: ','}
	for _, d := range []struct {
		name string
		data []byte
	}{{"contacts", mixed}, {"all-quoted", quoted}} {
		b.Run(d.name+"/scanner", func(b *testing.B) {
			b.SetBytes(int64(len(d.data)))
			b.ReportAllocs()
			for b.Loop() {
				s := NewScanner(1 << 20)
				s.SetFormat(format)
				for p := d.data; len(p) > 0; p = p[min(len(p), 32<<10):] {
					_, _ = s.Write(p[:min(len(p), 32<<10)])
				}
				if p, err := s.Plan(); err != nil || len(p.Chunks) < 20 {
					b.Fatalf("plan %d chunks, %v", len(p.Chunks), err)
				}
			}
		})
		for _, tee := range []bool{false, true} {
			name := d.name + "/tabular"
			if tee {
				name += "+scanner"
			}
			b.Run(name, func(b *testing.B) {
				b.SetBytes(int64(len(d.data)))
				b.ReportAllocs()
				for b.Loop() {
					var src io.Reader = bytes.NewReader(d.data)
					s := NewScanner(1 << 20)
					if tee {
						src = io.TeeReader(src, s)
					}
					tables, err := tabular.Open(src, "bench.csv", tabular.Options{})
					if err != nil {
						b.Fatal(err)
					}
					s.SetFormat(tables[0].Format())
					for {
						_, err := tables[0].Next()
						if err == io.EOF {
							break
						}
						if err != nil {
							b.Fatal(err)
						}
					}
					if p, err := s.Plan(); tee && (err != nil || len(p.Chunks) < 20) {
						b.Fatalf("plan %d chunks, %v", len(p.Chunks), err)
					}
				}
			})
		}
	}
}

// TestBenchData makes sure the benchmark plans what it claims to.
func TestBenchData(t *testing.T) {
	for _, all := range []bool{false, true} {
		if p, ok := check(t, export(3000, all), 16<<10, tabular.Options{}); !ok || len(p.Chunks) < 10 {
			t.Fatalf("plan %+v", p)
		}
	}
}
