package e2e

// The destinations (issue 14) end to end: a stack of their own ("dest")
// whose TEST and LIVE destinations are the reference receiver
// (infra/receiver, "the product being joined"), reached over HTTPS-kind
// delivery with a signing secret provisioned in the emulator's Secrets
// Manager, exactly as a deployment configures it (TestDestination=https,
// ...). Each test migrates its own tenant, and each tenant has its own
// receiver (its own SQLite database and faults), so tests run side by side
// and what a test counts is only its own. The stack is started by the first
// test that needs it (a run of other tests does not pay for it) and closed
// by TestMain after every test has run.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/infra/receiver"
	"github.com/cutover/cutover/infra/stack"
)

// Names of the signing secrets, as a deployment creates them (one per
// environment); both hold the run's secret, which the receivers verify.
const (
	stagingSecret    = "e2e/destination-staging"
	productionSecret = "e2e/destination-production"
)

// batchRecords is DestinationBatchRecords: small, so a chunk sends
// several batches and a fault or a kill can fall between two of them.
const batchRecords = 4

// products is the receiver-backed product of the dest stack; the helpers
// of destinations_vendor_test.go read it once destStack has started it.
var products *vendor

// dest is the receiver-backed stack, started once by destStack.
var dest struct {
	once  sync.Once
	st    *stack.Stack
	err   error
	dir   string
	logf  *os.File
	srv   *http.Server
	ready bool
}

// destStack returns the receiver-backed stack, starting it (and the
// receivers' server) on the first call; a start that failed fails every
// test that asks for it, with the same error.
func destStack(t *testing.T) *stack.Stack {
	t.Helper()
	dest.once.Do(func() { dest.err = startDest() })
	if dest.err != nil {
		t.Fatalf("start the destinations stack: %v", dest.err)
	}
	return dest.st
}

func startDest() error {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return err
	}
	secret, err := receiver.NewSecret()
	if err != nil {
		return err
	}
	if dest.dir, err = os.MkdirTemp("", "cutover-destinations-*"); err != nil {
		return err
	}
	if dest.logf, err = os.Create(filepath.Join(dest.dir, "stack.log")); err != nil {
		return err
	}
	if products, err = newVendor(dest.dir, secret); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	dest.srv = &http.Server{Handler: products, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = dest.srv.Serve(ln) }()
	products.url = "http://" + ln.Addr().String()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dest.st, err = stack.Start(ctx, stack.Options{
		Root: root, StackName: "dest", Log: dest.logf,
		Parameters: map[string]string{
			"TestDestination": "https", "TestDestinationUrl": products.url + "/staging", "TestDestinationSecretName": stagingSecret,
			"LiveDestination": "https", "LiveDestinationUrl": products.url + "/production", "LiveDestinationSecretName": productionSecret,
			"DestinationBatchRecords": strconv.Itoa(batchRecords),
			// Small chunks: a final extract of a few dozen rows runs in several.
			"FinalChunkBytes": "700",
		},
		Secrets: map[string]string{stagingSecret: secret, productionSecret: secret},
	})
	if err != nil {
		dumpLog(dest.logf.Name())
		return err
	}
	products.kill = func(r *http.Request) error {
		local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		if local == nil {
			return errors.New("the request has no local address")
		}
		return dest.st.KillCaller("FinalMigrateFunction", r.RemoteAddr, local.String())
	}
	dest.ready = true
	return nil
}

// closeDest stops what destStack started, if it ran, printing the dest
// stack's log when the package's run failed; TestMain calls it after every
// test has run.
func closeDest(failed bool) {
	if dest.st != nil {
		_ = dest.st.Close()
	}
	if dest.srv != nil {
		_ = dest.srv.Close()
	}
	if products != nil {
		products.close()
	}
	if dest.logf != nil {
		if failed && dest.ready {
			dumpLog(dest.logf.Name())
		}
		_ = dest.logf.Close()
	}
	if dest.dir != "" {
		if err := os.RemoveAll(dest.dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
}
