package pipeline

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
)

// TestAWarningGroupCostsNoAllocationPerWarning: a warning whose reason
// group is known is counted without building its group's text again
// (the most common warning is given on nearly every row of a file from
// abroad).
func TestAWarningGroupCostsNoAllocationPerWarning(t *testing.T) {
	c := &collector{report: &Report{}}
	ws := []mapspec.Issue{
		{Field: "phones", Column: "Phone Number", Value: "0161 496 1671", Reason: `"0161 496 1671" has no country code; read as a GB number`},
		{Field: "emails", Column: "Email", Value: "x", Reason: `left out of the record: "x" is not a valid email address`},
	}
	c.warned(2, "1", ws)
	per := testing.AllocsPerRun(1000, func() { c.warned(3, "2", ws) })
	if per > 0 {
		t.Errorf("counting two known warnings costs %.1f allocations, want none", per)
	}
	if g := c.warnings[`phones: "…" has no country code; read as a GB number`]; g == nil || g.Count != 1002 {
		t.Fatalf("the phone warning's group: %+v", g)
	}
}

// quotedOracle is how reason groups were made before (a regular
// expression over every warning's text): the new code must agree with it
// on every text.
var quotedOracle = regexp.MustCompile(`"[^"]*"`)

func oracleGroup(e mapspec.Issue) string {
	r := quotedOracle.ReplaceAllString(e.Reason, `"…"`)
	if e.Field != "" {
		return e.Field + ": " + r
	}
	return r
}

// reasonTexts are the reason texts the tests check grouping on: a few
// written to be awkward, testdata/reasons.jsonl (three examples of each
// shape of reason that the tests of every package using the pipeline
// produced: 10,589 distinct texts, 37 shapes once values and numbers are
// masked), and, when CUTOVER_REASON_CORPUS names a file of JSON strings,
// one a line, every text in it (to compare on a corpus collected from
// real exports, which is not committed: its values are people's).
func reasonTexts(t testing.TB) []string {
	texts := []string{
		"", `"`, `""`, `"""`, `""""`, `a"b`, `a"b"c"d`, `"a""b"`, "\"multi\nline\" value", `"x" and "y"`,
		`ends with a quote "`, `"ünïcödé" and "日本"`, "\"\xff\xfe\" invalid UTF-8 \"\xc3\"", "\xe2\x80\"x\"", `”curly” "straight"`,
	}
	add := func(path string) {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var s string
			if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			texts = append(texts, s)
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	add(filepath.Join("testdata", "reasons.jsonl"))
	if p := os.Getenv("CUTOVER_REASON_CORPUS"); p != "" {
		add(p)
	}
	return texts
}

// TestReasonGroupAgreesWithTheRegexp: the groups are the regular
// expression's, with and without a field, on every text.
func TestReasonGroupAgreesWithTheRegexp(t *testing.T) {
	texts := reasonTexts(t)
	for _, s := range texts {
		for _, field := range []string{"", "phones"} {
			e := mapspec.Issue{Field: field, Reason: s}
			if got, want := reasonGroup(e), oracleGroup(e); got != want {
				t.Errorf("reasonGroup(%q, %q) = %q, the regexp's %q", field, s, got, want)
			}
		}
		if got, want := RefusalGroup(s), oracleRefusalGroup(s); got != want {
			t.Errorf("RefusalGroup(%q) = %q, want %q", s, got, want)
		}
	}
	t.Logf("%d texts compared", len(texts))
}

// oracleRefusalGroup is RefusalGroup as it was, with the regexp.
func oracleRefusalGroup(reason string) string {
	r := emailLike.ReplaceAllString(reason, "…@…")
	r = quotedOracle.ReplaceAllString(r, `"…"`)
	r = idLike.ReplaceAllString(r, "#")
	r = strings.TrimSpace(spaces.ReplaceAllString(r, " "))
	return cutover.Clip(r, maxRefusalGroupBytes)
}

// FuzzReasonGroupAgreesWithTheRegexp: on any text, too.
func FuzzReasonGroupAgreesWithTheRegexp(f *testing.F) {
	for _, s := range reasonTexts(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := mapspec.Issue{Field: "f", Reason: s}
		if got, want := reasonGroup(e), oracleGroup(e); got != want {
			t.Fatalf("reasonGroup(%q) = %q, the regexp's %q", s, got, want)
		}
	})
}
