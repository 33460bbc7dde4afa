package sesmail_test

import (
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sesmail"
	"github.com/cutover/cutover/internal/signoff"
)

// The ports SES implements. The checks sit in a test file because the
// adapters import only the domain (see internal/dynamostore's ports_test.go
// for why).
var (
	_ migration.Mailer = (*sesmail.Mailer)(nil)
	_ signoff.Mailer   = (*sesmail.Mailer)(nil)
)
