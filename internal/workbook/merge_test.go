package workbook

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pipeline"
)

// sightings are the rows of two files of contacts: every fifth flagged
// with a warning, one named id rejected, one migrated.
func sightings() []pipeline.Sighting {
	var out []pipeline.Sighting
	for _, file := range []string{"a.csv", "b.csv"} {
		for line := 2; line < 400; line++ {
			id := fmt.Sprintf("%s-%d", file, line)
			x := pipeline.Sighting{
				File: file, Header: []string{"id"}, Line: line, Row: []string{id}, Entity: "contact", SourceID: id, Outcome: mapspec.Migrated,
				Record: &mapspec.Record{ID: "rec-" + id, Entity: "contact", SourceID: id, Line: line},
			}
			if line%5 == 0 {
				x.Warnings = []mapspec.Issue{{Field: "phones", Reason: "odd"}}
			}
			if id == "a.csv-7" {
				x.Outcome, x.Record, x.Reasons = mapspec.Rejected, nil, []string{"emails: required"}
			}
			out = append(out, x)
		}
	}
	return out
}

// A test migration's chunks each sample their own rows; merged in chunk
// order (after a trip through JSON, as they are stored), their samples
// give exactly the spot checks one sampler over every row gives: the same
// seed and extract pick the same rows however the extract is divided,
// and the named rows are always there.
func TestChunkSamplesMergeIntoTheWholeRunsSpotChecks(t *testing.T) {
	ids := map[string][]string{"contact": {"a.csv-7", "b.csv-300", "nobody"}}
	whole := NewSampler(42, ids)
	all := sightings()
	for _, x := range all {
		whole.Watch(x)
	}
	merged := NewSampler(42, ids)
	for _, cut := range [][2]int{{0, 150}, {150, 151}, {151, 500}, {500, len(all)}} {
		part := NewSampler(42, ids)
		for _, x := range all[cut[0]:cut[1]] {
			part.Watch(x)
		}
		body, err := json.Marshal(part.Samples())
		if err != nil {
			t.Fatal(err)
		}
		var back Samples
		if err := json.Unmarshal(body, &back); err != nil {
			t.Fatal(err)
		}
		merged.Merge(back)
	}
	want, got := whole.SpotChecks(), merged.SpotChecks()
	if len(want) < SpotChecksPerEntity {
		t.Fatalf("the whole run picked only %d spot checks", len(want))
	}
	// Compared as the workbook stores them: JSON.
	if w, g := mustJSON(t, want), mustJSON(t, got); w != g {
		t.Fatalf("merged chunk samples pick\n%+v\nthe whole run picks\n%+v", got, want)
	}
	for _, id := range []string{"a.csv-7", "b.csv-300", "nobody"} {
		if sc := named(got, id); sc == nil {
			t.Fatalf("the named id %s is not among the merged spot checks", id)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
