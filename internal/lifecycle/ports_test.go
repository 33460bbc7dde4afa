package lifecycle_test

import (
	"github.com/cutover/cutover/internal/lifecycle"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/signoff"
)

// The consumers' ports the announcer implements.
var (
	_ migration.Announcer = (*lifecycle.Announcer)(nil)
	_ signoff.Announcer   = (*lifecycle.Announcer)(nil)
)
