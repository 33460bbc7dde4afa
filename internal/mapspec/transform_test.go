package mapspec

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/schema"
)

var fixedNow = time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC)

func testSchema(t testing.TB) *schema.Schema {
	t.Helper()
	f, err := os.Open("testdata/test_schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := schema.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// mapField maps one value of column "V" through one field mapping of test
// entity t and returns the outcome.
func mapField(t *testing.T, field string, values ...string) Outcome {
	t.Helper()
	header := []string{"V", "W", "X"} // X keeps a row from being blank
	src := `{"version":1,"defaults":{"region":"GB"},"files":[{"name":"f","entity":"t","fields":[` + field + `]}]}`
	sp, err := ParseWith([]byte(src), testSchema(t))
	if err != nil {
		t.Fatalf("ParseWith: %v", err)
	}
	m, err := Compile(sp.Files[0], testSchema(t), header, "tenant", fixedNow)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	for len(values) < 2 {
		values = append(values, "")
	}
	return m.Map(2, append(values, "x"))
}

func TestTransforms(t *testing.T) {
	for name, tc := range map[string]struct {
		field  string
		in     []string
		target string
		want   string // Value.String()
	}{
		"trim":                  {`{"target":"s","column":"V","steps":[{"op":"trim"}]}`, []string{"  ab  "}, "s", "ab"},
		"trim chars":            {`{"target":"s","column":"V","steps":[{"op":"trim","chars":"\"'"}]}`, []string{` "ab" `}, "s", "ab"},
		"lower":                 {`{"target":"s","column":"V","steps":[{"op":"case","to":"lower"}]}`, []string{"AbC"}, "s", "abc"},
		"upper":                 {`{"target":"s","column":"V","steps":[{"op":"case","to":"upper"}]}`, []string{"sw1a 1aa"}, "s", "SW1A 1AA"},
		"title":                 {`{"target":"txt","column":"V","steps":[{"op":"case","to":"title"}]}`, []string{"o'NEIL-smith mary"}, "txt", "O'Neil-Smith Mary"},
		"split index":           {`{"target":"s","column":"V","steps":[{"op":"split","separator":" ","index":0}]}`, []string{"Ann Lee"}, "s", "Ann"},
		"split last":            {`{"target":"s","column":"V","steps":[{"op":"split","separator":" ","index":-1}]}`, []string{"Ann May Lee"}, "s", "Lee"},
		"split out of range":    {`{"target":"s","column":"V","steps":[{"op":"split","separator":" ","index":3}]}`, []string{"Ann Lee"}, "s", ""},
		"split all list":        {`{"target":"tags","column":"V","steps":[{"op":"split","separator":";"}]}`, []string{"a; b;;a ;c"}, "tags", "a; b; c"},
		"concat":                {`{"target":"txt","columns":["V","W"]}`, []string{"Ann", "Lee"}, "txt", "Ann Lee"},
		"join sep":              {`{"target":"txt","columns":["V","W"],"steps":[{"op":"join","separator":", "}]}`, []string{"1 High St", "Leeds"}, "txt", "1 High St, Leeds"},
		"join skips empty":      {`{"target":"txt","columns":["V","W"],"steps":[{"op":"join","separator":", "}]}`, []string{"", "Leeds"}, "txt", "Leeds"},
		"constant":              {`{"target":"s","constant":"x"}`, nil, "s", "x"},
		"constant step":         {`{"target":"s","column":"V","steps":[{"op":"constant","value":"y"}]}`, []string{"z"}, "s", "y"},
		"default used":          {`{"target":"e","column":"V","default":"active"}`, []string{" "}, "e", "active"},
		"default unused":        {`{"target":"e","column":"V","default":"active"}`, []string{"Archived"}, "e", "archived"},
		"default step":          {`{"target":"s","column":"V","steps":[{"op":"default","value":"none"}]}`, []string{""}, "s", "none"},
		"replace":               {`{"target":"s","column":"V","steps":[{"op":"replace","old":"-","new":""}]}`, []string{"a-b-c"}, "s", "abc"},
		"regex":                 {`{"target":"s","column":"V","steps":[{"op":"regex","pattern":"ID-(\\d+)"}]}`, []string{"ref ID-42 x"}, "s", "42"},
		"regex no match":        {`{"target":"s","column":"V","steps":[{"op":"regex","pattern":"ID-(\\d+)"}]}`, []string{"none"}, "s", ""},
		"regex keep":            {`{"target":"s","column":"V","steps":[{"op":"regex","pattern":"ID-(\\d+)","onNoMatch":"keep"}]}`, []string{"none"}, "s", "none"},
		"lookup":                {`{"target":"e","column":"V","steps":[{"op":"lookup","table":{"Live":"active","Dead":"archived"}}]}`, []string{" LIVE "}, "e", "active"},
		"lookup otherwise":      {`{"target":"e","column":"V","steps":[{"op":"lookup","table":{"Live":"active"},"otherwise":"archived"}]}`, []string{"zzz"}, "e", "archived"},
		"enum case":             {`{"target":"roles","column":"V","steps":[{"op":"split","separator":","}]}`, []string{"Landlord, VENDOR"}, "roles", "landlord; vendor"},
		"bool yes":              {`{"target":"b","column":"V"}`, []string{"Yes"}, "b", "true"},
		"bool 0":                {`{"target":"b","column":"V"}`, []string{"0"}, "b", "false"},
		"bool words":            {`{"target":"b","column":"V","steps":[{"op":"boolean","true":["subscribed"],"false":["cleaned","unsubscribed"]}]}`, []string{"Cleaned"}, "b", "false"},
		"bool invert":           {`{"target":"b","column":"V","steps":[{"op":"boolean","invert":true}]}`, []string{"true"}, "b", "false"},
		"number":                {`{"target":"n","column":"V"}`, []string{"1,234.50"}, "n", "1234.5"},
		"number eu":             {`{"target":"n","column":"V","steps":[{"op":"number","decimal":","}]}`, []string{"1.234,50"}, "n", "1234.5"},
		"number neg parens":     {`{"target":"n","column":"V"}`, []string{"(12.00)"}, "n", "-12"},
		"integer":               {`{"target":"i","column":"V"}`, []string{"3"}, "i", "3"},
		"integer .0":            {`{"target":"i","column":"V"}`, []string{"3.00"}, "i", "3"},
		"money":                 {`{"target":"m","column":"V"}`, []string{"£1,250"}, "m", "1250.00 GBP"},
		"money pence":           {`{"target":"m","column":"V"}`, []string{"12.5"}, "m", "12.50 GBP"},
		"money code":            {`{"target":"m","column":"V"}`, []string{"GBP 99.99"}, "m", "99.99 GBP"},
		"money eu":              {`{"target":"m","column":"V","steps":[{"op":"money","decimal":",","thousands":" ","currency":"EUR"}]}`, []string{"1 250,5 €"}, "m", "1250.50 EUR"},
		"money nbsp":            {`{"target":"m","column":"V","steps":[{"op":"money","decimal":",","thousands":" ","currency":"EUR"}]}`, []string{"1\u00a0250,50"}, "m", "1250.50 EUR"},
		"date iso":              {`{"target":"d","column":"V"}`, []string{"2024-02-29"}, "d", "2024-02-29"},
		"date dmy":              {`{"target":"d","column":"V","steps":[{"op":"date","formats":["DD/MM/YYYY"]}]}`, []string{"3/4/2024"}, "d", "2024-04-03"},
		"date mdy":              {`{"target":"d","column":"V","steps":[{"op":"date","formats":["MM/DD/YYYY"]}]}`, []string{"3/4/2024"}, "d", "2024-03-04"},
		"date both unambiguous": {`{"target":"d","column":"V","steps":[{"op":"date","formats":["DD/MM/YYYY","MM/DD/YYYY"]}]}`, []string{"25/12/2023"}, "d", "2023-12-25"},
		"date same both":        {`{"target":"d","column":"V","steps":[{"op":"date","formats":["DD/MM/YYYY","MM/DD/YYYY"]}]}`, []string{"05/05/2023"}, "d", "2023-05-05"},
		"date with time":        {`{"target":"d","column":"V","steps":[{"op":"date","formats":["DD/MM/YYYY"]}]}`, []string{"05/04/2023 14:33"}, "d", "2023-04-05"},
		"date month name":       {`{"target":"d","column":"V","steps":[{"op":"date","formats":["D MMM YYYY"]}]}`, []string{"5 Sept 2023"}, "d", "2023-09-05"},
		"date yy":               {`{"target":"d","column":"V","steps":[{"op":"date","formats":["DD.MM.YY"]}]}`, []string{"01.02.99"}, "d", "1999-02-01"},
		"date excel":            {`{"target":"d","column":"V","steps":[{"op":"date","formats":["EXCEL"]}]}`, []string{"45292"}, "d", "2024-01-01"},
		"datetime excel":        {`{"target":"created","column":"V","steps":[{"op":"date","formats":["EXCEL"]}]}`, []string{"45292.5"}, "created", "2024-01-01T12:00:00Z"},
		"datetime iso off":      {`{"target":"created","column":"V"}`, []string{"2024-01-01T10:00:00+02:00"}, "created", "2024-01-01T08:00:00Z"},
		"datetime tz":           {`{"target":"created","column":"V","steps":[{"op":"date","formats":["YYYY-MM-DD hh:mm"],"timezone":"Europe/London"}]}`, []string{"2024-06-01 10:00"}, "created", "2024-06-01T09:00:00Z"},
		"datetime unix":         {`{"target":"created","column":"V","steps":[{"op":"date","formats":["UNIX"]}]}`, []string{"1700000000"}, "created", "2023-11-14T22:13:20Z"},
		"datetime ampm":         {`{"target":"created","column":"V","steps":[{"op":"date","formats":["MM/DD/YYYY"]}]}`, []string{"11/14/2023 10:13 PM"}, "created", "2023-11-14T22:13:00Z"},
		"email":                 {`{"target":"email","column":"V"}`, []string{"  Ann.Lee@Example.COM "}, "email", "ann.lee@example.com"},
		"email mailto":          {`{"target":"email","column":"V"}`, []string{"mailto:<x@y.org>"}, "email", "x@y.org"},
		"emails list":           {`{"target":"emails","columns":["V","W"]}`, []string{"A@x.com", "a@X.com"}, "emails", "a@x.com"},
		"phone intl":            {`{"target":"phone","column":"V"}`, []string{"+44 20 7946 0958"}, "phone", "+442079460958"},
		"phone 00":              {`{"target":"phone","column":"V"}`, []string{"0044 7911 123456"}, "phone", "+447911123456"},
		"phone trunk (0)":       {`{"target":"phone","column":"V"}`, []string{"+44 (0)7911 123456"}, "phone", "+447911123456"},
		"ref":                   {`{"target":"owner","column":"V"}`, []string{" C-1 "}, "owner", "C-1"},
		"when true":             {`{"target":"s","column":"V","when":{"column":"W","in":["Sale"]}}`, []string{"x", "sale"}, "s", "x"},
		"when false":            {`{"target":"s","column":"V","when":{"column":"W","in":["Sale"]}}`, []string{"x", "let"}, "s", ""},
		"when notIn":            {`{"target":"s","column":"V","when":{"column":"W","notIn":["Sale"]}}`, []string{"x", "let"}, "s", "x"},
		"when empty":            {`{"target":"s","column":"V","when":{"column":"W","empty":true}}`, []string{"x", ""}, "s", "x"},
	} {
		t.Run(name, func(t *testing.T) {
			o := mapField(t, tc.field, tc.in...)
			if len(o.Errors) > 0 {
				t.Fatalf("errors: %+v", o.Errors)
			}
			v, _ := o.Record.Get(tc.target)
			if got := v.String(); got != tc.want {
				t.Fatalf("%s = %q, want %q", tc.target, got, tc.want)
			}
		})
	}
}

func TestTransformErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		field, in, want string
	}{
		"email":          {`{"target":"email","column":"V"}`, "ann@", `"ann@" is not a valid email address`},
		"email two @":    {`{"target":"email","column":"V"}`, "a@b@c.com", `"a@b@c.com" is not a valid email address`},
		"email no tld":   {`{"target":"email","column":"V"}`, "a@localhost", `"a@localhost" is not a valid email address`},
		"email in list":  {`{"target":"emails","column":"V","steps":[{"op":"split","separator":";"}]}`, "a@x.com;nope", `"nope" is not a valid email address`},
		"phone":          {`{"target":"phone","column":"V"}`, "12345", `"12345" is not a valid phone number (default region GB)`},
		"phone intl":     {`{"target":"phone","column":"V"}`, "+44 1", `"+44 1" is not a valid phone number`},
		"date":           {`{"target":"d","column":"V"}`, "31/02/2024", `"31/02/2024" is not a date in any format the engine knows`},
		"date invalid":   {`{"target":"d","column":"V","steps":[{"op":"date","formats":["DD/MM/YYYY"]}]}`, "31/02/2024", `"31/02/2024" does not match any accepted date format (DD/MM/YYYY)`},
		"date ambiguous": {`{"target":"d","column":"V","steps":[{"op":"date","formats":["DD/MM/YYYY","MM/DD/YYYY"]}]}`, "03/04/2024", `"03/04/2024" is ambiguous: 2024-04-03 as DD/MM/YYYY or 2024-03-04 as MM/DD/YYYY; keep only one of these formats`},
		"number":         {`{"target":"n","column":"V"}`, "12abc", `"12abc" is not a number`},
		"number groups":  {`{"target":"n","column":"V"}`, "1,50", `"1,50" is not a number (misplaced ",")`},
		"integer":        {`{"target":"i","column":"V"}`, "2.5", `"2.5" is not a whole number`},
		"integer max":    {`{"target":"i","column":"V"}`, "51", `51 is more than the maximum 50`},
		"integer min":    {`{"target":"i","column":"V"}`, "-1", `-1 is less than the minimum 0`},
		"money decimals": {`{"target":"m","column":"V"}`, "1.234", `"1.234" has more than 2 decimal places`},
		"money currency": {`{"target":"m","column":"V"}`, "$5", `"$5" is in USD, but the field is in GBP`},
		"bool":           {`{"target":"b","column":"V"}`, "maybe", `"maybe" is not a recognised yes/no value (true: true/yes/y/1/t/...; false: false/no/n/0/f/...)`},
		"enum":           {`{"target":"e","column":"V"}`, "gone", `"gone" is not one of active, archived`},
		"enum list":      {`{"target":"roles","column":"V"}`, "tenant", `"tenant" is not one of applicant, vendor, landlord`},
		"lookup strict":  {`{"target":"e","column":"V","steps":[{"op":"lookup","table":{"Live":"active","Dead":"archived"},"strict":true}]}`, "Zombie", `"Zombie" is not in the lookup table (Dead, Live)`},
		"regex error":    {`{"target":"s","column":"V","steps":[{"op":"regex","pattern":"^(\\d+)$","onNoMatch":"error"}]}`, "x1", `"x1" does not match the pattern ^(\d+)$`},
		"max length":     {`{"target":"s","column":"V"}`, "abcdefghijk", `is 11 characters long; the limit is 10`},
		"pattern":        {`{"target":"pc","column":"V"}`, "SW1A1AA", `"SW1A1AA" does not match the required format`},
	} {
		t.Run(name, func(t *testing.T) {
			// Without strict the row migrates without the field, keeping
			// the raw value and the same reason under "invalid".
			lenient := mapField(t, tc.field, tc.in)
			if lenient.Record == nil || len(lenient.Record.Invalid) != 1 {
				t.Fatalf("lenient outcome = %+v, want a record with one invalid value", lenient)
			}
			// (In a list only the bad item is left out: "a@x.com;nope" keeps a@x.com.)
			if iv := lenient.Record.Invalid[0]; iv.Reason != tc.want || iv.Value != tc.in && !strings.HasSuffix(tc.in, ";"+iv.Value) {
				t.Fatalf("invalid = %+v, want reason %q", iv, tc.want)
			}
			o := mapField(t, strings.Replace(tc.field, `"column":"V"`, `"column":"V","strict":true`, 1), tc.in)
			if o.Record != nil || len(o.Errors) != 1 {
				t.Fatalf("outcome = %+v, want one error", o)
			}
			e := o.Errors[0]
			if e.Reason != tc.want {
				t.Fatalf("reason = %q\nwant     %q", e.Reason, tc.want)
			}
			if e.Column != "V" || e.Value != tc.in {
				t.Fatalf("issue column/value = %q/%q", e.Column, e.Value)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	for name, tc := range map[string]struct {
		field, in, want string
	}{
		"phone default region": {`{"target":"phone","column":"V"}`, "07911 123456", `"07911 123456" has no country code; read as a GB number`},
		"email typo":           {`{"target":"email","column":"V"}`, "ann@gmial.com", `"ann@gmial.com": the domain looks like a typo of gmail.com`},
		"future created":       {`{"target":"created","column":"V"}`, "2030-01-01", `2030-01-01T00:00:00Z is in the future`},
		"phone extension":      {`{"target":"phone","column":"V"}`, "+44 20 7946 0000 ext. 123", `"+44 20 7946 0000 ext. 123" has the extension 123, which an E.164 number cannot hold: it is left out, so note it by hand`},
	} {
		t.Run(name, func(t *testing.T) {
			o := mapField(t, tc.field, tc.in)
			if o.Record == nil || len(o.Warnings) != 1 {
				t.Fatalf("outcome = %+v, want a record with one warning", o)
			}
			if w := o.Warnings[0]; w.Reason != tc.want || w.Column != "V" || w.Value != tc.in {
				t.Fatalf("warning = %+v, want reason %q", w, tc.want)
			}
		})
	}
}

func TestSpecErrors(t *testing.T) {
	sch := testSchema(t)
	for name, tc := range map[string]struct{ field, want string }{
		"unknown target": {`{"target":"zz","column":"V"}`, `mapping spec: $.files[0].fields[0].target: entity "t" has no field "zz"`},
		"two sources":    {`{"target":"s","column":"V","constant":"x"}`, `mapping spec: $.files[0].fields[0]: needs exactly one of "column", "columns" and "constant"`},
		"bad regex":      {`{"target":"s","column":"V","steps":[{"op":"regex","pattern":"(("}]}`, `mapping spec: $.files[0].fields[0].steps[0].pattern: not a valid RE2 expression: missing closing ): ` + "`((`"},
		"no group":       {`{"target":"s","column":"V","steps":[{"op":"regex","pattern":"\\d+"}]}`, `mapping spec: $.files[0].fields[0].steps[0].pattern: needs a capture group`},
		"wrong conv":     {`{"target":"d","column":"V","steps":[{"op":"phone"}]}`, `mapping spec: $.files[0].fields[0].steps[0].op: "phone" cannot feed field "d" of type date`},
		"bad format":     {`{"target":"d","column":"V","steps":[{"op":"date","formats":["DD/MM"]}]}`, `mapping spec: $.files[0].fields[0].steps[0].formats[0]: date format "DD/MM" needs a year, a month and a day`},
		"bad lookup":     {`{"target":"e","column":"V","steps":[{"op":"lookup","table":{"x":"gone"}}]}`, `mapping spec: $.files[0].fields[0].steps[0].table.x: "gone" is not a value of field "e" (active, archived)`},
		"misplaced opt":  {`{"target":"s","column":"V","steps":[{"op":"trim","separator":","}]}`, `mapping spec: $.files[0].fields[0].steps[0]: option "separator" does not apply to op "trim"`},
		"unknown op":     {`{"target":"s","column":"V","steps":[{"op":"explode"}]}`, `mapping spec: $.files[0].fields[0].steps[0].op: must be one of the following: "trim", "case"`},
		"unknown key":    {`{"target":"s","colum":"V"}`, `mapping spec: $.files[0].fields[0]: unknown key "colum"`},
		"bad region":     {`{"target":"phone","column":"V","steps":[{"op":"phone","region":"XX"}]}`, `mapping spec: $.files[0].fields[0].steps[0].region: "XX" is not a region phone numbers know`},
		"bad tz":         {`{"target":"d","column":"V","steps":[{"op":"date","timezone":"Mars/Base"}]}`, `mapping spec: $.files[0].fields[0].steps[0].timezone: unknown time zone "Mars/Base"`},
	} {
		t.Run(name, func(t *testing.T) {
			src := `{"version":1,"defaults":{"region":"GB"},"files":[{"name":"f","entity":"t","fields":[` + tc.field + `]}]}`
			_, err := ParseWith([]byte(src), sch)
			if cutover.ErrorCode(err) != cutover.EINVALID {
				t.Fatalf("err = %v, want EINVALID", err)
			}
			if msg := cutover.ErrorMessage(err); !strings.HasPrefix(msg, tc.want) {
				t.Fatalf("message = %q\nwant prefix  %q", msg, tc.want)
			}
		})
	}
}

func TestBlankAndShiftedRows(t *testing.T) {
	header := []string{"V", "W"}
	sp, err := ParseWith([]byte(`{"version":1,"files":[{"name":"f","entity":"t","fields":[{"target":"s","column":"V"}]}]}`), testSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Compile(sp.Files[0], testSchema(t), header, "tenant", fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	if o := m.Map(2, []string{" ", ""}); o.SkipRule != SkipBlankRow {
		t.Fatalf("blank row: %+v", o)
	}
	if o := m.Map(3, []string{"a", "b", "", " "}); o.Kind() != Migrated {
		t.Fatalf("trailing empty cells: %+v", o)
	}
	o := m.Map(4, []string{"a", "b", "c"})
	if o.Kind() != Rejected || o.Errors[0].Value != "c" || !strings.Contains(o.Errors[0].Reason, "3 cells but the header has 2 columns") {
		t.Fatalf("shifted row: %+v", o)
	}
	if got := m.SkipRules(); len(got) == 0 || got[0] != SkipBlankRow {
		t.Fatalf("SkipRules = %v", got)
	}
}

// Longer symbols win over "$", whatever the map order.
func TestCurrencySymbolsAreDeterministic(t *testing.T) {
	for i := 0; i < 50; i++ {
		for in, want := range map[string]string{"100 A$": "AUD", "C$ 5": "CAD", "$7": "USD", "NZ$9": "NZD", "12 gbp": "GBP", "£3": "GBP"} {
			if _, code := stripCurrency(in); code != want {
				t.Fatalf("stripCurrency(%q) = %s, want %s", in, code, want)
			}
		}
	}
}

// A merged duplicate whose reference conflicts with the survivor's adds no
// reference: the survivor keeps its own value and the conflict is recorded.
func TestMergeKeepsOnlyTheSurvivorsReference(t *testing.T) {
	sp, err := ParseWith([]byte(`{"version":1,"files":[{"name":"f","entity":"t","sourceId":["V"],"dedupe":["s"],"mergeDifferentIds":true,
		"fields":[{"target":"s","column":"W"},{"target":"owner","column":"X"}]}]}`), testSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Compile(sp.Files[0], testSchema(t), []string{"V", "W", "X"}, "tenant", fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	mg := NewMergerFor(sp)
	for i, row := range [][]string{{"1", "key", "L1"}, {"2", "key", "L2"}} {
		o := m.Map(i+2, row)
		if o.Record == nil {
			t.Fatalf("row %d: %+v", i, o)
		}
		mg.Add(o.Record, o.DedupeKey)
	}
	recs := mg.Records()
	if len(recs) != 1 || len(recs[0].Refs) != 1 || recs[0].Refs[0].SourceID != "L1" || len(mg.Merges()[0].Conflicts) != 1 {
		t.Fatalf("records %+v, merges %+v", recs, mg.Merges())
	}
}
