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
		"file that does not fit the preset": {
			[]string{"map", "--preset", "hubspot-contacts", "--out", t.TempDir(), broken},
			1,
			`column "Record ID" is not in the file`,
		},
		"missing file": {[]string{"inspect", "nope.csv"}, 1, "nope.csv"},
		"bad command":  {[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
	} {
		code, _, errs := cli(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", name, code, errs, tc.code, tc.want)
		}
	}
}

// Two rows with one id are one record: the second is rejected, with or
// without a dedupe key, and the records file holds as many distinct
// records as the report says were migrated.
func TestMapRejectsARepeatedIDAndWritesWhatItCounts(t *testing.T) {
	data := filepath.Join(t.TempDir(), "contacts.csv")
	if err := os.WriteFile(data, []byte("Id,Email\n1,a@x.com\n1,b@x.com\n2,c@x.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, dedupe := range map[string]string{"plain": "", "dedupe by email": `"dedupe":["emails"],`} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			spec := filepath.Join(dir, "m.json")
			src := `{"version":1,"files":[{"name":"contacts","entity":"contact","sourceId":["Id"],` + dedupe + `"fields":[{"target":"emails","column":"Email"}]}]}`
			if err := os.WriteFile(spec, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			code, out, errs := cli(t, "map", "--mapping", spec, "--out", dir, data)
			if code != 0 {
				t.Fatalf("exit %d: %s%s", code, out, errs)
			}
			var rep struct {
				Files []struct {
					Counts struct{ Read, Migrated, Merged, Rejected int }
				}
			}
			b, err := os.ReadFile(filepath.Join(dir, "report.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &rep); err != nil {
				t.Fatal(err)
			}
			recs, err := os.ReadFile(filepath.Join(dir, "records-contact.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			ids := map[string]bool{}
			for _, line := range strings.Split(strings.TrimSpace(string(recs)), "\n") {
				var r struct{ ID string }
				if err := json.Unmarshal([]byte(line), &r); err != nil || r.ID == "" {
					t.Fatalf("record line %q: %v", line, err)
				}
				ids[r.ID] = true
			}
			c := rep.Files[0].Counts
			if c.Read != 3 || c.Migrated != 2 || c.Rejected != 1 || len(ids) != c.Migrated {
				t.Fatalf("counts %+v, %d distinct records in the file", c, len(ids))
			}
		})
	}
}

// What inspect shows is exactly what the mapping it writes does: every
// column's target in the printed table and in the JSON equals the written
// spec's field for that column, including the suggestions beside a preset.
func TestInspectShowsWhatTheWrittenSpecDoes(t *testing.T) {
	for _, file := range []string{"../../internal/mapspec/presets/testdata/hubspot-extra-columns.csv", "../../internal/mapspec/presets/testdata/kontakte-de.csv", hubspot} {
		spec := filepath.Join(t.TempDir(), "m.json")
		code, out, errs := cli(t, "inspect", "--json", "--write-mapping", spec, file)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var found []struct {
			Proposal struct {
				Entity  string
				Columns []struct{ Column, Target string }
			}
		}
		if err := json.Unmarshal([]byte(out), &found); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(spec)
		if err != nil {
			t.Fatal(err)
		}
		var written struct {
			Files []struct {
				Fields []struct {
					Target, Column string
					Columns        []string
				}
			}
		}
		if err := json.Unmarshal(b, &written); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{}
		for _, f := range written.Files[0].Fields {
			for _, c := range append(f.Columns, f.Column) {
				if _, ok := want[c]; c != "" && !ok {
					want[c] = f.Target
				}
			}
		}
		shown := map[string]string{}
		for _, c := range found[0].Proposal.Columns {
			shown[c.Column] = c.Target
			if c.Target != want[c.Column] {
				t.Errorf("%s: inspect shows %s -> %q, the written spec maps it to %q", file, c.Column, c.Target, want[c.Column])
			}
		}
		for c, target := range want {
			if shown[c] != target {
				t.Errorf("%s: the written spec maps %s -> %s, inspect shows %q", file, c, target, shown[c])
			}
		}
		// The printed table says the same.
		_, text, _ := cli(t, "inspect", file)
		for c, target := range want {
			if !strings.Contains(text, "-> "+found[0].Proposal.Entity+"."+target) || !strings.Contains(text, c) {
				t.Errorf("%s: the printed table lacks %s -> %s:\n%s", file, c, target, text)
			}
		}
	}
}
