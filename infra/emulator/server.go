package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/infra/proc"
)

// Region is the region kumo is started with; it appears in every ARN.
const Region = "us-east-1"

// Options configures Start.
type Options struct {
	// Binary is the kumo executable (see Build).
	Binary string
	// Port is the port kumo listens on at 127.0.0.1; 0 picks a free one.
	Port int
	// Log receives kumo's output, each line prefixed "kumo". Nil discards it.
	Log io.Writer
	// LogLevel is kumo's log level (debug, info, warn, error); empty is warn,
	// which leaves out kumo's one line per request.
	LogLevel string
	// StartTimeout bounds the wait for /health; zero is one minute.
	StartTimeout time.Duration
	// FunctionConcurrency is how many invocations of one function kumo
	// sends to its InvokeEndpoint at once (the local function runner's
	// processes per function); zero is one, kumo's own behaviour.
	FunctionConcurrency int
}

// Server is a running kumo.
type Server struct {
	// Endpoint is kumo's base URL, http://127.0.0.1:PORT.
	Endpoint string
	Port     int

	proc *proc.Process
	log  io.WriteCloser
}

// Start runs kumo and waits until it answers GET /health.
//
// kumo listens on 127.0.0.1 only. Its environment is the caller's minus
// anything starting with KUMO_ or AWS_, plus KUMO_HOST, KUMO_PORT (kumo's
// self-calls follow them), AWS_DEFAULT_REGION=us-east-1 (kumo derives ARNs
// from it) and KUMO_CUTOVER_INVOKE_CONCURRENCY (Options.FunctionConcurrency), so state persistence (KUMO_DATA_DIR) or a developer's region
// cannot leak in.
//
// It returns an error if kumo cannot be started, exits, or is not healthy
// within the start timeout; with Port 0 a port lost to a race is retried.
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}

	if o.LogLevel == "" {
		o.LogLevel = "warn"
	}

	if o.StartTimeout == 0 {
		o.StartTimeout = time.Minute
	}

	attempts := 1
	if o.Port == 0 {
		attempts = 3
	}

	var lastErr error

	for range attempts {
		port := o.Port
		if port == 0 {
			p, err := FreePort()
			if err != nil {
				return nil, err
			}

			port = p
		}

		s, err := start(ctx, o, port)
		if err == nil {
			return s, nil
		}

		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}

	return nil, lastErr
}

func start(ctx context.Context, o Options, port int) (*Server, error) {
	ps := strconv.Itoa(port)

	// Refuse a taken port up front: otherwise the health check could be
	// answered by whatever already listens there (another kumo) while ours
	// fails to bind.
	ln, err := net.Listen("tcp", "127.0.0.1:"+ps)
	if err != nil {
		return nil, fmt.Errorf("emulator: port %d is not free: %w", port, err)
	}

	_ = ln.Close()
	cmd := exec.Command(o.Binary, "--host", "127.0.0.1", "--port", ps)
	cmd.Env = append(filteredEnv(),
		"KUMO_HOST=127.0.0.1",
		"KUMO_PORT="+ps,
		"KUMO_LOG_LEVEL="+o.LogLevel,
		"AWS_DEFAULT_REGION="+Region,
		InvokeConcurrencyEnv+"="+strconv.Itoa(max(o.FunctionConcurrency, 1)),
	)

	lw := proc.LineWriter(o.Log, "kumo")
	cmd.Stdout = lw
	cmd.Stderr = lw

	p, err := proc.Start(cmd)
	if err != nil {
		return nil, fmt.Errorf("emulator: %w", err)
	}

	s := &Server{Endpoint: "http://127.0.0.1:" + ps, Port: port, proc: p, log: lw}

	if err := s.waitHealthy(ctx, o.StartTimeout); err != nil {
		_ = s.Close()

		return nil, err
	}

	return s, nil
}

func (s *Server) waitHealthy(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	client := &http.Client{Timeout: 2 * time.Second}

	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Endpoint+"/health", nil)
		if err != nil {
			return fmt.Errorf("emulator: %w", err)
		}

		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()

			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}

		select {
		case <-s.proc.Done():
			return fmt.Errorf("emulator: kumo exited before it was healthy: %v", s.proc.Err())
		case <-ctx.Done():
			return fmt.Errorf("emulator: kumo not healthy at %s: %w", s.Endpoint, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Close stops kumo (SIGTERM, then SIGKILL after five seconds). It returns
// an error only if kumo had to be killed.
func (s *Server) Close() error {
	err := s.proc.Stop(5 * time.Second)
	_ = s.log.Close()

	if err != nil {
		return fmt.Errorf("emulator: %w", err)
	}

	return nil
}

// Exited is closed if kumo exits on its own.
func (s *Server) Exited() <-chan struct{} {
	return s.proc.Done()
}

func filteredEnv() []string {
	var env []string

	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "KUMO_") || strings.HasPrefix(kv, "AWS_") {
			continue
		}

		env = append(env, kv)
	}

	return env
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
// It returns an error if no port can be had.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("emulator: free port: %w", err)
	}

	defer func() { _ = l.Close() }()

	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, errors.New("emulator: free port: not a TCP address")
	}

	return addr.Port, nil
}
