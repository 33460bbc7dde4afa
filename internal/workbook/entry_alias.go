package workbook

import "github.com/cutover/cutover/internal/workbook/entry"

// The workbook's entries that the sign-off reads live in
// internal/workbook/entry, which links no engine; they keep their names
// here so the builder and its callers did not change.
type (
	SpotCheck     = entry.SpotCheck
	Cell          = entry.Cell
	RejectsFile   = entry.RejectsFile
	FileInference = entry.FileInference
	FileNotes     = entry.FileNotes
)
