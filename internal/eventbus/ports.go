package eventbus

// The slice of the AWS SDK this adapter consumes: a narrow interface, so
// its tests run on small fakes (ports_test.go checks the other direction:
// that the adapter implements its consumers' ports).

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
)

// API is the slice of EventBridge the bus uses.
type API interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}
