package awsenv

import (
	"context"
	"errors"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// DynamoDB's reads are answered again when their answer arrives broken.
// The SDK retries a call whose connection failed, or that DynamoDB
// refused with a retryable error, but not one whose response was cut off
// while it was being read (a DeserializationError: "unexpected EOF
// reading trailer"). For a write that is right: it may have been applied,
// and sending it again could meet its own condition. A read changes
// nothing, so reading again is always safe; without it a coordinator's
// approval could answer "Storage is unavailable" for one torn response
// (seen on the local emulator, and possible behind any proxy).

// readOperations are the DynamoDB operations that change nothing.
var readOperations = map[string]bool{
	"GetItem": true, "BatchGetItem": true, "Query": true, "Scan": true,
	"TransactGetItems": true, "DescribeTable": true, "ListTables": true,
}

// rereadBrokenAnswers marks a read's DeserializationError retryable, for
// the client's retryer; every other error passes unchanged.
type rereadBrokenAnswers struct{}

func (rereadBrokenAnswers) ID() string { return "cutover.RereadBrokenAnswers" }

func (rereadBrokenAnswers) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	out, md, err := next.HandleFinalize(ctx, in)
	var broken *smithy.DeserializationError
	if err != nil && errors.As(err, &broken) && readOperations[awsmiddleware.GetOperationName(ctx)] {
		err = brokenAnswer{err}
	}
	return out, md, err
}

// brokenAnswer is a read's broken answer: the retryer's
// retry.RetryableError check finds RetryableError and reads again.
type brokenAnswer struct{ error }

func (brokenAnswer) RetryableError() bool { return true }

func (b brokenAnswer) Unwrap() error { return b.error }

// addRereadBrokenAnswers puts rereadBrokenAnswers inside the retry loop,
// where the retryer sees what it returns.
func addRereadBrokenAnswers(stack *middleware.Stack) error {
	return stack.Finalize.Insert(rereadBrokenAnswers{}, "Retry", middleware.After)
}
