package s3blob

import (
	"context"
	"fmt"
	"io"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3t "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cutover/cutover/internal/cutover"
)

// S3's bounds on a part copied from another object (UploadPartCopy): every
// part but an upload's last is at least minCopyPart, and none is more than
// maxCopyPart.
const (
	minCopyPart = 5 << 20
	maxCopyPart = 5 << 30
)

// Compose stores at key the pieces one after the other, as one multipart
// upload: a piece of at least 5 MiB that starts a part is copied within S3
// (UploadPartCopy, a request and no bytes through the caller); what is
// smaller is read and buffered into parts of StreamPartBytes, as Stream
// does. So only bytes of small pieces (and of a big one's head, filling
// a part that small ones began) pass through the caller. Nothing is
// stored when it fails.
//
// Errors: EINVALID for a piece whose range is backwards; ENOTFOUND when a
// piece's object is missing; EUNAVAILABLE when S3 fails.
func (b *Bucket) Compose(ctx context.Context, key, contentType string, pieces []cutover.Piece) error {
	pw := &partWriter{ctx: ctx, b: b, key: key, contentType: contentType, size: StreamPartBytes}
	err := func() error {
		for _, p := range pieces {
			if p.End < p.Start || p.Start < 0 {
				return cutover.Errorf(cutover.EINVALID, "The piece [%d, %d) of %s is not a byte range.", p.Start, p.End, p.Key)
			}
			if err := pw.compose(p); err != nil {
				return err
			}
		}
		return pw.close()
	}()
	if err != nil {
		pw.abort()
		return err
	}
	return nil
}

// compose adds piece p: copied in parts of at most maxCopyPart while the
// buffer is empty and what is left is a part's worth, else read into the
// buffer (which uploads itself whenever it fills).
func (w *partWriter) compose(p cutover.Piece) error {
	for start := p.Start; start < p.End; {
		if w.buf.Len() == 0 && p.End-start >= minCopyPart {
			end := min(p.End, start+maxCopyPart)
			if rest := p.End - end; rest > 0 && rest < minCopyPart {
				end -= minCopyPart - rest // leave the last copy a part's worth too
			}
			if err := w.copyPart(p.Key, start, end); err != nil {
				return err
			}
			start = end
			continue
		}
		end := min(p.End, start+int64(w.size-w.buf.Len()))
		rc, err := w.b.OpenRange(w.ctx, p.Key, start, end)
		if err != nil {
			return err
		}
		_, err = io.Copy(w, rc)
		_ = rc.Close()
		if err != nil {
			return cutover.Wrap(cutover.ErrorCode(err), err, "Part of %s could not be read into %s.", p.Key, w.key)
		}
		start = end
	}
	return nil
}

// copyPart adds the bytes [start, end) of the object at key as the next
// part, copied within S3.
func (w *partWriter) copyPart(key string, start, end int64) error {
	n, err := w.next()
	if err != nil {
		return err
	}
	src := (&url.URL{Path: w.b.Name + "/" + key}).EscapedPath()
	rng := fmt.Sprintf("bytes=%d-%d", start, end-1)
	out, err := w.b.API.UploadPartCopy(w.ctx, &s3.UploadPartCopyInput{
		Bucket: &w.b.Name, Key: &w.key, UploadId: &w.uploadID, PartNumber: &n, CopySource: &src, CopySourceRange: &rng,
	})
	if err != nil {
		return w.unavailable(err)
	}
	if out.CopyPartResult == nil {
		return cutover.Errorf(cutover.EUNAVAILABLE, "S3 copied a part of %s into %s without saying so.", key, w.key)
	}
	w.parts = append(w.parts, s3t.CompletedPart{ETag: out.CopyPartResult.ETag, PartNumber: &n})
	return nil
}
