package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cutover/cutover/internal/cutover"
)

func req(routeKey, method string) Request {
	return Request{RouteKey: routeKey, RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method}}}
}

func decodeErr(t *testing.T, r Response) (code, msg string) {
	t.Helper()
	var body struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
		t.Fatalf("body %q: %v", r.Body, err)
	}
	return body.Error.Code, body.Error.Message
}

func TestRouterMapsErrorsWithoutLeakingThem(t *testing.T) {
	rt := Router{
		"GET /conflict": func(context.Context, Request) (Response, error) {
			return Response{}, cutover.Wrap(cutover.ECONFLICT, errors.New("dynamo said XYZ"), "Already live.")
		},
		"GET /raw": func(context.Context, Request) (Response, error) {
			return Response{}, errors.New("secret table name arn:aws:dynamodb:xyz")
		},
		"GET /panic": func(context.Context, Request) (Response, error) { panic("boom") },
	}
	for route, want := range map[string]struct {
		status int
		code   string
	}{
		"GET /conflict": {http.StatusConflict, cutover.ECONFLICT},
		"GET /raw":      {http.StatusInternalServerError, cutover.EINTERNAL},
		"GET /panic":    {http.StatusInternalServerError, cutover.EINTERNAL},
		"GET /nowhere":  {http.StatusNotFound, cutover.ENOTFOUND},
	} {
		resp, err := rt.Handle(context.Background(), req(route, "GET"))
		if err != nil {
			t.Fatalf("%s: Handle returned %v", route, err)
		}
		code, msg := decodeErr(t, resp)
		if resp.StatusCode != want.status || code != want.code {
			t.Errorf("%s: %d %s, want %d %s", route, resp.StatusCode, code, want.status, want.code)
		}
		if strings.Contains(resp.Body, "XYZ") || strings.Contains(resp.Body, "arn:") || strings.Contains(msg, "boom") {
			t.Errorf("%s leaked internals: %s", route, resp.Body)
		}
	}
}

func TestStatusOfCoversEveryCode(t *testing.T) {
	seen := map[int]string{}
	for _, c := range []string{cutover.ECONFLICT, cutover.EFORBIDDEN, cutover.EGONE, cutover.EINTERNAL, cutover.EINVALID, cutover.ENOTFOUND, cutover.EUNAUTHORIZED, cutover.EUNAVAILABLE} {
		s := StatusOf(c)
		if prev, dup := seen[s]; dup {
			t.Errorf("%s and %s both map to %d", prev, c, s)
		}
		seen[s] = c
	}
}

func TestHeadHasNoBody(t *testing.T) {
	rt := Router{"HEAD /x": func(context.Context, Request) (Response, error) { return JSON(200, map[string]int{"a": 1}), nil }}
	resp, _ := rt.Handle(context.Background(), req("HEAD /x", "HEAD"))
	if resp.StatusCode != 200 || resp.Body != "" {
		t.Fatalf("HEAD = %d %q", resp.StatusCode, resp.Body)
	}
}

func TestDecode(t *testing.T) {
	var v struct {
		A int `json:"a"`
	}
	for body, ok := range map[string]bool{`{"a":1}`: true, ``: true, `{"a":"x"}`: false, `{"b":1}`: false, `{`: false, strings.Repeat(" ", MaxBody+1): false} {
		err := Decode(Request{Body: body}, &v)
		if (err == nil) != ok || (err != nil && cutover.ErrorCode(err) != cutover.EINVALID) {
			t.Errorf("Decode(%.20q) = %v", body, err)
		}
	}
}

func TestOpsRoutesRefuseRequestsWithoutClaims(t *testing.T) {
	resp, _ := OpsRoutes(nil).Handle(context.Background(), req("GET /ops/migrations", "GET"))
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status = %d", resp.StatusCode)
	}
}
