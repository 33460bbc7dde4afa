// Package stack stands the whole service up locally from template.yaml: it
// builds kumo and the function binaries, starts kumo, provisions the
// template's resources on it, runs every function as a local process behind
// an honest function runner, fires the template's Schedule events (kumo
// fires no schedule rules), and serves the static site with the HTTP API
// under /api. `make up` (infra/cmd/up) and the end-to-end tests both use
// Start.
package stack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/cutover/cutover/infra/emulator"
	"github.com/cutover/cutover/infra/lambdarunner"
	"github.com/cutover/cutover/infra/proc"
	"github.com/cutover/cutover/infra/provision"
	"github.com/cutover/cutover/infra/samtemplate"
)

// LocalOpsIssuer is the OpsJwtIssuer the local stack uses unless told
// otherwise; MintOpsToken issues tokens from it.
const LocalOpsIssuer = "https://ops.cutover.localhost/"

// signingSecretID is the template's secret whose value signs sign-off links.
const signingSecretID = "LinkSigningSecret"

// Options configures Start.
type Options struct {
	// Root is the repository root: it holds template.yaml, functions/,
	// frontend/ and statemachine/.
	Root string
	// StackName prefixes every resource name; empty is "cutover".
	StackName string
	// KumoPort is kumo's port; 0 picks a free one.
	KumoPort int
	// SitePort is the site's port; 0 picks a free one.
	SitePort int
	// Parameters override template parameters. Unless set here, SiteUrl and
	// AllowedOrigin are the site's URL and OpsJwtIssuer is LocalOpsIssuer.
	Parameters map[string]string
	// FunctionTraffic, if set, wraps what the functions send to the AWS
	// endpoint: the stack puts a proxy in front of kumo for the functions
	// (tests and the stack's own clients still reach kumo directly). Tests
	// use it to inject faults such as throttling.
	FunctionTraffic func(next http.Handler) http.Handler
	// ScheduleTick, if set, fires every Schedule event of the template at
	// this interval instead of its own rate (tests use a few seconds for
	// the reconcile sweep's rate(1 minute)).
	ScheduleTick time.Duration
	// FunctionConcurrency is how many processes each function may have at
	// once, so invocations of one function (a migration's chunks) run side
	// by side as on Lambda; zero is lambdarunner.DefaultConcurrency.
	FunctionConcurrency int
	// Secrets are created by name before the functions start: the secrets
	// a deployment creates itself and names by parameter (an https
	// destination's signing secret, TestDestinationSecretName).
	Secrets map[string]string
	// Log receives every log: the stack's and provisioning's slog JSON
	// records, kumo's output and each function's output (prefixed with its
	// logical id). Nil discards them.
	Log io.Writer
	// Reports, when set, receives a line per function invocation
	// (lambdarunner.Options.Reports): what a benchmark adds up.
	Reports io.Writer
}

// Stack is a running local stack.
type Stack struct {
	// Endpoint is kumo's base URL, http://127.0.0.1:PORT: the AWS endpoint
	// for SDK clients (region Region, any credentials).
	Endpoint string
	// SiteURL serves the built site, Root/frontend/dist/ (`make frontend`),
	// and proxies /api/* to the HTTP API.
	SiteURL string
	// APIURL is SiteURL + "/api", the HTTP API's base URL.
	APIURL string
	// ExecuteAPIURL is the HTTP API's own URL on kumo,
	// http://{apiId}.execute-api.localhost:PORT (name resolution of
	// *.localhost is up to the client; APIURL needs none).
	ExecuteAPIURL string
	Region        string
	// Names maps logical id to physical name (tables, buckets, functions,
	// the HTTP API's id, ...).
	Names map[string]string
	// ARNs maps logical id to ARN (state machine, secret, functions, ...).
	ARNs map[string]string
	// SigningKey is the value of the LinkSigningSecret.
	SigningKey string
	// Secrets maps every secret's logical id to its value.
	Secrets map[string]string
	// Model is the template as provisioned.
	Model *samtemplate.Model

	log      *slog.Logger
	kumo     *emulator.Server
	runner   *lambdarunner.Runner
	site     *http.Server
	proxy    *http.Server
	jwtKey   []byte
	issuer   string
	audience string

	// stopSchedules ends fireSchedules; scheduled waits for its goroutines.
	stopSchedules context.CancelFunc
	scheduled     sync.WaitGroup
}

// Start builds, starts and provisions the local stack. ctx bounds the start
// only; the stack runs until Close.
//
// It returns an error, after stopping whatever it had started, if
// template.yaml cannot be resolved, a template function's CodeUri holds no
// main package (the error names the function), a build fails, a port cannot
// be had, kumo does not start, provisioning fails, or a function process
// fails before taking its first invocation.
func Start(ctx context.Context, o Options) (*Stack, error) {
	if o.StackName == "" {
		o.StackName = samtemplate.DefaultStackName
	}

	if o.Log == nil {
		o.Log = io.Discard
	}

	if o.FunctionConcurrency <= 0 {
		o.FunctionConcurrency = lambdarunner.DefaultConcurrency
	}

	root, err := filepath.Abs(o.Root)
	if err != nil {
		return nil, fmt.Errorf("stack: %w", err)
	}

	s := &Stack{
		Region: emulator.Region,
		log:    slog.New(slog.NewJSONHandler(proc.Serialized(o.Log), nil)).With("component", "stack"),
	}

	if err := s.start(ctx, root, o); err != nil {
		_ = s.Close()

		return nil, err
	}

	return s, nil
}

func (s *Stack) start(ctx context.Context, root string, o Options) error {
	siteLn, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(o.SitePort))
	if err != nil {
		return fmt.Errorf("stack: site port: %w", err)
	}

	serving := false

	defer func() {
		if !serving {
			_ = siteLn.Close()
		}
	}()

	s.SiteURL = "http://" + siteLn.Addr().String()
	s.APIURL = s.SiteURL + "/api"
	s.site = &http.Server{ReadHeaderTimeout: 10 * time.Second}

	m, err := s.loadModel(root, o)
	if err != nil {
		return err
	}

	binaries, err := buildFunctions(ctx, root, m)
	if err != nil {
		return err
	}

	kumoBin := filepath.Join(root, ".build", "kumo")
	if err := emulator.Build(ctx, root, kumoBin); err != nil {
		return fmt.Errorf("stack: build kumo: %w", err)
	}

	s.log.InfoContext(ctx, "built kumo and functions", "functions", len(binaries))

	if s.kumo, err = emulator.Start(ctx, emulator.Options{
		Binary: kumoBin, Port: o.KumoPort, Log: o.Log, FunctionConcurrency: o.FunctionConcurrency,
	}); err != nil {
		return fmt.Errorf("stack: %w", err)
	}

	s.Endpoint = s.kumo.Endpoint

	functionsEndpoint := s.Endpoint
	if o.FunctionTraffic != nil {
		if functionsEndpoint, err = s.startTrafficProxy(o.FunctionTraffic); err != nil {
			return err
		}
	}

	if s.runner, err = lambdarunner.New(lambdarunner.Options{
		Endpoint: functionsEndpoint, Region: s.Region, Log: o.Log, Reports: o.Reports, Concurrency: o.FunctionConcurrency,
	}); err != nil {
		return fmt.Errorf("stack: %w", err)
	}

	var identities []string
	if sender := m.Parameters["SenderEmail"]; sender != "" {
		identities = append(identities, sender)
	}

	res, err := provision.Provision(ctx, m, provision.Config{
		Endpoint:        s.Endpoint,
		InvokeEndpoint:  func(f samtemplate.Function) string { return s.runner.InvokeEndpoint(f.Name) },
		EmailIdentities: identities,
		Secrets:         o.Secrets,
		Log:             slog.New(slog.NewJSONHandler(proc.Serialized(o.Log), nil)).With("component", "provision"),
	})
	if err != nil {
		return fmt.Errorf("stack: %w", err)
	}

	s.Model = res.Model
	s.Names = res.Model.Names
	s.ARNs = res.Model.ARNs
	s.Secrets = res.Secrets
	s.SigningKey = res.Secrets[signingSecretID]

	if err := s.runner.Run(ctx, runnerFunctions(res.Model, binaries)); err != nil {
		return fmt.Errorf("stack: %w", err)
	}

	var apiID string
	if len(res.Model.HTTPAPIs) > 0 {
		apiID = res.Model.HTTPAPIs[0].ID
		s.ExecuteAPIURL = fmt.Sprintf("http://%s.execute-api.localhost:%d", apiID, s.kumo.Port)
	}

	var schedCtx context.Context
	schedCtx, s.stopSchedules = context.WithCancel(context.Background())
	s.fireSchedules(schedCtx, res.Model, o.ScheduleTick)

	s.site.Handler = siteHandler(filepath.Join(root, "frontend", "dist"), s.kumo.Port, apiID, s.log)

	serving = true

	go func() { _ = s.site.Serve(siteLn) }()

	s.log.InfoContext(ctx, "local stack ready", "siteUrl", s.SiteURL, "apiUrl", s.APIURL, "endpoint", s.Endpoint,
		"ignoredTemplateProperties", res.Model.Ignored, "skipped", res.Skipped)

	return nil
}

// loadModel resolves the template with the local parameter defaults.
func (s *Stack) loadModel(root string, o Options) (*samtemplate.Model, error) {
	path := filepath.Join(root, "template.yaml")

	declared, err := samtemplate.Load(path, samtemplate.Options{StackName: o.StackName, Parameters: o.Parameters})
	if err != nil {
		return nil, fmt.Errorf("stack: %w", err)
	}

	params := map[string]string{}

	for k, v := range map[string]string{"SiteUrl": s.SiteURL, "AllowedOrigin": s.SiteURL, "OpsJwtIssuer": LocalOpsIssuer} {
		if _, ok := declared.Parameters[k]; ok {
			params[k] = v
		}
	}

	for k, v := range o.Parameters {
		params[k] = v
	}

	m, err := samtemplate.Load(path, samtemplate.Options{StackName: o.StackName, Parameters: params})
	if err != nil {
		return nil, fmt.Errorf("stack: %w", err)
	}

	s.issuer = m.Parameters["OpsJwtIssuer"]
	s.audience = m.Parameters["OpsJwtAudience"]

	if err := s.newJWTKey(); err != nil {
		return nil, err
	}

	return m, nil
}

func runnerFunctions(m *samtemplate.Model, binaries map[string]string) []lambdarunner.Function {
	fns := make([]lambdarunner.Function, 0, len(m.Functions))
	for _, f := range m.Functions {
		fns = append(fns, lambdarunner.Function{
			LogicalID: f.LogicalID,
			Name:      f.Name,
			ARN:       f.ARN,
			Binary:    binaries[f.LogicalID],
			Timeout:   time.Duration(f.Timeout) * time.Second,
			MemoryMB:  f.MemorySize,
			Env:       f.Environment,
		})
	}

	return fns
}

// startTrafficProxy serves wrap(a reverse proxy to kumo) on a free port
// and returns its URL.
func (s *Stack) startTrafficProxy(wrap func(http.Handler) http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("stack: traffic proxy: %w", err)
	}
	target, err := url.Parse(s.Endpoint)
	if err != nil {
		_ = ln.Close()
		return "", fmt.Errorf("stack: traffic proxy: %w", err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	// Answers are buffered and sent with their length: streamed through
	// as they come (chunked), large DynamoDB answers reached the SDK cut
	// short ("unexpected EOF").
	rp.ModifyResponse = func(r *http.Response) error {
		if r.Request.Method == http.MethodHead {
			return nil // no body: its Content-Length is the object's, not 0
		}
		body, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		if err != nil {
			return err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength, r.TransferEncoding = int64(len(body)), nil
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	s.proxy = &http.Server{Handler: wrap(rp), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.proxy.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

// KillCaller kills the function's process (by logical id) that holds the
// client end of a connection to the stack, given the connection's client
// and server addresses as a FunctionTraffic handler sees them; see
// lambdarunner.Runner.KillCaller (Linux only).
//
// It returns an error for an unknown function or when no process of it
// holds the connection.
func (s *Stack) KillCaller(logicalID, remote, local string) error {
	return s.runner.KillCaller(s.Names[logicalID], remote, local)
}

// PeakRSS returns the highest peak resident memory among a function's
// running processes (by logical id), in bytes.
//
// It returns an error for an unknown function or when it cannot be read.
func (s *Stack) PeakRSS(logicalID string) (int64, error) {
	return s.runner.PeakRSS(s.Names[logicalID])
}

// Concurrency reports a function's processes now (by logical id) and the
// most invocations of it the runner had in flight at once.
//
// It returns an error for an unknown function.
func (s *Stack) Concurrency(logicalID string) (processes, peak int, err error) {
	return s.runner.Concurrency(s.Names[logicalID])
}

// EmulatorExited is closed if kumo exits while the stack runs.
func (s *Stack) EmulatorExited() <-chan struct{} {
	return s.kumo.Exited()
}

// Close stops the schedules, the site, every function process and kumo. It returns the
// errors of whatever did not stop cleanly (processes are killed then).
func (s *Stack) Close() error {
	var errs []error

	if s.stopSchedules != nil {
		s.stopSchedules()
		s.scheduled.Wait()
	}

	if s.site != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		if err := s.site.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = s.site.Close()
			errs = append(errs, fmt.Errorf("stack: site: %w", err))
		}

		cancel()
	}

	if s.runner != nil {
		if err := s.runner.Close(); err != nil {
			errs = append(errs, err)
		}
	}

	if s.proxy != nil {
		_ = s.proxy.Close()
	}

	if s.kumo != nil {
		if err := s.kumo.Close(); err != nil {
			errs = append(errs, err)
		}
	}

	return errors.Join(errs...)
}
