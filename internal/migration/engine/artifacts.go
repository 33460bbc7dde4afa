package engine

import (
	"context"
	"io"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/delta"
)

// putSnapshot stores a pass's records, sorted, as JSON lines: the test
// migration's and each final chunk's, which the delta report compares.
// It is streamed, so the snapshot is not held a second time as one buffer.
//
// Errors: EINTERNAL for a record a snapshot cannot hold (a bug: the
// mapping gives every record an entity and an id); EUNAVAILABLE from
// storage.
func (s *base) putSnapshot(ctx context.Context, key string, snap *delta.Snapshot) error {
	var idx delta.Index
	err := s.files.Stream(ctx, key, "application/x-ndjson", func(w io.Writer) (err error) {
		if idx, err = snap.WriteIndexed(w); err != nil {
			if cutover.ErrorCode(err) == cutover.EUNAVAILABLE {
				return err // storage, not the snapshot
			}
			return cutover.Wrap(cutover.EINTERNAL, err, "The records' snapshot could not be written.")
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.putSnapshotIndex(ctx, key, idx)
}

// snapshotIndexKey is where the index of the snapshot at key is kept
// (compare.go reads it to compare a key range of the snapshot alone).
func snapshotIndexKey(key string) string { return key + ".index.json" }

// putSnapshotIndex stores the index of the snapshot at key.
//
// Errors: as Files.Put.
func (s *base) putSnapshotIndex(ctx context.Context, key string, idx delta.Index) error {
	return s.putJSON(ctx, snapshotIndexKey(key), "The records' snapshot index", idx)
}

// readArtifact decodes a stored JSON artifact (a workbook, a final report)
// into v; what names it in the error.
//
// Errors: ENOTFOUND when it is missing; EUNAVAILABLE when it cannot be
// read or decoded.
func (s *base) readArtifact(ctx context.Context, key, what string, v any) error {
	return cutover.ReadJSON(ctx, s.files.Open, key, what, v)
}
