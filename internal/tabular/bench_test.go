package tabular

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

// contactsExport generates a CRM contacts export of n rows with the quirks
// real ones have: quoted addresses with commas, notes with doubled quotes
// and line breaks, empty cells, non-ASCII names, CRLF line ends. With
// allQuoted every field is quoted, as Salesforce and HubSpot write them.
func contactsExport(n int, allQuoted bool) []byte {
	rng := rand.New(rand.NewPCG(42, uint64(n)))
	first := []string{"Ada", "Bob", "Chloé", "Dmitri", "Eve", "Fatima", "Grace", "Hiro", "Ίων", "Jo"}
	last := []string{"Lovelace", "O'Brien", "Smith", "Müller", "Nguyen", "García", "Okafor", "Brown"}
	streets := []string{"1 High Street, Flat 2", "22 Acacia Avenue", "Unit 5, Riverside Park", "10 Downing St"}
	cities := []string{"Leeds", "York", "London", "Manchester", "Bristol"}
	notes := []string{"", "", "Called back", "Prefers \"email\" only", "Line one\r\nLine two", "VIP; see \"notes\", call after 5pm", ""}
	tags := []string{"", "buyer", "buyer;landlord", "tenant", "vendor;applicant"}
	var b bytes.Buffer
	q := func(s string, force bool) {
		if force || strings.ContainsAny(s, ",\"\r\n") {
			b.WriteByte('"')
			b.WriteString(strings.ReplaceAll(s, `"`, `""`))
			b.WriteByte('"')
		} else {
			b.WriteString(s)
		}
	}
	head := []string{"Contact ID", "First Name", "Last Name", "Email", "Phone", "Company", "Street", "City", "Postcode", "Tags", "Notes", "Created"}
	for i, h := range head {
		if i > 0 {
			b.WriteByte(',')
		}
		q(h, allQuoted)
	}
	b.WriteString("\r\n")
	for i := range n {
		f, l := first[rng.IntN(len(first))], last[rng.IntN(len(last))]
		row := []string{
			fmt.Sprintf("C%07d", i), f, l,
			fmt.Sprintf("%s.%s%d@example.com", strings.ToLower(f), strings.ToLower(l), i),
			fmt.Sprintf("+44 7700 9%05d", rng.IntN(100000)),
			[]string{"", "Acme Ltd", "Globex, Inc."}[rng.IntN(3)],
			streets[rng.IntN(len(streets))], cities[rng.IntN(len(cities))],
			fmt.Sprintf("LS%d %dAB", rng.IntN(30), rng.IntN(10)),
			tags[rng.IntN(len(tags))], notes[rng.IntN(len(notes))],
			fmt.Sprintf("2023-%02d-%02dT10:%02d:00Z", 1+rng.IntN(12), 1+rng.IntN(28), rng.IntN(60)),
		}
		for j, v := range row {
			if j > 0 {
				b.WriteByte(',')
			}
			q(v, allQuoted)
		}
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

var benchData = sync.OnceValues(func() ([]byte, []byte) {
	return contactsExport(200_000, false), contactsExport(200_000, true)
})

// BenchmarkRead compares the reader with encoding/csv (ReuseRecord, the
// fastest way to use it) on the same 200,000-row exports.
func BenchmarkRead(b *testing.B) {
	mixed, quoted := benchData()
	for _, d := range []struct {
		name string
		data []byte
	}{{"contacts", mixed}, {"all-quoted", quoted}} {
		b.Run(d.name+"/tabular", func(b *testing.B) {
			b.SetBytes(int64(len(d.data)))
			b.ReportAllocs()
			for b.Loop() {
				tables, err := Open(bytes.NewReader(d.data), "bench.csv", Options{})
				if err != nil {
					b.Fatal(err)
				}
				rows := 0
				for {
					_, err := tables[0].Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					rows++
				}
				if rows != 200_000 {
					b.Fatalf("%d rows", rows)
				}
			}
		})
		b.Run(d.name+"/encoding-csv", func(b *testing.B) {
			b.SetBytes(int64(len(d.data)))
			b.ReportAllocs()
			for b.Loop() {
				r := csv.NewReader(bytes.NewReader(d.data))
				r.ReuseRecord = true
				r.FieldsPerRecord = -1
				rows := -1
				for {
					_, err := r.Read()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					rows++
				}
				if rows != 200_000 {
					b.Fatalf("%d rows", rows)
				}
			}
		})
	}
}

// TestBenchDataAgrees makes sure the benchmark compares like with like.
func TestBenchDataAgrees(t *testing.T) {
	for _, all := range []bool{false, true} {
		data := contactsExport(2000, all)
		want, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		r := readOne(t, string(data), Options{})
		if len(r.rows) != len(want)-1 {
			t.Fatalf("%d rows, want %d", len(r.rows), len(want)-1)
		}
		for i, row := range r.rows {
			for j := range row {
				if strings.ReplaceAll(row[j], "\r\n", "\n") != want[i+1][j] {
					t.Fatalf("row %d field %d: %q, want %q", i, j, row[j], want[i+1][j])
				}
			}
		}
	}
}
