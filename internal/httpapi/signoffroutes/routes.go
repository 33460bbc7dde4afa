// Package signoffroutes is the coordinator's sign-off routes. They live
// apart from package httpapi so that the ops API, which imports httpapi,
// does not link the sign-off service and what it reads.
package signoffroutes

import (
	"context"
	"net/http"

	"github.com/cutover/cutover/internal/httpapi"
	"github.com/cutover/cutover/internal/signoff"
)

// Routes are the coordinator's routes. The link token arrives as the
// bearer credential (the page reads it from the link's fragment), so it
// never appears in a URL that a server logs. GET and HEAD only show.
func Routes(svc *signoff.Service) httpapi.Router {
	show := func(ctx context.Context, req httpapi.Request) (httpapi.Response, error) {
		v, err := svc.Show(ctx, httpapi.Bearer(req))
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, v), nil
	}
	return httpapi.Router{
		"GET /signoff":  show,
		"HEAD /signoff": show,
		"POST /signoff": func(ctx context.Context, req httpapi.Request) (httpapi.Response, error) {
			var in signoff.DecideInput
			if err := httpapi.Decode(req, &in); err != nil {
				return httpapi.Response{}, err
			}
			v, err := svc.Decide(ctx, httpapi.Bearer(req), in)
			if err != nil {
				return httpapi.Response{}, err
			}
			return httpapi.JSON(http.StatusOK, v), nil
		},
	}
}
