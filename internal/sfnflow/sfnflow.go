// Package sfnflow adapts Step Functions to the domain's Flow: starting a
// migration's execution and resuming its parked callback tasks.
package sfnflow

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfnt "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/cutover/cutover/internal/cutover"
)

// Flow is the migration state machine.
type Flow struct {
	API             API
	StateMachineARN string
}

// Start implements migration.Flow. An execution that already exists under
// the name counts as started.
//
// Errors: EUNAVAILABLE from Step Functions.
func (f *Flow) Start(ctx context.Context, name string, input any) error {
	b, err := json.Marshal(input)
	if err != nil {
		return cutover.Wrap(cutover.EINTERNAL, err, "The execution input could not be encoded.")
	}
	_, err = f.API.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: &f.StateMachineARN, Name: &name, Input: aws.String(string(b))})
	var exists *sfnt.ExecutionAlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return cutover.Wrap(cutover.EUNAVAILABLE, err, "The migration could not be started; try again.")
	}
	return nil
}

// Resume implements migration.Flow.
//
// Errors: EGONE when the task no longer waits (timed out, or already
// completed); EUNAVAILABLE otherwise.
func (f *Flow) Resume(ctx context.Context, taskToken string, output any) error {
	b, err := json.Marshal(output)
	if err != nil {
		return cutover.Wrap(cutover.EINTERNAL, err, "The task output could not be encoded.")
	}
	_, err = f.API.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: &taskToken, Output: aws.String(string(b))})
	if err == nil {
		return nil
	}
	var timedOut *sfnt.TaskTimedOut
	var doesNotExist *sfnt.TaskDoesNotExist
	var invalid *sfnt.InvalidToken
	if errors.As(err, &timedOut) || errors.As(err, &doesNotExist) || errors.As(err, &invalid) {
		return cutover.Wrap(cutover.EGONE, err, "The migration is no longer waiting for this; reload to see where it stands.")
	}
	return cutover.Wrap(cutover.EUNAVAILABLE, err, "The migration could not be resumed; try again.")
}
