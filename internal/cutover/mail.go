package cutover

import "time"

// Mail is one message the service owes someone, kept in the outbox until it
// is sent. It is a domain type because both the application (which queues
// it) and the store adapter (which keeps it) speak of it, and adapters import
// only the domain. Its ID is derived from the migration, the purpose and the round
// (plus, where one round can owe the same mail twice, what caused it), so a
// step that runs again finds the mail it already queued instead of sending
// a second one.
type Mail struct {
	ID          string    `dynamodbav:"id"`
	MigrationID string    `dynamodbav:"migrationId"`
	Purpose     string    `dynamodbav:"purpose"`
	Round       int       `dynamodbav:"round"`
	To          string    `dynamodbav:"to"`
	Subject     string    `dynamodbav:"subject"`
	Body        string    `dynamodbav:"body,omitempty"` // empty for an invite: its link carries the key, which is never stored
	Status      string    `dynamodbav:"status"`
	Attempts    int       `dynamodbav:"attempts"`
	LastError   string    `dynamodbav:"lastError,omitempty"`
	NextAt      time.Time `dynamodbav:"nextAt,omitempty"`
	SentAt      time.Time `dynamodbav:"sentAt,omitempty"`
	CreatedAt   time.Time `dynamodbav:"createdAt"`
}

// Mail statuses.
const (
	MailPending = "pending" // not sent yet; the sweep (RetryMail) tries again at NextAt
	MailSent    = "sent"
	MailFailed  = "failed" // given up: ops see it on the migration's detail
)
