package engine

import (
	"context"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pass"
)

// testInferenceKey is where the test migration of a round keeps what it
// inferred (phone region, date formats) per mapping entry.
func testInferenceKey(id string, round int) string {
	return pass.ArtifactsPrefix(id, "test", round) + "inferred.json"
}

// signedOffInference is what the signed-off test round inferred, by
// mapping entry name, so each chunk of the final migration reads dates
// and phone numbers as the signed-off test did rather than as its own
// rows alone suggest. A migration whose test round kept none (one tested
// before it was kept) gets nil: its chunks infer as they always did.
//
// Errors: EUNAVAILABLE when the artifact cannot be read.
func (s *base) signedOffInference(ctx context.Context, m *cutover.Migration) (map[string]*mapspec.Inference, error) {
	if m.Workbook == nil {
		return nil, nil
	}
	var out map[string]*mapspec.Inference
	err := s.readArtifact(ctx, testInferenceKey(m.ID, m.Workbook.Round), "test migration's inferred formats", &out)
	if cutover.ErrorCode(err) == cutover.ENOTFOUND {
		return nil, nil
	}
	return out, err
}
