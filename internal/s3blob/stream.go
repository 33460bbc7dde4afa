package s3blob

import (
	"bytes"
	"context"
	"io"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3t "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cutover/cutover/internal/cutover"
)

// StreamPartBytes is the size of the parts Stream uploads: above S3's 5 MiB
// minimum for every part but the last, and what a stream costs in memory.
const StreamPartBytes = 8 << 20

// Stream implements cutover.Streamer. An artifact smaller than one part is
// one PutObject; a larger one is a multipart upload of StreamPartBytes
// parts, aborted when write or S3 fails, so no partial object is left
// behind.
//
// Errors: write's error as it is; EUNAVAILABLE from S3.
func (b *Bucket) Stream(ctx context.Context, key, contentType string, write func(w io.Writer) error) error {
	pw := &partWriter{ctx: ctx, b: b, key: key, contentType: contentType, size: StreamPartBytes}
	err := write(pw)
	if err == nil {
		err = pw.close()
	}
	if err != nil {
		pw.abort()
		return err
	}
	return nil
}

// partWriter buffers one part and uploads it when it is full.
type partWriter struct {
	ctx         context.Context
	b           *Bucket
	key         string
	contentType string
	size        int
	buf         bytes.Buffer
	uploadID    string
	parts       []s3t.CompletedPart
	err         error // the first S3 failure: later writes fail with it
}

func (w *partWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n := len(p)
	for len(p) > 0 {
		room := w.size - w.buf.Len()
		take := min(room, len(p))
		w.buf.Write(p[:take])
		p = p[take:]
		if w.buf.Len() == w.size {
			if err := w.upload(); err != nil {
				w.err = err
				return n - len(p), err
			}
		}
	}
	return n, nil
}

// upload sends the buffered bytes as the next part, starting the upload
// with the first one.
func (w *partWriter) upload() error {
	n, err := w.next()
	if err != nil {
		return err
	}
	out, err := w.b.API.UploadPart(w.ctx, &s3.UploadPartInput{Bucket: &w.b.Name, Key: &w.key, UploadId: &w.uploadID, PartNumber: &n, Body: bytes.NewReader(w.buf.Bytes())})
	if err != nil {
		return w.unavailable(err)
	}
	w.parts = append(w.parts, s3t.CompletedPart{ETag: out.ETag, PartNumber: &n})
	w.buf.Reset()
	return nil
}

// next is the number of the next part, starting the upload before the
// first.
func (w *partWriter) next() (int32, error) {
	if w.uploadID == "" {
		out, err := w.b.API.CreateMultipartUpload(w.ctx, &s3.CreateMultipartUploadInput{Bucket: &w.b.Name, Key: &w.key, ContentType: &w.contentType})
		if err != nil {
			return 0, w.unavailable(err)
		}
		w.uploadID = *out.UploadId
	}
	return int32(len(w.parts) + 1), nil
}

// close stores what is left: the whole artifact in one PutObject when no
// part was uploaded, else the last part and the upload's completion.
func (w *partWriter) close() error {
	if w.err != nil {
		return w.err
	}
	if w.uploadID == "" {
		return w.b.Put(w.ctx, w.key, w.contentType, w.buf.Bytes())
	}
	if w.buf.Len() > 0 {
		if err := w.upload(); err != nil {
			return err
		}
	}
	_, err := w.b.API.CompleteMultipartUpload(w.ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &w.b.Name, Key: &w.key, UploadId: &w.uploadID, MultipartUpload: &s3t.CompletedMultipartUpload{Parts: w.parts},
	})
	if err != nil {
		return w.unavailable(err)
	}
	w.uploadID = "" // complete: nothing to abort
	return nil
}

// abort drops a multipart upload that will not complete; S3's lifecycle
// rule for incomplete uploads clears one this cannot.
func (w *partWriter) abort() {
	if w.uploadID == "" {
		return
	}
	ctx := context.WithoutCancel(w.ctx)
	_, _ = w.b.API.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &w.b.Name, Key: &w.key, UploadId: &w.uploadID})
	w.uploadID = ""
}

func (w *partWriter) unavailable(err error) error {
	return cutover.Wrap(cutover.EUNAVAILABLE, err, "An artifact could not be stored; try again.")
}
