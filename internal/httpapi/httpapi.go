// Package httpapi adapts API Gateway HTTP API (payload 2.0) events to the
// application: routing by route key, JSON bodies, bearer credentials, and
// the one place where application error codes become HTTP statuses.
// The ops routes are here; the customer's and the coordinator's are in
// customerroutes and signoffroutes, so that the ops API, which links this
// package, links neither the mapping engine nor the sign-off service.
package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cutover/cutover/internal/cutover"
)

// Request and Response are the HTTP API's payload 2.0 shapes.
type (
	Request  = events.APIGatewayV2HTTPRequest
	Response = events.APIGatewayV2HTTPResponse
)

// HandlerFunc serves one route.
type HandlerFunc func(ctx context.Context, req Request) (Response, error)

// Router dispatches on the route key ("GET /migrations/{id}").
type Router map[string]HandlerFunc

// Handle is the Lambda handler: it routes, turns returned errors into
// responses, and never lets a panic or raw error text reach the client.
// It never returns an error itself.
func (rt Router) Handle(ctx context.Context, req Request) (resp Response, _ error) {
	defer func() {
		if p := recover(); p != nil {
			slog.ErrorContext(ctx, "handler panicked", "route", req.RouteKey, "panic", p)
			resp = Error(ctx, cutover.Errorf(cutover.EINTERNAL, "An internal error occurred. It has been logged."))
		}
	}()
	h, ok := rt[req.RouteKey]
	if !ok {
		return Error(ctx, cutover.Errorf(cutover.ENOTFOUND, "No such route.")), nil
	}
	resp, err := h(ctx, req)
	if err != nil {
		resp = Error(ctx, err)
	}
	if req.RequestContext.HTTP.Method == http.MethodHead {
		resp.Body = ""
	}
	return resp, nil
}

// StatusOf maps an application error code to its HTTP status. This is the
// only place that mapping is made.
func StatusOf(code string) int {
	switch code {
	case cutover.ECONFLICT:
		return http.StatusConflict
	case cutover.EFORBIDDEN:
		return http.StatusForbidden
	case cutover.EGONE:
		return http.StatusGone
	case cutover.EINVALID:
		return http.StatusBadRequest
	case cutover.ENOTFOUND:
		return http.StatusNotFound
	case cutover.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case cutover.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// Error turns err into a JSON error response with a client-safe message,
// logging the cause of internal and transient errors.
func Error(ctx context.Context, err error) Response {
	code := cutover.ErrorCode(err)
	if code == cutover.EINTERNAL || code == cutover.EUNAVAILABLE {
		slog.ErrorContext(ctx, "request failed", "code", code, "error", err.Error())
	}
	body := map[string]any{"error": map[string]string{"code": code, "message": cutover.ErrorMessage(err)}}
	return JSON(StatusOf(code), body)
}

// JSON returns a JSON response. Responses are never cached: they carry
// per-customer state.
func JSON(status int, v any) Response {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"The response could not be encoded."}}`)
	}
	return Response{StatusCode: status, Body: string(b), Headers: map[string]string{
		"Content-Type":           "application/json",
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
	}}
}

// MaxBody is the largest JSON body any route accepts.
const MaxBody = 1 << 20

// Decode reads the JSON body into v, rejecting unknown fields and anything
// but white space after the value: a body is one JSON value, and a client
// that sends more (two values, a stray bracket) has a bug it should hear of.
//
// Errors: EINVALID for an oversized, non-JSON or wrongly shaped body, or
// one with data after the JSON value.
func Decode(req Request, v any) error {
	body := req.Body
	if req.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return cutover.Errorf(cutover.EINVALID, "The request body is not valid base64.")
		}
		body = string(b)
	}
	if len(body) > MaxBody {
		return cutover.Errorf(cutover.EINVALID, "The request body is larger than %d bytes.", MaxBody)
	}
	if strings.TrimSpace(body) == "" {
		body = "{}"
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return cutover.Wrap(cutover.EINVALID, err, "The request body is not the expected JSON: %s.", jsonProblem(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return cutover.Errorf(cutover.EINVALID, "The request body has data after the JSON value; send exactly one JSON object.")
	}
	return nil
}

func jsonProblem(err error) string {
	var ute *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &ute):
		return "field " + ute.Field + " has the wrong type"
	case errors.As(err, &se):
		return "malformed JSON"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return strings.TrimPrefix(err.Error(), "json: ")
	default:
		return "malformed JSON"
	}
}

// Bearer returns the bearer credential of the request, or "".
func Bearer(req Request) string {
	for k, v := range req.Headers {
		if strings.EqualFold(k, "authorization") {
			if tok, ok := strings.CutPrefix(v, "Bearer "); ok {
				return strings.TrimSpace(tok)
			}
		}
	}
	return ""
}
