// Package webhook is the HTTPS destination (issue 14): the vendor's import
// endpoint, spoken to in the contract of internal/destination. Records go
// in signed batches (Standard Webhooks headers, an Idempotency-Key made of
// the batch's record ids) of bounded size, are retried with backoff and
// full jitter on 429, 5xx and transport errors, and every answer is
// checked against the batch. A delivery ledger remembers what the
// destination answered for each record, so a retried chunk never sends a
// record the destination already accepted.
package webhook

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

var _ cutover.Destination = (*Destination)(nil)

// Defaults of Config's zero fields.
const (
	DefaultMaxRecords     = 500
	DefaultMaxBytes       = 1 << 20
	DefaultMaxAttempts    = 5
	DefaultRequestTimeout = 30 * time.Second
	DefaultBaseDelay      = 500 * time.Millisecond
	DefaultMaxDelay       = 20 * time.Second
	DefaultMaxWait        = 2 * time.Minute
)

// minBatchBytes is the smallest MaxBytes accepted: below it not even an
// empty batch's envelope fits.
const minBatchBytes = 1024

// Config is where and how a Destination delivers. Zero numbers take the
// defaults above.
type Config struct {
	// BaseURL is the vendor's API root, e.g. https://api.example.com/cutover;
	// requests go to {BaseURL}/tenants/{tenantId}/... .
	BaseURL string
	// Key is the signing key: destination.Key of the Standard Webhooks
	// secret, which production reads from Secrets Manager.
	Key []byte
	// MaxRecords and MaxBytes bound one batch: records, and bytes of its
	// JSON body. A record that alone exceeds MaxBytes is rejected unsent.
	MaxRecords int
	MaxBytes   int
	// MaxAttempts bounds the tries of one request (the first included).
	MaxAttempts int
	// RequestTimeout bounds one try, from dialling to the last byte read.
	RequestTimeout time.Duration
	// BaseDelay and MaxDelay shape the backoff: before retry n the wait is
	// a uniformly random time in [0, min(MaxDelay, BaseDelay·2ⁿ⁻¹)].
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// MaxWait is the longest Retry-After honoured; a destination that asks
	// for longer is given up on (EUNAVAILABLE) rather than retried early.
	MaxWait time.Duration
}

// Option changes how a Destination reaches the world; the defaults are the
// real ones (tests pass recorded sleeps and a fixed clock).
type Option func(*Destination)

// WithHTTPClient sends requests through c (its Timeout, when zero, becomes
// Config.RequestTimeout).
func WithHTTPClient(c *http.Client) Option { return func(d *Destination) { d.client = c } }

// WithSleep waits through sleep, which returns early with ctx's error.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(d *Destination) { d.sleep = sleep }
}

// WithClock reads the time (signature timestamps, Retry-After dates) from now.
func WithClock(now func() time.Time) Option { return func(d *Destination) { d.now = now } }

// WithJitter draws a backoff wait in [0, max] through jitter.
func WithJitter(jitter func(max time.Duration) time.Duration) Option {
	return func(d *Destination) { d.jitter = jitter }
}

// WithLogger logs retries to log (ids, statuses and waits; never records).
func WithLogger(log *slog.Logger) Option { return func(d *Destination) { d.log = log } }

// Destination is a vendor's HTTPS import endpoint.
type Destination struct {
	cfg     Config
	base    string // BaseURL without its trailing slash
	convert Convert
	ledger  Ledger
	client  *http.Client
	sleep   func(ctx context.Context, d time.Duration) error
	now     func() time.Time
	jitter  func(time.Duration) time.Duration
	log     *slog.Logger
}

// New returns the destination cfg describes, converting records with
// convert and remembering deliveries in ledger.
//
// Errors: EINVALID for a configuration that cannot work (no absolute
// http(s) URL, a URL with a query or fragment, no key, a negative limit, a
// byte limit too small for a batch), or a missing converter or ledger.
func New(cfg Config, convert Convert, ledger Ledger, opts ...Option) (*Destination, error) {
	u, err := url.Parse(cfg.BaseURL)
	switch {
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return nil, cutover.Errorf(cutover.EINVALID, "The destination URL must be an absolute https:// URL, not %q.", cfg.BaseURL)
	case u.RawQuery != "" || u.Fragment != "":
		return nil, cutover.Errorf(cutover.EINVALID, "The destination URL must not carry a query or a fragment.")
	case len(cfg.Key) == 0:
		return nil, cutover.Errorf(cutover.EINVALID, "The destination has no signing key.")
	case cfg.MaxRecords < 0 || cfg.MaxBytes < 0 || cfg.MaxAttempts < 0 || cfg.RequestTimeout < 0 ||
		cfg.BaseDelay < 0 || cfg.MaxDelay < 0 || cfg.MaxWait < 0:
		return nil, cutover.Errorf(cutover.EINVALID, "The destination's limits must not be negative.")
	case cfg.MaxBytes != 0 && cfg.MaxBytes < minBatchBytes:
		return nil, cutover.Errorf(cutover.EINVALID, "A destination batch must be allowed at least %d bytes.", minBatchBytes)
	case convert == nil || ledger == nil:
		return nil, cutover.Errorf(cutover.EINVALID, "The destination needs a record converter and a delivery ledger.")
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.MaxRecords, DefaultMaxRecords)
	def(&cfg.MaxBytes, DefaultMaxBytes)
	def(&cfg.MaxAttempts, DefaultMaxAttempts)
	defD(&cfg.RequestTimeout, DefaultRequestTimeout)
	defD(&cfg.BaseDelay, DefaultBaseDelay)
	defD(&cfg.MaxDelay, DefaultMaxDelay)
	defD(&cfg.MaxWait, DefaultMaxWait)
	d := &Destination{
		cfg: cfg, base: strings.TrimRight(cfg.BaseURL, "/"), convert: convert, ledger: ledger,
		sleep: sleepCtx, now: time.Now, jitter: fullJitter, log: slog.Default(),
	}
	for _, o := range opts {
		o(d)
	}
	if d.client == nil {
		d.client = &http.Client{Timeout: cfg.RequestTimeout}
	} else if d.client.Timeout == 0 {
		c := *d.client
		c.Timeout = cfg.RequestTimeout
		d.client = &c
	}
	return d, nil
}

// Deliverer implements cutover.Destination: t's records go to
// {BaseURL}/tenants/{t.TenantID}/records.
func (d *Destination) Deliverer(t cutover.Target) cutover.Deliverer {
	return &deliverer{d: d, t: t}
}

// checkTarget refuses a target no request can name.
func checkTarget(t cutover.Target) error {
	if t.Env != cutover.EnvTest && t.Env != cutover.EnvLive {
		return cutover.Errorf(cutover.EINVALID, "A destination environment is %q or %q, not %q.", cutover.EnvTest, cutover.EnvLive, t.Env)
	}
	if t.TenantID == "" || t.MigrationID == "" {
		return cutover.Errorf(cutover.EINVALID, "A delivery names its tenant and its migration.")
	}
	if (t.Env == cutover.EnvTest) != (t.Round > 0) {
		return cutover.Errorf(cutover.EINVALID, "A test delivery names its round (1 or more); a live one has round 0.")
	}
	return nil
}

// fullJitter is a uniformly random duration in [0, max].
func fullJitter(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(max) + 1))
}
