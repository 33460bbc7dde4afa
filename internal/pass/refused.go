package pass

import (
	"bytes"
	"context"
	"errors"
	"io"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pipeline"
	"github.com/cutover/cutover/internal/tabular"
)

// A record the destination refuses is a rejected row, like our own
// rejections (issue 14). A streamed record is refused while its file is
// read, and the pipeline rejects its row there. A record held for
// merging (a mapping with dedupe keys, inline people or references) is
// written only once every file is read, so its refusal is accounted for
// here: the row it was built from (its first row) becomes a rejected row
// of its file, read again from the file for the rejects CSV. Every row a
// dedupe merged into a refused record did not land either: it becomes a
// rejected row of its own file too ("Merged into a record the destination
// refused"), no longer counted merged. A refused person derived from a name on a row is
// not a row: it is no longer counted derived, and the row stays migrated,
// but the naming row's report counts it (pipeline.Report.RefusedPeople).
// A reference from a record that landed to any record the destination
// refused points at nothing: it is counted an orphan (orphanedBy).

// tableOut is one table of a pass: its report and its rejects CSV, which
// is stored once the pass has written every record.
type tableOut struct {
	label   string
	key     string
	width   int // the table's columns
	rejects *bytes.Buffer
	rep     *pipeline.Report
}

// refusedRecord is a held record the destination refused, and why.
type refusedRecord struct {
	rec    *mapspec.Record
	reason string
}

// refusedOf are the records of batch that refusals name.
func refusedOf(batch []*mapspec.Record, refusals []cutover.Refusal) []refusedRecord {
	if len(refusals) == 0 {
		return nil
	}
	why := make(map[string]string, len(refusals))
	for _, r := range refusals {
		why[r.Entity+"\x00"+r.ID] = r.Reason
	}
	var out []refusedRecord
	for _, rec := range batch {
		if reason, ok := why[rec.Entity+"\x00"+rec.ID]; ok {
			out = append(out, refusedRecord{rec, reason})
		}
	}
	return out
}

// writeHeld writes held records to out, batch at a time, and returns
// those the destination refused.
//
// Errors: out's.
func writeHeld(ctx context.Context, out sinkAdapter, recs []*mapspec.Record, batch int) ([]refusedRecord, error) {
	var refused []refusedRecord
	for start := 0; start < len(recs); start += batch {
		part := recs[start:min(start+batch, len(recs))]
		no, err := out.Write(ctx, part)
		if err != nil {
			return nil, err
		}
		refused = append(refused, refusedOf(part, no)...)
	}
	return refused, nil
}

// refuseHeld accounts for the held records the destination refused: in
// their file's report and rejects CSV, in total, and with the spotter.
//
// Errors: those of reading the files again (EUNAVAILABLE from storage,
// EINVALID for a file that no longer reads as it did).
func refuseHeld(ctx context.Context, p Pass, open cutover.Opener, tables []*tableOut, refused []refusedRecord, total *cutover.Counts) error {
	if len(refused) == 0 {
		return nil
	}
	byLabel := map[string]*tableOut{}
	for _, t := range tables {
		if byLabel[t.label] == nil {
			byLabel[t.label] = t
		}
	}
	wanted := map[string]map[int]bool{} // label -> lines
	for _, r := range refused {
		if mapspec.IsDerived(r.rec) {
			continue
		}
		if wanted[r.rec.File] == nil {
			wanted[r.rec.File] = map[int]bool{}
		}
		wanted[r.rec.File][r.rec.Line] = true
		for _, m := range r.rec.Merged {
			if wanted[m.File] == nil {
				wanted[m.File] = map[int]bool{}
			}
			wanted[m.File][m.Line] = true
		}
	}
	rows, err := readLines(ctx, p, open, wanted)
	if err != nil {
		return err
	}
	watcher, _ := p.Spot.(pipeline.RefusalWatcher)
	for _, r := range refused {
		t := byLabel[r.rec.File]
		if t == nil {
			return cutover.Errorf(cutover.EINTERNAL, "The destination refused a %s record of a file the pass did not read.", r.rec.Entity)
		}
		if mapspec.IsDerived(r.rec) {
			pipeline.RefuseDerived(t.rep, r.rec.Entity, r.reason)
			total.Derived--
		} else {
			w := pipeline.RejectsWriter(t.rejects)
			pipeline.Refuse(t.rep, w, t.width, r.rec.Line, rows[r.rec.File][r.rec.Line], r.rec, r.reason)
			w.Flush()
			total.Migrated--
			total.Rejected++
			for _, m := range r.rec.Merged {
				mt := byLabel[m.File]
				if mt == nil {
					return cutover.Errorf(cutover.EINTERNAL, "The destination refused a %s record merged from a file the pass did not read.", r.rec.Entity)
				}
				mw := pipeline.RejectsWriter(mt.rejects)
				pipeline.RefuseMerged(mt.rep, mw, mt.width, m.Line, rows[m.File][m.Line], r.reason)
				mw.Flush()
				total.Merged--
				total.Rejected++
			}
		}
		if watcher != nil {
			watcher.Refused(r.rec.Entity, r.rec.ID, pipeline.RefusedReason(r.reason))
		}
	}
	return nil
}

// readLines reads again, from the pass's files, the rows at the wanted
// lines of each table (by its label).
//
// Errors: the Opener's; the reader's (EINVALID naming the file).
func readLines(ctx context.Context, p Pass, open cutover.Opener, wanted map[string]map[int]bool) (map[string]map[int][]string, error) {
	out := map[string]map[int][]string{}
	for _, f := range p.Files {
		if err := readFileLines(ctx, p, f, open, wanted, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func readFileLines(ctx context.Context, p Pass, f cutover.File, open cutover.Opener, wanted map[string]map[int]bool, out map[string]map[int][]string) error {
	need := false
	for label := range wanted {
		need = need || label == f.Name || len(label) > len(f.Name) && label[:len(f.Name)+1] == f.Name+" "
	}
	if !need {
		return nil
	}
	rc, err := open.Open(ctx, f.Key)
	if err != nil {
		return err
	}
	defer rc.Close()
	tables, err := tabular.Open(rc, f.Name, ReadOptions(f, p.Read))
	if err != nil {
		return err
	}
	defer func() {
		for _, t := range tables {
			_ = t.Close()
		}
	}()
	for _, t := range tables {
		label := f.Name
		if s := t.Format().Sheet; s != "" {
			label += " [" + s + "]"
		}
		lines := wanted[label]
		if len(lines) == 0 {
			continue
		}
		if out[label] == nil {
			out[label] = map[int][]string{}
		}
		for len(out[label]) < len(lines) {
			r, err := t.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return Named(f.Name, err)
			}
			if lines[r.Line] {
				out[label][r.Line] = append([]string(nil), r.Fields...)
			}
		}
	}
	return nil
}

// orphanedBy counts the references, from the records of recs that landed
// (resolved already), to records the destination refused: the record
// they name is not in the destination, so they are orphans.
func orphanedBy(recs []*mapspec.Record, refused []refusedRecord) int {
	if len(refused) == 0 {
		return 0
	}
	no := make(map[string]bool, len(refused))
	for _, r := range refused {
		no[r.rec.Entity+"\x00"+r.rec.ID] = true
	}
	n := 0
	for _, rec := range recs {
		if no[rec.Entity+"\x00"+rec.ID] {
			continue
		}
		for _, ref := range rec.Refs {
			if ref.ID != "" && no[ref.Entity+"\x00"+ref.ID] {
				n++
			}
		}
	}
	return n
}
