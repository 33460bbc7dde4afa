// Package s3drop is the S3 drop destination (issue 14), for vendors with
// bulk loaders: JSON Lines per entity under a prefix in the vendor's
// bucket, written under deterministic object keys (exactly once), and a
// manifest with counts and checksums written last (cutover.Sealer).
//
// CONTRACT ONLY: the wiring (functions/testmigrate, functions/finalmigrate)
// builds it with New; the adapter itself is being written.
package s3drop

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination"
)

var (
	_ cutover.Destination = (*Destination)(nil)
	_ cutover.Sealer      = (*Destination)(nil)
)

// API is the slice of the S3 client the drop uses; *s3.Client has it.
type API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// Config is where a drop writes.
type Config struct {
	// Bucket is the vendor's bucket.
	Bucket string
	// Prefix is the key prefix; "{tenantId}" in it is replaced by the
	// target's tenant (routing per tenant). Empty means "{tenantId}/".
	Prefix string
}

// Convert turns a record as the pipeline made it into the record the
// vendor receives (production wires destination.Typed over the schema).
//
// Errors: EINVALID for a record that cannot be expressed in the contract
// (reported Rejected with the message, nothing written).
type Convert func(cutover.Record) (destination.Record, error)

// Destination is an S3 drop.
type Destination struct {
	api     API
	cfg     Config
	convert Convert
}

// New returns the drop cfg describes, converting records with convert.
//
// Errors: EINVALID for a configuration that cannot work (no bucket, no
// converter).
func New(api API, cfg Config, convert Convert) (*Destination, error) {
	if api == nil || cfg.Bucket == "" || convert == nil {
		return nil, cutover.Errorf(cutover.EINVALID, "The S3 drop needs a bucket and a record converter.")
	}
	return &Destination{api: api, cfg: cfg, convert: convert}, nil
}

// Deliverer implements cutover.Destination.
func (d *Destination) Deliverer(t cutover.Target) cutover.Deliverer { return notBuilt{} }

// Holdings implements cutover.Destination.
func (d *Destination) Holdings(context.Context, cutover.Target) (map[string]cutover.Holding, error) {
	return nil, cutover.Errorf(cutover.EINTERNAL, "The S3 drop is not built yet.")
}

// Seal implements cutover.Sealer.
func (d *Destination) Seal(context.Context, cutover.Target, map[string]cutover.Holding) error {
	return cutover.Errorf(cutover.EINTERNAL, "The S3 drop is not built yet.")
}

type notBuilt struct{}

func (notBuilt) Deliver(context.Context, []cutover.Record) ([]cutover.DeliveryResult, error) {
	return nil, cutover.Errorf(cutover.EINTERNAL, "The S3 drop is not built yet.")
}
