package sfnflow_test

import (
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sfnflow"
	"github.com/cutover/cutover/internal/signoff"
)

// The ports Step Functions implements. The checks sit in a test file
// because the adapters import only the domain (see internal/dynamostore's
// ports_test.go for why).
var (
	_ migration.Executions        = (*sfnflow.Executions)(nil)
	_ migration.ExecutionStatuses = (*sfnflow.Executions)(nil)
	_ migration.Flow              = (*sfnflow.Flow)(nil)
	_ signoff.Resumer             = (*sfnflow.Flow)(nil)
)
