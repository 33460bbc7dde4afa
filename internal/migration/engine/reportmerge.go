package engine

import (
	"slices"
	"strings"

	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pipeline"
)

// The parts of a file's report that mergeReports adds up beyond its
// counts: what the workbook shows of the file (values left out, people
// the destination refused, warnings with their first examples, fields
// several columns fill with their first examples). Chunks are merged in
// file order, so "the first examples" of the merge are the file's first.

// resetReportExtras empties what addReportExtras adds to, so that the
// accumulator shares nothing with the report it was copied from.
func resetReportExtras(acc *pipeline.Report) {
	acc.LeftOut, acc.RefusedPeople, acc.Warnings = map[string]int{}, map[string]int{}, nil
	combined := acc.Combined
	acc.Combined = nil
	for _, c := range combined {
		acc.Combined = append(acc.Combined, mapspec.CombinedField{
			Field: c.Field, Mode: c.Mode, Separator: c.Separator, Explicit: c.Explicit, Columns: c.Columns,
			DroppedBy: map[string]int{}, Examples: []mapspec.CombinedValue{}, DroppedExamples: []mapspec.CombinedValue{},
		})
	}
}

// addReportExtras adds r's extras to acc's.
func addReportExtras(acc, r *pipeline.Report) {
	addCounts(acc.LeftOut, r.LeftOut)
	addCounts(acc.RefusedPeople, r.RefusedPeople)
	for _, w := range r.Warnings {
		i := slices.IndexFunc(acc.Warnings, func(g pipeline.WarningGroup) bool { return g.Reason == w.Reason })
		if i < 0 {
			acc.Warnings = append(acc.Warnings, pipeline.WarningGroup{Reason: w.Reason, Examples: []pipeline.WarningExample{}})
			i = len(acc.Warnings) - 1
		}
		g := &acc.Warnings[i]
		g.Count += w.Count
		g.Examples = appendUpTo(g.Examples, w.Examples, pipeline.MaxWarningExamples)
	}
	for _, c := range r.Combined {
		i := slices.IndexFunc(acc.Combined, func(a mapspec.CombinedField) bool { return a.Field == c.Field })
		if i < 0 {
			acc.Combined = append(acc.Combined, mapspec.CombinedField{
				Field: c.Field, Mode: c.Mode, Separator: c.Separator, Explicit: c.Explicit, Columns: c.Columns,
				DroppedBy: map[string]int{}, Examples: []mapspec.CombinedValue{}, DroppedExamples: []mapspec.CombinedValue{},
			})
			i = len(acc.Combined) - 1
		}
		a := &acc.Combined[i]
		a.Rows += c.Rows
		a.Dropped += c.Dropped
		addCounts(a.DroppedBy, c.DroppedBy)
		a.Examples = appendUpTo(a.Examples, c.Examples, mapspec.CombinedExamples)
		a.DroppedExamples = appendUpTo(a.DroppedExamples, c.DroppedExamples, mapspec.CombinedExamples)
	}
}

// finishReportExtras orders the merged warning groups as the pipeline
// does (the most frequent first, then by reason), and drops empty counts,
// as a report of the whole file has none.
func finishReportExtras(acc *pipeline.Report) {
	if len(acc.LeftOut) == 0 {
		acc.LeftOut = nil
	}
	if len(acc.RefusedPeople) == 0 {
		acc.RefusedPeople = nil
	}
	slices.SortStableFunc(acc.Warnings, func(a, b pipeline.WarningGroup) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Reason, b.Reason)
	})
}

func appendUpTo[T any](dst, src []T, limit int) []T {
	return append(dst, src[:min(len(src), max(0, limit-len(dst)))]...)
}
