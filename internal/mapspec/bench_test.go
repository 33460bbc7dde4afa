package mapspec

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/schema"
)

const benchSpec = `{"version":1,"defaults":{"region":"GB","dateFormats":["DD/MM/YYYY","ISO"]},"files":[{"name":"c","entity":"contact","sourceId":["Contact ID"],"dedupe":["emails"],
 "fields":[
  {"target":"first_name","column":"First Name","steps":[{"op":"trim"},{"op":"case","to":"title"}]},
  {"target":"last_name","column":"Last Name","steps":[{"op":"trim"},{"op":"case","to":"title"}]},
  {"target":"emails","column":"Email"},
  PHONE
  {"target":"postcode","column":"Postcode","steps":[{"op":"case","to":"upper"}]},
  {"target":"town","column":"Town"},
  {"target":"tags","column":"Tags","steps":[{"op":"split","separator":","}]},
  {"target":"marketing_consent","column":"Consent"},
  {"target":"created_at","column":"Created"}]}]}`

var benchHeader = []string{"Contact ID", "First Name", "Last Name", "Email", "Mobile", "Postcode", "Town", "Tags", "Consent", "Created"}

func benchRows(n int) [][]string {
	first := []string{"ann", "Bob", " Cara ", "DEREK", "o'neil", "Eve"}
	last := []string{"Lee", "stone", "Smith-Jones", "WU", "McDonald"}
	towns := []string{"Leeds", "York", "London", "Bristol"}
	rows := make([][]string, n)
	for i := range rows {
		rows[i] = []string{
			fmt.Sprint(100000 + i), first[i%len(first)], last[i%len(last)],
			fmt.Sprintf(" User%d@Example.com ", i), fmt.Sprintf("07911 %06d", 100000+i%800000),
			[]string{"ls1 4ap", "SW1A 1AA", "yo1 7hh"}[i%3], towns[i%len(towns)], []string{"buyer,newsletter", "", "landlord"}[i%3],
			[]string{"yes", "no", "1"}[i%3], fmt.Sprintf("%02d/%02d/20%02d 10:%02d", 1+i%28, 1+i%12, 10+i%14, i%60),
		}
	}
	return rows
}

func benchMap(b *testing.B, withPhone bool) {
	phone := `{"target":"phones","column":"Mobile"},`
	header := benchHeader
	if !withPhone {
		phone = ""
	}
	sp, err := Parse([]byte(strings.Replace(benchSpec, "PHONE", phone, 1)))
	if err != nil {
		b.Fatal(err)
	}
	m, err := Compile(sp.Files[0], schema.Default(), header, "acme", time.Date(2024, 6, 15, 0, 0, 0, 0, time.UTC))
	if err != nil {
		b.Fatal(err)
	}
	rows := benchRows(4096)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		o := m.Map(i+2, rows[i%len(rows)])
		if o.Record == nil {
			b.Fatalf("row rejected: %+v", o.Errors)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkMap maps realistic contact rows: names, email, a GB mobile (read
// with the default region), postcode, tags, a consent flag and a date.
func BenchmarkMap(b *testing.B) { benchMap(b, true) }

// BenchmarkMapNoPhone is BenchmarkMap without the phone column, to show
// what phone parsing costs.
func BenchmarkMapNoPhone(b *testing.B) { benchMap(b, false) }
