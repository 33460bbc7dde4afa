package eventbus

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Client calls EventBridge's PutEvents over its JSON protocol, signed with
// SigV4, instead of through the SDK's eventbridge package.
//
// Why: the SDK's PutEvents links SigV4a (for EventBridge's global
// endpoints, which cutover does not use) and its endpoint rules, about
// 1.4 MB more in every function that announces; the engine functions
// (testmigrate, customerapi, finalmigrate) would outgrow their size budget
// (infra/lambdasize). This one uses the SigV4 signer and net/http every
// function links already. It sends one request and does not retry: a
// failed event stays in the outbox (package lifecycle) and is sent again.
type Client struct {
	// Endpoint is the EventBridge endpoint: aws.Config's BaseEndpoint
	// (AWS_ENDPOINT_URL, the local emulator) or the region's public one.
	Endpoint    string
	Region      string
	Credentials aws.CredentialsProvider
	HTTP        *http.Client
	signer      *v4.Signer
}

// requestTimeout bounds one PutEvents call.
const requestTimeout = 10 * time.Second

// NewClient returns the client for cfg's region, credentials and
// BaseEndpoint.
func NewClient(cfg aws.Config) *Client {
	endpoint := aws.ToString(cfg.BaseEndpoint)
	if endpoint == "" {
		suffix := "amazonaws.com"
		if strings.HasPrefix(cfg.Region, "cn-") {
			suffix = "amazonaws.com.cn"
		}
		endpoint = "https://events." + cfg.Region + "." + suffix
	}
	hc, ok := cfg.HTTPClient.(*http.Client)
	if !ok || hc == nil {
		hc = &http.Client{Timeout: requestTimeout}
	}
	return &Client{Endpoint: strings.TrimRight(endpoint, "/"), Region: cfg.Region, Credentials: cfg.Credentials, HTTP: hc, signer: v4.NewSigner()}
}

// PutEvents implements API.
//
// Errors: the transport's; an error naming EventBridge's error type (for
// example AccessDeniedException) and the HTTP status when it refuses the
// request; an error when the answer is not PutEvents' JSON.
func (c *Client) PutEvents(ctx context.Context, entries []Entry) ([]Result, error) {
	body, err := json.Marshal(map[string]any{"Entries": entries})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSEvents.PutEvents")
	if c.Credentials == nil {
		return nil, fmt.Errorf("eventbridge: no credentials")
	}
	creds, err := c.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("eventbridge: credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "events", c.Region, time.Now().UTC()); err != nil {
		return nil, fmt.Errorf("eventbridge: sign: %w", err)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type string `json:"__type"`
		}
		_ = json.Unmarshal(raw, &e)
		code := e.Type
		if i := strings.LastIndex(code, "#"); i >= 0 {
			code = code[i+1:]
		}
		if code == "" {
			code = "no error type"
		}
		return nil, &APIError{Code: code, Status: resp.StatusCode}
	}
	var out struct {
		Entries []Result `json:"Entries"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("eventbridge: the answer is not PutEvents' JSON: %w", err)
	}
	return out.Entries, nil
}

// APIError is EventBridge refusing a request: its error type (never its
// message, which can quote the request) and the HTTP status.
type APIError struct {
	Code   string
	Status int
}

func (e *APIError) Error() string {
	return fmt.Sprintf("eventbridge: %s (HTTP %d)", e.Code, e.Status)
}
