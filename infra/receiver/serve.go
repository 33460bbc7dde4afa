package receiver

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/cutover/cutover/internal/destination"
)

// Server is a receiver serving on this machine: the local stack's "product
// being joined" (`make up` with DESTINATION=receiver, and the end-to-end
// tests of the destinations), started in-process beside the stack.
type Server struct {
	// URL is the receiver's base URL, http://127.0.0.1:PORT: the https
	// destination's base URL (TestDestinationUrl, LiveDestinationUrl) and
	// the listing page of what arrived.
	URL string
	// DB is the SQLite database's path.
	DB string

	store *Store
	srv   *http.Server
	done  chan error
}

// NewSecret returns a fresh Standard Webhooks signing secret: whsec_ and
// the base64 of 32 random bytes.
//
// Errors: when the system's random source fails.
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("receiver: new secret: %w", err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b), nil
}

// Start opens (creating when needed) the database at dbPath and serves the
// receiver for requests signed with secret on addr ("127.0.0.1:0" picks a
// free port).
//
// Errors: when the secret is not a Standard Webhooks secret (the error
// never shows it), the database cannot be opened or addr cannot be had.
func Start(addr, dbPath, secret string, opts Options) (*Server, error) {
	key, err := destination.Key(secret)
	if err != nil {
		return nil, err
	}
	store, err := Open(dbPath)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("receiver: listen on %s: %w", addr, err)
	}
	s := &Server{
		URL: "http://" + ln.Addr().String(), DB: dbPath, store: store,
		srv:  &http.Server{Handler: New(key, store, opts), ReadHeaderTimeout: 10 * time.Second},
		done: make(chan error, 1),
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// Close stops serving (waiting for requests in flight, up to 10 seconds)
// and closes the database.
//
// Errors: the server's or the database's, when they do not close cleanly.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if serveErr := <-s.done; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return errors.Join(err, s.store.Close())
}
