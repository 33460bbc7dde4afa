package s3blob

import "github.com/cutover/cutover/internal/signoff"

// The sign-off page reads the workbook and the pre-flight report from the
// artifacts and links to the rejects and warnings files.
var (
	_ signoff.Artifacts = (*Bucket)(nil)
	_ signoff.Downloads = (*Bucket)(nil)
)
