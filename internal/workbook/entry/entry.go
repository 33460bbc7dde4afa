// Package entry holds the entries of the test migration's workbook that
// are read without the engine: the spot checks, what was inferred from
// each file, the notes on each file and where the rejected and reviewed
// rows are. The sign-off (internal/signoff, linked by the requestsignoff
// and signoffapi Lambdas) shows them; building the workbook needs the
// engine and stays in internal/workbook, which re-exports these types
// under their old names.
package entry

import "github.com/cutover/cutover/internal/mapdoc"

// SpotCheck shows one source row beside the record it became, or, for a
// named row that became none, what happened to it and why.
type SpotCheck struct {
	Entity   string            `json:"entity"`
	Why      string            `json:"why"` // "sampled" or "named by you"
	SourceID string            `json:"sourceId"`
	Found    bool              `json:"found"` // a record holds the row: migrated, or merged into another
	File     string            `json:"file,omitempty"`
	Line     int               `json:"line,omitempty"`
	Source   []Cell            `json:"source,omitempty"`
	RecordID string            `json:"recordId,omitempty"`
	Record   map[string]string `json:"record,omitempty"`
	// Outcome is what became of the row: migrated, merged, rejected or
	// skipped ("" for a named id no row has).
	Outcome string `json:"outcome,omitempty"`
	// Says is the outcome in words, e.g. "rejected at line 3 of
	// contacts.csv: emails: required field is empty".
	Says string `json:"says,omitempty"`
	// MergedInto is the record a merged row went into (RecordID is it too).
	MergedInto string `json:"mergedInto,omitempty"`
	// Flags say why a sampled row was drawn more often than others:
	// "warning" (flagged "!"), "merged", "derived" (values the engine
	// derived, e.g. people named inline or a derived status).
	Flags    []string       `json:"flags,omitempty"`
	Warnings []mapdoc.Issue `json:"warnings,omitempty"`
	// WaiveOnly is set when there is no record to say "it is right" about
	// (not found, rejected or skipped): the check can only be waived with
	// a note.
	WaiveOnly bool `json:"waiveOnly,omitempty"`
}

// Cell is one source column's value.
type Cell struct {
	Column string `json:"column"`
	Value  string `json:"value"`
}

// RejectsFile is where one file's rejected rows are: the stored key, and
// a short-lived download link added when the workbook is served.
type RejectsFile struct {
	File string `json:"file"`
	Key  string `json:"key"`
	URL  string `json:"url,omitempty"`
}

// FileInference is what the engine inferred from one file's values.
type FileInference struct {
	File   string             `json:"file"`
	Entity string             `json:"entity"`
	Market string             `json:"market,omitempty"`
	Region mapdoc.RegionGuess `json:"region"`
	Dates  []mapdoc.DateGuess `json:"dates"`
}

// FileNotes is what a person should know about one file of the round.
type FileNotes struct {
	File   string   `json:"file"`
	Entity string   `json:"entity"`
	Notes  []string `json:"notes"`
}
