package engine

import (
	"context"
	"encoding/json"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/mapspec/presets"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/schema"
	"github.com/cutover/cutover/internal/tabular"
)

// SaveMapping keeps the customer's revised mapping for the next round: the
// Map step uses it instead of proposing one.
//
// The customer may revise it until sign-off is requested: before the
// first round, while reviewing a workbook (or after a sign-off request
// expired, when submitting runs the test migration again), and after a
// rejection.
//
// Errors: EINVALID when the spec is not valid (the message has its JSON
// path) or larger than cutover.MaxMappingBytes; ECONFLICT once sign-off is
// requested (the message says why) or in any later status.
func (s *Customer) SaveMapping(ctx context.Context, m *cutover.Migration, raw json.RawMessage) (*cutover.Migration, error) {
	spec, err := mapspec.Parse(raw)
	if err != nil {
		return nil, err
	}
	canon, _ := json.Marshal(spec) // a parsed Spec always marshals
	if err := mappingFits(canon); err != nil {
		return nil, err
	}
	return s.Update(ctx, m.ID, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		if err := migration.Revisable(cur, "The mapping"); err != nil {
			return nil, err
		}
		cur.DraftMapping = string(canon)
		return []cutover.AuditEvent{s.Event("customer", "mapping.edited", "for the next round, "+spec.Hash()[:19])}, nil
	})
}

// draftProposals fits the customer's revised mapping to this round's
// tables: the entry named for the table, else the first entry its columns
// fit (a corrected extract has a new file id), else a fresh proposal.
func draftProposals(draft *mapspec.Spec, tables []tableSample) []presets.Proposal {
	var out []presets.Proposal
	for _, t := range tables {
		p, ok := fit(draft, t)
		if !ok {
			p = presets.Propose(t.name, t.header, t.sample)
		}
		out = append(out, p)
	}
	return out
}

func fit(draft *mapspec.Spec, t tableSample) (presets.Proposal, bool) {
	for _, f := range draft.Files {
		if f.Name == t.name {
			return presets.Proposal{File: f, Defaults: draft.Defaults}, true
		}
	}
	for _, f := range draft.Files {
		if _, err := mapspec.Compile(f, schema.Default(), t.header, "", time.Time{}); err == nil {
			f.Name = t.name
			return presets.Proposal{File: f, Defaults: draft.Defaults}, true
		}
	}
	return presets.Proposal{}, false
}

// tableSample is a table's name in the mapping, header and first rows.
type tableSample struct {
	fileID   string
	fileName string
	sheet    string // the XLSX sheet, or ""
	name     string
	header   []string
	sample   [][]string
	format   tabular.Format // as read up to the sample's end
}

// mappingFits refuses a spec larger than cutover.MaxMappingBytes: it is
// stored on the migration, whose size is bounded.
func mappingFits(canon []byte) error {
	if len(canon) > cutover.MaxMappingBytes {
		return cutover.Errorf(cutover.EINVALID, "The mapping is too large: %d bytes, over the limit of %d. Map fewer files at once, or shorten long constants and descriptions.", len(canon), cutover.MaxMappingBytes)
	}
	return nil
}
