package cutover

import "time"

// Sign-off request states.
const (
	SignOffPending  = "pending"
	SignOffApproved = "approved"
	SignOffRejected = "rejected"
)

// SignOffRequest is one sign-off request, stored under its link's hash. TaskToken
// is the state machine's callback token: it never leaves the server.
type SignOffRequest struct {
	LinkHash    string    `dynamodbav:"LinkHash"`
	Kind        string    `dynamodbav:"kind,omitempty"` // signoff.KindSignOff ("" in requests stored before kinds) or signoff.KindReapproval
	MigrationID string    `dynamodbav:"migrationId"`
	Round       int       `dynamodbav:"round"`
	TaskToken   string    `dynamodbav:"taskToken"`
	State       string    `dynamodbav:"state"`
	CreatedAt   time.Time `dynamodbav:"createdAt"`
	ExpiresAt   time.Time `dynamodbav:"expiresAt"`
	DecidedAt   time.Time `dynamodbav:"decidedAt,omitempty"`
	DecidedBy   string    `dynamodbav:"decidedBy,omitempty"`
	Comment     string    `dynamodbav:"comment,omitempty"`
	Delivered   bool      `dynamodbav:"delivered"`
	PurgeAt     int64     `dynamodbav:"PurgeAt"` // TTL, well after expiry, so an expired link still says "expired"
}
