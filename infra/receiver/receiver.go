// Package receiver is the reference receiver of the destination contract
// (internal/destination, openapi.yaml): "the product being joined", run
// locally. It verifies every request's Standard Webhooks signature, honours
// idempotency keys, stores records in SQLite keyed by tenant, environment
// and record id (a record delivered twice is reported "exists" and never
// stored twice), answers counts with the same id checksum the sender
// computes, and injects faults on demand (Faults) so the sender's retries
// and read-back can be tested against a real server. infra/cmd/receiver
// runs it.
package receiver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination"
)

// Defaults of Options: the contract's limits of one batch.
const (
	DefaultMaxBytes   = 1 << 20 // 1 MB
	DefaultMaxRecords = 1000
)

// Options configure a receiver; the zero value is the contract's limits,
// no faults and slog's default logger.
type Options struct {
	MaxBytes   int64 // a bigger body is refused with 413
	MaxRecords int   // a batch with more records is refused with 413
	Faults     Faults
	Logger     *slog.Logger
	// EventsKey is the API key lifecycle events must carry in
	// EventsKeyHeader (events.go); "" refuses every event.
	EventsKey string
}

// Handler is the receiver's HTTP handler.
type Handler struct {
	key    []byte
	store  *Store
	opts   Options
	faults faultState
	mux    *http.ServeMux
}

var _ http.Handler = (*Handler)(nil)

// New returns the receiver for requests signed with key (a decoded
// destination.Key), storing in store.
func New(key []byte, store *Store, opts Options) *Handler {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxRecords <= 0 {
		opts.MaxRecords = DefaultMaxRecords
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	h := &Handler{key: key, store: store, opts: opts, mux: http.NewServeMux()}
	h.faults.set(opts.Faults)
	h.mux.HandleFunc("POST /tenants/{tenantId}/records", h.records)
	h.mux.HandleFunc("GET /tenants/{tenantId}/migrations/{migrationId}/counts", h.counts)
	h.mux.HandleFunc("GET /admin/faults", h.adminOnly(h.getFaults))
	h.mux.HandleFunc("POST /admin/faults", h.adminOnly(h.setFaults))
	h.mux.HandleFunc("DELETE /admin/faults", h.adminOnly(h.clearFaults))
	h.mux.HandleFunc("GET /records", h.listRecords)
	h.mux.HandleFunc("POST /events", h.event)
	h.mux.HandleFunc("GET /events", h.listEvents)
	h.mux.HandleFunc("GET /{$}", h.page)
	h.mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, codeNotFound, "There is no such endpoint; openapi.yaml in internal/destination lists them.")
	})
	return h
}

// ServeHTTP serves the contract's endpoints, the admin endpoint and the
// listing, and logs each request (method, route, status; never a body).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	start := time.Now()
	h.mux.ServeHTTP(sw, r)
	_, route := h.mux.Handler(r)
	h.opts.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("method", r.Method), slog.String("route", route), slog.Int("status", sw.status),
		slog.Duration("took", time.Since(start)))
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// Error codes of the receiver's {"error":{"code","message"}} answers, as
// openapi.yaml lists them.
const (
	codeInvalid     = "invalid"
	codeUnsigned    = "unauthorized"
	codeTooLarge    = "too_large"
	codeKeyReused   = "idempotency_key_reused"
	codeRateLimited = "rate_limited"
	codeInternal    = "internal"
	codeForbidden   = "forbidden"
	codeNotFound    = "not_found"
)

// writeError is the one place an error becomes an answer.
func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"the answer could not be written"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// readSigned reads a request's body (at most MaxBytes) and verifies its
// signature, answering the error itself when either fails.
func (h *Handler) readSigned(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, codeTooLarge,
			"The batch is over "+strconv.FormatInt(h.opts.MaxBytes, 10)+" bytes; send fewer records per batch.")
		return nil, false
	case err != nil:
		writeError(w, http.StatusBadRequest, codeInvalid, "The request's body could not be read.")
		return nil, false
	}
	if destination.Verify(h.key, r.Header, body, time.Now()) != nil {
		writeError(w, http.StatusUnauthorized, codeUnsigned,
			"The request is not signed with this destination's secret, or its webhook-timestamp is more than 5 minutes from now.")
		return nil, false
	}
	return body, true
}

// records receives one batch (POST /tenants/{tenantId}/records).
func (h *Handler) records(w http.ResponseWriter, r *http.Request) {
	body, ok := h.readSigned(w, r)
	if !ok {
		return
	}
	// Numbers stay as written (json.Number): money is an exact decimal and
	// is stored as sent, never rounded through a float.
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var b destination.Batch
	if err := dec.Decode(&b); err != nil {
		writeError(w, http.StatusBadRequest, codeInvalid, "The body is not a batch in JSON: "+err.Error())
		return
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, codeInvalid, "The body has data after the batch's JSON.")
		return
	}
	if status, msg := h.check(r, b); status != 0 {
		code := codeInvalid
		if status == http.StatusRequestEntityTooLarge {
			code = codeTooLarge
		}
		writeError(w, status, code, msg)
		return
	}
	f := h.faults.draw()
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	switch {
	case f.retryAfter > 0:
		w.Header().Set("Retry-After", strconv.Itoa(f.retryAfter))
		writeError(w, http.StatusTooManyRequests, codeRateLimited, "Too many requests (an injected fault); retry after the Retry-After seconds.")
		return
	case f.fail:
		writeError(w, http.StatusInternalServerError, codeInternal, "The receiver failed (an injected fault); nothing was stored.")
		return
	}
	sum := sha256.Sum256(body)
	d := delivery{batch: b, bodyHash: hex.EncodeToString(sum[:]), forget: f.forget, reject: map[string]string{}}
	for _, rec := range b.Records {
		if reason, ok := f.reject(rec.ID, rec.SourceID); ok {
			d.reject[rec.ID] = reason
		}
	}
	// A sender that gave up on a slow answer does not stop the batch: the
	// records land anyway, as they would in a real product.
	answer, err := h.store.deliver(context.WithoutCancel(r.Context()), d)
	switch {
	case errors.Is(err, errKeyReused):
		writeError(w, http.StatusUnprocessableEntity, codeKeyReused,
			"This Idempotency-Key was used before with another body; a retry must send the same batch byte for byte.")
	case err != nil:
		h.opts.Logger.Error("store a batch", "err", err.Error())
		writeError(w, http.StatusInternalServerError, codeInternal, "The batch could not be stored; nothing was stored, retry it.")
	case f.forget:
		writeError(w, http.StatusInternalServerError, codeInternal, "The batch was stored but its answer was lost (an injected fault); retry it.")
	default:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(answer)
	}
}

// check returns the status and message refusing b, or 0 when b is a batch
// this receiver takes.
func (h *Handler) check(r *http.Request, b destination.Batch) (int, string) {
	key := r.Header.Get(destination.HeaderIdempotencyKey)
	switch {
	case key == "":
		return http.StatusBadRequest, "The Idempotency-Key header is missing; it carries the batch's batchId."
	case key != b.ID:
		return http.StatusBadRequest, "The Idempotency-Key header is not the batch's batchId."
	case b.TenantID != r.PathValue("tenantId"):
		return http.StatusBadRequest, "The batch's tenantId is not the tenant in the URL."
	case b.MigrationID == "":
		return http.StatusBadRequest, "The batch has no migrationId."
	case b.Environment != cutover.EnvTest && b.Environment != cutover.EnvLive:
		return http.StatusBadRequest, `The batch's environment is "test" or "live".`
	case b.Environment == cutover.EnvTest && b.Round < 1:
		return http.StatusBadRequest, "A test batch names its round (1 or more)."
	case b.Environment == cutover.EnvLive && b.Round != 0:
		return http.StatusBadRequest, "A live batch has round 0."
	case len(b.Records) == 0:
		return http.StatusBadRequest, "The batch has no records."
	case len(b.Records) > h.opts.MaxRecords:
		return http.StatusRequestEntityTooLarge, "The batch has " + strconv.Itoa(len(b.Records)) +
			" records; this receiver takes at most " + strconv.Itoa(h.opts.MaxRecords) + " per batch."
	}
	for i, rec := range b.Records {
		if rec.ID == "" || rec.Entity == "" {
			return http.StatusBadRequest, "Record " + strconv.Itoa(i+1) + " of the batch has no id or no entity."
		}
	}
	return 0, ""
}

// counts answers a read-back (GET
// /tenants/{tenantId}/migrations/{migrationId}/counts?environment=&round=).
func (h *Handler) counts(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.readSigned(w, r); !ok {
		return
	}
	t := cutover.Target{Env: r.URL.Query().Get("environment"), TenantID: r.PathValue("tenantId"), MigrationID: r.PathValue("migrationId")}
	if t.Env != cutover.EnvTest && t.Env != cutover.EnvLive {
		writeError(w, http.StatusBadRequest, codeInvalid, `The environment query parameter is "test" or "live".`)
		return
	}
	if q := r.URL.Query().Get("round"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, codeInvalid, "The round query parameter is a whole number.")
			return
		}
		t.Round = n
	}
	held, err := h.store.holdings(r.Context(), t)
	if err != nil {
		h.opts.Logger.Error("count records", "err", err.Error())
		writeError(w, http.StatusInternalServerError, codeInternal, "The records could not be counted; retry.")
		return
	}
	for entity, c := range held {
		if h.faults.plusOne(entity) {
			c.Count++
			held[entity] = c
		}
	}
	writeJSON(w, http.StatusOK, destination.Counts{Entities: held})
}

// adminOnly serves the admin endpoint to the receiver's own machine only:
// it is not signed, so it must not be reachable from elsewhere even when
// the receiver listens on every interface.
func (h *Handler) adminOnly(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			writeError(w, http.StatusForbidden, codeForbidden, "The admin endpoint answers requests from this machine only.")
			return
		}
		next(w, r)
	}
}

func (h *Handler) getFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, h.faults.get())
}

// setFaults replaces the faults with the body's (POST /admin/faults).
func (h *Handler) setFaults(w http.ResponseWriter, r *http.Request) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	var f Faults
	if err := dec.Decode(&f); err != nil {
		writeError(w, http.StatusBadRequest, codeInvalid, "The faults are not valid JSON of the documented fields: "+err.Error())
		return
	}
	if err := f.Validate(); err != nil {
		writeError(w, http.StatusBadRequest, codeInvalid, err.Error())
		return
	}
	h.faults.set(f)
	h.opts.Logger.Info("faults set", "tooManyRequests", f.TooManyRequests, "serverErrors", f.ServerErrors,
		"slow", f.Slow, "duplicates", f.Duplicates, "rejects", len(f.RejectIDs)+len(f.RejectSourceIDs), "countPlusOne", len(f.CountPlusOne))
	writeJSON(w, http.StatusOK, f)
}

func (h *Handler) clearFaults(w http.ResponseWriter, _ *http.Request) {
	h.faults.set(Faults{})
	writeJSON(w, http.StatusOK, Faults{})
}
