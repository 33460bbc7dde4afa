package stack

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

func (s *Stack) newJWTKey() error {
	s.jwtKey = make([]byte, 32)
	if _, err := rand.Read(s.jwtKey); err != nil {
		return fmt.Errorf("stack: ops token key: %w", err)
	}

	return nil
}

// MintOpsToken returns a bearer token the local OpsAuthorizer accepts: a JWT
// from the stack's OpsJwtIssuer for its OpsJwtAudience, with sub (and, for
// an address, email) set to subject, expiring after ttl (a negative ttl
// gives an expired token).
//
// The token is signed HS256 with a random key made for this stack, but
// locally only its claims matter: kumo's JWT authorizer checks iss, aud
// (or client_id) and exp and does not verify signatures (it has no JWKS). On
// AWS the authorizer verifies the signature against the issuer's keys, so
// such a token is worthless there.
func (s *Stack) MintOpsToken(subject string, ttl time.Duration) string {
	now := time.Now()
	claims := map[string]any{
		"iss":       s.issuer,
		"aud":       s.audience,
		"sub":       subject,
		"iat":       now.Unix(),
		"exp":       now.Add(ttl).Unix(),
		"token_use": "id",
	}

	if strings.Contains(subject, "@") {
		claims["email"] = subject
	}

	return signHS256(s.jwtKey, claims)
}

func signHS256(key []byte, claims map[string]any) string {
	enc := base64.RawURLEncoding

	header, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT"})
	payload, _ := json.Marshal(claims)

	unsigned := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)

	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(unsigned))

	return unsigned + "." + enc.EncodeToString(mac.Sum(nil))
}
