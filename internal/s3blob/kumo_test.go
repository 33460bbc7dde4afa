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

func bucket(t *testing.T) *s3blob.Bucket {
	t.Helper()
	c, err := kumo()
	if err != nil {
		t.Fatalf("start the emulator: %v", err)
	}
	name := fmt.Sprintf("artifacts-%d", time.Now().UnixNano())
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &name}); err != nil {
		t.Fatal(err)
	}
	return &s3blob.Bucket{API: c, Name: name}
}

// failingAfter yields n bytes of body, then fails.
type failingAfter struct {
	r io.Reader
	n int
}

func (f *failingAfter) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("the merge broke")
	}
	if len(p) > f.n {
		p = p[:f.n]
	}
	n, err := f.r.Read(p)
	f.n -= n
	return n, err
}

// An artifact larger than a part is stored in parts, byte for byte; one
// smaller is stored whole; a body that fails midway stores nothing.
func TestPutStreamStoresWhatTheBodyYieldsInParts(t *testing.T) {
	ctx := context.Background()
	b := bucket(t)
	big := bytes.Repeat([]byte("0123456789abcdef\n"), (2*s3blob.StreamPartBytes+12345)/17)
	for name, body := range map[string][]byte{"big": big, "small": []byte("one line\n"), "empty": {}} {
		if err := b.PutStream(ctx, name, "application/x-ndjson", bytes.NewReader(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rc, err := b.Open(ctx, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("%s: stored %d bytes, want %d (%v)", name, len(got), len(body), err)
		}
	}
	err := b.PutStream(ctx, "broken", "application/x-ndjson", &failingAfter{r: bytes.NewReader(big), n: s3blob.StreamPartBytes + 10})
	if err == nil || err.Error() != "the merge broke" {
		t.Fatalf("a failing body: %v", err)
	}
	if _, err := b.Open(ctx, "broken"); cutover.ErrorCode(err) != cutover.ENOTFOUND {
		t.Fatalf("after a failing body the object is %v, want none", err)
	}
}
