package s3blob_test

import (
	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/migration/engine"
	"github.com/cutover/cutover/internal/s3blob"
	"github.com/cutover/cutover/internal/signoff"
)

// The ports the bucket implements: uploads for the customer API, files and
// downloads for the steps, artifacts for the sign-off page. The checks sit
// in a test file because the adapters import only the domain (see
// internal/dynamostore's ports_test.go for why).
var (
	_ migration.Uploads  = (*s3blob.Bucket)(nil)
	_ engine.Files       = (*s3blob.Bucket)(nil)
	_ engine.RangeOpener = (*s3blob.Bucket)(nil)
	_ cutover.Composer   = (*s3blob.Bucket)(nil)
	_ engine.Downloads   = (*s3blob.Bucket)(nil)
	_ signoff.Artifacts  = (*s3blob.Bucket)(nil)
	_ signoff.Downloads  = (*s3blob.Bucket)(nil)
)
