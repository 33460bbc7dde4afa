package lambdarunner

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

const runtimePrefix = "/runtime/{fn}/{gen}/2018-06-01/runtime"

func (r *Runner) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /invoke/{fn}", r.handleInvoke)
	mux.HandleFunc("POST /failed/{fn}/{errorType}", r.handleFailed)
	mux.HandleFunc("GET "+runtimePrefix+"/invocation/next", r.handleNext)
	mux.HandleFunc("POST "+runtimePrefix+"/invocation/{id}/response", r.handleResponse)
	mux.HandleFunc("POST "+runtimePrefix+"/invocation/{id}/error", r.handleError)
	mux.HandleFunc("POST "+runtimePrefix+"/init/error", r.handleInitError)

	return mux
}

// runtimeError is the Runtime API's error document, which functions also
// post to /error.
type runtimeError struct {
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// handleInvoke is a function's invoke endpoint: it queues the payload for the
// function's process and answers with the result, or fails the exchange.
func (r *Runner) handleInvoke(w http.ResponseWriter, req *http.Request) {
	f, ok := r.function(req.PathValue("fn"))
	if !ok {
		http.NotFound(w, req)

		return
	}

	inv := newInvocation(uuid.NewString(), nil)

	payload, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxPayload))
	if err != nil {
		kind, msg := "RequestNotRead", "the invocation payload could not be read"
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			kind, msg = "RequestTooLarge", fmt.Sprintf("invocation payload is over the %d byte limit", maxPayload)
		}
		r.complete(f, inv, outcome{failed: true, errorType: kind, errorMessage: msg})
		r.fail(w, req, f, kind)

		return
	}

	inv.payload = payload

	if !r.enqueue(req, f, inv) {
		return
	}

	select {
	case o := <-inv.result:
		if o.failed {
			r.fail(w, req, f, o.errorType)

			return
		}

		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(o.payload)
	case <-req.Context().Done():
		// The caller gave up; the invocation still runs to its end.
	}
}

// enqueue hands inv to one of the function's processes, starting one for
// it when every process is busy and the function may have more (see the
// package documentation). It reports false when the caller is gone; when
// the invocation cannot be handed over it is completed as failed and true
// is returned, so the caller reads the outcome.
//
// Invocations beyond the function's processes queue behind the ones
// running: the wait for a pickup allows for the function's own timeout.
func (r *Runner) enqueue(req *http.Request, f *fnState, inv *invocation) bool {
	if gen := f.queued(); gen != 0 {
		r.spawn(f, gen)
	}

	wait := f.spec.Timeout + pickupTimeout
	pickup := time.NewTimer(wait)
	defer pickup.Stop()

	select {
	case f.queue <- inv:
		return true // the process that took it counted it off the queue
	case <-f.initFailure():
		r.complete(f, inv, outcome{
			failed: true, errorType: "Runtime.InitError",
			errorMessage: "the function's process failed before it asked for an invocation: " + f.lastInitFailure(),
		})
	case <-pickup.C:
		r.complete(f, inv, outcome{
			failed: true, errorType: "Runtime.Unavailable",
			errorMessage: fmt.Sprintf("no function process took the invocation within %s", wait),
		})
	case <-r.closing:
		r.complete(f, inv, outcome{
			failed: true, errorType: "Runtime.Unavailable",
			errorMessage: "the local function runner is shutting down",
		})
	case <-req.Context().Done():
		f.unqueued()

		return false
	}

	f.unqueued()

	return true
}

// fail makes the caller's HTTP exchange fail (see the package
// documentation): a redirect to /failed/..., whose connection is then closed
// without an answer.
func (r *Runner) fail(w http.ResponseWriter, req *http.Request, f *fnState, errorType string) {
	target := "/failed/" + url.PathEscape(f.spec.Name) + "/" + url.PathEscape(sanitizeErrorType(errorType))
	http.Redirect(w, req, target, http.StatusTemporaryRedirect)
}

// handleFailed closes the connection without answering.
func (r *Runner) handleFailed(w http.ResponseWriter, req *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(req.Body, maxPayload))

	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}

	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}

	_ = conn.Close()
}

// sanitizeErrorType keeps an error type usable as a path segment.
func sanitizeErrorType(s string) string {
	out := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		default:
			return -1
		}
	}, s)

	if len(out) > 64 {
		out = out[:64]
	}

	if out == "" {
		return "Unhandled"
	}

	return out
}

// runtimeTarget resolves the function and process generation of a Runtime
// API request; it answers the request itself and returns false when they
// are unknown or stale.
func (r *Runner) runtimeTarget(w http.ResponseWriter, req *http.Request) (*fnState, int, bool) {
	f, ok := r.function(req.PathValue("fn"))
	gen, err := strconv.Atoi(req.PathValue("gen"))

	if !ok || err != nil {
		writeJSON(w, http.StatusNotFound, runtimeError{ErrorType: "InvalidRuntimeAPIPath", ErrorMessage: "unknown function"})

		return nil, 0, false
	}

	if !f.current(gen) {
		writeJSON(w, http.StatusGone, runtimeError{ErrorType: "StaleProcess", ErrorMessage: "this process has been replaced"})

		return nil, 0, false
	}

	return f, gen, true
}

// invocationTarget resolves the function and the in-progress invocation a
// response or error is posted for, answering the runtime itself when either
// is unknown.
func (r *Runner) invocationTarget(w http.ResponseWriter, req *http.Request) (*fnState, *invocation, bool) {
	f, gen, ok := r.runtimeTarget(w, req)
	if !ok {
		return nil, nil, false
	}

	inv, ok := f.lookup(gen, req.PathValue("id"))
	if !ok {
		writeJSON(w, http.StatusBadRequest, runtimeError{ErrorType: "InvalidRequestID", ErrorMessage: "no such invocation in progress"})

		return nil, nil, false
	}

	return f, inv, true
}

// handleNext long-polls for the function's next invocation.
func (r *Runner) handleNext(w http.ResponseWriter, req *http.Request) {
	f, gen, ok := r.runtimeTarget(w, req)
	if !ok {
		return
	}

	f.polledNext(gen)

	var inv *invocation

	select {
	case inv = <-f.queue:
	case <-req.Context().Done():
		return
	case <-r.closing:
		// The process is being stopped: leave it waiting, as Lambda does,
		// rather than answer with an error it would log.
		select {
		case <-req.Context().Done():
		case <-time.After(stopGrace + time.Second):
		}

		return
	}

	if !f.take(gen, inv) {
		r.complete(f, inv, outcome{
			failed: true, errorType: "Runtime.ExitError",
			errorMessage: "the function's process exited while it was given the invocation",
		})

		return
	}

	deadline := time.Now().Add(f.spec.Timeout)

	inv.mu.Lock()
	inv.timer = time.AfterFunc(f.spec.Timeout, func() {
		delivered := r.complete(f, inv, outcome{
			failed: true, errorType: "Sandbox.Timedout",
			errorMessage: fmt.Sprintf("Task timed out after %.2f seconds", f.spec.Timeout.Seconds()),
		})
		if delivered {
			// Lambda replaces an execution environment that timed out.
			f.killGeneration(gen)
		}
	})
	inv.mu.Unlock()

	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", f.spec.ARN)
	h.Set("Lambda-Runtime-Trace-Id", "Root=1-"+strconv.FormatInt(time.Now().Unix(), 16)+"-"+strings.ReplaceAll(inv.id, "-", "")[:24]+";Sampled=0")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.payload)
}

// handleResponse takes a successful result.
func (r *Runner) handleResponse(w http.ResponseWriter, req *http.Request) {
	f, inv, ok := r.invocationTarget(w, req)
	if !ok {
		return
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxPayload))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			r.complete(f, inv, outcome{
				failed: true, errorType: "Function.ResponseSizeTooLarge",
				errorMessage: fmt.Sprintf("response payload is over the %d byte limit", maxPayload),
			})
			writeJSON(w, http.StatusRequestEntityTooLarge, runtimeError{ErrorType: "RequestEntityTooLarge", ErrorMessage: "response too large"})

			return
		}

		return
	}

	r.complete(f, inv, outcome{payload: body})
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "OK"})
}

// handleError takes a function error.
func (r *Runner) handleError(w http.ResponseWriter, req *http.Request) {
	f, inv, ok := r.invocationTarget(w, req)
	if !ok {
		return
	}

	e := readRuntimeError(req)
	r.complete(f, inv, outcome{failed: true, errorType: e.ErrorType, errorMessage: e.ErrorMessage})
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "OK"})
}

// handleInitError records a function's initialisation error; the process
// exits after reporting it.
func (r *Runner) handleInitError(w http.ResponseWriter, req *http.Request) {
	f, gen, ok := r.runtimeTarget(w, req)
	if !ok {
		return
	}

	e := readRuntimeError(req)
	f.setInitError(gen, e.ErrorType+": "+e.ErrorMessage)
	r.log.Error("function initialisation failed", "function", f.spec.LogicalID,
		"errorType", e.ErrorType, "errorMessage", e.ErrorMessage)
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "OK"})
}

// readRuntimeError reads an error document, taking the type from the
// Lambda-Runtime-Function-Error-Type header when the body has none.
func readRuntimeError(req *http.Request) runtimeError {
	var e runtimeError

	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	_ = json.Unmarshal(body, &e)

	if e.ErrorType == "" {
		e.ErrorType = req.Header.Get("Lambda-Runtime-Function-Error-Type")
	}

	if e.ErrorType == "" {
		e.ErrorType = "Unhandled"
	}

	const maxMessage = 2048
	if len(e.ErrorMessage) > maxMessage {
		e.ErrorMessage = e.ErrorMessage[:maxMessage] + "…"
	}

	return e
}
