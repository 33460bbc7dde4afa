package workbook

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cutover/cutover/internal/pipeline"
)

// MaxWarningGroups bounds the warning groups: each is marked reviewed or
// waived on the migration item (as "warn:N"), so their number is bounded
// like the spot checks'. Reasons past the first MaxWarningGroups-1 are
// counted in one last group, so no warning goes unmarked.
const MaxWarningGroups = 20

// MaxWarningExamples is how many examples a warning group shows.
const MaxWarningExamples = 5

// WarningGroup is an entity's "!" warnings for one reason, across its
// files: rows that migrated, but with something a person should look at.
type WarningGroup struct {
	Entity   string           `json:"entity"`
	Reason   string           `json:"reason"`
	Count    int              `json:"count"`
	Examples []WarningExample `json:"examples"`
}

// WarningExample is one warning, with the file it is in.
type WarningExample struct {
	File string `json:"file"`
	pipeline.WarningExample
}

// warningGroups merges the reports' per-file groups by entity and reason,
// the most frequent first, bounded by MaxWarningGroups.
func warningGroups(reports []*pipeline.Report) []WarningGroup {
	by := map[string]*WarningGroup{}
	var order []*WarningGroup
	for _, r := range reports {
		for _, w := range r.Warnings {
			k := r.Entity + "\x00" + w.Reason
			g := by[k]
			if g == nil {
				g = &WarningGroup{Entity: r.Entity, Reason: w.Reason, Examples: []WarningExample{}}
				by[k] = g
				order = append(order, g)
			}
			g.Count += w.Count
			for _, ex := range w.Examples {
				if len(g.Examples) < MaxWarningExamples {
					g.Examples = append(g.Examples, WarningExample{File: r.File, WarningExample: ex})
				}
			}
		}
	}
	out := make([]WarningGroup, 0, len(order))
	for _, g := range order {
		out = append(out, *g)
	}
	slices.SortStableFunc(out, func(a, b WarningGroup) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		if c := strings.Compare(a.Entity, b.Entity); c != 0 {
			return c
		}
		return strings.Compare(a.Reason, b.Reason)
	})
	if len(out) <= MaxWarningGroups {
		return out
	}
	rest := out[MaxWarningGroups-1:]
	other := WarningGroup{Reason: fmt.Sprintf("%d other reasons (see the review files)", len(rest)), Examples: []WarningExample{}}
	entities := map[string]bool{}
	for _, g := range rest {
		other.Count += g.Count
		if !entities[g.Entity] {
			entities[g.Entity] = true
			other.Entity = strings.TrimPrefix(other.Entity+", "+g.Entity, ", ")
		}
		for _, ex := range g.Examples {
			if len(other.Examples) < MaxWarningExamples {
				other.Examples = append(other.Examples, ex)
			}
		}
	}
	return append(out[:MaxWarningGroups-1:MaxWarningGroups-1], other)
}

// AddReviewFiles lists the per-row review files: each file's rows migrated
// with a "!" warning, one line per warning.
func (w *Workbook) AddReviewFiles(files []RejectsFile) {
	w.Issues.ReviewFiles = append(w.Issues.ReviewFiles, files...)
}
