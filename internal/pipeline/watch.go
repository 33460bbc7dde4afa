package pipeline

import (
	"slices"
	"strings"

	"github.com/cutover/cutover/internal/mapspec"
)

// Merged is a Sighting's outcome for a row merged into an earlier record
// with the same dedupe key.
const Merged = "merged"

// Sighting is what became of one row: the workbook needs to know about
// the rows that did not become a record of their own (rejected, skipped,
// merged), not only the records, or a named row that was rejected reads as
// "not found".
type Sighting struct {
	File   string
	Header []string
	Line   int
	Row    []string // the row's cells, shared: copy them to keep them
	Entity string
	// SourceID is the row's id: the record's, or for a rejected or skipped
	// row, read from the mapping's id columns ("" when it cannot be read).
	SourceID string
	Outcome  string          // mapspec.Migrated, Merged, mapspec.Rejected or mapspec.Skipped
	Reasons  []string        // a rejected row's reasons, as in its rejects file; a skipped row's rule
	Record   *mapspec.Record // a migrated or merged row's record
	// Into is the record a merged row went into.
	Into      *mapspec.Record
	DedupeKey string
	Warnings  []mapspec.Issue // a migrated or merged row's "!" warnings
	// Derived says the record holds values the engine derived rather than
	// copied: a derive rule changed it, or it names people inline.
	Derived bool
}

// MaxWarningExamples is how many examples a warning group keeps per file.
const MaxWarningExamples = 3

// WarningGroup is one file's "!" warnings for one reason (its values left
// out, as rejection reasons are grouped), with a few examples.
type WarningGroup struct {
	Reason   string           `json:"reason"`
	Count    int              `json:"count"`
	Examples []WarningExample `json:"examples"`
}

// WarningExample is one warning: where it is and the value it is about.
type WarningExample struct {
	Line     int    `json:"line"`
	SourceID string `json:"sourceId"`
	Field    string `json:"field"`
	Column   string `json:"column,omitempty"`
	Value    string `json:"value"`
	Reason   string `json:"reason"`
}

// warned counts a migrated row's warnings by reason, keeping the first few
// of each as examples.
func (c *collector) warned(line int, sourceID string, ws []mapspec.Issue) {
	if c.warnings == nil {
		c.warnings = map[string]*WarningGroup{}
	}
	for _, w := range ws {
		c.group = appendReasonGroup(c.group[:0], w)
		wg := c.warnings[string(c.group)] // a look-up with the bytes makes no string
		if wg == nil {
			g := string(c.group)
			wg = &WarningGroup{Reason: g, Examples: []WarningExample{}}
			c.warnings[g] = wg
		}
		wg.Count++
		if len(wg.Examples) < MaxWarningExamples {
			wg.Examples = append(wg.Examples, WarningExample{Line: line, SourceID: sourceID, Field: w.Field, Column: w.Column, Value: w.Value, Reason: w.Reason})
		}
	}
}

// unwarn takes back the warnings of the row at line, counted when it
// migrated, once the destination refused its record: it is a rejected
// row, not a migrated one to review.
func (c *collector) unwarn(line int, ws []mapspec.Issue) {
	if len(ws) == 0 {
		return
	}
	c.report.Counts.Warned--
	for _, w := range ws {
		wg := c.warnings[reasonGroup(w)]
		if wg == nil {
			continue
		}
		wg.Count--
		wg.Examples = slices.DeleteFunc(wg.Examples, func(e WarningExample) bool { return e.Line == line })
		if wg.Count <= 0 {
			delete(c.warnings, wg.Reason)
		}
	}
}

// warningGroups lists the groups, the most frequent first (then by reason,
// so the order does not depend on map iteration).
func (c *collector) warningGroups() []WarningGroup {
	out := make([]WarningGroup, 0, len(c.warnings))
	for _, g := range c.warnings {
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b WarningGroup) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Reason, b.Reason)
	})
	return out
}

// watch tells the Watcher, if any, what became of row i of ch.
func (c *collector) watch(ch *chunk, i int, s Sighting) {
	if c.watcher == nil {
		return
	}
	s.File, s.Header, s.Line, s.Row = c.report.File, c.header, ch.lines[i], ch.rows[i]
	if s.Entity == "" {
		s.Entity = c.report.Entity
	}
	if s.SourceID == "" && s.Record == nil {
		s.SourceID = c.m.RowSourceID(ch.rows[i])
	}
	c.watcher.Watch(s)
}
