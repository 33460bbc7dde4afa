package workbook

import (
	"fmt"

	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pipeline"
)

var _ pipeline.RefusalWatcher = (*Sampler)(nil)

// Refused implements pipeline.RefusalWatcher: the destination refused
// the record id of entity after the sampler saw it migrated, so every
// spot check of it turns into what it now is, a rejected row with the
// destination's reason (a row merged into it is rejected too, saying it
// was merged into a record the destination refused), waive-only, never a
// record to confirm.
func (s *Sampler) Refused(entity, id, reason string) {
	fix := func(sc *SpotCheck) {
		if sc.Entity != entity || sc.RecordID != id {
			return
		}
		where := fmt.Sprintf("at line %d of %s", sc.Line, sc.File)
		if sc.Outcome == pipeline.Merged {
			sc.Says = fmt.Sprintf("merged %s into a record the destination refused: %s", where, reason)
		} else {
			sc.Says = fmt.Sprintf("rejected %s: %s", where, reason)
		}
		sc.Outcome = mapspec.Rejected // a merged row's data did not land either: it is a rejected row too
		sc.Found, sc.WaiveOnly, sc.RecordID, sc.Record, sc.MergedInto = false, true, "", nil, ""
	}
	for _, n := range s.seen {
		fix(&n.spot)
	}
	for _, m := range []map[string]*reservoir{s.files, s.flagged} {
		for _, r := range m {
			for i := range r.picks {
				fix(&r.picks[i].Spot)
			}
		}
	}
}
