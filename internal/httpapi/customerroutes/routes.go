// Package customerroutes is the customer API's routes. They live apart from
// package httpapi because they reach the engine's services (the mapping,
// the workbook, the final extract): the ops API, which imports httpapi,
// then links no part of the mapping engine.
package customerroutes

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/httpapi"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/migration/engine"
)

// Routes are the routes a customer reaches with the key from their
// invite link. Every route authorises the key against the migration in the
// path first, so one customer's key never opens another's migration.
//
// browse serves the TEST records of the round under review (GET
// …/test-records?q=&cursor=&limit=); see migration.TestBrowser.
func Routes(svc *migration.Customer, rows *engine.Customer, browse *migration.TestBrowser) httpapi.Router {
	auth := func(ctx context.Context, req httpapi.Request) (*cutover.Migration, error) {
		return svc.Authorize(ctx, req.PathParameters["id"], httpapi.Bearer(req))
	}
	type none struct{}
	return httpapi.Router{
		"GET /migrations/{id}": customer(auth, http.StatusOK, func(ctx context.Context, m *cutover.Migration, _ none, _ httpapi.Request) (any, error) {
			audit, err := svc.Audit(ctx, m.ID)
			return map[string]any{"migration": m, "audit": audit}, err
		}),
		"POST /migrations/{id}/uploads": customer(auth, http.StatusCreated, func(ctx context.Context, m *cutover.Migration, in migration.UploadInput, _ httpapi.Request) (any, error) {
			return svc.StartUpload(ctx, m, in)
		}),
		"POST /migrations/{id}/uploads/{fileId}/complete": customer(auth, http.StatusOK, func(ctx context.Context, m *cutover.Migration, in struct {
			Parts []migration.Part `json:"parts"`
		}, req httpapi.Request,
		) (any, error) {
			f, err := rows.CompleteUpload(ctx, m, req.PathParameters["fileId"], in.Parts)
			return map[string]any{"file": f}, err
		}),
		"DELETE /migrations/{id}/uploads/{fileId}": customer(auth, http.StatusOK, func(ctx context.Context, m *cutover.Migration, _ none, req httpapi.Request) (any, error) {
			f, err := svc.RemoveUpload(ctx, m, req.PathParameters["fileId"])
			return map[string]any{"removed": f}, err
		}),
		"POST /migrations/{id}/uploads/{fileId}/parts": customer(auth, http.StatusOK, func(ctx context.Context, m *cutover.Migration, in struct {
			PartNumbers []int `json:"partNumbers"`
		}, req httpapi.Request,
		) (any, error) {
			parts, err := svc.SignParts(ctx, m, req.PathParameters["fileId"], in.PartNumbers)
			return map[string]any{"parts": parts}, err
		}),
		"PUT /migrations/{id}/uploads/{fileId}/format": customer(auth, http.StatusOK, func(ctx context.Context, m *cutover.Migration, in engine.FileFormatInput, req httpapi.Request) (any, error) {
			f, err := rows.SetFileFormat(ctx, m, req.PathParameters["fileId"], in)
			return map[string]any{"file": f}, err
		}),
		"GET /migrations/{id}/uploads/{fileId}/parts": customer(auth, http.StatusOK, func(ctx context.Context, m *cutover.Migration, _ none, req httpapi.Request) (any, error) {
			parts, err := svc.UploadedParts(ctx, m, req.PathParameters["fileId"])
			return map[string]any{"parts": parts}, err
		}),
		"GET /migrations/{id}/proposal": customer(auth, http.StatusOK, func(ctx context.Context, m *cutover.Migration, _ none, _ httpapi.Request) (any, error) {
			return rows.Propose(ctx, m)
		}),
		"POST /migrations/{id}/submit": customer(auth, http.StatusAccepted, func(ctx context.Context, m *cutover.Migration, _ none, _ httpapi.Request) (any, error) {
			m, err := svc.Submit(ctx, m)
			return httpapi.RoundStatus(m), err
		}),
		"PUT /migrations/{id}/checklist": customer(auth, http.StatusOK, func(ctx context.Context, m *cutover.Migration, in migration.ChecklistInput, _ httpapi.Request) (any, error) {
			m, err := svc.UpdateChecklist(ctx, m, in)
			if err != nil {
				return nil, err
			}
			return map[string]any{"checklist": m.Checklist, "spotCheckIds": m.SpotCheckIDs}, nil
		}),
		"GET /migrations/{id}/workbook": customer(auth, http.StatusOK, func(ctx context.Context, m *cutover.Migration, _ none, _ httpapi.Request) (any, error) {
			return rows.Workbook(ctx, m)
		}),
		"GET /migrations/{id}/test-records": customer(auth, http.StatusOK, func(ctx context.Context, m *cutover.Migration, _ none, req httpapi.Request) (any, error) {
			in, err := browseInput(req.QueryStringParameters)
			if err != nil {
				return nil, err
			}
			return browse.Browse(ctx, m, in)
		}),
		"GET /migrations/{id}/final-report": customer(auth, http.StatusOK, func(ctx context.Context, m *cutover.Migration, _ none, _ httpapi.Request) (any, error) {
			return rows.FinalReportFor(ctx, m)
		}),
		"PUT /migrations/{id}/mapping": customer(auth, http.StatusOK, func(ctx context.Context, m *cutover.Migration, in struct {
			Mapping json.RawMessage `json:"mapping"`
		}, _ httpapi.Request,
		) (any, error) {
			m, err := rows.SaveMapping(ctx, m, in.Mapping)
			if err != nil {
				return nil, err
			}
			return map[string]any{"draftMapping": json.RawMessage(m.DraftMapping)}, nil
		}),
		"PUT /migrations/{id}/review": customer(auth, http.StatusOK, func(ctx context.Context, m *cutover.Migration, in migration.ReviewInput, _ httpapi.Request) (any, error) {
			m, err := svc.MarkReview(ctx, m, in)
			if err != nil {
				return nil, err
			}
			return map[string]any{"review": m.Review, "open": migration.Unreviewed(m)}, nil
		}),
		"POST /migrations/{id}/request-signoff": customer(auth, http.StatusAccepted, func(ctx context.Context, m *cutover.Migration, _ none, _ httpapi.Request) (any, error) {
			m, err := svc.RequestSignOff(ctx, m)
			return httpapi.RoundStatus(m), err
		}),
		"POST /migrations/{id}/final": customer(auth, http.StatusAccepted, func(ctx context.Context, m *cutover.Migration, in engine.FinalInput, _ httpapi.Request) (any, error) {
			m, err := rows.SubmitFinal(ctx, m, in)
			if err != nil {
				return nil, err
			}
			return map[string]any{"status": m.Status, "goLiveAt": m.GoLiveAt}, nil
		}),
		"GET /migrations/{id}/final/matches": customer(auth, http.StatusOK, func(ctx context.Context, m *cutover.Migration, _ none, req httpapi.Request) (any, error) {
			var ids []string
			if q := req.QueryStringParameters["fileIds"]; q != "" {
				ids = strings.Split(q, ",")
			}
			return rows.MatchFinal(ctx, m, ids)
		}),
		"GET /migrations/{id}/final/preflight": customer(auth, http.StatusOK, func(ctx context.Context, m *cutover.Migration, _ none, _ httpapi.Request) (any, error) {
			return rows.PreflightFor(ctx, m)
		}),
		"POST /migrations/{id}/final/withdraw": customer(auth, http.StatusAccepted, func(ctx context.Context, m *cutover.Migration, _ none, _ httpapi.Request) (any, error) {
			m, err := rows.WithdrawFinal(ctx, m)
			return httpapi.RoundStatus(m), err
		}),
	}
}

// customer adapts an action on the caller's own migration: authorise, read
// the httpapi.JSON body into In, act, answer status with the action's result.
func customer[In any](auth func(context.Context, httpapi.Request) (*cutover.Migration, error), status int,
	act func(ctx context.Context, m *cutover.Migration, in In, req httpapi.Request) (any, error),
) httpapi.HandlerFunc {
	return func(ctx context.Context, req httpapi.Request) (httpapi.Response, error) {
		m, err := auth(ctx, req)
		if err != nil {
			return httpapi.Response{}, err
		}
		var in In
		if err := httpapi.Decode(req, &in); err != nil {
			return httpapi.Response{}, err
		}
		out, err := act(ctx, m, in, req)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(status, out), nil
	}
}

// browseInput reads a TEST records request's query string: q (the
// search), cursor (the previous answer's next) and limit (the page size).
//
// Errors: EINVALID when limit is not a whole number.
func browseInput(q map[string]string) (migration.BrowseInput, error) {
	in := migration.BrowseInput{Query: q["q"], Cursor: q["cursor"]}
	if l := q["limit"]; l != "" {
		n, err := strconv.Atoi(l)
		if err != nil {
			return in, cutover.Errorf(cutover.EINVALID, "The page size (limit) must be a whole number, such as 25.")
		}
		in.Limit = n
	}
	return in, nil
}
