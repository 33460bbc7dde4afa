package migration

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/schema"
)

// ChecklistInput is the customer's pre-test checklist: per entity, the
// count they see in their old CRM, and any source ids they want to see side
// by side in the workbook's spot checks.
type ChecklistInput struct {
	Counts       map[string]int      `json:"counts"`
	SpotCheckIDs map[string][]string `json:"spotCheckIds"`
	// Market, when given, changes the migration's market (ISO 3166-1
	// alpha-2, "" for none): where the customer trades, so national phone
	// numbers and dates that read both ways are read its way.
	Market *string `json:"market,omitempty"`
}

// maxChecklistCount bounds one count: more records than any CRM export
// this service takes.
const maxChecklistCount = 1_000_000_000

// UpdateChecklist records or corrects the pre-test checklist. Every change
// is audited with the old and new value.
//
// Errors: EINVALID for an unknown entity, a negative or absurd count, too
// many spot-check ids, a blank, over-long or control-character id, or a
// market that is not a country code (the message names which); ECONFLICT once the
// migration is live.
func (s *Customer) UpdateChecklist(ctx context.Context, m *cutover.Migration, in ChecklistInput) (*cutover.Migration, error) {
	sch := schema.Default()
	if in.Market != nil {
		up := strings.ToUpper(strings.TrimSpace(*in.Market))
		if err := cutover.CheckMarket(up); err != nil {
			return nil, err
		}
		in.Market = &up
	}
	for e, n := range in.Counts {
		if _, ok := sch.Entity(e); !ok {
			return nil, cutover.Errorf(cutover.EINVALID, "counts: %q is not an entity; use one of %s.", e, strings.Join(sch.EntityNames(), ", "))
		}
		if n < 0 || n > maxChecklistCount {
			return nil, cutover.Errorf(cutover.EINVALID, "counts.%s must be between 0 and %d.", e, maxChecklistCount)
		}
	}
	for e, ids := range in.SpotCheckIDs {
		if _, ok := sch.Entity(e); !ok {
			return nil, cutover.Errorf(cutover.EINVALID, "spotCheckIds: %q is not an entity; use one of %s.", e, strings.Join(sch.EntityNames(), ", "))
		}
		if len(ids) > cutover.MaxSpotCheckIDs {
			return nil, cutover.Errorf(cutover.EINVALID, "spotCheckIds.%s: at most %d ids.", e, cutover.MaxSpotCheckIDs)
		}
		for i, id := range ids {
			if err := cutover.CheckName(fmt.Sprintf("spotCheckIds.%s[%d]", e, i), id, cutover.MaxSpotCheckIDBytes); err != nil {
				return nil, err
			}
		}
	}
	return s.Update(ctx, m.ID, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		if cur.Status == cutover.StatusLive || cur.Status == cutover.StatusFinalMigrating || cur.Status == cutover.StatusFinalBlocked {
			return nil, cutover.Errorf(cutover.ECONFLICT, "The checklist cannot change once the final migration has started.")
		}
		var events []cutover.AuditEvent
		for _, e := range slices.Sorted(maps.Keys(in.Counts)) {
			old, had := cur.Checklist[e]
			if had && old == in.Counts[e] {
				continue
			}
			detail := fmt.Sprintf("%s: %d", e, in.Counts[e])
			if had {
				detail = fmt.Sprintf("%s: %d -> %d", e, old, in.Counts[e])
			}
			events = append(events, s.Event("customer", "checklist.updated", detail))
		}
		for _, e := range slices.Sorted(maps.Keys(cur.Checklist)) {
			if _, kept := in.Counts[e]; !kept {
				events = append(events, s.Event("customer", "checklist.updated", fmt.Sprintf("%s: %d -> removed", e, cur.Checklist[e])))
			}
		}
		if !maps.EqualFunc(cur.SpotCheckIDs, in.SpotCheckIDs, slices.Equal) {
			events = append(events, s.Event("customer", "spotchecks.updated", fmt.Sprintf("%d entities named", len(in.SpotCheckIDs))))
		}
		cur.Checklist, cur.SpotCheckIDs = in.Counts, in.SpotCheckIDs
		if in.Market != nil && *in.Market != cur.Market {
			events = append(events, s.Event("customer", "market.updated", fmt.Sprintf("market: %q -> %q", cur.Market, *in.Market)))
			cur.Market = *in.Market
		}
		return events, nil
	})
}
