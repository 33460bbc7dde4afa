package s3drop_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination/s3drop"
)

// listOnlyOnPrefix is S3 as the template's grants make it for the drop:
// ListBucket only with an s3:prefix condition, which a GetObject does not
// carry, so a read of a missing key is answered 403 AccessDenied, not 404.
type listOnlyOnPrefix struct{ s3drop.API }

func (a listOnlyOnPrefix) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	out, err := a.API.GetObject(ctx, in, opts...)
	var nsk *s3types.NoSuchKey
	if errors.As(err, &nsk) {
		return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}
	}
	return out, err
}

// The drop works for a role that may not list the whole bucket: a missing
// key answered 403 is looked up in the prefix's listing, so delivering,
// delivering again, sealing, and refusing to add to a sealed drop all
// behave as with 404s.
func TestTheDropWorksWhenAMissingKeyIsAnswered403(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	d, err := s3drop.New(listOnlyOnPrefix{e.c.s3}, s3drop.Config{Bucket: e.bucket, Prefix: "live/{tenantId}/", Claims: e.claims}, convert)
	if err != nil {
		t.Fatal(err)
	}
	recs := records("contact", 0, 30)
	res, err := d.Deliverer(live).Deliver(ctx, recs)
	if err != nil {
		t.Fatalf("first delivery: %v", err)
	}
	if n := outcomes(t, res, recs); n[cutover.Created] != 30 {
		t.Fatalf("first delivery: %v, want 30 created", n)
	}
	res, err = d.Deliverer(live).Deliver(ctx, recs)
	if err != nil {
		t.Fatalf("second delivery: %v", err)
	}
	if n := outcomes(t, res, recs); n[cutover.Existed] != 30 {
		t.Fatalf("second delivery: %v, want 30 exists", n)
	}
	held, err := d.Holdings(ctx, live)
	if err != nil || held["contact"].Count != 30 {
		t.Fatalf("holdings %+v, %v; want 30 contacts", held, err)
	}
	if err := d.Seal(ctx, live, held, 0); err != nil {
		t.Fatalf("seal: %v", err)
	}
	if _, err := d.Deliverer(live).Deliver(ctx, records("contact", 30, 31)); cutover.ErrorCode(err) != cutover.ECONFLICT {
		t.Fatalf("a delivery after the seal: %v, want ECONFLICT", err)
	}
}
