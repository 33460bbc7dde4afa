package engine

import (
	"context"
	"io"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
)

// Files reads uploaded extracts and stores generated artifacts; the ones
// that grow with the extract (snapshots, the delta) are streamed.
type Files interface {
	cutover.Opener
	cutover.Putter
	cutover.Streamer
	cutover.Composer
	RangeOpener
}

// TestChunks keeps a test migration's chunks beside the migration, per
// round, apart from the final migration's (migration.ChunkStore). Every
// method may also fail with EUNAVAILABLE when storage is unreachable.
type TestChunks interface {
	// ReplanTestChunks stores each of chunks over the round's chunk of its
	// index, done or not: a test round planned again (its TEST reset)
	// runs every chunk again. The same files give the same chunks, so a
	// plan never leaves chunks of an earlier one past its own.
	ReplanTestChunks(ctx context.Context, migrationID string, round int, chunks []cutover.Chunk) error
	// GetTestChunk loads one chunk. Errors: ENOTFOUND.
	GetTestChunk(ctx context.Context, migrationID string, round, index int) (*cutover.Chunk, error)
	// SaveTestChunk stores a chunk. Errors: ECONFLICT when the stored one
	// is done.
	SaveTestChunk(ctx context.Context, migrationID string, round int, c *cutover.Chunk) error
	// ListTestChunks returns the round's chunks in index order, read
	// consistently.
	ListTestChunks(ctx context.Context, migrationID string, round int) ([]cutover.Chunk, error)
}

// TestEnv is the disposable TEST environment's housekeeping; its records
// are written through the TEST cutover.Destination.
type TestEnv interface {
	// ResetSegment deletes a migration's TEST records of the entities
	// whose id begins with prefix (a slice of cutover.RecordIDPrefixes;
	// "" is every record of the migration).
	ResetSegment(ctx context.Context, migrationID string, entities []string, prefix string) error
	migration.TestExpiry
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
