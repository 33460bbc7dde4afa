package engine

import (
	"context"
	"encoding/json"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pass"
)

// testInferenceKey is where the test migration of a round keeps what it
// inferred (phone region, date formats) per mapping entry.
func testInferenceKey(id string, round int) string {
	return pass.ArtifactsPrefix(id, "test", round) + "inferred.json"
}

// putTestInference stores what a test pass inferred, by mapping entry
// name, for the final migration to read its extract the same way.
//
// Errors: EINTERNAL when it cannot be encoded (a bug); EUNAVAILABLE from
// storage.
func (s *base) putTestInference(ctx context.Context, id string, round int, res *pass.Result) error {
	body, err := json.Marshal(res.Inferred())
	if err != nil {
		return cutover.Wrap(cutover.EINTERNAL, err, "The test migration's inferred formats could not be encoded.")
	}
	return s.files.Put(ctx, testInferenceKey(id, round), "application/json", body)
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
