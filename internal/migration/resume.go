package migration

import (
	"context"

	"github.com/cutover/cutover/internal/cutover"
)

// StoredPart is one part of an unfinished upload that storage already
// holds: a browser resuming after a reload sends only the parts missing.
type StoredPart struct {
	PartNumber int    `json:"partNumber"`
	Size       int64  `json:"size"`
	ETag       string `json:"etag"`
}

// UploadedParts lists the parts storage holds for an unfinished upload, so
// a browser that lost its own record of them (a reload, a crash) resumes
// from there instead of from 0%. It answers what storage says, not what
// any browser claims to have sent.
//
// Errors: ENOTFOUND for an unknown file; ECONFLICT when it is complete or
// its round no longer takes uploads; EGONE when storage no longer has the
// upload (the bucket's lifecycle rule cleared it); EUNAVAILABLE from storage.
func (s *Customer) UploadedParts(ctx context.Context, m *cutover.Migration, fileID string) ([]StoredPart, error) {
	f, err := openUpload(m, fileID)
	if err != nil {
		return nil, err
	}
	parts, err := s.uploads.ListParts(ctx, f.Key, f.UploadID)
	if err != nil {
		return nil, err
	}
	if parts == nil {
		parts = []StoredPart{}
	}
	return parts, nil
}

// openUpload returns a file whose upload is still open: known, not
// complete, and of a round that still takes uploads.
//
// Errors: ENOTFOUND for an unknown file; ECONFLICT otherwise.
func openUpload(m *cutover.Migration, fileID string) (*cutover.File, error) {
	f := m.FileByID(fileID)
	if f == nil {
		return nil, cutover.Errorf(cutover.ENOTFOUND, "No upload %q in this migration.", fileID)
	}
	if f.Complete {
		return nil, cutover.Errorf(cutover.ECONFLICT, "The upload of %s is complete.", f.Name)
	}
	if round, err := UploadRound(m, f.Purpose); err != nil || round != f.Round || f.UploadID == "" {
		return nil, cutover.Errorf(cutover.ECONFLICT, "The upload of %s is no longer open: its round has moved on. Upload the file again.", f.Name)
	}
	return f, nil
}
