package workbook

import (
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pipeline"
)

// FileCombined is, for one file, the spot check of each field several of
// its columns fill: how they combine (mapspec.CombinedField.Mode), example
// rows with each column's value beside the result, and, for a field that
// keeps the first non-empty value, how many rows lost a value, from which
// columns, with examples. Nothing a customer maps vanishes without
// appearing here.
type FileCombined struct {
	File   string                  `json:"file"`
	Entity string                  `json:"entity"`
	Fields []mapspec.CombinedField `json:"fields"`
}

// AddCombined adds, from a round's per-file reports, the spot check of
// every field several columns fill. A round without such a field gets an
// empty list.
func (w *Workbook) AddCombined(reports []*pipeline.Report) {
	w.Combined = []FileCombined{}
	for _, r := range reports {
		if len(r.Combined) > 0 {
			w.Combined = append(w.Combined, FileCombined{File: r.File, Entity: r.Entity, Fields: r.Combined})
		}
	}
}

// DroppedValues is how many migrated rows, across the workbook's files,
// lost a value some mapped column held (a field that keeps the first
// non-empty of several columns).
func (w *Workbook) DroppedValues() int {
	n := 0
	for _, f := range w.Combined {
		for _, cf := range f.Fields {
			n += cf.Dropped
		}
	}
	return n
}
