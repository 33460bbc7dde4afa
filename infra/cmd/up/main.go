// Command up runs the whole service locally (`make up`): kumo, every
// function of template.yaml as a local process, and the static site with the
// API under /api. It prints where everything is and an ops token, and stops
// everything on Ctrl-C or SIGTERM.
//
// The stack's logs (kumo's, the functions' and provisioning's JSON lines)
// go to .build/up.log, which the banner names, so the banner is what the
// terminal shows; -v streams them to standard error instead, -log FILE
// writes them elsewhere.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cutover/cutover/infra/stack"
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
	flag.Parse()

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

	fmt.Fprintln(os.Stderr, "up: building and starting the local stack...")

	st, err := stack.Start(ctx, stack.Options{
		Root: dir, StackName: *name, KumoPort: *kumoPort, SitePort: *sitePort, Parameters: params, Log: logw,
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

// findRoot walks up from the working directory to the directory holding
// template.yaml and go.mod.
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
