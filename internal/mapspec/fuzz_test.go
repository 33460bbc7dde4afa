package mapspec

import (
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/schema"
)

// dedupe keeps the first of each column name, as a header would have it.
func dedupe(cols []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range cols {
		if k := strings.ToLower(strings.TrimSpace(c)); c != "" && !seen[k] {
			seen[k] = true
			out = append(out, c)
		}
	}
	return out
}

func FuzzParseSpec(f *testing.F) {
	f.Add([]byte(contactSpec))
	f.Add([]byte(tenancySpec))
	f.Add([]byte(`{"version":1,"files":[{"name":"x","entity":"contact","fields":[{"target":"emails","column":"b","steps":[{"op":"regex","pattern":"(a"}]}]}]}`))
	f.Add([]byte(`{"version":1,"files":[{"name":"x","entity":"property","fields":[{"target":"price","column":"b","steps":[{"op":"money","currency":"JPY","thousands":""}]}]}]}`))
	f.Add([]byte(`{"version":1,"files":[{"name":"t","entity":"tenancy","aliases":{"Start":["Tenancy Start"]},"inline":[{"target":"tenants","name":"Tenant Name(s)","separators":["&"]}],"fields":[{"target":"property","column":"P"},{"target":"start_date","column":"Start"},{"target":"rent","column":"R","steps":[{"op":"amount","per":"monthly"}]},{"target":"frequency","column":"R","steps":[{"op":"period"}]}]}]}`))
	f.Add([]byte(`{"version":1,"files":[{"name":"c","entity":"contact","combine":{"tags":{"mode":"combine"},"notes":{"mode":"concat","separator":" / "},"company":{"mode":"first"}},"fields":[{"target":"tags","column":"Lifecycle Stage"},{"target":"tags","column":"Tags"},{"target":"notes","column":"N"},{"target":"notes","column":"C"},{"target":"company","column":"A"},{"target":"company","column":"B"}]}]}`))
	f.Add([]byte(`{"version":1,"files":[{"name":"c","entity":"contact","combine":{"company":{"mode":"combine"}},"fields":[{"target":"company","column":"A"},{"target":"company","column":"B"}]}]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sp, err := Parse(data)
		if err != nil {
			if cutover.ErrorCode(err) != cutover.EINVALID {
				t.Fatalf("error is not EINVALID: %v", err)
			}
			return
		}
		if sp == nil || len(sp.Files) == 0 {
			t.Fatal("nil spec without error")
		}
		// A parsed spec re-parses to the same hash.
		again, err := Parse(sp.JSON())
		if err != nil {
			t.Fatalf("canonical JSON does not re-parse: %v\n%s", err, sp.JSON())
		}
		if again.Hash() != sp.Hash() {
			t.Fatal("hash changed on re-parse")
		}
		// Map a row through each file, so combine rules (and every other
		// option) meet values: Map never panics and accounts for the row.
		for _, fs := range sp.Files {
			var header []string
			for _, fm := range fs.Fields {
				header = append(header, fm.SourceColumns()...)
			}
			header = append(header, fs.SourceID...)
			m, err := Compile(fs, schema.Default(), dedupe(header), "t", time.Time{})
			if err != nil {
				continue
			}
			row := make([]string, len(m.header))
			for i := range row {
				row[i] = string(data[:min(len(data), i*3)])
			}
			out := m.Map(2, row)
			if out.Record == nil && len(out.Errors) == 0 && out.SkipRule == "" {
				t.Fatal("a row that is neither migrated, rejected nor skipped")
			}
		}
	})
}
