package s3drop_test

import (
	"github.com/cutover/cutover/internal/destination/s3drop"
)

func strPtr(s string) *string { return &s }

// s3dropConfigErrors is what New answers configurations that cannot work.
func s3dropConfigErrors(e *env) map[string]error {
	out := map[string]error{}
	try := func(name string, api s3drop.API, cfg s3drop.Config, conv s3drop.Convert) {
		_, err := s3drop.New(api, cfg, conv)
		out[name] = err
	}
	try("no bucket", e.c.s3, s3drop.Config{Claims: e.claims}, convert)
	try("no claims", e.c.s3, s3drop.Config{Bucket: e.bucket}, convert)
	try("no converter", e.c.s3, s3drop.Config{Bucket: e.bucket, Claims: e.claims}, nil)
	try("too many records", e.c.s3, s3drop.Config{Bucket: e.bucket, Claims: e.claims, MaxRecords: 101}, convert)
	try("too few bytes", e.c.s3, s3drop.Config{Bucket: e.bucket, Claims: e.claims, MaxBytes: 10}, convert)
	try("traversing prefix", e.c.s3, s3drop.Config{Bucket: e.bucket, Claims: e.claims, Prefix: "../{tenantId}/"}, convert)
	return out
}
