package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination"
)

// maxAnswerBytes bounds what is read of an answer: a batch's results are
// far smaller, and a destination must not exhaust the function's memory.
const maxAnswerBytes = 16 << 20

// request is one signed request, sent as often as the retry policy allows.
type request struct {
	method, url string
	// msgID is the Standard Webhooks webhook-id: the same on every attempt,
	// as the standard asks of a retried message.
	msgID string
	// idempotencyKey, when set, goes in the Idempotency-Key header.
	idempotencyKey string
	body           []byte
}

// do sends r until the destination answers 2xx, and returns the answer's
// body. Each attempt is signed anew (a fresh timestamp, so a retry after a
// long wait is not refused as a replay) under the same message id. 429,
// 5xx and transport errors are retried after Retry-After when the
// destination sends one, otherwise after a backoff with full jitter.
//
// Errors: EINVALID when the destination refuses the request with another
// 4xx (retrying cannot help) or its answer is too large; EUNAVAILABLE when
// the attempts are spent, ctx ends, or the next wait would outlast ctx's
// deadline or Config.MaxWait.
func (d *Destination) do(ctx context.Context, r request) ([]byte, error) {
	for attempt := 1; ; attempt++ {
		body, status, wait, err := d.try(ctx, r)
		if err == nil && status/100 == 2 {
			return body, nil
		}
		why := "HTTP " + strconv.Itoa(status)
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, cutover.Wrap(cutover.EUNAVAILABLE, err, "The destination could not be reached in the time the delivery had.")
		case err != nil:
			var inv *cutover.Error
			if errors.As(err, &inv) {
				return nil, err
			}
			why = "no answer"
		case status == http.StatusTooManyRequests || status >= 500:
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			return nil, cutover.Errorf(cutover.EINVALID, "The destination refused the request with HTTP %d: check that it and cutover share the signing secret.", status)
		default:
			return nil, cutover.Errorf(cutover.EINVALID, "The destination refused the request with HTTP %d; the contract says this is not worth retrying.", status)
		}
		if attempt >= d.cfg.MaxAttempts {
			return nil, cutover.Wrap(cutover.EUNAVAILABLE, err, "The destination did not accept the request in %d attempts (the last: %s); try again later.", attempt, why)
		}
		if wait < 0 {
			wait = d.jitter(d.backoff(attempt))
		} else if wait > d.cfg.MaxWait {
			return nil, cutover.Errorf(cutover.EUNAVAILABLE, "The destination asked to wait %s before trying again, longer than the %s allowed; try again later.", wait, d.cfg.MaxWait)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return nil, cutover.Errorf(cutover.EUNAVAILABLE, "The destination asked to wait %s, longer than the delivery has left; try again later.", wait)
		}
		d.log.WarnContext(ctx, "destination: retrying", "method", r.method, "message", r.msgID, "attempt", attempt, "why", why, "wait", wait.String())
		if err := d.sleep(ctx, wait); err != nil {
			return nil, cutover.Wrap(cutover.EUNAVAILABLE, err, "The delivery ended while waiting to retry.")
		}
	}
}

// try sends one attempt. It returns the answer's body and status, and the
// wait the destination asked for (Retry-After), or -1 when it named none.
// A transport error is err with status 0.
func (d *Destination) try(ctx context.Context, r request) (body []byte, status int, wait time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, bytes.NewReader(r.body))
	if err != nil {
		return nil, 0, -1, cutover.Wrap(cutover.EINVALID, err, "The destination URL cannot be requested.")
	}
	req.Header.Set("Accept", "application/json")
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.idempotencyKey != "" {
		req.Header.Set(destination.HeaderIdempotencyKey, r.idempotencyKey)
	}
	destination.SetHeaders(req.Header, d.cfg.Key, r.msgID, d.now(), r.body)
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, 0, -1, err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return nil, 0, -1, err
	}
	if len(body) > maxAnswerBytes {
		return nil, resp.StatusCode, -1, cutover.Errorf(cutover.EINVALID, "The destination broke the contract: its answer is larger than %d bytes.", maxAnswerBytes)
	}
	return body, resp.StatusCode, retryAfter(resp.Header.Get("Retry-After"), d.now()), nil
}

// retryAfter reads a Retry-After header: delay seconds or an HTTP date
// (RFC 9110 §10.2.3); -1 when there is none or it cannot be read.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return -1
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return -1
		}
		// Past a day it is "much later": MaxWait gives up on it either way.
		return time.Duration(min(s, int64(24*time.Hour/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return -1
}

// backoff is the ceiling of the wait before retry n (from 1):
// BaseDelay·2ⁿ⁻¹, at most MaxDelay.
func (d *Destination) backoff(n int) time.Duration {
	w := d.cfg.BaseDelay
	for i := 1; i < n && w < d.cfg.MaxDelay; i++ {
		w *= 2
	}
	return min(w, d.cfg.MaxDelay)
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// contractError is an answer that breaks the contract.
func contractError(format string, args ...any) error {
	return cutover.Errorf(cutover.EINVALID, "The destination broke the contract: %s.", fmt.Sprintf(format, args...))
}
