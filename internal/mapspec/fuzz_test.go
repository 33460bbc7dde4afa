package mapspec

import (
	"testing"

	"github.com/cutover/cutover/internal/cutover"
)

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
	})
}
