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
	"sync"

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

// Dir is a Store in a local directory, one file per name: the CLI's. It
// keeps the files it appends to open (up to openFiles of them): opening a
// file for each block was an eighth of a pass's CPU profile (os.OpenFile).
// It is safe for concurrent use.
type Dir struct {
	path string
	mu   sync.Mutex
	open map[string]*os.File
}

var _ Store = (*Dir)(nil)

// openFiles is how many files a Dir keeps open for appending: a first
// run's id partitions and the records written, up to 256 each. Past it, every
// file is closed and reopened as it is next appended to, so a shuffle of
// more partitions costs no more opens than one open a block.
const openFiles = 512

// NewDir returns a Store writing into the existing directory path. The
// caller closes it, then removes the directory, when the shuffle is done.
func NewDir(path string) *Dir { return &Dir{path: path, open: map[string]*os.File{}} }

// Append implements Store.
//
// Errors: EUNAVAILABLE naming the file when it cannot be written (a full
// disk, a missing directory).
func (d *Dir) Append(_ context.Context, name string, p []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	f := d.open[name]
	if f == nil {
		if len(d.open) >= openFiles {
			if err := d.closeAll(); err != nil {
				return cutover.Wrap(cutover.EUNAVAILABLE, err, "The spill files could not be written: %v", err)
			}
		}
		var err error
		if f, err = os.OpenFile(filepath.Join(d.path, name), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600); err != nil {
			return cutover.Wrap(cutover.EUNAVAILABLE, err, "The spill file %s could not be written: %v", name, err)
		}
		d.open[name] = f
	}
	if _, err := f.Write(p); err != nil {
		return cutover.Wrap(cutover.EUNAVAILABLE, err, "The spill file %s could not be written: %v", name, err)
	}
	return nil
}

// Close closes the files d keeps open. d can be appended to again after.
//
// Errors: EUNAVAILABLE when one of them cannot be closed (what was
// appended may not all be on disk).
func (d *Dir) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.closeAll(); err != nil {
		return cutover.Wrap(cutover.EUNAVAILABLE, err, "The spill files could not be written: %v", err)
	}
	return nil
}

func (d *Dir) closeAll() error {
	var first error
	for name, f := range d.open {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
		delete(d.open, name)
	}
	return first
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
