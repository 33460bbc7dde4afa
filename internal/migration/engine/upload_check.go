package engine

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/tabular"
)

// checkReadable looks at a just-completed upload the way the engine will
// read it: the first KiB decides what it is (tabular.Sniff), and a zip is
// settled from its directory (tabular.CheckWorkbook), both through ranged
// reads, so a PDF or a zip of CSVs is refused now, naming the file, rather
// than failing a round later. It returns the refusal (EINVALID), or nil
// when the file is readable.
//
// When storage cannot be read the file is accepted (and logged): the
// upload itself succeeded, and the Map step reads every file again and
// refuses an unreadable one there with the same message.
func (s *base) checkReadable(ctx context.Context, f cutover.File, size int64) (refusal error, _ error) {
	if s.files == nil {
		return nil, nil
	}
	head, err := s.readHead(ctx, f.Key, size)
	if err == nil {
		var kind string
		kind, err = tabular.Sniff(head, f.Name)
		if err == nil && kind == tabular.KindXLSX {
			err = tabular.CheckWorkbook(&rangeReaderAt{ctx: ctx, files: s.files, key: f.Key, size: size}, size, f.Name)
		}
	}
	switch cutover.ErrorCode(err) {
	case "":
		return nil, nil
	case cutover.EINVALID:
		return err, nil
	default:
		// The cause's text can hold the object key, which holds the file's
		// name: only the code and the client-safe message are logged.
		slog.WarnContext(ctx, "uploaded file not checked", "file", f.ID, "code", cutover.ErrorCode(err), "message", cutover.ErrorMessage(err))
		return nil, nil
	}
}

// readHead reads the first tabular.SniffBytes of a stored file.
func (s *base) readHead(ctx context.Context, key string, size int64) ([]byte, error) {
	if size <= 0 {
		return nil, nil
	}
	rc, err := s.files.OpenRange(ctx, key, 0, min(size, tabular.SniffBytes))
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, tabular.SniffBytes))
	if err != nil {
		return nil, cutover.Wrap(cutover.EUNAVAILABLE, err, "The uploaded file could not be read.")
	}
	return b, nil
}

// rangeReaderAt reads a stored file at offsets with ranged reads, in
// blocks, keeping the last few: reading a zip's directory and workbook
// part makes many small reads near each other.
type rangeReaderAt struct {
	ctx    context.Context
	files  RangeOpener
	key    string
	size   int64
	blocks map[int64][]byte
}

const readBlock = 64 << 10

// maxBlocks bounds the blocks kept (4 MiB).
const maxBlocks = 64

// ReadAt implements io.ReaderAt.
func (r *rangeReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, cutover.Errorf(cutover.EINVALID, "negative offset")
	}
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		if pos >= r.size {
			return n, io.EOF
		}
		start := pos / readBlock * readBlock
		b, err := r.block(start)
		if err != nil {
			return n, err
		}
		n += copy(p[n:], b[pos-start:])
	}
	return n, nil
}

func (r *rangeReaderAt) block(start int64) ([]byte, error) {
	if b, ok := r.blocks[start]; ok {
		return b, nil
	}
	if r.blocks == nil || len(r.blocks) >= maxBlocks {
		r.blocks = map[int64][]byte{}
	}
	rc, err := r.files.OpenRange(r.ctx, r.key, start, min(start+readBlock, r.size))
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, readBlock))
	if err == nil && len(b) == 0 {
		err = errors.New("empty range")
	}
	if err != nil {
		return nil, cutover.Wrap(cutover.EUNAVAILABLE, err, "The uploaded file could not be read.")
	}
	r.blocks[start] = b
	return b, nil
}
