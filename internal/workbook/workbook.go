// Package workbook builds the test migration's workbook: the reconciliation
// of every entity against the customer's own counts, reproducible spot
// checks (source row beside migrated record), the issues grouped by reason,
// fill rates and the columns that will not migrate. It is what careful
// onboarding teams fill in by hand, produced by every test migration. It
// has no AWS types.
package workbook

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pipeline"
)

// Reconciliation statuses.
const (
	StatusMatch       = "match"       // the checklist count equals the records migrated
	StatusExplained   = "explained"   // the export is complete and every row not migrated has a reason
	StatusUnexplained = "unexplained" // the counts disagree in a way the workbook cannot explain
)

// Workbook is one round's workbook.
type Workbook struct {
	MigrationID    string           `json:"migrationId"`
	Round          int              `json:"round"`
	MappingVersion int              `json:"mappingVersion"`
	Seed           uint64           `json:"seed"` // the spot checks are the same for the same seed and extract
	CreatedAt      time.Time        `json:"createdAt"`
	Reconciliation []Reconciliation `json:"reconciliation"`
	SpotChecks     []SpotCheck      `json:"spotChecks"`
	Issues         Issues           `json:"issues"`
	FillRates      []EntityFill     `json:"fillRates"`
	Unmapped       []FileColumns    `json:"unmapped"` // the manual follow-up list: what will not migrate
	// Inference is, per file, the phone region and date formats the engine
	// read from the file's values, with how sure it is; an ambiguous date
	// column is listed with examples for the customer to confirm.
	Inference []FileInference `json:"inference"`
	// Notes are, per file, what a person should know about how the spec
	// the round ran treats it, e.g. that its records are identified by
	// their content, so the final extract must keep those values the same.
	Notes []FileNotes `json:"notes"`
	// Combined is the spot check of fields several columns fill (combined.go).
	Combined []FileCombined `json:"combined"`
}

// Reconciliation is one entity's account against the checklist.
type Reconciliation struct {
	Entity    string         `json:"entity"`
	Checklist *int           `json:"checklist"` // the customer's count from the old CRM; nil when not given
	Rows      int            `json:"rows"`      // rows in the export
	Migrated  int            `json:"migrated"`
	Merged    int            `json:"merged"`
	Rejected  int            `json:"rejected"`
	Skipped   map[string]int `json:"skipped"` // by rule
	// Housekeeping counts, per derive rule (applicant-expiry,
	// tenancy-status), the migrated records the rule changed: those
	// records differ from the customer's export on purpose, so the
	// workbook says how many.
	Housekeeping map[string]int `json:"housekeeping"`
	Status       string         `json:"status"`
	Explanation  string         `json:"explanation"`
}

// Issues are what needs the customer's attention.
type Issues struct {
	Rejected     []ReasonCount `json:"rejected"`     // grouped by reason; the rows are in the rejects files
	RejectsFiles []RejectsFile `json:"rejectsFiles"` // one CSV per file with rejected rows
	Warned       int           `json:"warned"`       // rows migrated but flagged "!" for review
	// Warnings are those rows' warnings grouped by reason, with examples
	// (warnings.go); each group is marked reviewed or waived as "warn:N".
	Warnings []WarningGroup `json:"warnings"`
	// ReviewFiles are the per-row review files, one CSV per file with
	// warnings (line, source id, record id, field, column, value, warning).
	ReviewFiles []RejectsFile `json:"reviewFiles"`
	LeftOut     []FieldCount  `json:"leftOut"` // values left out of migrated records (unreadable; kept under "invalid"), by file and field
	Orphans     int           `json:"orphans"` // references to records in none of the files, or to records the destination refused
	// RefusedPeople are the persons derived from names on rows that the
	// destination refused, by the naming row's file and the reason: the
	// rows landed and stay migrated, the persons did not.
	RefusedPeople []ReasonCount `json:"refusedPeople"`
	// PossibleDuplicates counts records kept apart although another record
	// with a different source id shares their dedupe key, in PossibleGroups
	// groups; Duplicates lists the first MaxListedPossible of those groups
	// for review (see duplicates.go).
	PossibleDuplicates int                         `json:"possibleDuplicates"`
	PossibleGroups     int                         `json:"possibleGroups"`
	Duplicates         []mapspec.PossibleDuplicate `json:"duplicates"`
	// DuplicateCounts are the totals the sign-off page shows: rows merged
	// into another record, and records kept apart as possible duplicates.
	DuplicateCounts DuplicateCounts `json:"duplicateCounts"`
	// DuplicateGroups lists the merges and possible duplicates with their
	// source rows and resulting records, the first MaxListedGroups of each
	// kind (duplicates.go); the counts above are complete.
	DuplicateGroups []DuplicateGroup `json:"duplicateGroups"`
}

// FieldCount is how many values of one field of one file were left out.
type FieldCount struct {
	File   string `json:"file"`
	Entity string `json:"entity"`
	Field  string `json:"field"`
	Count  int    `json:"count"`
}

// ReasonCount is how many rows of a file were rejected for one reason.
type ReasonCount struct {
	File   string `json:"file"`
	Entity string `json:"entity"`
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

// EntityFill is how often each target field of an entity got a value.
type EntityFill struct {
	Entity string              `json:"entity"`
	File   string              `json:"file"`
	Fields []pipeline.FillRate `json:"fields"`
}

// FileColumns lists a file's source columns that nothing maps.
type FileColumns struct {
	File    string   `json:"file"`
	Columns []string `json:"columns"`
}

// Meta identifies the round a workbook is for.
type Meta struct {
	MigrationID    string
	Round          int
	MappingVersion int
	Seed           uint64
	CreatedAt      time.Time
}

// Build assembles the workbook from the per-file reports of a test
// migration, the customer's checklist, the sampler, the orphan count and
// the rejects files.
func Build(meta Meta, reports []*pipeline.Report, checklist map[string]int, s *Sampler, orphans int, rejects []RejectsFile) *Workbook {
	wb := &Workbook{
		MigrationID: meta.MigrationID, Round: meta.Round, MappingVersion: meta.MappingVersion, Seed: meta.Seed, CreatedAt: meta.CreatedAt,
		Reconciliation: []Reconciliation{}, SpotChecks: []SpotCheck{}, FillRates: []EntityFill{}, Unmapped: []FileColumns{}, Inference: []FileInference{}, Notes: []FileNotes{},
		Issues: Issues{
			Rejected: []ReasonCount{}, RefusedPeople: []ReasonCount{}, LeftOut: []FieldCount{}, RejectsFiles: append([]RejectsFile{}, rejects...), Orphans: orphans,
			Warnings: warningGroups(reports), ReviewFiles: []RejectsFile{}, DuplicateGroups: []DuplicateGroup{},
		},
	}
	byEntity := map[string]*Reconciliation{}
	for _, r := range reports {
		rc, ok := byEntity[r.Entity]
		if !ok {
			rc = &Reconciliation{Entity: r.Entity, Skipped: map[string]int{}, Housekeeping: map[string]int{}}
			byEntity[r.Entity] = rc
		}
		c := r.Counts
		rc.Rows += c.Read
		rc.Migrated += c.Migrated
		rc.Merged += c.Merged
		wb.Issues.DuplicateCounts.Merged += c.Merged
		rc.Rejected += c.Rejected
		for rule, n := range c.Skipped {
			if n > 0 {
				rc.Skipped[rule] += n
			}
		}
		for rule, n := range r.Rules {
			if n > 0 {
				rc.Housekeeping[rule] += n
			}
		}
		wb.Issues.Warned += c.Warned
		for _, reason := range slices.Sorted(maps.Keys(r.Reasons)) {
			wb.Issues.Rejected = append(wb.Issues.Rejected, ReasonCount{File: r.File, Entity: r.Entity, Reason: reason, Count: r.Reasons[reason]})
		}
		for _, reason := range slices.Sorted(maps.Keys(r.RefusedPeople)) {
			wb.Issues.RefusedPeople = append(wb.Issues.RefusedPeople, ReasonCount{File: r.File, Entity: r.Entity, Reason: reason, Count: r.RefusedPeople[reason]})
		}
		for _, f := range slices.Sorted(maps.Keys(r.LeftOut)) {
			wb.Issues.LeftOut = append(wb.Issues.LeftOut, FieldCount{File: r.File, Entity: r.Entity, Field: f, Count: r.LeftOut[f]})
		}
		if inf := r.Inference; inf != nil {
			wb.Inference = append(wb.Inference, FileInference{File: r.File, Entity: r.Entity, Market: inf.Market, Region: inf.Region, Dates: append([]mapspec.DateGuess{}, inf.Dates...)})
		}
		wb.FillRates = append(wb.FillRates, EntityFill{Entity: r.Entity, File: r.File, Fields: r.FillRates})
		if len(r.Unmapped) > 0 {
			wb.Unmapped = append(wb.Unmapped, FileColumns{File: r.File, Columns: r.Unmapped})
		}
	}
	sort.SliceStable(wb.Issues.Rejected, func(i, j int) bool { return wb.Issues.Rejected[i].Count > wb.Issues.Rejected[j].Count })
	for e := range checklist {
		if _, ok := byEntity[e]; !ok {
			byEntity[e] = &Reconciliation{Entity: e, Skipped: map[string]int{}, Housekeeping: map[string]int{}}
		}
	}
	for _, e := range slices.Sorted(maps.Keys(byEntity)) {
		rc := byEntity[e]
		if n, ok := checklist[e]; ok {
			rc.Checklist = &n
		}
		rc.Status, rc.Explanation = reconcile(*rc)
		rc.Explanation += housekeepingNote(*rc)
		wb.Reconciliation = append(wb.Reconciliation, *rc)
	}
	if s != nil {
		wb.SpotChecks = s.SpotChecks()
		wb.Issues.DuplicateGroups = s.DuplicateGroups()
	}
	return wb
}

// housekeepingNote says how many records each housekeeping rule changed,
// so a customer comparing records with their export knows which
// differences are meant; "" when no rule changed any.
func housekeepingNote(rc Reconciliation) string {
	var parts []string
	for _, rule := range slices.Sorted(maps.Keys(rc.Housekeeping)) {
		n := rc.Housekeeping[rule]
		what := "records were"
		if n == 1 {
			what = "record was"
		}
		parts = append(parts, fmt.Sprintf("%d %s %s changed by the rule %s", n, rc.Entity, what, rule))
	}
	if len(parts) == 0 {
		return ""
	}
	return " " + strings.Join(parts, "; ") + "."
}

// reconcile decides an entity's status and says why in words.
func reconcile(rc Reconciliation) (string, string) {
	if rc.Checklist == nil {
		return StatusUnexplained, fmt.Sprintf("No checklist count for %s: add the number your old CRM shows, so the %d migrated can be checked against it.", rc.Entity, rc.Migrated)
	}
	want := *rc.Checklist
	if want == rc.Migrated {
		return StatusMatch, fmt.Sprintf("All %d %s records your old CRM shows were migrated.", want, rc.Entity)
	}
	if want == rc.Rows {
		var parts []string
		if rc.Rejected > 0 {
			parts = append(parts, fmt.Sprintf("%d rejected (each with its reason, in the rejects file)", rc.Rejected))
		}
		if rc.Merged > 0 {
			parts = append(parts, fmt.Sprintf("%d merged into duplicates", rc.Merged))
		}
		for _, rule := range slices.Sorted(maps.Keys(rc.Skipped)) {
			parts = append(parts, fmt.Sprintf("%d skipped by the rule %s", rc.Skipped[rule], rule))
		}
		return StatusExplained, fmt.Sprintf("The export has all %d records; %d were migrated and %s.", want, rc.Migrated, strings.Join(parts, ", "))
	}
	diff := rc.Rows - want
	more := "more"
	if diff < 0 {
		diff, more = -diff, "fewer"
	}
	return StatusUnexplained, fmt.Sprintf("Your old CRM shows %d %s records but the export has %d rows (%d %s): check that the export is complete and the count is right.", want, rc.Entity, rc.Rows, diff, more)
}
