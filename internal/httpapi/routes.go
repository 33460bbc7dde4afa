package httpapi

import (
	"context"
	"net/http"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
)

// RoundStatus is the answer to a step someone started: the migration's
// status and round.
func RoundStatus(m *cutover.Migration) any {
	if m == nil {
		return nil
	}
	return map[string]any{"status": m.Status, "round": m.Round}
}

// OpsRoutes are the vendor staff's routes, behind the JWT authorizer.
func OpsRoutes(svc *migration.Ops) Router {
	return Router{
		"POST /ops/migrations": func(ctx context.Context, req Request) (Response, error) {
			actor, err := opsActor(req)
			if err != nil {
				return Response{}, err
			}
			var in migration.CreateInput
			if err := Decode(req, &in); err != nil {
				return Response{}, err
			}
			created, err := svc.Create(ctx, actor, in)
			if err != nil {
				return Response{}, err
			}
			return JSON(http.StatusCreated, created), nil
		},
		"GET /ops/migrations": func(ctx context.Context, req Request) (Response, error) {
			if _, err := opsActor(req); err != nil {
				return Response{}, err
			}
			ms, err := svc.List(ctx)
			if err != nil {
				return Response{}, err
			}
			return JSON(http.StatusOK, map[string]any{"migrations": ms}), nil
		},
		"GET /ops/migrations/{id}": func(ctx context.Context, req Request) (Response, error) {
			if _, err := opsActor(req); err != nil {
				return Response{}, err
			}
			m, err := svc.Get(ctx, req.PathParameters["id"])
			if err != nil {
				return Response{}, err
			}
			audit, err := svc.Audit(ctx, m.ID)
			if err != nil {
				return Response{}, err
			}
			chunks, err := svc.FinalChunks(ctx, m.ID)
			if err != nil {
				return Response{}, err
			}
			mail, err := svc.MailFor(ctx, m.ID)
			if err != nil {
				return Response{}, err
			}
			events, err := svc.EventsFor(ctx, m.ID)
			if err != nil {
				return Response{}, err
			}
			detail := map[string]any{"migration": m, "audit": audit, "chunks": chunks, "mail": mail, "events": events, "execution": nil}
			// The execution is a view into Step Functions: the detail is
			// still served when it cannot be read (throttling, say).
			if exec, err := svc.Execution(ctx, m); err != nil {
				detail["executionError"] = cutover.ErrorMessage(err)
			} else {
				detail["execution"] = exec
			}
			return JSON(http.StatusOK, detail), nil
		},
		"POST /ops/migrations/{id}/invite": func(ctx context.Context, req Request) (Response, error) {
			actor, err := opsActor(req)
			if err != nil {
				return Response{}, err
			}
			created, err := svc.ReissueInvite(ctx, actor, req.PathParameters["id"])
			if err != nil {
				return Response{}, err
			}
			return JSON(http.StatusCreated, created), nil
		},
		"POST /ops/migrations/{id}/retry": func(ctx context.Context, req Request) (Response, error) {
			actor, err := opsActor(req)
			if err != nil {
				return Response{}, err
			}
			m, err := svc.Retry(ctx, req.PathParameters["id"], actor)
			if err != nil {
				return Response{}, err
			}
			return JSON(http.StatusAccepted, RoundStatus(m)), nil
		},
	}
}

// opsActor names the ops user from the claims the JWT authorizer validated.
// A request without them never passed the authorizer and is refused.
func opsActor(req Request) (string, error) {
	if a := req.RequestContext.Authorizer; a != nil && a.JWT != nil {
		for _, c := range []string{"email", "sub"} {
			if v := a.JWT.Claims[c]; v != "" {
				return "ops:" + v, nil
			}
		}
	}
	return "", cutover.Errorf(cutover.EUNAUTHORIZED, "Ops routes need an ops sign-in.")
}
