// Package provision creates a samtemplate.Model on the local emulator (kumo)
// with real AWS SDK v2 calls: DynamoDB tables, S3 buckets, Secrets Manager
// secrets, SES identities, the HTTP API, Lambda functions, Step Functions
// state machines, and EventBridge buses, connections, API destinations and
// rules. It does not care which functions are API handlers and which
// are Step Functions tasks: every function is created the same way, with
// kumo's InvokeEndpoint extension pointing at wherever the caller runs it.
package provision

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/big"
	"net/http"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go"

	"github.com/cutover/cutover/infra/samtemplate"
)

// Local credentials: kumo accepts any.
const (
	AccessKeyID     = "test"
	SecretAccessKey = "test"
)

// Config says where and how to provision.
type Config struct {
	// Endpoint is kumo's base URL, e.g. http://127.0.0.1:4566.
	Endpoint string
	// Region defaults to the model's region.
	Region string
	// InvokeEndpoint returns the URL kumo forwards invocations of fn to.
	InvokeEndpoint func(fn samtemplate.Function) string
	// EmailIdentities are SES identities to create (the template's sender).
	EmailIdentities []string
	// Log receives progress; nil discards it. Secret values are never logged.
	Log *slog.Logger
	// HTTPClient is used for every call; nil is http.DefaultClient.
	HTTPClient *http.Client
	// Secrets are secrets the template does not create but names by
	// parameter (a destination's signing secret, which the deployer
	// creates), by name: created with their values before the functions.
	Secrets map[string]string
}

// Result is what provisioning created.
type Result struct {
	// Model is the input model bound to the identifiers kumo assigned (the
	// secrets' full ARNs, the HTTP APIs' ids); its function environments and
	// state machine definitions are what was provisioned.
	Model *samtemplate.Model
	// Secrets maps a secret's logical id to the value provisioned.
	Secrets map[string]string
	// Skipped lists the calls kumo answered NotImplemented, which were
	// skipped, as "LogicalId: Operation".
	Skipped []string
}

// Provision creates everything in m on kumo at c.Endpoint.
//
// It returns an error (naming the resource and the failed call) as soon as a
// call fails, except that bucket configuration calls kumo answers with
// NotImplemented are logged and listed in Result.Skipped. A failed run
// leaves what it already created in place; provision onto a fresh kumo.
func Provision(ctx context.Context, m *samtemplate.Model, c Config) (*Result, error) {
	if c.Endpoint == "" || c.InvokeEndpoint == nil {
		return nil, errors.New("provision: Config.Endpoint and Config.InvokeEndpoint are required")
	}

	region := c.Region
	if region == "" {
		region = m.Region
	}

	cfg := aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		BaseEndpoint: aws.String(c.Endpoint),
	}

	if c.HTTPClient != nil {
		cfg.HTTPClient = c.HTTPClient
	}

	p := &provisioner{
		tables:     dynamodb.NewFromConfig(cfg),
		buckets:    s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		secrets:    secretsmanager.NewFromConfig(cfg),
		email:      sesv2.NewFromConfig(cfg),
		machines:   sfn.NewFromConfig(cfg),
		apis:       apigatewayv2.NewFromConfig(cfg),
		events:     eventbridge.NewFromConfig(cfg),
		functions:  newLambdaClient(c.Endpoint, region, c.HTTPClient),
		invokeURL:  c.InvokeEndpoint,
		identities: c.EmailIdentities,
		extra:      c.Secrets,
		log:        c.Log,
	}

	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}

	return p.run(ctx, m)
}

// provisioner holds the narrow client interfaces provisioning needs.
type provisioner struct {
	tables     tableAPI
	buckets    bucketAPI
	secrets    secretAPI
	email      emailAPI
	machines   stateMachineAPI
	apis       httpAPIAPI
	events     eventsAPI
	functions  functionAPI
	invokeURL  func(samtemplate.Function) string
	identities []string
	extra      map[string]string // Config.Secrets
	log        *slog.Logger
}

func (p *provisioner) run(ctx context.Context, m *samtemplate.Model) (*Result, error) {
	res := &Result{Secrets: map[string]string{}}
	bindings := map[string]samtemplate.Binding{}

	for _, t := range m.Tables {
		if err := p.createTable(ctx, t); err != nil {
			return nil, err
		}
	}

	for _, b := range m.Buckets {
		skipped, err := p.createBucket(ctx, b)
		if err != nil {
			return nil, err
		}

		res.Skipped = append(res.Skipped, skipped...)
	}

	for _, s := range m.Secrets {
		arn, value, err := p.createSecret(ctx, s)
		if err != nil {
			return nil, err
		}

		res.Secrets[s.LogicalID] = value
		bindings[s.LogicalID] = samtemplate.Binding{ARN: arn}
	}

	for _, name := range slices.Sorted(maps.Keys(p.extra)) {
		if _, _, err := p.createSecret(ctx, samtemplate.Secret{LogicalID: name, Name: name, Value: p.extra[name]}); err != nil {
			return nil, err
		}
	}

	for _, id := range p.identities {
		if err := p.createEmailIdentity(ctx, id); err != nil {
			return nil, err
		}
	}

	for _, api := range m.HTTPAPIs {
		id, err := p.createAPI(ctx, api)
		if err != nil {
			return nil, err
		}

		bindings[api.LogicalID] = samtemplate.Binding{Name: id}
	}

	bound, err := m.Bind(bindings)
	if err != nil {
		return nil, fmt.Errorf("provision: bind emulator identifiers: %w", err)
	}

	res.Model = bound

	for _, f := range bound.Functions {
		if err := p.createFunction(ctx, f); err != nil {
			return nil, err
		}
	}

	for _, sm := range bound.StateMachines {
		if err := p.createStateMachine(ctx, sm); err != nil {
			return nil, err
		}
	}

	for _, api := range bound.HTTPAPIs {
		if err := p.configureAPI(ctx, bound, api); err != nil {
			return nil, err
		}
	}

	if err := p.createEvents(ctx, bound); err != nil {
		return nil, err
	}

	return res, nil
}

// isNotImplemented reports whether err is kumo saying it does not implement
// an operation.
func isNotImplemented(err error) bool {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && strings.EqualFold(apiErr.ErrorCode(), "NotImplemented") {
		return true
	}

	var httpErr interface{ HTTPStatusCode() int }

	return errors.As(err, &httpErr) && httpErr.HTTPStatusCode() == http.StatusNotImplemented
}

// secretAlphabet builds the characters GenerateSecretString may use.
func secretAlphabet(g *samtemplate.GenerateSecret) string {
	const (
		upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		lower = "abcdefghijklmnopqrstuvwxyz"
		nums  = "0123456789"
		punct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
	)

	var b strings.Builder

	add := func(set string, exclude bool) {
		if !exclude {
			b.WriteString(set)
		}
	}

	add(upper, g.ExcludeUppercase)
	add(lower, g.ExcludeLowercase)
	add(nums, g.ExcludeNumbers)
	add(punct, g.ExcludePunctuation)

	if g.IncludeSpace {
		b.WriteByte(' ')
	}

	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(g.ExcludeCharacters, r) {
			return -1
		}

		return r
	}, b.String())
}

// generateSecret returns a random value following g, from crypto/rand.
func generateSecret(g *samtemplate.GenerateSecret) (string, error) {
	alphabet := secretAlphabet(g)
	if alphabet == "" || g.Length <= 0 {
		return "", errors.New("GenerateSecretString leaves no characters to use")
	}

	out := make([]byte, g.Length)
	limit := big.NewInt(int64(len(alphabet)))

	for i := range out {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return "", err
		}

		out[i] = alphabet[n.Int64()]
	}

	return string(out), nil
}
