package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const hubspot = "../../internal/mapspec/presets/testdata/hubspot-contacts.csv"

func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestInspectRecognisesAPresetAndWritesAMapping(t *testing.T) {
	spec := filepath.Join(t.TempDir(), "m.json")
	code, out, errs := cli(t, "inspect", "--write-mapping", spec, hubspot)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"format: csv, encoding utf-8", "preset: HubSpot contacts export", "suggested mapping:", "contact.emails"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
	code, out, errs = cli(t, "map", "--mapping", spec, "--out", t.TempDir(), hubspot)
	if code != 0 || !strings.Contains(out, "read ") {
		t.Fatalf("mapping with the written spec: exit %d: %s%s", code, out, errs)
	}
}

func TestMapWritesRecordsRejectsAndABalancedReport(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := cli(t, "map", "--preset", "hubspot-contacts", "--tenant", "acme", "--out", dir, hubspot)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep struct {
		Files []struct {
			Counts struct {
				Read, Migrated, Merged, Rejected int
				Skipped                          map[string]int
			}
			Unmapped []string
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	c := rep.Files[0].Counts
	skipped := 0
	for _, n := range c.Skipped {
		skipped += n
	}
	if c.Read == 0 || c.Read != c.Migrated+c.Merged+c.Rejected+skipped {
		t.Fatalf("counts do not balance: %+v", c)
	}
	recs, err := os.ReadFile(filepath.Join(dir, "records-contact.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(recs), "\n"); n != c.Migrated {
		t.Fatalf("%d records written, %d migrated", n, c.Migrated)
	}
	if !strings.Contains(out, "read ") || !strings.Contains(out, "fill rates:") {
		t.Fatalf("summary:\n%s", out)
	}
}

func TestMapErrorsAreClear(t *testing.T) {
	broken := filepath.Join(t.TempDir(), "broken.csv")
	if err := os.WriteFile(broken, []byte("Email,Name\na@x.com,\"Ann\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		args []string
		code int
		want string
	}{
		"no spec":        {[]string{"map", hubspot}, 2, "exactly one of --preset and --mapping"},
		"unknown preset": {[]string{"map", "--preset", "nope", hubspot}, 2, `no preset "nope"; there are:`},
		"malformed file": {[]string{"inspect", broken}, 1, "line 2"},
		"file that does not fit the preset": {[]string{"map", "--preset", "hubspot-contacts", "--out", t.TempDir(), broken}, 1,
			`column "Record ID" is not in the file`},
		"missing file": {[]string{"inspect", "nope.csv"}, 1, "nope.csv"},
		"bad command":  {[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
	} {
		code, _, errs := cli(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", name, code, errs, tc.code, tc.want)
		}
	}
}
