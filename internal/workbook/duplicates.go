package workbook

import "github.com/cutover/cutover/internal/mapspec"

// AddPossibleDuplicates puts the groups of records that share a dedupe key
// but not a source id into the workbook's issues: they were kept apart (two
// people of one firm may share its address), and the customer decides
// whether any are one person, by merging them in the old CRM or by turning
// on the mapping's mergeDifferentIds.
func (w *Workbook) AddPossibleDuplicates(groups []mapspec.PossibleDuplicate) {
	if w.Issues.Duplicates == nil {
		w.Issues.Duplicates = []mapspec.PossibleDuplicate{}
	}
	w.Issues.Duplicates = append(w.Issues.Duplicates, groups...)
	for _, g := range groups {
		w.Issues.PossibleDuplicates += len(g.SourceIDs)
	}
}
