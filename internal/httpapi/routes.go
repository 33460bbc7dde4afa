package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/signoff"
)

// CustomerRoutes are the routes a customer reaches with the key from their
// invite link. Every route authorises the key against the migration in the
// path first, so one customer's key never opens another's migration.
func CustomerRoutes(svc *migration.Service) Router {
	auth := func(ctx context.Context, req Request) (*cutover.Migration, error) {
		return svc.Authorize(ctx, req.PathParameters["id"], Bearer(req))
	}
	type none struct{}
	return Router{
		"GET /migrations/{id}": customer(auth, http.StatusOK, func(ctx context.Context, m *cutover.Migration, _ none, _ Request) (any, error) {
			audit, err := svc.Audit(ctx, m.ID)
			return map[string]any{"migration": m, "audit": audit}, err
		}),
		"POST /migrations/{id}/uploads": customer(auth, http.StatusCreated, func(ctx context.Context, m *cutover.Migration, in migration.UploadInput, _ Request) (any, error) {
			return svc.StartUpload(ctx, m, in)
		}),
		"POST /migrations/{id}/uploads/{fileId}/complete": customer(auth, http.StatusOK, func(ctx context.Context, m *cutover.Migration, in struct {
			Parts []migration.Part `json:"parts"`
		}, req Request) (any, error) {
			f, err := svc.CompleteUpload(ctx, m, req.PathParameters["fileId"], in.Parts)
			return map[string]any{"file": f}, err
		}),
		"DELETE /migrations/{id}/uploads/{fileId}": customer(auth, http.StatusOK, func(ctx context.Context, m *cutover.Migration, _ none, req Request) (any, error) {
			f, err := svc.RemoveUpload(ctx, m, req.PathParameters["fileId"])
			return map[string]any{"removed": f}, err
		}),
		"POST /migrations/{id}/uploads/{fileId}/parts": customer(auth, http.StatusOK, func(ctx context.Context, m *cutover.Migration, in struct {
			PartNumbers []int `json:"partNumbers"`
		}, req Request) (any, error) {
			parts, err := svc.SignParts(ctx, m, req.PathParameters["fileId"], in.PartNumbers)
			return map[string]any{"parts": parts}, err
		}),
		"PUT /migrations/{id}/uploads/{fileId}/format": customer(auth, http.StatusOK, func(ctx context.Context, m *cutover.Migration, in migration.FileFormatInput, req Request) (any, error) {
			f, err := svc.SetFileFormat(ctx, m, req.PathParameters["fileId"], in)
			return map[string]any{"file": f}, err
		}),
		"GET /migrations/{id}/uploads/{fileId}/parts": customer(auth, http.StatusOK, func(ctx context.Context, m *cutover.Migration, _ none, req Request) (any, error) {
			parts, err := svc.UploadedParts(ctx, m, req.PathParameters["fileId"])
			return map[string]any{"parts": parts}, err
		}),
		"GET /migrations/{id}/proposal": customer(auth, http.StatusOK, func(ctx context.Context, m *cutover.Migration, _ none, _ Request) (any, error) {
			return svc.Propose(ctx, m)
		}),
		"POST /migrations/{id}/submit": customer(auth, http.StatusAccepted, func(ctx context.Context, m *cutover.Migration, _ none, _ Request) (any, error) {
			m, err := svc.Submit(ctx, m)
			return statusOf(m), err
		}),
		"PUT /migrations/{id}/checklist": customer(auth, http.StatusOK, func(ctx context.Context, m *cutover.Migration, in migration.ChecklistInput, _ Request) (any, error) {
			m, err := svc.UpdateChecklist(ctx, m, in)
			if err != nil {
				return nil, err
			}
			return map[string]any{"checklist": m.Checklist, "spotCheckIds": m.SpotCheckIDs}, nil
		}),
		"GET /migrations/{id}/workbook": customer(auth, http.StatusOK, func(ctx context.Context, m *cutover.Migration, _ none, _ Request) (any, error) {
			return svc.Workbook(ctx, m)
		}),
		"GET /migrations/{id}/final-report": customer(auth, http.StatusOK, func(ctx context.Context, m *cutover.Migration, _ none, _ Request) (any, error) {
			return svc.FinalReportFor(ctx, m)
		}),
		"PUT /migrations/{id}/mapping": customer(auth, http.StatusOK, func(ctx context.Context, m *cutover.Migration, in struct {
			Mapping json.RawMessage `json:"mapping"`
		}, _ Request) (any, error) {
			m, err := svc.SaveMapping(ctx, m, in.Mapping)
			if err != nil {
				return nil, err
			}
			return map[string]any{"draftMapping": json.RawMessage(m.DraftMapping)}, nil
		}),
		"PUT /migrations/{id}/review": customer(auth, http.StatusOK, func(ctx context.Context, m *cutover.Migration, in migration.ReviewInput, _ Request) (any, error) {
			m, err := svc.MarkReview(ctx, m, in)
			if err != nil {
				return nil, err
			}
			return map[string]any{"review": m.Review, "open": migration.Unreviewed(m)}, nil
		}),
		"POST /migrations/{id}/request-signoff": customer(auth, http.StatusAccepted, func(ctx context.Context, m *cutover.Migration, _ none, _ Request) (any, error) {
			m, err := svc.RequestSignOff(ctx, m)
			return statusOf(m), err
		}),
		"POST /migrations/{id}/final": customer(auth, http.StatusAccepted, func(ctx context.Context, m *cutover.Migration, in migration.FinalInput, _ Request) (any, error) {
			m, err := svc.SubmitFinal(ctx, m, in)
			if err != nil {
				return nil, err
			}
			return map[string]any{"status": m.Status, "goLiveAt": m.GoLiveAt}, nil
		}),
		"GET /migrations/{id}/final/matches": customer(auth, http.StatusOK, func(ctx context.Context, m *cutover.Migration, _ none, req Request) (any, error) {
			var ids []string
			if q := req.QueryStringParameters["fileIds"]; q != "" {
				ids = strings.Split(q, ",")
			}
			return svc.MatchFinal(ctx, m, ids)
		}),
		"GET /migrations/{id}/final/preflight": customer(auth, http.StatusOK, func(ctx context.Context, m *cutover.Migration, _ none, _ Request) (any, error) {
			return svc.PreflightFor(ctx, m)
		}),
		"POST /migrations/{id}/final/withdraw": customer(auth, http.StatusAccepted, func(ctx context.Context, m *cutover.Migration, _ none, _ Request) (any, error) {
			m, err := svc.WithdrawFinal(ctx, m)
			return statusOf(m), err
		}),
	}
}

// customer adapts an action on the caller's own migration: authorise, read
// the JSON body into In, act, answer status with the action's result.
func customer[In any](auth func(context.Context, Request) (*cutover.Migration, error), status int,
	act func(ctx context.Context, m *cutover.Migration, in In, req Request) (any, error)) HandlerFunc {
	return func(ctx context.Context, req Request) (Response, error) {
		m, err := auth(ctx, req)
		if err != nil {
			return Response{}, err
		}
		var in In
		if err := Decode(req, &in); err != nil {
			return Response{}, err
		}
		out, err := act(ctx, m, in, req)
		if err != nil {
			return Response{}, err
		}
		return JSON(status, out), nil
	}
}

// statusOf is the answer to a step the customer started.
func statusOf(m *cutover.Migration) any {
	if m == nil {
		return nil
	}
	return map[string]any{"status": m.Status, "round": m.Round}
}

// OpsRoutes are the vendor staff's routes, behind the JWT authorizer.
func OpsRoutes(svc *migration.Service) Router {
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
			detail := map[string]any{"migration": m, "audit": audit, "chunks": chunks, "mail": mail, "execution": nil}
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
			return JSON(http.StatusAccepted, statusOf(m)), nil
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

// SignOffRoutes are the coordinator's routes. The link token arrives as the
// bearer credential (the page reads it from the link's fragment), so it
// never appears in a URL that a server logs. GET and HEAD only show.
func SignOffRoutes(svc *signoff.Service) Router {
	show := func(ctx context.Context, req Request) (Response, error) {
		v, err := svc.Show(ctx, Bearer(req))
		if err != nil {
			return Response{}, err
		}
		return JSON(http.StatusOK, v), nil
	}
	return Router{
		"GET /signoff":  show,
		"HEAD /signoff": show,
		"POST /signoff": func(ctx context.Context, req Request) (Response, error) {
			var in signoff.DecideInput
			if err := Decode(req, &in); err != nil {
				return Response{}, err
			}
			v, err := svc.Decide(ctx, Bearer(req), in)
			if err != nil {
				return Response{}, err
			}
			return JSON(http.StatusOK, v), nil
		},
	}
}
