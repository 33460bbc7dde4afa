package eventbus_test

import (
	"github.com/cutover/cutover/internal/eventbus"
	"github.com/cutover/cutover/internal/lifecycle"
)

// The ports EventBridge implements. The checks sit in a test file because
// the adapters import only the domain (see internal/dynamostore's
// ports_test.go for why).
var (
	_ lifecycle.Bus = (*eventbus.Bus)(nil)
	_ eventbus.API  = (*eventbus.Client)(nil)
)
