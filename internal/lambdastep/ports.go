package lambdastep

import "context"

// Recorder keeps a step's failure message on the migration.
type Recorder interface {
	RecordStepFailure(ctx context.Context, migrationID, step, message string)
}
