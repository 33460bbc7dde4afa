// Package lambdarunner runs Lambda functions locally as ordinary processes of
// their real `bootstrap` binaries, and gives the emulator an honest answer
// when they fail.
//
// For each function the runner serves the AWS Lambda Runtime API
// (/2018-06-01/runtime/invocation/next, .../{id}/response, .../{id}/error,
// /runtime/init/error) under a per-function, per-process path prefix, so a
// binary built with github.com/aws/aws-lambda-go's lambda.Start runs
// unchanged with AWS_LAMBDA_RUNTIME_API=127.0.0.1:<port>/runtime/<name>/<n>.
// It also serves each function's invoke endpoint, which kumo's Lambda
// (CreateFunction's InvokeEndpoint extension) POSTs every invocation to.
//
// # Failed invocations
//
// kumo answers an invoke with 200 and whatever body the invoke endpoint
// returns (copying X-Amz-Function-Error), and its Step Functions treat any
// 200 as success: a function error would become the Task's output and Retry
// and Catch would never fire. Only a failed HTTP exchange with the endpoint
// makes kumo's invoke API answer 500, which Step Functions report as
// States.TaskFailed and API Gateway (execute-api) as a 500 to the client —
// what AWS does for an unhandled function error.
//
// So when a function reports an error, panics or crashes, or runs past its
// Timeout, the runner logs the error type and message (never the payload)
// and fails the exchange: it redirects the request (307) to
// /failed/<name>/<errorType> and closes the connection there without an
// answer. The error type thereby appears in the error kumo reports (for a
// Task, in the Catch's Cause), e.g.
//
//	Post "http://127.0.0.1:PORT/failed/cutover-MappingFunction/TransientError": EOF
//
// Custom error names still do not reach Step Functions locally: every
// failure is States.TaskFailed, which Retry/Catch on States.ALL (or
// States.TaskFailed) match.
//
// # Processes
//
// Like Lambda, the runner keeps up to Options.Concurrency processes per
// function (execution environments): an invocation goes to an idle
// process, and a new process is started for it when every process is busy
// and fewer than that many exist; idle processes are kept. Each function
// starts with one process, so a stack of many functions that are never
// invoked in parallel costs one process each. Invocations beyond the limit
// wait for a process to be free (Lambda would throttle them). kumo's own
// per-function gate must let that many calls through (emulator.Options).
// Each process has a temporary directory of its own (TMPDIR), as each
// execution environment has its own /tmp, and its output lines are
// prefixed with the function's logical id and its generation
// (FinalMigrateFunction#3), as each environment has its own log stream.
//
// A crashed process fails the invocation it was running; a process that
// timed out is killed, as Lambda replaces a timed-out execution
// environment. The function's first process is restarted when it exits;
// the others are started again only when invocations need them.
package lambdarunner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/cutover/cutover/infra/proc"
)

// Function is a function to run.
type Function struct {
	// LogicalID prefixes the process's output lines and names it in logs.
	LogicalID string
	// Name is the function's name in the emulator; paths use it.
	Name string
	// ARN is reported to the function as the invoked function ARN.
	ARN string
	// Binary is the function's executable (its bootstrap).
	Binary string
	// Timeout is the function timeout; zero means Lambda's default, 3s.
	Timeout time.Duration
	// MemoryMB is reported in AWS_LAMBDA_FUNCTION_MEMORY_SIZE.
	MemoryMB int
	// Env is the function's configured environment (the template's).
	Env map[string]string
}

// Options configures the runner.
type Options struct {
	// Functions are the functions Start runs (Run takes them instead).
	Functions []Function
	// Endpoint is the AWS endpoint (kumo) the functions' SDKs are pointed at
	// with AWS_ENDPOINT_URL.
	Endpoint string
	// Region is AWS_REGION for the functions; empty is us-east-1.
	Region string
	// Log receives the runner's slog JSON records and the processes'
	// output lines (each prefixed with the function's logical id). Nil
	// discards both.
	Log io.Writer
	// Reports, when set, receives a JSON line for each invocation that
	// ended, as Lambda's REPORT line: {"function", "requestId",
	// "startedAt", "durationMs", "failed", "action"}, action being the
	// payload's top-level "action" string when it has one (the state
	// machine's step; nothing else of a payload is read). A benchmark adds
	// them up to say where its time went.
	Reports io.Writer
	// Concurrency is how many processes a function may have at once (as
	// many invocations of it run at once); zero is DefaultConcurrency.
	Concurrency int
	// ReadyTimeout bounds how long Run waits for every function process to
	// ask for its first invocation; zero is 30 seconds.
	ReadyTimeout time.Duration
}

// DefaultConcurrency is the number of processes per function the runner
// keeps at most unless told otherwise: enough for a migration's chunks to
// overlap locally, few enough for a laptop running eleven functions.
const DefaultConcurrency = 4

// Lambda limits the runner enforces.
const (
	defaultTimeout = 3 * time.Second
	// maxPayload is Lambda's synchronous request and response limit.
	maxPayload = 6 << 20
	// pickupTimeout, beyond the function's timeout (a busy process may hold
	// the queue that long), bounds how long an invocation waits for the
	// function's process to take it.
	pickupTimeout = 30 * time.Second
	// stopGrace is how long a process gets between SIGTERM and SIGKILL.
	stopGrace = 2 * time.Second
)

// Runner runs the functions.
type Runner struct {
	// URL is the runner's base URL, http://127.0.0.1:PORT.
	URL string

	opts    Options
	log     *slog.Logger
	srv     *http.Server
	closing chan struct{}
	wg      sync.WaitGroup
	once    sync.Once

	mu      sync.RWMutex
	fns     map[string]*fnState
	running bool

	// tmp holds each process's temporary directory; Close removes it.
	tmp string

	reports sync.Mutex // one Options.Reports line at a time
}

// Start is New followed by Run(ctx, o.Functions). It returns the errors
// those return; nothing is left running when it fails.
func Start(ctx context.Context, o Options) (*Runner, error) {
	r, err := New(o)
	if err != nil {
		return nil, err
	}

	if err := r.Run(ctx, o.Functions); err != nil {
		_ = r.Close()

		return nil, err
	}

	return r, nil
}

// New starts the runner's HTTP server on a free port of 127.0.0.1, so its
// URL and the functions' invoke endpoints are known before any function
// runs. It returns an error if it cannot listen or make its temporary
// directory.
func New(o Options) (*Runner, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}

	if o.Region == "" {
		o.Region = "us-east-1"
	}

	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 30 * time.Second
	}

	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}

	r := &Runner{
		opts:    o,
		log:     slog.New(slog.NewJSONHandler(proc.Serialized(o.Log), nil)).With("component", "lambdarunner"),
		fns:     map[string]*fnState{},
		closing: make(chan struct{}),
	}

	tmp, err := os.MkdirTemp("", "lambdarunner-")
	if err != nil {
		return nil, fmt.Errorf("lambdarunner: %w", err)
	}

	r.tmp = tmp

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = os.RemoveAll(tmp)

		return nil, fmt.Errorf("lambdarunner: listen: %w", err)
	}

	r.URL = "http://" + ln.Addr().String()
	r.srv = &http.Server{Handler: r.routes(), ReadHeaderTimeout: 10 * time.Second}

	go func() { _ = r.srv.Serve(ln) }()

	return r, nil
}

// Run starts one process per function and waits until every process has
// asked for its first invocation; further processes start as invocations
// need them. It may be called once.
//
// It returns an error if it was called before, a Function is incomplete or
// listed twice, or a function's process exits before asking for work (the
// error names the function and carries its exit status and init error, if
// it reported one) or does not ask within the ready timeout. The processes
// keep running (and restarting) after an error until Close.
func (r *Runner) Run(ctx context.Context, fns []Function) error {
	states := map[string]*fnState{}

	for _, f := range fns {
		if f.Name == "" || f.Binary == "" {
			return fmt.Errorf("lambdarunner: function %q needs a Name and a Binary", f.LogicalID)
		}

		if _, dup := states[f.Name]; dup {
			return fmt.Errorf("lambdarunner: function %s listed twice", f.Name)
		}

		if f.Timeout <= 0 {
			f.Timeout = defaultTimeout
		}

		if f.LogicalID == "" {
			f.LogicalID = f.Name
		}

		states[f.Name] = newFnState(f, r.opts.Concurrency)
	}

	r.mu.Lock()
	if r.running {
		r.mu.Unlock()

		return errors.New("lambdarunner: Run called twice")
	}

	select {
	case <-r.closing:
		r.mu.Unlock()

		return errors.New("lambdarunner: runner is closed")
	default:
	}

	r.running = true
	r.fns = states

	for _, f := range states {
		r.wg.Add(1)

		go r.supervise(f, f.newProcess(), true)
	}
	r.mu.Unlock()

	return r.waitReady(ctx, states)
}

// function returns the state of the named function.
func (r *Runner) function(name string) (*fnState, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()

	f, ok := r.fns[name]

	return f, ok
}

// InvokeEndpoint is the URL to give kumo as the function's InvokeEndpoint.
func (r *Runner) InvokeEndpoint(name string) string {
	return r.URL + "/invoke/" + name
}

func (r *Runner) waitReady(ctx context.Context, fns map[string]*fnState) error {
	timer := time.NewTimer(r.opts.ReadyTimeout)
	defer timer.Stop()

	for _, name := range slices.Sorted(maps.Keys(fns)) {
		f := fns[name]

		select {
		case <-f.ready:
		case <-f.firstInitFailure:
			return fmt.Errorf("lambdarunner: function %s exited before it asked for an invocation: %s",
				f.spec.LogicalID, f.lastInitFailure())
		case <-timer.C:
			return fmt.Errorf("lambdarunner: function %s did not ask for an invocation within %s", f.spec.LogicalID, r.opts.ReadyTimeout)
		case <-ctx.Done():
			return fmt.Errorf("lambdarunner: waiting for function %s: %w", f.spec.LogicalID, ctx.Err())
		}
	}

	return nil
}

// Close stops every process (SIGTERM, SIGKILL after two seconds), fails any
// invocation still waiting, removes the processes' temporary directories,
// and stops the HTTP server. It returns an error
// if the server did not shut down cleanly; calling it again does nothing.
func (r *Runner) Close() error {
	var err error

	r.once.Do(func() {
		r.mu.Lock()
		close(r.closing)
		r.mu.Unlock()

		r.wg.Wait()

		_ = os.RemoveAll(r.tmp)

		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()

		if e := r.srv.Shutdown(ctx); e != nil {
			_ = r.srv.Close()
			err = fmt.Errorf("lambdarunner: shutdown: %w", e)
		}
	})

	return err
}

// spawn starts generation gen of f's processes, unless the runner is
// closing; the process is not restarted when it exits.
func (r *Runner) spawn(f *fnState, gen int) {
	r.mu.RLock()
	defer r.mu.RUnlock()

	select {
	case <-r.closing:
		f.processGone(gen, "the local function runner is shutting down")

		return
	default:
	}

	r.wg.Add(1)

	go r.supervise(f, gen, false)
}

// supervise runs generation gen of f's processes. A permanent process
// (the function's first) is replaced, under a new generation, whenever it
// exits, until the runner closes; another one runs once.
func (r *Runner) supervise(f *fnState, gen int, permanent bool) {
	defer r.wg.Done()

	backoff := 100 * time.Millisecond

	for {
		select {
		case <-r.closing:
			f.processGone(gen, "the local function runner is shutting down")

			return
		default:
		}

		started := time.Now()
		r.runProcess(f, gen, permanent)

		if !permanent {
			return
		}

		if time.Since(started) > 10*time.Second {
			backoff = 100 * time.Millisecond
		}

		select {
		case <-r.closing:
			return
		case <-time.After(backoff):
		}

		backoff = min(backoff*2, 5*time.Second)
		gen = f.newProcess()
	}
}

// runProcess starts generation gen of f's processes and waits for it to
// exit (or stops it when the runner closes), failing the invocation it was
// running.
func (r *Runner) runProcess(f *fnState, gen int, permanent bool) {
	p, out, tmp, err := r.startProcess(f, gen)
	if err != nil {
		r.log.Error("cannot start function process", "function", f.spec.LogicalID, "process", gen, "error", err.Error())
		f.processGone(gen, "cannot start: "+err.Error())

		return
	}

	select {
	case <-p.Done():
	case <-r.closing:
		_ = p.Stop(stopGrace)
	}

	_ = out.Close()
	_ = os.RemoveAll(tmp)

	taken, polled := f.processGone(gen, "process exited: "+exitStatus(p.Err()))
	for _, inv := range taken {
		r.complete(f, inv, outcome{
			failed: true, errorType: "Runtime.ExitError",
			errorMessage: "the function's process exited during the invocation: " + exitStatus(p.Err()),
		})
	}

	select {
	case <-r.closing:
		return
	default:
	}

	msg := "function process exited"
	if permanent {
		msg = "function process exited; restarting"
	}

	r.log.Warn(msg, "function", f.spec.LogicalID, "process", gen,
		"exit", exitStatus(p.Err()), "beforeFirstInvocation", !polled)
}

func exitStatus(err error) string {
	if err == nil {
		return "exit status 0"
	}

	return err.Error()
}

// startProcess starts generation gen of f's processes with a temporary
// directory of its own (TMPDIR), as each Lambda execution environment has
// its own /tmp; the caller removes it when the process has exited.
func (r *Runner) startProcess(f *fnState, gen int) (*proc.Process, io.WriteCloser, string, error) {
	tmp, err := os.MkdirTemp(r.tmp, f.spec.Name+"-"+strconv.Itoa(gen)+"-")
	if err != nil {
		return nil, nil, "", err
	}

	cmd := exec.Command(f.spec.Binary)
	cmd.Dir = filepath.Dir(f.spec.Binary)
	cmd.Env = r.environment(f.spec, gen, tmp)

	// Each process's lines are told apart, as Lambda gives each execution
	// environment its own log stream.
	out := proc.LineWriter(r.opts.Log, f.spec.LogicalID+"#"+strconv.Itoa(gen))
	cmd.Stdout = out
	cmd.Stderr = out

	p, err := proc.Start(cmd)
	if err != nil {
		_ = out.Close()
		_ = os.RemoveAll(tmp)

		return nil, nil, "", err
	}

	f.setProcess(gen, p)

	return p, out, tmp, nil
}

// environment is the process environment: PATH, the function's configured
// variables, then the variables Lambda reserves and the process's own
// TMPDIR (which win).
func (r *Runner) environment(f Function, gen int, tmp string) []string {
	addr := r.URL[len("http://"):]
	env := []string{"PATH=" + os.Getenv("PATH")}

	for _, k := range slices.Sorted(maps.Keys(f.Env)) {
		env = append(env, k+"="+f.Env[k])
	}

	return append(env,
		"AWS_LAMBDA_RUNTIME_API="+addr+"/runtime/"+f.Name+"/"+strconv.Itoa(gen),
		"AWS_LAMBDA_FUNCTION_NAME="+f.Name,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE="+strconv.Itoa(f.MemoryMB),
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/"+f.Name,
		"AWS_REGION="+r.opts.Region,
		"AWS_DEFAULT_REGION="+r.opts.Region,
		"AWS_ENDPOINT_URL="+r.opts.Endpoint,
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_EC2_METADATA_DISABLED=true",
		"S3_USE_PATH_STYLE=true",
		"LAMBDA_TASK_ROOT="+filepath.Dir(f.Binary),
		"_HANDLER=bootstrap",
		"TZ=:UTC",
		"TMPDIR="+tmp,
	)
}

// complete ends inv with o unless it already ended; a failure is logged
// (error type and message only, never a payload). It reports whether o was
// delivered.
func (r *Runner) complete(f *fnState, inv *invocation, o outcome) bool {
	f.forget(inv.id)

	return inv.finish(o, func() {
		if o.failed {
			r.log.Error("function invocation failed", "function", f.spec.LogicalID, "process", inv.gen, "requestId", inv.id,
				"errorType", o.errorType, "errorMessage", o.errorMessage)
		}
		r.report(f, inv, o.failed)
	})
}

// Report is one line of Options.Reports.
type Report struct {
	Function   string    `json:"function"`
	RequestID  string    `json:"requestId"`
	StartedAt  time.Time `json:"startedAt"`
	DurationMs float64   `json:"durationMs"`
	Failed     bool      `json:"failed"`
	Action     string    `json:"action,omitempty"`
}

// report writes inv's Report to Options.Reports, if any; an invocation no
// process took has none.
func (r *Runner) report(f *fnState, inv *invocation, failed bool) {
	if r.opts.Reports == nil {
		return
	}
	f.mu.Lock()
	taken := inv.taken
	f.mu.Unlock()
	if taken.IsZero() {
		return
	}
	// The key "action" exactly (a struct field would match "ACTION" too),
	// and only a string: nothing else of the payload.
	var fields map[string]json.RawMessage
	var action string
	if json.Unmarshal(inv.payload, &fields) == nil {
		_ = json.Unmarshal(fields["action"], &action) // absent or not a string: none
	}
	line, _ := json.Marshal(Report{
		Function: f.spec.LogicalID, RequestID: inv.id, StartedAt: taken.UTC(),
		DurationMs: float64(time.Since(taken).Microseconds()) / 1000, Failed: failed, Action: action,
	})
	r.reports.Lock()
	defer r.reports.Unlock()
	_, _ = r.opts.Reports.Write(append(line, '\n'))
}
