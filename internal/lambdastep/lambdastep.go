// Package lambdastep adapts Step Functions task handlers: it turns
// application errors into named Go error types, so the state machine's
// Retry and Catch can match them by name (aws-lambda-go reports an error's
// type name as its errorType), and it keeps each failure's client-safe
// message on the migration.
package lambdastep

import (
	"context"
	"log/slog"

	"github.com/cutover/cutover/internal/cutover"
)

// The named step errors. Only TransientError is retried by the state machine.
type (
	// TransientError is a dependency failing for now; the step is retried.
	TransientError struct{ Message string }
	// ConflictError is a step that the migration's state refuses, such as
	// a second final migration for a tenant that is live.
	ConflictError struct{ Message string }
	// InvalidInputError is input the step cannot use (a malformed extract).
	InvalidInputError struct{ Message string }
	// NotFoundError is a migration or file that does not exist.
	NotFoundError struct{ Message string }
	// InternalError is a bug.
	InternalError struct{ Message string }
)

func (e *TransientError) Error() string    { return e.Message }
func (e *ConflictError) Error() string     { return e.Message }
func (e *InvalidInputError) Error() string { return e.Message }
func (e *NotFoundError) Error() string     { return e.Message }
func (e *InternalError) Error() string     { return e.Message }

// Named converts an error into the named step error for its code, carrying
// only the client-safe message.
func Named(err error) error {
	if err == nil {
		return nil
	}
	msg := cutover.ErrorMessage(err)
	switch cutover.ErrorCode(err) {
	case cutover.EUNAVAILABLE:
		return &TransientError{msg}
	case cutover.ECONFLICT, cutover.EGONE:
		return &ConflictError{msg}
	case cutover.EINVALID:
		return &InvalidInputError{msg}
	case cutover.ENOTFOUND:
		return &NotFoundError{msg}
	default:
		return &InternalError{msg}
	}
}

// SelfRecording is an input whose step keeps its own failures elsewhere
// (a final chunk, on the chunk): the Handler does not record them on the
// migration, where parallel chunks would contend and a failure the next
// attempt cures would show.
type SelfRecording interface {
	RecordsItsOwnFailure() bool
}

// Handler wraps a step: on failure it logs the code (never the input, which
// may hold a task token), records the message on the migration unless the
// failure is transient (the step will be retried) or the input records its
// own (SelfRecording), and returns the named error.
func Handler[In any, Out any](step string, rec Recorder, migrationID func(In) string, fn func(context.Context, In) (Out, error)) func(context.Context, In) (Out, error) {
	return func(ctx context.Context, in In) (Out, error) {
		out, err := fn(ctx, in)
		if err == nil {
			return out, nil
		}
		code := cutover.ErrorCode(err)
		slog.ErrorContext(ctx, "step failed", "step", step, "migration", migrationID(in), "code", code, "error", err.Error())
		if self, ok := any(in).(SelfRecording); ok && self.RecordsItsOwnFailure() {
			return out, Named(err)
		}
		if code != cutover.EUNAVAILABLE && rec != nil {
			rec.RecordStepFailure(ctx, migrationID(in), step, cutover.ErrorMessage(err))
		}
		return out, Named(err)
	}
}

// NoOutput adapts a step that returns only an error to Handler.
func NoOutput[In any](fn func(context.Context, In) error) func(context.Context, In) (struct{}, error) {
	return func(ctx context.Context, in In) (struct{}, error) { return struct{}{}, fn(ctx, in) }
}
