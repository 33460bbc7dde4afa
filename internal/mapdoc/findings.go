package mapdoc

// What the engine reports about the rows it maps, as the workbook and the
// sign-off page show it. The engine (internal/mapspec) fills these; the
// pages that only show them need no engine.

// Issue is one problem with one row. An error rejects the row; a warning
// migrates it flagged for review.
type Issue struct {
	Field  string `json:"field,omitempty"`  // target field ("" for the row as a whole)
	Column string `json:"column,omitempty"` // source column(s), joined with " + "
	Value  string `json:"value,omitempty"`  // the original value(s), joined with " | "
	Reason string `json:"reason"`           // human text
}

// DateGuess is the date format inferred for one column.
type DateGuess struct {
	Column     string   `json:"column"`
	Format     string   `json:"dateFormat"`          // the format chosen
	Confidence float64  `json:"confidence"`          // share of the non-empty values it reads, halved when ambiguous
	Ambiguous  bool     `json:"ambiguous,omitempty"` // another format reads the same values differently
	Other      string   `json:"alternative,omitempty"`
	Examples   []string `json:"examples,omitempty"` // values read differently by Format and Other
	Values     int      `json:"values"`             // non-empty values looked at
	Read       int      `json:"read"`               // of which Format reads
}

// RegionGuess is the phone region inferred for a whole file.
type RegionGuess struct {
	Region     string  `json:"region,omitempty"` // ISO 3166-1 alpha-2, "" when nothing says
	Confidence float64 `json:"confidence"`       // share of the evidence that agrees, 0..1
	Source     string  `json:"source"`           // "numbers", "country column", "market" or "none"
	Evidence   int     `json:"evidence"`         // values that said something
}

// PossibleDuplicate is a dedupe key shared by records with different source
// ids that were kept apart: a person decides whether they are one.
type PossibleDuplicate struct {
	Entity    string   `json:"entity"`
	Key       string   `json:"key"`
	IDs       []string `json:"ids"`       // each kept record, first seen first
	Lines     []int    `json:"lines"`     // each kept record's first line
	SourceIDs []string `json:"sourceIds"` // each kept record's source id
}
