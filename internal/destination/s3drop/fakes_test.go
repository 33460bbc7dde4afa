package s3drop

import (
	"context"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination"
)

type destinationRecord = destination.Record

// fakeAPI and fakeClaims stand in where key derivation never reaches S3
// or the register.
type fakeAPI struct{ API }

type fakeClaims struct{}

func (fakeClaims) Owners(context.Context, cutover.Target, []string) (map[string]string, error) {
	return nil, nil
}

func (fakeClaims) Claim(context.Context, cutover.Target, string, []string) (map[string]string, error) {
	return nil, nil
}
