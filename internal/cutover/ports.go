package cutover

// The ports a migration pass writes through. They live in the domain, not
// beside the engine, so that the adapters implementing them (dynamostore,
// s3blob) and the steps that only move files never link the mapping
// engine.

import (
	"context"
	"io"
)

// Opener opens an uploaded file by its storage key.
type Opener interface {
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

// Putter stores a generated artifact.
type Putter interface {
	Put(ctx context.Context, key, contentType string, body []byte) error
}

// Sink receives mapped records in batches. Writing the same record twice
// must converge to one record.
type Sink interface {
	Write(ctx context.Context, recs []Record) error
}

// Flusher is a Sink that writes in the background: a migration pass calls
// Flush once, after the last Write, and succeeds only if it does.
type Flusher interface {
	// Flush waits for every write. Errors: the first write's failure
	// (EUNAVAILABLE for storage that kept throttling); EUNAVAILABLE when
	// ctx ends first.
	Flush(ctx context.Context) error
}
