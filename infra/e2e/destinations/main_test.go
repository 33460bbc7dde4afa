// Package destinations is the end-to-end suite of the destinations (issue
// 14) on the local stack: one stack whose TEST and LIVE destinations are
// the reference receiver (infra/receiver, "the product being joined"),
// reached over HTTPS-kind delivery with a signing secret provisioned in
// the emulator's Secrets Manager, exactly as a deployment configures it
// (TestDestination=https, ...). Each test migrates its own tenant, and
// each tenant has its own receiver (its own SQLite database and faults),
// so tests run side by side and what a test counts is only its own.
package destinations

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cutover/cutover/infra/receiver"
	"github.com/cutover/cutover/infra/stack"
)

var (
	st       *stack.Stack
	products *vendor
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

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	secret, err := receiver.NewSecret()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "cutover-destinations-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	logf, err := os.Create(filepath.Join(dir, "stack.log"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer logf.Close()

	products, err = newVendor(dir, secret)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	srv := &http.Server{Handler: products, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	products.url = "http://" + ln.Addr().String()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	st, err = stack.Start(ctx, stack.Options{
		Root: root, StackName: "dest", Log: logf,
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
		fmt.Fprintf(os.Stderr, "start stack: %v\n", err)
		dumpLog(logf.Name())
		return 1
	}
	products.kill = func() error { return st.Kill("FinalMigrateFunction") }
	code := m.Run()
	_ = st.Close()
	products.close()
	if code != 0 {
		dumpLog(logf.Name())
	}
	return code
}

// dumpLog prints the tail of the stack's log after a failure.
func dumpLog(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	if len(b) > 20000 {
		b = b[len(b)-20000:]
	}
	fmt.Fprintf(os.Stderr, "stack log (tail):\n%s\n", b)
}
