package engine

import (
	"bytes"
	"context"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/delta"
)

// putSnapshot stores a pass's records, sorted, as JSON lines: the test
// migration's and each final chunk's, which the delta report compares.
//
// Errors: EINTERNAL for a record a snapshot cannot hold (a bug: the
// mapping gives every record an entity and an id); EUNAVAILABLE from
// storage.
func (s *base) putSnapshot(ctx context.Context, key string, snap *delta.Snapshot) error {
	var buf bytes.Buffer
	if _, err := snap.WriteTo(&buf); err != nil {
		return cutover.Wrap(cutover.EINTERNAL, err, "The records' snapshot could not be written.")
	}
	return s.files.Put(ctx, key, "application/x-ndjson", buf.Bytes())
}

// readArtifact decodes a stored JSON artifact (a workbook, a final report)
// into v; what names it in the error.
//
// Errors: ENOTFOUND when it is missing; EUNAVAILABLE when it cannot be
// read or decoded.
func (s *base) readArtifact(ctx context.Context, key, what string, v any) error {
	return cutover.ReadJSON(ctx, s.files.Open, key, what, v)
}
