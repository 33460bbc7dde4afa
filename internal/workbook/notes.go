package workbook

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/schema"
)

// AddIdentityNotes says, for each file whose spec entry (entries, by the
// report's file label) identifies records by something other than an id
// column, how its records are identified: an id derived from the content
// (sourceIdFrom "content") or a fallback column (sourceIdFallback) changes
// when the customer edits those values before the final extract, and the
// final migration would then create a second record instead of the same
// one. The notes come from the spec the round ran, not from the proposal,
// so a spec a person edited is described as it is. sch gives each
// entity's identifying fields; files whose entry needs no note get none.
func (w *Workbook) AddIdentityNotes(entries map[string]mapspec.FileSpec, sch *schema.Schema) {
	if w.Notes == nil {
		w.Notes = []FileNotes{}
	}
	for _, file := range slices.Sorted(maps.Keys(entries)) {
		fs := entries[file]
		if notes := identityNotes(fs, sch); len(notes) > 0 {
			w.Notes = append(w.Notes, FileNotes{File: file, Entity: fs.Entity, Notes: notes})
		}
	}
}

// identityNotes are the notes on how fs identifies its records.
func identityNotes(fs mapspec.FileSpec, sch *schema.Schema) []string {
	content := fs.SourceIDFrom == mapspec.SourceIDFromContent
	what := "its content"
	if ent, ok := sch.Entity(fs.Entity); ok && len(ent.Identity) > 0 {
		words := make([]string, len(ent.Identity))
		for i, f := range ent.Identity {
			words[i] = fieldWords(f)
		}
		what = "what identifies it (" + strings.Join(words, ", ") + ")"
	}
	var notes []string
	switch {
	case len(fs.SourceID) == 0 && content:
		notes = append(notes, fmt.Sprintf("No column identifies the records, so each record's id is derived from %s: keep these the same in the final extract.", what))
	case len(fs.SourceID) > 0 && (len(fs.SourceIDFallback) > 0 || content):
		var by []string
		for _, c := range fs.SourceIDFallback {
			by = append(by, "its "+c)
		}
		if content {
			by = append(by, "an id derived from "+what)
		}
		notes = append(notes, fmt.Sprintf("A record with no %s is identified by %s: keep these the same in the final extract.", strings.Join(fs.SourceID, " + "), strings.Join(by, ", else ")))
	case len(fs.SourceID) == 0 && len(fs.SourceIDFallback) > 0:
		notes = append(notes, fmt.Sprintf("Each record is identified by %s: keep these the same in the final extract.", strings.Join(fs.SourceIDFallback, ", else ")))
	}
	return notes
}

// fieldWords names a schema field for people: "emails" is "e-mail".
func fieldWords(field string) string {
	switch field {
	case "emails":
		return "e-mail"
	case "phones":
		return "phone"
	case "full_name":
		return "name"
	}
	return strings.ReplaceAll(field, "_", " ")
}
