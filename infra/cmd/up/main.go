// Command up runs the whole service locally (`make up`): kumo, every
// function of template.yaml as a local process, and the static site with the
// API under /api. It prints where everything is and an ops token, and stops
// everything on Ctrl-C or SIGTERM.
//
// The stack's logs (kumo's, the functions' and provisioning's JSON lines)
// go to .build/up.log, which the banner names, so the banner is what the
// terminal shows; -v streams them to standard error instead, -log FILE
// writes them elsewhere.
//
// -destination receiver (DESTINATION=receiver make up) also starts the
// reference receiver (infra/receiver, "the product being joined") on
// -receiver-port with a fresh SQLite database in .build/receiver.db, and
// points TEST and LIVE at it as https destinations, signed with a secret
// generated for the run and provisioned into the emulator's Secrets
// Manager; the banner names its page of what arrived.
//
// -concurrency N (FUNCTION_CONCURRENCY=N make up) is how many processes
// each function may run at once, 4 by default, as Lambda runs invocations
// of one function side by side.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cutover/cutover/infra/lambdarunner"
	"github.com/cutover/cutover/infra/receiver"
	"github.com/cutover/cutover/infra/stack"
)

// Names of the signing secrets `-destination receiver` provisions (one per
// environment, as a deployment has; locally both hold the run's secret).
const (
	receiverTestSecret = "cutover-local/receiver-staging"
	receiverLiveSecret = "cutover-local/receiver-production"
)

// paramFlags collects repeated -param Name=Value flags.
type paramFlags map[string]string

func (p paramFlags) String() string { return fmt.Sprint(map[string]string(p)) }

func (p paramFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return errors.New("want Name=Value")
	}

	p[k] = val

	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "up:", err)
		os.Exit(1)
	}
}

func run() error {
	params := paramFlags{}
	kumoPort := flag.Int("kumo-port", 4566, "kumo's port (0 picks a free one)")
	sitePort := flag.Int("site-port", 8080, "the site's port (0 picks a free one)")
	name := flag.String("stack", "cutover", "stack name, the prefix of every resource name")
	root := flag.String("root", "", "repository root (default: found from the working directory)")
	logPath := flag.String("log", "", "write all logs to this file (default: <root>/.build/up.log)")
	verbose := flag.Bool("v", false, "stream all logs to standard error instead of a file")
	tokenTTL := flag.Duration("token-ttl", 12*time.Hour, "lifetime of the printed ops token")
	flag.Var(params, "param", "template parameter override Name=Value (repeatable)")
	dest := flag.String("destination", "builtin", "where TEST and LIVE records go: builtin (the stack's own tables) or receiver (the reference receiver, the product being joined)")
	receiverPort := flag.Int("receiver-port", 8090, "the reference receiver's port with -destination receiver (0 picks a free one)")
	concurrency := flag.Int("concurrency", 0, "processes each function may run at once, as Lambda runs invocations side by side (default: $FUNCTION_CONCURRENCY, else 4)")
	receiverDB := flag.String("receiver-db", "", "the reference receiver's SQLite database, emptied at start (default: <root>/.build/receiver.db)")
	flag.Parse()

	if *dest != "builtin" && *dest != "receiver" {
		return fmt.Errorf("-destination is builtin or receiver, not %q", *dest)
	}

	procs, err := functionConcurrency(*concurrency, os.Getenv("FUNCTION_CONCURRENCY"))
	if err != nil {
		return err
	}

	dir := *root
	if dir == "" {
		found, err := findRoot()
		if err != nil {
			return err
		}

		dir = found
	}

	var logw io.Writer = os.Stderr

	logName := "standard error"

	if !*verbose {
		path := *logPath
		if path == "" {
			path = filepath.Join(dir, ".build", "up.log")
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
		}

		f, err := os.Create(path)
		if err != nil {
			return err
		}

		defer func() { _ = f.Close() }()

		logw, logName = f, path
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var (
		rcv     *receiver.Server
		secrets map[string]string
	)

	if *dest == "receiver" {
		db := *receiverDB
		if db == "" {
			db = filepath.Join(dir, ".build", "receiver.db")
		}

		if rcv, secrets, err = startReceiver(db, *receiverPort, params, logw); err != nil {
			return err
		}

		defer func() { _ = rcv.Close() }()
	}

	fmt.Fprintln(os.Stderr, "up: building and starting the local stack...")

	st, err := stack.Start(ctx, stack.Options{
		Root: dir, StackName: *name, KumoPort: *kumoPort, SitePort: *sitePort, Parameters: params, Secrets: secrets, Log: logw,
		FunctionConcurrency: procs,
	})
	if err != nil {
		return err
	}

	fmt.Printf("\ncutover is running locally.\n\n")
	fmt.Printf("  site            %s\n", st.SiteURL)
	fmt.Printf("  API             %s\n", st.APIURL)
	fmt.Printf("  AWS endpoint    %s   (region %s, any credentials)\n", st.Endpoint, st.Region)
	fmt.Printf("  logs            %s", logName)

	if !*verbose {
		fmt.Printf("   (go run ./infra/cmd/up -v streams them here)")
	}

	fmt.Println()

	for _, sm := range st.Model.StateMachines {
		fmt.Printf("  state machine   %s\n", sm.ARN)
	}

	if rcv != nil {
		fmt.Printf("  the product     %s/   (the reference receiver: what TEST and LIVE delivered; database %s)\n", rcv.URL, rcv.DB)
	}

	token := st.MintOpsToken("ops@cutover.localhost", *tokenTTL)
	fmt.Printf("\n  ops console (signed in for %s; create a migration there to get its invite link):\n  %s/ops.html#token=%s\n",
		*tokenTTL, st.SiteURL, token)
	fmt.Printf("\n  ops token (send it as \"Authorization: Bearer <token>\"):\n%s\n\nPress Ctrl-C to stop.\n", token)

	select {
	case <-ctx.Done():
	case <-st.EmulatorExited():
		fmt.Fprintln(os.Stderr, "up: kumo exited unexpectedly; stopping")
	}

	fmt.Fprintln(os.Stderr, "up: stopping...")

	return st.Close()
}

// startReceiver starts the reference receiver on port with a fresh
// database at db (the emulator starts empty too, and a record left from an
// earlier run would be answered "exists" to a new migration), and sets
// the parameters that make it TEST's and LIVE's https destination and the
// subscriber of the lifecycle events, unless -param chose otherwise. It returns the secrets to provision, by name.
func startReceiver(db string, port int, params paramFlags, logw io.Writer) (*receiver.Server, map[string]string, error) {
	if err := os.MkdirAll(filepath.Dir(db), 0o755); err != nil {
		return nil, nil, err
	}

	for _, f := range []string{db, db + "-wal", db + "-shm"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, nil, err
		}
	}

	secret, err := receiver.NewSecret()
	if err != nil {
		return nil, nil, err
	}

	// The key EventBridge's connection sends with each lifecycle event
	// (the receiver refuses events without it).
	eventsKey, err := receiver.NewSecret()
	if err != nil {
		return nil, nil, err
	}

	log := slog.New(slog.NewJSONHandler(logw, nil)).With("component", "receiver")

	rcv, err := receiver.Start(fmt.Sprintf("127.0.0.1:%d", port), db, secret, receiver.Options{Logger: log, EventsKey: eventsKey})
	if err != nil {
		return nil, nil, err
	}

	for k, v := range map[string]string{
		"TestDestination": "https", "TestDestinationUrl": rcv.URL, "TestDestinationSecretName": receiverTestSecret,
		"LiveDestination": "https", "LiveDestinationUrl": rcv.URL, "LiveDestinationSecretName": receiverLiveSecret,
		// It hears the lifecycle events too, through the template's rule
		// and API destination (maintenance mode during the final).
		"LifecycleEventsUrl": rcv.URL + "/events", "LifecycleEventsApiKey": eventsKey,
	} {
		if _, set := params[k]; !set {
			params[k] = v
		}
	}

	return rcv, map[string]string{receiverTestSecret: secret, receiverLiveSecret: secret}, nil
}

// findRoot walks up from the working directory to the directory holding
// template.yaml and go.mod.
// functionConcurrency is the processes per function: the -concurrency
// flag when given, else the FUNCTION_CONCURRENCY variable, else the
// runner's default. It returns an error naming the value when it is not a
// whole number of at least one.
func functionConcurrency(flagValue int, env string) (int, error) {
	if flagValue != 0 {
		if flagValue < 0 {
			return 0, fmt.Errorf("-concurrency is the number of processes per function, at least 1, not %d", flagValue)
		}

		return flagValue, nil
	}

	if env == "" {
		return lambdarunner.DefaultConcurrency, nil
	}

	n, err := strconv.Atoi(env)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("FUNCTION_CONCURRENCY is the number of processes per function, at least 1, not %q", env)
	}

	return n, nil
}

func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}

	for {
		if exists(filepath.Join(dir, "template.yaml")) && exists(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}

		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no template.yaml and go.mod in the working directory or above; use -root")
		}

		dir = parent
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)

	return err == nil
}
