package sfnflow

// The slices of the AWS SDK this adapter consumes, in one place: narrow
// interfaces, so its tests run on small fakes (ports_test.go checks the
// other direction: that the adapter implements its consumers' ports).

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// HistoryAPI is the slice of Step Functions that reading an execution uses.
type HistoryAPI interface {
	DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, opts ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
	GetExecutionHistory(ctx context.Context, in *sfn.GetExecutionHistoryInput, opts ...func(*sfn.Options)) (*sfn.GetExecutionHistoryOutput, error)
}

// API is the slice of Step Functions the flow uses.
type API interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, opts ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, opts ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
}
