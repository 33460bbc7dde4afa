// Package cutover holds the domain types shared by every part of the
// service: migrations, their files, counts and audit trail, records, and the
// one application error type. It has no AWS types and no I/O.
package cutover

import (
	"errors"
	"fmt"
)

// Application error codes. Each maps to exactly one HTTP status, in one
// place (internal/httpapi), and to one named step error (internal/lambdastep).
const (
	ECONFLICT     = "conflict"     // the request clashes with the current state
	EFORBIDDEN    = "forbidden"    // authenticated, but not for this resource
	EGONE         = "gone"         // existed once, no longer usable (expired, superseded)
	EINTERNAL     = "internal"     // a bug or an unexpected failure
	EINVALID      = "invalid"      // the input is wrong; the message says how
	ENOTFOUND     = "not_found"    // no such thing (or not visible to the caller)
	EUNAUTHORIZED = "unauthorized" // no credential, or an unusable one
	EUNAVAILABLE  = "unavailable"  // a dependency failed transiently; retrying may work
)

// Error is the application error. Message is written for the person who
// sees it and is safe to show to a client; Err is the underlying cause, kept
// for logs and never shown.
type Error struct {
	Code    string
	Message string
	Err     error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an application error with a formatted, client-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an application error carrying cause for the logs.
func Wrap(code string, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: cause}
}

// ErrorCode returns the code of the application error in err's chain, or
// EINTERNAL when there is none. A nil err has no code.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of the application error in
// err's chain, or a generic message for anything else: raw error text never
// reaches a client.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "An internal error occurred. It has been logged."
}
