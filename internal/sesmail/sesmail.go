// Package sesmail adapts SES v2 to the domain's Mailer.
package sesmail

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sest "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"github.com/cutover/cutover/internal/cutover"
)

// Mailer sends plain-text mail from one address.
type Mailer struct {
	API  API
	From string
}

// Send implements the domain's Mailer.
//
// Errors: EUNAVAILABLE from SES. The message names SES's error code (for
// example MessageRejected) so ops can see why a mail is pending; it never
// carries SES's own text, which can quote the address.
func (m *Mailer) Send(ctx context.Context, to, subject, body string) error {
	_, err := m.API.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: &m.From,
		Destination:      &sest.Destination{ToAddresses: []string{to}},
		Content: &sest.EmailContent{Simple: &sest.Message{
			Subject: &sest.Content{Data: &subject},
			Body:    &sest.Body{Text: &sest.Content{Data: &body}},
		}},
	})
	if err != nil {
		var api smithy.APIError
		if errors.As(err, &api) {
			return cutover.Wrap(cutover.EUNAVAILABLE, err, "The email could not be sent (SES: %s).", api.ErrorCode())
		}
		return cutover.Wrap(cutover.EUNAVAILABLE, err, "The email could not be sent.")
	}
	return nil
}
