package cutover

import (
	"context"
	"encoding/json"
	"io"
)

// ReadJSON decodes the stored JSON artifact at key (a workbook, a report)
// into v, opening it with open; what names the artifact in the error. The
// services that read artifacts each own their opener port; this is the
// one place that says what a missing or unreadable artifact means.
//
// Errors: as open (ENOTFOUND when it is missing); EUNAVAILABLE when it
// cannot be decoded.
func ReadJSON(ctx context.Context, open func(context.Context, string) (io.ReadCloser, error), key, what string, v any) error {
	rc, err := open(ctx, key)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := json.NewDecoder(rc).Decode(v); err != nil {
		return Wrap(EUNAVAILABLE, err, "The %s could not be read; try again.", what)
	}
	return nil
}
