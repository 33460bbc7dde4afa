package signoff

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapdoc"
	"github.com/cutover/cutover/internal/schema"
	"github.com/cutover/cutover/internal/workbook/entry"
)

// downloadTTL is how long a download link on the sign-off page works:
// long enough to click, short enough that a forwarded page goes stale.
const downloadTTL = 15 * time.Minute

// maxDuplicateGroups bounds the possible-duplicate groups listed on the
// page; the count is always the whole count.
const maxDuplicateGroups = 100

// Download is one file the coordinator can download: a file's rejected
// rows, or its rows migrated with a warning (its review file).
type Download struct {
	Kind string `json:"kind"` // "rejects" or "warnings"
	File string `json:"file"`
	URL  string `json:"url"`
}

// SpotCheck is a workbook spot check with the customer's mark on it
// (Section is what the mark is kept under, "spot:<n>").
type SpotCheck struct {
	entry.SpotCheck
	Section string              `json:"section"`
	Mark    *cutover.ReviewMark `json:"mark,omitempty"`
}

// Duplicates are the merges and possible duplicates in brief: how many,
// and where to see them.
type Duplicates struct {
	Merged   int                        `json:"merged"`           // rows merged into another record
	Possible int                        `json:"possible"`         // records kept apart although they share a dedupe key
	Groups   []mapdoc.PossibleDuplicate `json:"groups,omitempty"` // the possible duplicates listed in the workbook (at most maxDuplicateGroups)
}

// storedWorkbook is the part of the workbook artifact the sign-off page
// shows. Each part is decoded on its own: a part the workbook does not
// have (an older workbook, or one from before a field was added) is
// simply not shown.
type storedWorkbook struct {
	Reconciliation []struct {
		Merged int `json:"merged"`
	}
	SpotChecks []entry.SpotCheck
	Inference  []entry.FileInference
	Notes      []entry.FileNotes
	Rejects    []entry.RejectsFile // issues.rejectsFiles
	Reviews    []entry.RejectsFile // issues.reviewFiles: each file's rows migrated with a warning
	Possible   *int                // issues.possibleDuplicates
	Groups     []mapdoc.PossibleDuplicate
	Dups       *struct { // issues.duplicateCounts
		Merged   *int `json:"merged"`
		Possible *int `json:"possible"`
	}
}

// readWorkbook reads the parts of the workbook artifact at key the page shows.
//
// Errors: ENOTFOUND when the artifact is missing; EUNAVAILABLE when it
// cannot be read or is not a JSON object.
func (s *Service) readWorkbook(ctx context.Context, key string) (*storedWorkbook, error) {
	var doc map[string]json.RawMessage
	if err := s.readJSON(ctx, key, "workbook", &doc); err != nil {
		return nil, err
	}
	var wb storedWorkbook
	var issues map[string]json.RawMessage
	part := func(raw map[string]json.RawMessage, name string, v any) {
		if b, ok := raw[name]; ok {
			_ = json.Unmarshal(b, v) // a part in another shape is not shown; the rest is
		}
	}
	part(doc, "reconciliation", &wb.Reconciliation)
	part(doc, "spotChecks", &wb.SpotChecks)
	part(doc, "inference", &wb.Inference)
	part(doc, "notes", &wb.Notes)
	part(doc, "issues", &issues)
	part(issues, "rejectsFiles", &wb.Rejects)
	part(issues, "reviewFiles", &wb.Reviews)
	part(issues, "possibleDuplicates", &wb.Possible)
	part(issues, "duplicates", &wb.Groups)
	part(issues, "duplicateCounts", &wb.Dups)
	return &wb, nil
}

// readJSON decodes the JSON artifact at key into v; what names it in errors.
//
// Errors: ENOTFOUND when it is missing; EUNAVAILABLE when it cannot be
// read or decoded.
func (s *Service) readJSON(ctx context.Context, key, what string, v any) error {
	return cutover.ReadJSON(ctx, s.Artifacts.Open, key, what, v)
}

// addApproved puts onto v what a round sign-off approves beyond the
// summaries: the mapping, and from the workbook the inferred formats and
// regions, the downloads, the spot checks with the customer's marks, and
// the merges and possible duplicates. A workbook that is no longer stored
// is said so; the mapping is shown regardless.
//
// Errors: EINTERNAL for a stored mapping that cannot be read; EUNAVAILABLE
// when the workbook cannot be read or a link cannot be made.
func (s *Service) addApproved(ctx context.Context, v *View, m *cutover.Migration) error {
	mapping, err := describeMapping(m.Mapping, schema.Default(), entryLabel(m))
	if err != nil {
		return err
	}
	v.Mapping = mapping
	if m.Workbook == nil || m.Workbook.Key == "" || s.Artifacts == nil {
		return nil
	}
	wb, err := s.readWorkbook(ctx, m.Workbook.Key)
	if cutover.ErrorCode(err) == cutover.ENOTFOUND {
		v.Missing = append(v.Missing, "The workbook of this round is no longer stored: its spot checks, inferred formats and downloads cannot be shown.")
		return nil
	}
	if err != nil {
		return err
	}
	v.Inference, v.Notes = wb.Inference, wb.Notes
	for i, sc := range wb.SpotChecks {
		section := fmt.Sprintf("spot:%d", i)
		out := SpotCheck{SpotCheck: sc, Section: section}
		if mark, ok := m.Review[section]; ok {
			out.Mark = &mark
		} else if mark, ok := m.Review["spotChecks"]; ok {
			out.Mark = &mark // the section waived as a whole waives each of them, with its note
		}
		v.SpotChecks = append(v.SpotChecks, out)
	}
	for _, d := range []struct {
		kind  string
		files []entry.RejectsFile
	}{{"rejects", wb.Rejects}, {"warnings", wb.Reviews}} {
		for _, f := range d.files {
			if f.Key == "" {
				continue
			}
			u, err := s.link(ctx, f.Key)
			if err != nil {
				return err
			}
			if u == "" {
				continue
			}
			v.Downloads = append(v.Downloads, Download{Kind: d.kind, File: f.File, URL: u})
		}
	}
	dup := &Duplicates{Groups: wb.Groups}
	for _, rc := range wb.Reconciliation {
		dup.Merged += rc.Merged
	}
	if wb.Possible != nil {
		dup.Possible = *wb.Possible
	}
	if d := wb.Dups; d != nil {
		if d.Merged != nil {
			dup.Merged = *d.Merged
		}
		if d.Possible != nil {
			dup.Possible = *d.Possible
		}
	}
	if len(dup.Groups) > maxDuplicateGroups {
		dup.Groups = dup.Groups[:maxDuplicateGroups]
	}
	v.Duplicates = dup
	return nil
}

// link is a short-lived download link to key, or "" without a presigner
// (then nothing is offered for download).
//
// Errors: as Downloads.PresignGet.
func (s *Service) link(ctx context.Context, key string) (string, error) {
	if s.Downloads == nil {
		return "", nil
	}
	return s.Downloads.PresignGet(ctx, key, downloadTTL)
}
