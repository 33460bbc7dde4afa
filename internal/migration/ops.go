package migration

import (
	"context"

	"github.com/cutover/cutover/internal/cutover"
)

// List returns the newest migrations for ops.
//
// Errors: whatever the Store returns.
func (s *Ops) List(ctx context.Context) ([]*cutover.Migration, error) {
	return s.store.ListMigrations(ctx, 200)
}

// Execution returns the state machine execution of a migration's latest
// round, or nil before there is one.
//
// Errors: EUNAVAILABLE when it cannot be read.
func (s *Ops) Execution(ctx context.Context, m *cutover.Migration) (*cutover.Execution, error) {
	if s.runs == nil || m.ExecutionName == "" {
		return nil, nil
	}
	ex, err := s.runs.Execution(ctx, m.ExecutionName)
	if cutover.ErrorCode(err) == cutover.ENOTFOUND {
		return nil, nil
	}
	return ex, err
}

// Get returns one migration for ops.
//
// Errors: ENOTFOUND.
func (s *Ops) Get(ctx context.Context, id string) (*cutover.Migration, error) {
	return s.store.GetMigration(ctx, id)
}
