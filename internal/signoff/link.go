// Package signoff makes the coordinator's sign-off deliberate: opaque,
// signed, expiring, single-use links; GET shows, POST decides; the decision
// is recorded with a conditional write before the state machine hears of it;
// the raw task token never leaves the server. It has no AWS types.
package signoff

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

const linkContext = "cutover-signoff-link-v1\x00"

// Links mints and verifies sign-off link tokens. A token is 16 random bytes
// and its expiry, signed with HMAC-SHA256; the server stores only its hash.
type Links struct {
	Key []byte
}

// Mint returns a new token that expires at exp, and the hash it is stored under.
func (l Links) Mint(exp time.Time) (token, hash string) {
	payload := make([]byte, 24)
	if _, err := rand.Read(payload[:16]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	binary.BigEndian.PutUint64(payload[16:], uint64(exp.Unix()))
	token = base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(l.mac(payload))
	return token, HashToken(token)
}

// Verify checks a token's signature and expiry and returns its storage hash.
//
// Errors: ENOTFOUND when the token is malformed or its signature is wrong
// (a forged link looks like no link at all); EGONE when it has expired.
func (l Links) Verify(token string, now time.Time) (string, error) {
	invalid := cutover.Errorf(cutover.ENOTFOUND, "This sign-off link is not valid. Use the link from the most recent email.")
	p, s, ok := strings.Cut(token, ".")
	if !ok || len(l.Key) == 0 {
		return "", invalid
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	sig, err2 := base64.RawURLEncoding.DecodeString(s)
	if err1 != nil || err2 != nil || len(payload) != 24 || subtle.ConstantTimeCompare(sig, l.mac(payload)) != 1 {
		return "", invalid
	}
	exp := time.Unix(int64(binary.BigEndian.Uint64(payload[16:])), 0)
	if !now.Before(exp) {
		return "", cutover.Errorf(cutover.EGONE, "This sign-off link expired on %s. Ask the customer to request sign-off again.", exp.UTC().Format(time.RFC1123))
	}
	return HashToken(token), nil
}

func (l Links) mac(payload []byte) []byte {
	h := hmac.New(sha256.New, l.Key)
	h.Write([]byte(linkContext))
	h.Write(payload)
	return h.Sum(nil)
}

// HashToken is the storage key of a token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
