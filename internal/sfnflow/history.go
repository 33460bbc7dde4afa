package sfnflow

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfnt "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/cutover/cutover/internal/cutover"
)

// Executions reads the migration state machine's executions, for ops.
type Executions struct {
	API             HistoryAPI
	StateMachineARN string
}

// maxEvents bounds the history one read returns: the newest events.
const maxEvents = 200

// Execution implements migration.Executions: the execution's status and
// its newest events, newest first. Event details (inputs, outputs, task
// tokens) are left out.
//
// Errors: ENOTFOUND when there is no such execution; EUNAVAILABLE
// otherwise.
func (e *Executions) Execution(ctx context.Context, name string) (*cutover.Execution, error) {
	arn := strings.Replace(e.StateMachineARN, ":stateMachine:", ":execution:", 1) + ":" + name
	d, err := e.API.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: &arn})
	if err != nil {
		var missing *sfnt.ExecutionDoesNotExist
		if errors.As(err, &missing) {
			return nil, cutover.Wrap(cutover.ENOTFOUND, err, "There is no execution %s.", name)
		}
		return nil, cutover.Wrap(cutover.EUNAVAILABLE, err, "The execution could not be read; try again.")
	}
	out := &cutover.Execution{Name: name, Status: string(d.Status), StartDate: aws.ToTime(d.StartDate), StopDate: aws.ToTime(d.StopDate), Events: []cutover.ExecutionEvent{}}
	h, err := e.API.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{
		ExecutionArn: &arn, ReverseOrder: true, MaxResults: maxEvents,
		IncludeExecutionData: aws.Bool(false),
	})
	if err != nil {
		return nil, cutover.Wrap(cutover.EUNAVAILABLE, err, "The execution's history could not be read; try again.")
	}
	for _, ev := range h.Events {
		out.Events = append(out.Events, cutover.ExecutionEvent{Timestamp: aws.ToTime(ev.Timestamp), Type: string(ev.Type), State: stateName(ev)})
	}
	return out, nil
}

// stateName is the state an event entered or left, when it says.
func stateName(ev sfnt.HistoryEvent) string {
	switch {
	case ev.StateEnteredEventDetails != nil:
		return aws.ToString(ev.StateEnteredEventDetails.Name)
	case ev.StateExitedEventDetails != nil:
		return aws.ToString(ev.StateExitedEventDetails.Name)
	}
	return ""
}

// ExecutionStatus implements migration.ExecutionStatuses with one
// DescribeExecution.
//
// Errors: ENOTFOUND when there is no such execution, or no such state
// machine (it was deleted); EUNAVAILABLE otherwise.
func (e *Executions) ExecutionStatus(ctx context.Context, name string) (string, error) {
	arn := strings.Replace(e.StateMachineARN, ":stateMachine:", ":execution:", 1) + ":" + name
	d, err := e.API.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: &arn})
	if err != nil {
		var missing *sfnt.ExecutionDoesNotExist
		var noMachine *sfnt.StateMachineDoesNotExist
		if errors.As(err, &missing) || errors.As(err, &noMachine) {
			return "", cutover.Wrap(cutover.ENOTFOUND, err, "There is no execution %s.", name)
		}
		return "", cutover.Wrap(cutover.EUNAVAILABLE, err, "The execution could not be read; try again.")
	}
	return string(d.Status), nil
}
