package provision

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

	"github.com/cutover/cutover/infra/samtemplate"
)

// FunctionSpec is a Lambda function as CreateFunction receives it.
type FunctionSpec struct {
	Name        string
	Description string
	Runtime     string
	Handler     string
	Timeout     int // seconds
	MemorySize  int // MB
	Environment map[string]string
	// InvokeEndpoint is kumo's extension: the URL kumo POSTs each invocation
	// payload to, answering the invoke with whatever that URL answers.
	InvokeEndpoint string
}

type functionAPI interface {
	CreateFunction(ctx context.Context, spec FunctionSpec) (arn string, err error)
}

// LambdaClient creates functions on kumo. The SDK's CreateFunctionInput has
// no InvokeEndpoint field, so the request is built by hand: the same
// REST-JSON document the SDK sends plus InvokeEndpoint, SigV4-signed for the
// lambda service (kumo routes requests by the credential scope's service).
type LambdaClient struct {
	endpoint string
	region   string
	client   *http.Client
	signer   *v4.Signer
}

// NewLambdaClient returns a client for kumo at endpoint. A nil client means
// http.DefaultClient.
func NewLambdaClient(endpoint, region string, client *http.Client) *LambdaClient {
	return newLambdaClient(endpoint, region, client)
}

func newLambdaClient(endpoint, region string, client *http.Client) *LambdaClient {
	if client == nil {
		client = http.DefaultClient
	}

	return &LambdaClient{endpoint: strings.TrimRight(endpoint, "/"), region: region, client: client, signer: v4.NewSigner()}
}

type createFunctionRequest struct {
	FunctionName   string            `json:"FunctionName"`
	Description    string            `json:"Description,omitempty"`
	Runtime        string            `json:"Runtime,omitempty"`
	Handler        string            `json:"Handler,omitempty"`
	Role           string            `json:"Role"`
	Timeout        int               `json:"Timeout,omitempty"`
	MemorySize     int               `json:"MemorySize,omitempty"`
	PackageType    string            `json:"PackageType"`
	Code           struct{}          `json:"Code"`
	Environment    *environment      `json:"Environment,omitempty"`
	InvokeEndpoint string            `json:"InvokeEndpoint"`
	Tags           map[string]string `json:"Tags,omitempty"`
}

type environment struct {
	Variables map[string]string `json:"Variables"`
}

// CreateFunction creates the function and returns its ARN. It returns an
// error if the request fails or kumo answers anything but 201 (the error
// carries kumo's error type and message).
func (c *LambdaClient) CreateFunction(ctx context.Context, spec FunctionSpec) (string, error) {
	body, err := json.Marshal(createFunctionRequest{
		FunctionName:   spec.Name,
		Description:    spec.Description,
		Runtime:        spec.Runtime,
		Handler:        spec.Handler,
		Role:           localRole(spec.Name),
		Timeout:        spec.Timeout,
		MemorySize:     spec.MemorySize,
		PackageType:    "Zip",
		Environment:    &environment{Variables: spec.Environment},
		InvokeEndpoint: spec.InvokeEndpoint,
	})
	if err != nil {
		return "", fmt.Errorf("CreateFunction %s: %w", spec.Name, err)
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+"/2015-03-31/functions", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("CreateFunction %s: %w", spec.Name, err)
	}

	req.Header.Set("Content-Type", "application/json")

	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey}

	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "lambda", c.region, time.Now()); err != nil {
		return "", fmt.Errorf("CreateFunction %s: sign: %w", spec.Name, err)
	}

	resp, err := c.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("CreateFunction %s: %w", spec.Name, err)
	}

	defer func() { _ = resp.Body.Close() }()

	respBody, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("CreateFunction %s: read response: %w", spec.Name, err)
	}

	if resp.StatusCode != http.StatusCreated {
		var e struct{ Type, Message string }
		_ = json.Unmarshal(respBody, &e)

		return "", fmt.Errorf("CreateFunction %s: HTTP %d: %s: %s", spec.Name, resp.StatusCode, e.Type, e.Message)
	}

	var out struct{ FunctionArn string }
	if err := json.Unmarshal(respBody, &out); err != nil || out.FunctionArn == "" {
		return "", fmt.Errorf("CreateFunction %s: unexpected response", spec.Name)
	}

	return out.FunctionArn, nil
}

func (p *provisioner) createFunction(ctx context.Context, f samtemplate.Function) error {
	arn, err := p.functions.CreateFunction(ctx, FunctionSpec{
		Name:           f.Name,
		Description:    f.Description,
		Runtime:        f.Runtime,
		Handler:        f.Handler,
		Timeout:        f.Timeout,
		MemorySize:     f.MemorySize,
		Environment:    f.Environment,
		InvokeEndpoint: p.invokeURL(f),
	})
	if err != nil {
		return fmt.Errorf("provision: function %s: %w", f.LogicalID, err)
	}

	if arn != f.ARN {
		return fmt.Errorf("provision: function %s: kumo assigned ARN %s, the model expected %s", f.LogicalID, arn, f.ARN)
	}

	p.log.InfoContext(ctx, "created function", "logicalId", f.LogicalID, "name", f.Name,
		"timeout", f.Timeout, "memorySize", f.MemorySize)

	return nil
}
