package engine

import (
	"context"
	"io"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

// Files reads uploaded extracts and stores generated artifacts; the ones
// that grow with the extract (snapshots, the delta) are streamed.
type Files interface {
	cutover.Opener
	cutover.Putter
	cutover.Streamer
	RangeOpener
}

// TestEnv is the disposable TEST environment's housekeeping; its records
// are written through the TEST cutover.Destination.
type TestEnv interface {
	// Reset deletes every TEST record of a migration.
	Reset(ctx context.Context, migrationID string) error
	// Expire sets every TEST record of a migration to be deleted the
	// retention period after from (its go-live); running it again changes
	// nothing more.
	Expire(ctx context.Context, migrationID string, from time.Time) error
}

// RangeOpener reads the bytes [start, end) of a stored file.
//
// Errors: EINVALID for an empty range; ENOTFOUND when the file is missing;
// EUNAVAILABLE when it cannot be read.
type RangeOpener interface {
	OpenRange(ctx context.Context, key string, start, end int64) (io.ReadCloser, error)
}

// Downloads makes short-lived download links to stored artifacts.
type Downloads interface {
	PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error)
}
