package eventbus

import "context"

// API is the one EventBridge operation the bus uses, PutEvents, in the
// adapter's own small types: its implementation (Client) signs and sends
// the request itself, and a test fakes it with a function.
type API interface {
	// PutEvents puts entries on their bus and returns one result per entry.
	PutEvents(ctx context.Context, entries []Entry) ([]Result, error)
}

// Entry is one PutEvents request entry.
type Entry struct {
	EventBusName string `json:"EventBusName"`
	Source       string `json:"Source"`
	DetailType   string `json:"DetailType"`
	Detail       string `json:"Detail"`
	Time         int64  `json:"Time"` // seconds since the epoch, as the JSON protocol sends a timestamp
}

// Result is one PutEvents result entry: the event's id, or why it failed.
type Result struct {
	EventID      string `json:"EventId"`
	ErrorCode    string `json:"ErrorCode"`
	ErrorMessage string `json:"ErrorMessage"`
}
