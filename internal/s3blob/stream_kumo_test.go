package s3blob_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cutover/cutover/infra/emulator"
	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/s3blob"
)

// kumo starts the local emulator once for the package's tests.
var kumo = sync.OnceValues(func() (*s3.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(root, ".build", "kumo")
	if err := emulator.Build(ctx, root, bin); err != nil {
		return nil, err
	}
	srv, err := emulator.Start(context.Background(), emulator.Options{Binary: bin})
	if err != nil {
		return nil, err
	}
	stopKumo = func() { _ = srv.Close() }
	return s3.New(s3.Options{
		Region: emulator.Region, BaseEndpoint: aws.String(srv.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	}), nil
})

var stopKumo = func() {}

func TestMain(m *testing.M) {
	code := m.Run()
	stopKumo()
	os.Exit(code)
}

func newBucket(t *testing.T) (*s3.Client, *s3blob.Bucket) {
	t.Helper()
	c, err := kumo()
	if err != nil {
		t.Fatalf("start the emulator: %v", err)
	}
	name := fmt.Sprintf("stream-%d", time.Now().UnixNano())
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &name}); err != nil {
		t.Fatal(err)
	}
	return c, &s3blob.Bucket{API: c, Name: name}
}

// body is n bytes that differ from part to part, so a part stored twice or
// out of order does not read back equal.
func body(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + (i/7919)%26)
	}
	return b
}

// An artifact written in small pieces is stored whole, byte for byte,
// whether it fits one part or spans several (a multipart upload whose
// last part is short).
func TestStreamStoresWhatIsWritten(t *testing.T) {
	c, b := newBucket(t)
	ctx := context.Background()
	for _, n := range []int{0, 1000, s3blob.StreamPartBytes, 2*s3blob.StreamPartBytes + 12345} {
		want := body(n)
		key := fmt.Sprintf("artifacts/delta-%d.csv", n)
		err := b.Stream(ctx, key, "text/csv", func(w io.Writer) error {
			for rest := want; len(rest) > 0; {
				k := min(len(rest), 4093)
				if _, err := w.Write(rest[:k]); err != nil {
					return err
				}
				rest = rest[k:]
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b.Name, Key: &key})
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		got, err := io.ReadAll(out.Body)
		_ = out.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%d bytes written, %d read back (equal prefix: %v)", n, len(got), bytes.HasPrefix(want, got))
		}
		if ct := aws.ToString(out.ContentType); ct != "text/csv" {
			t.Errorf("%d bytes: content type %q", n, ct)
		}
	}
}

// A writer that fails after two parts went up leaves no object and no
// upload behind, and its error comes back as it was.
func TestStreamFailureLeavesNothing(t *testing.T) {
	c, b := newBucket(t)
	ctx := context.Background()
	boom := cutover.Errorf(cutover.EINVALID, "snapshot line 7 is not JSON")
	key := "artifacts/broken.csv"
	err := b.Stream(ctx, key, "text/csv", func(w io.Writer) error {
		if _, err := w.Write(body(2*s3blob.StreamPartBytes + 1)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the writer's error", err)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.Name, Key: &key}); err == nil {
		t.Fatal("a failed stream left an object")
	}
	ups, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &b.Name})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 0 {
		t.Fatalf("%d multipart upload(s) left behind", len(ups.Uploads))
	}
}

// A bucket S3 cannot write to is a failure to try again, not the
// writer's error and not an internal one.
func TestStreamToAMissingBucketIsUnavailable(t *testing.T) {
	c, _ := newBucket(t)
	b := &s3blob.Bucket{API: c, Name: "no-such-bucket-here"}
	for _, n := range []int{10, s3blob.StreamPartBytes + 10} {
		err := b.Stream(context.Background(), "k", "text/csv", func(w io.Writer) error {
			_, err := w.Write(body(n))
			return err
		})
		if cutover.ErrorCode(err) != cutover.EUNAVAILABLE {
			t.Fatalf("%d bytes: got %v (%s), want EUNAVAILABLE", n, err, cutover.ErrorCode(err))
		}
	}
}

// Composed pieces read back as the pieces one after the other, byte for
// byte, whatever their sizes: pieces of a part's worth copied within S3,
// small ones (and the heads of big ones that follow small ones) read into
// parts; no piece, one small piece, and a missing object (which stores
// nothing) too.
func TestComposeStoresThePiecesInOrder(t *testing.T) {
	c, b := newBucket(t)
	counted := &copyCounter{API: c}
	b.API = counted
	ctx := context.Background()
	put := func(key string, n int) []byte {
		v := body(n)
		for i := range v {
			v[i] += byte(len(key) % 3) // each object's bytes its own
		}
		if err := b.Put(ctx, key, "text/plain", v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	small, big, huge := put("a/small", 3000), put("a/big", 6<<20+77), put("a/huge", 2*s3blob.StreamPartBytes+5)
	cases := map[string][]cutover.Piece{
		"none":            nil,
		"one small":       {{Key: "a/small", Start: 10, End: 2000}},
		"big first":       {{Key: "a/big", Start: 0, End: 6<<20 + 77}, {Key: "a/small", Start: 0, End: 3000}},
		"small then big":  {{Key: "a/small", Start: 5, End: 3000}, {Key: "a/big", Start: 1, End: 6<<20 + 77}, {Key: "a/huge", Start: 0, End: 2*s3blob.StreamPartBytes + 5}},
		"a header cut":    {{Key: "a/huge", Start: 0, End: 100}, {Key: "a/huge", Start: 17, End: 2*s3blob.StreamPartBytes + 5}, {Key: "a/big", Start: 3, End: 6 << 20}},
		"empty piece too": {{Key: "a/big", Start: 9, End: 9}, {Key: "a/small", Start: 0, End: 1}},
	}
	objects := map[string][]byte{"a/small": small, "a/big": big, "a/huge": huge}
	for name, pieces := range cases {
		var want []byte
		for _, p := range pieces {
			want = append(want, objects[p.Key][p.Start:p.End]...)
		}
		key := "composed/" + name
		counted.copied = 0
		if err := b.Compose(ctx, key, "application/x-ndjson", pieces); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if name == "big first" && counted.copied != 6<<20+77 {
			t.Errorf("%s: %d bytes copied within S3; want the big piece's %d", name, counted.copied, 6<<20+77)
		}
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b.Name, Key: &key})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := io.ReadAll(out.Body)
		_ = out.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: %d bytes composed, %d read back (equal prefix: %v)", name, len(want), len(got), bytes.HasPrefix(want, got))
		}
	}
	key := "composed/missing"
	err := b.Compose(ctx, key, "text/plain", []cutover.Piece{{Key: "a/big", Start: 0, End: 6 << 20}, {Key: "a/nothing", Start: 0, End: 10}})
	if cutover.ErrorCode(err) != cutover.ENOTFOUND {
		t.Fatalf("a missing piece: %v; want ENOTFOUND", err)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.Name, Key: &key}); err == nil {
		t.Fatal("a failed composition left an object")
	}
}

// copyCounter counts the bytes UploadPartCopy copies.
type copyCounter struct {
	s3blob.API
	copied int64
}

func (c *copyCounter) UploadPartCopy(ctx context.Context, in *s3.UploadPartCopyInput, opts ...func(*s3.Options)) (*s3.UploadPartCopyOutput, error) {
	var start, end int64
	if _, err := fmt.Sscanf(aws.ToString(in.CopySourceRange), "bytes=%d-%d", &start, &end); err == nil {
		c.copied += end - start + 1
	}
	return c.API.UploadPartCopy(ctx, in, opts...)
}
