package workbook

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/schema"
)

// The notes follow the spec entry: content ids and fallback columns are
// named; an entry with only an id column gets no note.
func TestIdentityNotesFollowTheSpec(t *testing.T) {
	wb := Build(Meta{}, nil, nil, nil, 0, nil)
	wb.AddIdentityNotes(map[string]mapspec.FileSpec{
		"content.csv":  {Entity: "contact", SourceIDFrom: mapspec.SourceIDFromContent},
		"fallback.csv": {Entity: "contact", SourceID: []string{"Record ID"}, SourceIDFallback: []string{"Email"}},
		"id.csv":       {Entity: "contact", SourceID: []string{"Record ID"}},
	}, schema.Default())
	got := map[string]string{}
	for _, n := range wb.Notes {
		got[n.File] = strings.Join(n.Notes, " ")
	}
	if len(wb.Notes) != 2 {
		t.Fatalf("notes %+v, want one for each of the two files not identified by an id column alone", wb.Notes)
	}
	if !strings.Contains(got["content.csv"], "No column identifies the records, so each record's id is derived from what identifies it (") || !strings.Contains(got["content.csv"], "e-mail") {
		t.Errorf("content.csv: %q", got["content.csv"])
	}
	if !strings.Contains(got["fallback.csv"], "A record with no Record ID is identified by its Email") || strings.Contains(got["fallback.csv"], "derived") {
		t.Errorf("fallback.csv: %q", got["fallback.csv"])
	}
}
