package pipeline

import (
	"github.com/cutover/cutover/internal/cutover"
)

// Written counts the distinct records a sink was given, by entity and
// record id. It sits at a sink's boundary, apart from the row accounting,
// so that a pass can check what its counts claim against what it actually
// wrote: rows that silently became the same record (two rows with one id)
// leave the accounting balanced but write fewer records than it claims.
// It is not safe for concurrent use. Its ids are held as fixed-size keys
// where they are record ids (see idTable), so counting one allocates
// nothing and costs the garbage collector nothing to keep.
type Written struct{ ids idTable[struct{}] }

// NewWritten returns an empty Written.
func NewWritten() *Written { return &Written{} }

// Add counts a record written.
func (w *Written) Add(entity, id string) { w.ids.put(entity, id, struct{}{}) }

// Has reports whether the record was counted.
func (w *Written) Has(entity, id string) bool {
	_, ok := w.ids.get(entity, id)
	return ok
}

// Len is the number of distinct records written.
func (w *Written) Len() int { return w.ids.len() }

// CheckWritten compares the distinct records written with the records the
// counts claim. Every migrated row is one record, and a merged row adds to
// a record already counted, so the two must be equal: distinct records
// written = migrated (read - merged - rejected - skipped).
//
// Errors: EINTERNAL naming both numbers when they differ, which means
// records were lost or invented between the mapping and the destination.
func CheckWritten(where string, migrated, written int) error {
	if migrated == written {
		return nil
	}
	return cutover.Errorf(cutover.EINTERNAL,
		"%s received %d distinct records, but the row accounting says %d were migrated: records were lost or duplicated on the way, so this step stops.",
		where, written, migrated)
}
