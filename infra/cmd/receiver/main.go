// Command receiver runs the reference receiver of the destination contract
// (internal/destination/openapi.yaml): "the product being joined", locally,
// storing what arrives in SQLite.
//
//	RECEIVER_SECRET=whsec_... [RECEIVER_EVENTS_KEY=...] go run ./infra/cmd/receiver [-addr 127.0.0.1:8090] [-db .build/receiver.db] [fault flags]
//
// RECEIVER_EVENTS_KEY is the API key cutover's lifecycle events arrive
// with (the template's LifecycleEventsApiKey); unset, POST /events refuses
// every event.
//
// The secret is better given in RECEIVER_SECRET than with -secret, which
// other users of the machine can read in the process list. Faults can be
// set at start with the flags below, or at run time with POST /admin/faults
// (infra/receiver.Faults).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cutover/cutover/infra/receiver"
	"github.com/cutover/cutover/internal/destination"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "receiver:", err)
		os.Exit(1)
	}
}

// run parses args, opens the database, listens, prints where to look on
// stdout and serves until ctx ends; logs go to stderr as slog JSON.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("receiver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8090", "listen address")
	dbPath := fs.String("db", ".build/receiver.db", "SQLite database file (created when missing)")
	secret := fs.String("secret", "", "the signing secret, whsec_ and base64 (default $RECEIVER_SECRET)")
	maxRecords := fs.Int("max-records", receiver.DefaultMaxRecords, "records per batch above which a batch is refused with 413")
	maxBytes := fs.Int64("max-bytes", receiver.DefaultMaxBytes, "bytes per batch above which a batch is refused with 413")
	var f receiver.Faults
	fs.IntVar(&f.TooManyRequests, "fault-429", 0, "answer the next N batches 429")
	fs.IntVar(&f.RetryAfterSeconds, "retry-after", 1, "the Retry-After seconds of those 429s")
	fs.IntVar(&f.ServerErrors, "fault-500", 0, "answer the next N batches 500, storing nothing")
	fs.IntVar(&f.Slow, "slow", 0, "delay the next N batches by -delay")
	delay := fs.Duration("delay", 0, "the delay of -slow")
	fs.IntVar(&f.Duplicates, "duplicates", 0, "store the next N batches but answer 500, so the sender retries them")
	reject := fs.String("reject", "", "comma-separated record ids to reject")
	rejectSource := fs.String("reject-source", "", "comma-separated source ids to reject")
	fs.StringVar(&f.RejectReason, "reject-reason", "", "the reason given for rejected records")
	plusOne := fs.String("count-plus-one", "", "comma-separated entities whose count is reported one too high")
	if err := fs.Parse(args); err != nil {
		return err
	}
	f.Delay = receiver.Duration(*delay)
	f.RejectIDs, f.RejectSourceIDs, f.CountPlusOne = list(*reject), list(*rejectSource), list(*plusOne)
	if err := f.Validate(); err != nil {
		return err
	}
	if *secret == "" {
		*secret = getenv("RECEIVER_SECRET")
	}
	if *secret == "" {
		return errors.New("set the signing secret in RECEIVER_SECRET (or -secret): whsec_ and the base64 of at least 24 bytes")
	}
	key, err := destination.Key(*secret)
	if err != nil {
		return err // destination.Key's message names the form, never the secret
	}

	path, err := filepath.Abs(*dbPath)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	store, err := receiver.Open(path)
	if err != nil {
		return err
	}
	defer store.Close()
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	h := receiver.New(key, store, receiver.Options{MaxBytes: *maxBytes, MaxRecords: *maxRecords, Faults: f, Logger: log, EventsKey: getenv("RECEIVER_EVENTS_KEY")})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, `reference receiver (the product being joined) is running.

  what arrived   %[1]s/   (JSON: %[1]s/records?tenant=&environment=&migration=)
  batches        POST %[1]s/tenants/{tenantId}/records
  counts         GET  %[1]s/tenants/{tenantId}/migrations/{migrationId}/counts?environment=test|live
  faults         POST %[1]s/admin/faults   (JSON, from this machine only; GET shows, DELETE clears)
  events         POST %[1]s/events   (lifecycle events, with RECEIVER_EVENTS_KEY in X-Cutover-Events-Key; GET lists them)
  database       %[2]s
`, base, path)

	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// list splits a comma-separated flag, dropping empty items.
func list(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}
