package sesmail

// The slices of the AWS SDK this adapter consumes, in one place: narrow
// interfaces, so its tests run on small fakes (ports_test.go checks the
// other direction: that the adapter implements its consumers' ports).

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

// API is the slice of SES v2 the mailer uses.
type API interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}
