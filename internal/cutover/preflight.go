package cutover

import "time"

// The pre-flight is the final migration's dry run: the final extract read
// through the signed-off mapping, writing nothing, and compared with the
// signed-off test migration. It runs when the customer submits the final
// extract and again at go-live, before the tenant lock; past the vendor's
// thresholds go-live holds until the coordinator approves the differences
// or the customer corrects the extract.

// StatusFinalHeld is a go-live held by its pre-flight: the final extract
// differs from the signed-off test migration past a threshold, and waits
// for the coordinator's re-approval or the customer's correction.
const StatusFinalHeld Status = "final_held"

// TaskReapproval is the callback a held go-live is parked on: the
// coordinator's decision on a fresh link that shows the differences.
const TaskReapproval = "reapproval"

// Pre-flight phases: when it ran.
const (
	PreflightAtSubmit = "submitted" // the customer submitted the final extract
	PreflightAtGoLive = "go-live"   // at the go-live time, before the tenant lock
)

// PreflightSummary is a pre-flight's result in brief, kept on the
// migration: whether go-live holds and why. The full comparison
// (PreflightReport) is an artifact at ReportKey.
type PreflightSummary struct {
	// Fingerprint names what was checked: the final files, their matches
	// to signed-off entries, and the signed-off mapping. A re-approval holds
	// for this fingerprint only.
	Fingerprint string            `json:"fingerprint" dynamodbav:"fingerprint"`
	Phase       string            `json:"phase" dynamodbav:"phase"`
	Breaches    []PreflightBreach `json:"breaches" dynamodbav:"breaches"` // past a threshold (at most MaxPreflightBreaches); empty when go-live may proceed
	// BreachKey names the whole set of differences found (every breach's
	// rule, entity and field, not only those kept here): a re-approval
	// holds for exactly these differences of this fingerprint, so one that
	// appears later (a checklist changed, a threshold tightened) holds again.
	BreachKey  string             `json:"breachKey,omitempty" dynamodbav:"breachKey,omitempty"`
	Held       bool               `json:"held" dynamodbav:"held"` // breaches and no re-approval of this fingerprint
	Reapproval *PreflightApproval `json:"reapproval,omitempty" dynamodbav:"reapproval,omitempty"`
	ReportKey  string             `json:"-" dynamodbav:"reportKey,omitempty"`
	CheckedAt  time.Time          `json:"checkedAt" dynamodbav:"checkedAt"`
}

// PreflightReport is a pre-flight's full comparison, stored as a JSON
// artifact: what the customer previews as "this is what will go live",
// and what the coordinator re-approves.
type PreflightReport struct {
	Fingerprint string            `json:"fingerprint"`
	Phase       string            `json:"phase"`
	Matches     []FinalMatch      `json:"matches"`
	Entities    []PreflightEntity `json:"entities"`
	// Missing lists the mapped columns the final extract lacks, per entry.
	Missing []MissingColumn `json:"missing"`
	// Fill is each mapped field's fill rate, test and final, per entity.
	Fill     []FieldFill       `json:"fill"`
	Breaches []PreflightBreach `json:"breaches"` // all of them
	Counts   Counts            `json:"counts"`   // the dry run's account, as the final migration would keep it
	At       time.Time         `json:"at"`
}

// MissingColumn is a column the signed-off mapping reads that the final
// extract does not have.
type MissingColumn struct {
	Entry  string `json:"entry"`          // the signed-off entry, by its test file's name
	File   string `json:"file,omitempty"` // the final file (and sheet) that lacks it
	Column string `json:"column"`
	Field  string `json:"field"`
}

// FieldFill is how many records of an entity carry a field, in the test
// migration and in the dry run of the final extract, in percent.
type FieldFill struct {
	Entity  string  `json:"entity"`
	Field   string  `json:"field"`
	TestPct float64 `json:"testPct"`
	Pct     float64 `json:"pct"`
	Changed int     `json:"changed"` // records whose value of this field differs from the test's
}

// FinalMatch is one table of the final extract and the signed-off mapping
// entry it is read with, matched by the entry's recorded identity (its
// test file's normalised header, entity and preset) and shown to the
// customer to confirm or correct.
type FinalMatch struct {
	FileID    string `json:"fileId" dynamodbav:"fileId"`
	FileName  string `json:"fileName" dynamodbav:"fileName"`
	Table     string `json:"table" dynamodbav:"table"` // the table's name in the extract (a sheet of a workbook)
	Entry     string `json:"entry" dynamodbav:"entry"` // the signed-off mapping's file entry
	Entity    string `json:"entity" dynamodbav:"entity"`
	Confirmed bool   `json:"confirmed" dynamodbav:"confirmed"` // the customer confirmed or chose it
}

// PreflightEntity is one entity's comparison of the final extract with the
// signed-off test migration.
type PreflightEntity struct {
	Entity        string  `json:"entity" dynamodbav:"entity"`
	TestRows      int     `json:"testRows" dynamodbav:"testRows"`
	Rows          int     `json:"rows" dynamodbav:"rows"`
	Migrated      int     `json:"migrated" dynamodbav:"migrated"`
	TestRejectPct float64 `json:"testRejectPct" dynamodbav:"testRejectPct"`
	RejectPct     float64 `json:"rejectPct" dynamodbav:"rejectPct"`
	TestWarnPct   float64 `json:"testWarnPct" dynamodbav:"testWarnPct"`
	WarnPct       float64 `json:"warnPct" dynamodbav:"warnPct"`
	// The rows behind the percentages (rounded to a tenth of a point, so
	// 12 rejected rows of 398,000 are 0%): a preview shows both, and no
	// rejected row hides behind a zero.
	TestRejected int    `json:"testRejected" dynamodbav:"testRejected"`
	Rejected     int    `json:"rejected" dynamodbav:"rejected"`
	TestWarned   int    `json:"testWarned" dynamodbav:"testWarned"` // over the whole test, as TestWarnPct
	Warned       int    `json:"warned" dynamodbav:"warned"`
	Status       string `json:"status" dynamodbav:"status"` // the reconciliation: match, explained, unexplained
	Added        int    `json:"added" dynamodbav:"added"`
	Removed      int    `json:"removed" dynamodbav:"removed"`
	Changed      int    `json:"changed" dynamodbav:"changed"`
}

// Pre-flight rules: which threshold a breach is past.
const (
	RuleColumnMissing = "column_missing" // a mapped column is missing from the final extract
	RuleFileMissing   = "file_missing"   // a signed-off file has no file of the final extract read with it
	RuleFillDrop      = "fill_drop"      // a field's fill rate fell by more than the threshold
	RuleRejectRise    = "reject_rise"    // the rejection rate rose by more than the threshold
	RuleUnexplained   = "unexplained"    // the reconciliation is unexplained
	RuleDelta         = "delta"          // more records added, removed or changed than the threshold
)

// PreflightBreach is one difference past a threshold, in words a
// coordinator can approve or refuse.
type PreflightBreach struct {
	Rule   string `json:"rule" dynamodbav:"rule"`
	Entity string `json:"entity,omitempty" dynamodbav:"entity,omitempty"`
	Field  string `json:"field,omitempty" dynamodbav:"field,omitempty"`
	Detail string `json:"detail" dynamodbav:"detail"`
}

// PreflightApproval is the coordinator's re-approval of a held go-live.
type PreflightApproval struct {
	Fingerprint string    `json:"fingerprint" dynamodbav:"fingerprint"`
	BreachKey   string    `json:"breachKey,omitempty" dynamodbav:"breachKey,omitempty"` // the differences approved (PreflightSummary.BreachKey)
	DecidedBy   string    `json:"decidedBy" dynamodbav:"decidedBy"`
	DecidedAt   time.Time `json:"decidedAt" dynamodbav:"decidedAt"`
	Comment     string    `json:"comment,omitempty" dynamodbav:"comment,omitempty"` // at most MaxCommentBytes
}

// Thresholds are the vendor's limits on how far a final extract may differ
// from the signed-off test migration before go-live holds. They are
// deployment settings (template parameters).
type Thresholds struct {
	FillDropPoints   float64 `json:"fillDropPoints"`   // a field's fill rate may fall by at most this many points
	RejectRisePoints float64 `json:"rejectRisePoints"` // the rejection rate may rise by at most this many points
	DeltaPct         float64 `json:"deltaPct"`         // added+removed+changed may be at most this share of the test's records; 0: no limit
	HoldUnexplained  bool    `json:"holdUnexplained"`  // an unexplained reconciliation holds
}

// DefaultThresholds are the thresholds when the deployment sets none: a
// mapped column missing always holds.
var DefaultThresholds = Thresholds{FillDropPoints: 20, RejectRisePoints: 2, HoldUnexplained: true}

// Bounds of what a pre-flight keeps on the migration; the report artifact
// has everything. A breach's detail is clipped to MaxReasonBytes.
const (
	MaxPreflightBreaches = 10
	MaxFinalMatches      = 40 // tables of a final extract (a workbook's sheets count one each); the migration item affords no more beside the review marks
)

// RuleUnreadable is a final extract the signed-off mapping cannot read at
// all (a file the reader refuses, or a table with no confirmed match): go-live
// holds with the reader's words rather than failing at the go-live time.
const RuleUnreadable = "unreadable"

// Approves reports whether a re-approval covers exactly the differences
// the summary found, for the same final extract.
func (a *PreflightApproval) Approves(p *PreflightSummary) bool {
	return a != nil && p != nil && a.Fingerprint == p.Fingerprint && a.BreachKey == p.BreachKey
}
