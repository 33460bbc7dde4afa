// Package s3blob adapts S3 to the domain: presigned multipart uploads
// straight from the browser, reading uploaded extracts, storing artifacts.
package s3blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3t "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
)

// PresignedRequest is a presigned URL.
type PresignedRequest struct{ URL string }

// PresignClient adapts the SDK's presign client to Presigner.
type PresignClient struct{ Client *s3.PresignClient }

// PresignGetObject implements Presigner.
func (p PresignClient) PresignGetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.PresignOptions)) (*PresignedRequest, error) {
	r, err := p.Client.PresignGetObject(ctx, in, opts...)
	if err != nil {
		return nil, err
	}
	return &PresignedRequest{URL: r.URL}, nil
}

// PresignUploadPart implements Presigner.
func (p PresignClient) PresignUploadPart(ctx context.Context, in *s3.UploadPartInput, opts ...func(*s3.PresignOptions)) (*PresignedRequest, error) {
	r, err := p.Client.PresignUploadPart(ctx, in, opts...)
	if err != nil {
		return nil, err
	}
	return &PresignedRequest{URL: r.URL}, nil
}

// Bucket is one S3 bucket.
type Bucket struct {
	API     API
	Presign Presigner
	Name    string
}

// Begin implements migration.Uploads.
//
// Errors: EUNAVAILABLE from S3.
func (b *Bucket) Begin(ctx context.Context, key, contentType string) (string, error) {
	out, err := b.API.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b.Name, Key: &key, ContentType: &contentType})
	if err != nil {
		return "", cutover.Wrap(cutover.EUNAVAILABLE, err, "The upload could not be started; try again.")
	}
	return aws.ToString(out.UploadId), nil
}

// PresignParts implements migration.Uploads.
//
// Errors: EINTERNAL when presigning fails (it is local signing, not I/O).
func (b *Bucket) PresignParts(ctx context.Context, key, uploadID string, numbers []int, ttl time.Duration) ([]string, error) {
	urls := make([]string, 0, len(numbers))
	for _, n := range numbers {
		r, err := b.Presign.PresignUploadPart(ctx, &s3.UploadPartInput{Bucket: &b.Name, Key: &key, UploadId: &uploadID, PartNumber: aws.Int32(int32(n))},
			func(o *s3.PresignOptions) { o.Expires = ttl })
		if err != nil {
			return nil, cutover.Wrap(cutover.EINTERNAL, err, "The upload URLs could not be prepared.")
		}
		urls = append(urls, r.URL)
	}
	return urls, nil
}

// PresignGet implements engine.Downloads (and signoff.Downloads): a short-lived download link.
//
// Errors: EINTERNAL when presigning fails (it is local signing, not I/O).
func (b *Bucket) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error) {
	r, err := b.Presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &b.Name, Key: &key}, func(o *s3.PresignOptions) { o.Expires = ttl })
	if err != nil {
		return "", cutover.Wrap(cutover.EINTERNAL, err, "The download link could not be prepared.")
	}
	return r.URL, nil
}

// Complete implements migration.Uploads.
//
// Errors: EINVALID when S3 rejects the parts list (a missing part or a
// wrong ETag); EUNAVAILABLE otherwise.
func (b *Bucket) Complete(ctx context.Context, key, uploadID string, parts []migration.Part) (int64, error) {
	cp := make([]s3t.CompletedPart, 0, len(parts))
	for _, p := range parts {
		cp = append(cp, s3t.CompletedPart{PartNumber: aws.Int32(int32(p.PartNumber)), ETag: aws.String(p.ETag)})
	}
	_, err := b.API.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &b.Name, Key: &key, UploadId: &uploadID,
		MultipartUpload: &s3t.CompletedMultipartUpload{Parts: cp},
	})
	if err != nil {
		var api smithy.APIError
		if errors.As(err, &api) {
			switch api.ErrorCode() {
			case "InvalidPart", "InvalidPartOrder", "NoSuchUpload", "EntityTooSmall":
				return 0, cutover.Wrap(cutover.EINVALID, err, "The upload could not be completed: a part is missing, too small, or its ETag is wrong. Upload the file again.")
			}
		}
		return 0, cutover.Wrap(cutover.EUNAVAILABLE, err, "The upload could not be completed; try again.")
	}
	head, err := b.API.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.Name, Key: &key})
	if err != nil {
		return 0, cutover.Wrap(cutover.EUNAVAILABLE, err, "The uploaded file could not be checked; try again.")
	}
	return aws.ToInt64(head.ContentLength), nil
}

// Remove implements migration.Uploads: it aborts the multipart upload
// (when uploadID is not "") so its parts stop costing storage, then deletes
// the object. Both are no-ops on what is already gone.
//
// Errors: EUNAVAILABLE from S3.
func (b *Bucket) Remove(ctx context.Context, key, uploadID string) error {
	if uploadID != "" {
		_, err := b.API.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &b.Name, Key: &key, UploadId: &uploadID})
		var api smithy.APIError
		if err != nil && !(errors.As(err, &api) && api.ErrorCode() == "NoSuchUpload") {
			return cutover.Wrap(cutover.EUNAVAILABLE, err, "The upload could not be discarded; try again.")
		}
	}
	if _, err := b.API.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b.Name, Key: &key}); err != nil {
		return cutover.Wrap(cutover.EUNAVAILABLE, err, "The file could not be deleted; try again.")
	}
	return nil
}

// Open implements cutover.Opener: it streams the object.
//
// Errors: ENOTFOUND when the object is missing; EUNAVAILABLE otherwise.
func (b *Bucket) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	return b.get(ctx, &s3.GetObjectInput{Bucket: &b.Name, Key: &key})
}

func (b *Bucket) get(ctx context.Context, in *s3.GetObjectInput) (io.ReadCloser, error) {
	out, err := b.API.GetObject(ctx, in)
	if err != nil {
		var nk *s3t.NoSuchKey
		if errors.As(err, &nk) {
			return nil, cutover.Wrap(cutover.ENOTFOUND, err, "An uploaded file is missing from storage.")
		}
		return nil, cutover.Wrap(cutover.EUNAVAILABLE, err, "An uploaded file could not be read; try again.")
	}
	return out.Body, nil
}

// Put implements cutover.Putter.
//
// Errors: EUNAVAILABLE from S3.
func (b *Bucket) Put(ctx context.Context, key, contentType string, body []byte) error {
	_, err := b.API.PutObject(ctx, &s3.PutObjectInput{Bucket: &b.Name, Key: &key, ContentType: &contentType, Body: bytes.NewReader(body)})
	if err != nil {
		return cutover.Wrap(cutover.EUNAVAILABLE, err, "An artifact could not be stored; try again.")
	}
	return nil
}

// StreamPartBytes is the size of each part PutStream sends: S3's parts
// must be at least 5 MiB (but the last), and one part is all PutStream
// holds in memory.
const StreamPartBytes = 8 << 20

// PutStream implements engine.StreamPutter: it stores what body yields
// to its end as one object, part by part (one S3 multipart upload), so
// an artifact larger than the function's memory can be written. A body
// shorter than a part is one PutObject. On any error the upload is
// aborted, and nothing is stored.
//
// Errors: EUNAVAILABLE from S3; body's own error when reading it fails.
func (b *Bucket) PutStream(ctx context.Context, key, contentType string, body io.Reader) error {
	buf := make([]byte, StreamPartBytes)
	n, err := io.ReadFull(body, buf)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return b.Put(ctx, key, contentType, buf[:n])
	}
	if err != nil {
		return err
	}
	up, err := b.API.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b.Name, Key: &key, ContentType: &contentType})
	if err != nil {
		return cutover.Wrap(cutover.EUNAVAILABLE, err, "An artifact could not be stored; try again.")
	}
	var parts []s3t.CompletedPart
	fail := func(err error) error {
		_, _ = b.API.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{Bucket: &b.Name, Key: &key, UploadId: up.UploadId})
		return err
	}
	for number := int32(1); n > 0; number++ {
		out, err := b.API.UploadPart(ctx, &s3.UploadPartInput{Bucket: &b.Name, Key: &key, UploadId: up.UploadId, PartNumber: aws.Int32(number), Body: bytes.NewReader(buf[:n])})
		if err != nil {
			return fail(cutover.Wrap(cutover.EUNAVAILABLE, err, "An artifact could not be stored; try again."))
		}
		parts = append(parts, s3t.CompletedPart{PartNumber: aws.Int32(number), ETag: out.ETag})
		n, err = io.ReadFull(body, buf)
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return fail(err)
		}
	}
	_, err = b.API.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &b.Name, Key: &key, UploadId: up.UploadId, MultipartUpload: &s3t.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return fail(cutover.Wrap(cutover.EUNAVAILABLE, err, "An artifact could not be stored; try again."))
	}
	return nil
}

// OpenRange implements engine.RangeOpener: it streams the bytes
// [start, end) of the object.
//
// Errors: EINVALID for an empty or inverted range; ENOTFOUND when the
// object is missing; EUNAVAILABLE otherwise.
func (b *Bucket) OpenRange(ctx context.Context, key string, start, end int64) (io.ReadCloser, error) {
	if start < 0 || end <= start {
		return nil, cutover.Errorf(cutover.EINVALID, "The byte range %d-%d is empty.", start, end)
	}
	rng := fmt.Sprintf("bytes=%d-%d", start, end-1)
	return b.get(ctx, &s3.GetObjectInput{Bucket: &b.Name, Key: &key, Range: &rng})
}

// ListParts implements migration.Uploads: every part S3 holds for the
// upload, page by page (S3 answers at most 1,000 at a time).
//
// Errors: EGONE when the upload no longer exists (aborted, completed, or
// cleared by the lifecycle rule); EUNAVAILABLE otherwise.
func (b *Bucket) ListParts(ctx context.Context, key, uploadID string) ([]migration.StoredPart, error) {
	var out []migration.StoredPart
	p := s3.NewListPartsPaginator(b.API, &s3.ListPartsInput{Bucket: &b.Name, Key: &key, UploadId: &uploadID})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			var nsu *s3t.NoSuchUpload
			var api smithy.APIError
			if errors.As(err, &nsu) || (errors.As(err, &api) && api.ErrorCode() == "NoSuchUpload") {
				return nil, cutover.Wrap(cutover.EGONE, err, "Storage no longer has this unfinished upload. Upload the file again.")
			}
			return nil, cutover.Wrap(cutover.EUNAVAILABLE, err, "The uploaded parts could not be listed; try again.")
		}
		for _, part := range page.Parts {
			out = append(out, migration.StoredPart{PartNumber: int(aws.ToInt32(part.PartNumber)), Size: aws.ToInt64(part.Size), ETag: aws.ToString(part.ETag)})
		}
	}
	return out, nil
}

// NewClient returns an S3 client; S3_USE_PATH_STYLE=true selects
// path-style addressing, which emulators need. It lives here rather than in
// awsenv, which every Lambda links, so that only the functions that use S3
// link its client.
func NewClient(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = os.Getenv("S3_USE_PATH_STYLE") == "true"
	})
}
