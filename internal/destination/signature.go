package destination

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The Standard Webhooks headers (standardwebhooks.com) every request to a
// destination carries.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
	// HeaderIdempotencyKey carries the batch's IdempotencyKey.
	HeaderIdempotencyKey = "Idempotency-Key"
)

// SignatureTolerance is how far a request's timestamp may be from the
// receiver's clock: an older request is refused as a possible replay.
const SignatureTolerance = 5 * time.Minute

// secretPrefix marks a Standard Webhooks secret: whsec_ and the key in
// base64.
const secretPrefix = "whsec_"

// Key decodes a Standard Webhooks secret ("whsec_" + base64 of the key).
//
// Errors: when the secret is not in that form or the key is shorter than
// 24 bytes.
func Key(secret string) ([]byte, error) {
	b64, ok := strings.CutPrefix(secret, secretPrefix)
	if !ok {
		return nil, errors.New("destination: a signing secret starts with whsec_")
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, errors.New("destination: a signing secret is whsec_ and base64")
	}
	if len(key) < 24 {
		return nil, errors.New("destination: a signing key has at least 24 bytes")
	}
	return key, nil
}

// Sign returns the webhook-signature header value of a message: "v1," and
// the base64 HMAC-SHA256 of "id.timestamp.body" under key.
func Sign(key []byte, id string, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, ts.Unix())
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// SetHeaders sets a request's Standard Webhooks headers for body.
func SetHeaders(h http.Header, key []byte, id string, ts time.Time, body []byte) {
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, Sign(key, id, ts, body))
}

// ErrSignature is Verify's error for a request that is not signed with the
// key, or signed too long ago.
var ErrSignature = errors.New("destination: the request's signature does not verify")

// Verify checks a request's Standard Webhooks headers against body under
// key at now: the timestamp within SignatureTolerance, and one of the
// space-separated v1 signatures right (a sender rotating its key may send
// two). It compares in constant time.
//
// Errors: ErrSignature.
func Verify(key []byte, h http.Header, body []byte, now time.Time) error {
	id, tsText := h.Get(HeaderID), h.Get(HeaderTimestamp)
	secs, err := strconv.ParseInt(tsText, 10, 64)
	if id == "" || err != nil {
		return ErrSignature
	}
	ts := time.Unix(secs, 0)
	if d := now.Sub(ts); d > SignatureTolerance || d < -SignatureTolerance {
		return ErrSignature
	}
	want := Sign(key, id, ts, body)
	for _, sig := range strings.Fields(h.Get(HeaderSignature)) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
	}
	return ErrSignature
}
