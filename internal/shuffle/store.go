// Package shuffle resolves a pass's global operations (source-id
// uniqueness, derived-person dedupe, merging by dedupe key) without holding
// the extract in memory. Keys are spilled to partition files by hash; each
// partition is resolved alone; the rows are then mapped again and their
// records merged per partition and written back in the order the
// in-memory engine writes them, by streaming merges of sorted runs. The
// spill files sit behind a small port (Store): the CLI gives it a temp
// directory (Dir); a later session gives it S3 and resolves the
// partitions as a Distributed Map. It has no AWS types.
package shuffle

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cutover/cutover/internal/cutover"
)

// Store keeps a shuffle's spill files: each named, appended to in blocks,
// then read whole from the start.
type Store interface {
	// Append adds p to the end of the named file, creating it.
	//
	// Errors: EUNAVAILABLE when the store cannot take it.
	Append(ctx context.Context, name string, p []byte) error
	// Open reads the named file from the start; a file never appended to
	// reads as empty.
	//
	// Errors: EUNAVAILABLE when the store cannot be read.
	Open(ctx context.Context, name string) (io.ReadCloser, error)
}

// Dir is a Store in a local directory, one file per name: the CLI's.
type Dir struct{ path string }

var _ Store = (*Dir)(nil)

// NewDir returns a Store writing into the existing directory path. The
// caller removes the directory when the shuffle is done.
func NewDir(path string) *Dir { return &Dir{path: path} }

// Append implements Store. It opens the file for each block so a shuffle
// with hundreds of partitions holds no file open between blocks.
//
// Errors: EUNAVAILABLE naming the file when it cannot be written (a full
// disk, a missing directory).
func (d *Dir) Append(_ context.Context, name string, p []byte) error {
	f, err := os.OpenFile(filepath.Join(d.path, name), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return cutover.Wrap(cutover.EUNAVAILABLE, err, "The spill file %s could not be written: %v", name, err)
	}
	_, err = f.Write(p)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return cutover.Wrap(cutover.EUNAVAILABLE, err, "The spill file %s could not be written: %v", name, err)
	}
	return nil
}

// Open implements Store.
//
// Errors: EUNAVAILABLE naming the file when it exists but cannot be read.
func (d *Dir) Open(_ context.Context, name string) (io.ReadCloser, error) {
	f, err := os.Open(filepath.Join(d.path, name))
	if errors.Is(err, fs.ErrNotExist) {
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	if err != nil {
		return nil, cutover.Wrap(cutover.EUNAVAILABLE, err, "The spill file %s could not be read: %v", name, err)
	}
	return f, nil
}
