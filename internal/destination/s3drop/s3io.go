package s3drop

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/cutover/cutover/internal/cutover"
)

// createAttempts bounds the tries of a conditional create that S3 answers
// 409 ConditionalRequestConflict (another conditional write of the key in
// flight); the SDK's retryer sees to throttling and 5xx.
const createAttempts = 5

// statusOf is the HTTP status of an S3 answer that failed, or 0.
func statusOf(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func codeOf(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// create writes body under key unless something is there: If-None-Match
// "*", so of two writers S3 keeps the first. created is false when the
// key existed (S3's 412).
//
// Errors: EUNAVAILABLE when S3 cannot be written.
func (d *Destination) create(ctx context.Context, key, ctype string, body []byte) (created bool, err error) {
	for attempt := 1; ; attempt++ {
		_, err = d.api.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &d.cfg.Bucket, Key: &key, Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))),
			ContentType: &ctype, IfNoneMatch: aws.String("*"),
		})
		switch {
		case err == nil:
			return true, nil
		case statusOf(err) == http.StatusPreconditionFailed || codeOf(err) == "PreconditionFailed":
			return false, nil
		case (statusOf(err) == http.StatusConflict || codeOf(err) == "ConditionalRequestConflict") && attempt < createAttempts:
			t := time.NewTimer(time.Duration(attempt) * 100 * time.Millisecond)
			select {
			case <-ctx.Done():
				t.Stop()
				return false, cutover.Wrap(cutover.EUNAVAILABLE, ctx.Err(), "Writing to the S3 drop was interrupted.")
			case <-t.C:
			}
		default:
			return false, cutover.Wrap(cutover.EUNAVAILABLE, err, "The S3 drop could not be written; try again.")
		}
	}
}

// put writes body under key, over whatever is there.
//
// Errors: EUNAVAILABLE when S3 cannot be written.
func (d *Destination) put(ctx context.Context, key, ctype string, body []byte) error {
	_, err := d.api.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &d.cfg.Bucket, Key: &key, Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))), ContentType: &ctype,
	})
	if err != nil {
		return cutover.Wrap(cutover.EUNAVAILABLE, err, "The S3 drop could not be written; try again.")
	}
	return nil
}

// isMissing reports whether err is S3 saying the key does not exist.
func isMissing(err error) bool {
	code := codeOf(err)
	return code == "NoSuchKey" || code == "NotFound" || statusOf(err) == http.StatusNotFound
}

// isDenied reports whether err is S3 refusing access (403).
func isDenied(err error) bool {
	return codeOf(err) == "AccessDenied" || statusOf(err) == http.StatusForbidden
}

// missing reports whether a failed read of key means the key is not
// there. S3 answers a read of a missing key 404 only to a caller that may
// list the bucket, and 403 to the others; the template grants ListBucket
// on the drop's prefix alone (a condition on s3:prefix, which a GetObject
// does not carry), so a 403 is asked of the listing, which that grant
// allows: the key is missing when the listing does not have it.
//
// Errors: EUNAVAILABLE when the listing cannot be read either (err kept).
func (d *Destination) missing(ctx context.Context, key string, err error) (bool, error) {
	if isMissing(err) {
		return true, nil
	}
	if isDenied(err) {
		out, lerr := d.api.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &d.cfg.Bucket, Prefix: &key, MaxKeys: aws.Int32(1)})
		if lerr == nil {
			return len(out.Contents) == 0 || aws.ToString(out.Contents[0].Key) != key, nil
		}
	}
	return false, cutover.Wrap(cutover.EUNAVAILABLE, err, "The S3 drop could not be read; try again.")
}

// exists reports whether key is in the bucket.
//
// Errors: EUNAVAILABLE when S3 cannot be read.
func (d *Destination) exists(ctx context.Context, key string) (bool, error) {
	out, err := d.api.GetObject(ctx, &s3.GetObjectInput{Bucket: &d.cfg.Bucket, Key: &key})
	if err != nil {
		gone, merr := d.missing(ctx, key, err)
		if gone {
			return false, nil
		}
		return false, merr
	}
	_ = out.Body.Close()
	return true, nil
}

// read returns key's bytes (at most MaxLineBytes); found is false when the
// key does not exist.
//
// Errors: EUNAVAILABLE when S3 cannot be read; EINVALID when the object is
// larger than MaxLineBytes.
func (d *Destination) read(ctx context.Context, key string) (body []byte, found bool, err error) {
	rc, err := d.open(ctx, key)
	if err != nil {
		gone, merr := d.missing(ctx, key, err)
		if gone {
			return nil, false, nil
		}
		return nil, false, merr
	}
	defer rc.Close()
	body, err = io.ReadAll(io.LimitReader(rc, MaxLineBytes+1))
	if err != nil {
		return nil, false, cutover.Wrap(cutover.EUNAVAILABLE, err, "The S3 drop could not be read; try again.")
	}
	if len(body) > MaxLineBytes {
		return nil, false, cutover.Errorf(cutover.EINVALID, "The S3 drop object %s is larger than %d bytes.", key, MaxLineBytes)
	}
	return body, true, nil
}

// open streams key's bytes; the error is S3's, unwrapped.
func (d *Destination) open(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := d.api.GetObject(ctx, &s3.GetObjectInput{Bucket: &d.cfg.Bucket, Key: &key})
	if err != nil {
		return nil, err
	}
	return out.Body, nil
}
