package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// inspect shows, per file, the phone region it inferred and each date
// column's format with how sure it is; an ambiguous column says so, with
// examples, and the market breaks the tie.
func TestInspectShowsInference(t *testing.T) {
	const fr = "testdata/clients-fr.csv"
	code, out, errs := cli(t, "inspect", "--json", "--market", "FR", fr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var found []struct {
		Inference struct {
			Region struct{ Region, Source string }
			Dates  []struct {
				Column     string
				DateFormat string
				Confidence float64
				Ambiguous  bool
				Examples   []string
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &found); err != nil || len(found) != 1 {
		t.Fatalf("%v: %s", err, out)
	}
	inf := found[0].Inference
	if inf.Region.Region != "FR" {
		t.Errorf("region = %+v", inf.Region)
	}
	if len(inf.Dates) != 1 || inf.Dates[0].Column != "Date d'inscription" || inf.Dates[0].DateFormat != "D/M/YYYY" || !inf.Dates[0].Ambiguous ||
		len(inf.Dates[0].Examples) == 0 || inf.Dates[0].Confidence >= 1 {
		t.Errorf("dates = %+v", inf.Dates)
	}
	code, out, _ = cli(t, "inspect", "--market", "us", fr)
	if code != 0 || !strings.Contains(out, "M/D/YYYY") || !strings.Contains(out, "AMBIGUOUS") || !strings.Contains(out, "phone region: FR, from numbers") {
		t.Errorf("text output:\n%s", out)
	}
	code, _, errs = cli(t, "map", "--preset", "hubspot-contacts", "--market", "Narnia", "--out", t.TempDir(), fr)
	if code != 2 || !strings.Contains(errs, "two-letter country code") {
		t.Errorf("bad market: exit %d, %s", code, errs)
	}
}
