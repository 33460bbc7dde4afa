package dynamostore_test

import (
	"context"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/dynamostore"
)

// deliverySink is a pass's sink onto a Deliverer, as the engine's is
// (without its read-back bookkeeping): each batch is delivered whole.
type deliverySink struct{ d cutover.Deliverer }

func (s deliverySink) Write(ctx context.Context, recs []cutover.Record) ([]cutover.Refusal, error) {
	_, err := s.d.Deliver(ctx, recs)
	return nil, err // the built-in destination refuses no record
}

// testSink writes a migration's TEST records of tenant t1 through the
// built-in destination.
func testSink(env *dynamostore.TestEnv, migrationID string) cutover.Sink {
	return deliverySink{(&dynamostore.Destination{Test: env}).Deliverer(cutover.Target{Env: cutover.EnvTest, TenantID: "t1", MigrationID: migrationID})}
}

// liveSink writes a tenant's LIVE records through the built-in
// destination.
func liveSink(live *dynamostore.LiveEnv, tenantID, migrationID string) cutover.Sink {
	return deliverySink{(&dynamostore.Destination{Live: live}).Deliverer(cutover.Target{Env: cutover.EnvLive, TenantID: tenantID, MigrationID: migrationID})}
}
