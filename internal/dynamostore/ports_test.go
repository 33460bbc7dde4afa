package dynamostore_test

import (
	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/dynamostore"
	"github.com/cutover/cutover/internal/lifecycle"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/migration/engine"
	"github.com/cutover/cutover/internal/signoff"
)

// The ports this adapter implements. The checks sit in a test file, not
// beside the adapter: the adapters import only the domain (internal/cutover),
// so that a Lambda which never maps a row does not link the engine's
// services (and their ports) through the store it uses; go vet and go test
// compile this file, so a port and its adapter cannot drift apart unseen.
var (
	_ migration.Store      = (*dynamostore.Migrations)(nil)
	_ migration.Outbox     = (*dynamostore.Migrations)(nil)
	_ migration.EventLog   = (*dynamostore.Migrations)(nil)
	_ lifecycle.Log        = (*dynamostore.Migrations)(nil)
	_ migration.ChunkStore = (*dynamostore.Migrations)(nil)
	_ engine.TestChunks    = (*dynamostore.Migrations)(nil)
	_ migration.TestExpiry = (*dynamostore.TestEnv)(nil)
	_ engine.TestEnv       = (*dynamostore.TestEnv)(nil)
	_ cutover.Destination  = (*dynamostore.Destination)(nil)
	_ cutover.RangeHolder  = (*dynamostore.Destination)(nil)
	_ signoff.Store        = (*dynamostore.SignOffs)(nil)
	_ signoff.Migrations   = (*dynamostore.Migrations)(nil)
)

// Browsing the TEST records (migration.TestBrowser) reads them here.
var _ migration.TestRecords = (*dynamostore.TestEnv)(nil)
