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
	return s.files.Stream(ctx, key, "application/x-ndjson", func(w io.Writer) error {
		if _, err := snap.WriteTo(w); err != nil {
			if cutover.ErrorCode(err) == cutover.EUNAVAILABLE {
				return err // storage, not the snapshot
			}
			return cutover.Wrap(cutover.EINTERNAL, err, "The records' snapshot could not be written.")
		}
		return nil
	})
}

// readArtifact decodes a stored JSON artifact (a workbook, a final report)
// into v; what names it in the error.
//
// Errors: ENOTFOUND when it is missing; EUNAVAILABLE when it cannot be
// read or decoded.
func (s *base) readArtifact(ctx context.Context, key, what string, v any) error {
	return cutover.ReadJSON(ctx, s.files.Open, key, what, v)
}
