// Package routing chooses where a deployment's TEST and LIVE records go
// (issue 14): it reads each environment's destination from the function's
// environment (set from template.yaml's parameters), builds the chosen
// adapter (the built-in tables, the vendor's HTTPS import endpoint, or an
// S3 drop) and routes every target to its environment's adapter.
//
// TEST and LIVE are chosen independently because they are different
// systems: TEST goes to the vendor's staging, LIVE to its production,
// each with its own URL or bucket and its own signing secret.
package routing

import (
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination/webhook"
)

// Destination kinds (the TestDestination and LiveDestination parameters).
const (
	KindBuiltin = "builtin" // this stack's own TEST and LIVE tables (the default)
	KindHTTPS   = "https"   // the vendor's HTTPS import endpoint (destination/webhook)
	KindS3      = "s3"      // an S3 drop in the vendor's bucket (destination/s3drop)
)

// TenantPlaceholder is replaced by the target's tenant in an S3 drop's
// prefix. An HTTPS destination routes by tenant in its path instead
// ({base}/tenants/{tenantId}/records), so its URL carries no placeholder.
const TenantPlaceholder = "{tenantId}"

// Batch limits of an HTTPS destination (DestinationBatchRecords,
// DestinationBatchBytes): the contract's own bounds.
const (
	MaxBatchRecords = 1000
	MinBatchBytes   = 1024
	MaxBatchBytes   = 1 << 20
)

// Config is one environment's destination, as the deployment chose it.
type Config struct {
	Env  string // cutover.EnvTest or cutover.EnvLive
	Kind string // KindBuiltin, KindHTTPS or KindS3
	// URL is the HTTPS destination's base URL (the vendor's staging for
	// TEST, its production for LIVE).
	URL string
	// Secret names the Secrets Manager secret (its name, or its ARN)
	// holding the HTTPS destination's Standard Webhooks signing secret
	// (whsec_...): one per environment, since staging and production are
	// different systems and a leaked staging secret must not sign LIVE.
	Secret string
	// BatchRecords and BatchBytes bound one HTTPS batch; 0 is the
	// adapter's default (webhook.DefaultMaxRecords, DefaultMaxBytes).
	BatchRecords int
	BatchBytes   int
	// Bucket and Prefix are the S3 drop's (Prefix holds TenantPlaceholder;
	// empty is the drop's default, "{tenantId}/").
	Bucket string
	Prefix string
}

// setting is one environment variable and the template parameter that
// sets it, so that a misconfiguration names what the deployer can change.
type setting struct{ env, param string }

func settings(env string) (kind, u, secret, bucket, prefix setting) {
	p, n := "TEST", "Test"
	if env == cutover.EnvLive {
		p, n = "LIVE", "Live"
	}
	return setting{p + "_DESTINATION", n + "Destination"},
		setting{p + "_DESTINATION_URL", n + "DestinationUrl"},
		setting{p + "_DESTINATION_SECRET", n + "DestinationSecretName"},
		setting{p + "_DESTINATION_BUCKET", n + "DestinationBucket"},
		setting{p + "_DESTINATION_PREFIX", n + "DestinationPrefix"}
}

var (
	batchRecords = setting{"DESTINATION_BATCH_RECORDS", "DestinationBatchRecords"}
	batchBytes   = setting{"DESTINATION_BATCH_BYTES", "DestinationBatchBytes"}
)

// invalid is a configuration error naming the parameter (and its variable).
func invalid(s setting, format string, args ...any) error {
	return cutover.Errorf(cutover.EINVALID, "%s (%s): "+format, append([]any{s.param, s.env}, args...)...)
}

// ParseEnv reads env's destination (cutover.EnvTest or cutover.EnvLive)
// through getenv (os.Getenv in a function): {TEST|LIVE}_DESTINATION (the
// kind; unset is builtin), _URL, _SECRET, _BUCKET, _PREFIX, and the
// shared DESTINATION_BATCH_RECORDS and DESTINATION_BATCH_BYTES.
//
// Errors: EINVALID, naming the template parameter and its variable, for
// an unknown kind, an HTTPS destination without a usable URL (absolute,
// https:// or http:// to this machine, no query, fragment or tenant
// placeholder) or without a secret name, batch limits outside the
// contract's, an S3 drop without a bucket or with a prefix that does not
// route by tenant; EINTERNAL for an env that is neither TEST nor LIVE.
func ParseEnv(env string, getenv func(string) string) (Config, error) {
	if env != cutover.EnvTest && env != cutover.EnvLive {
		return Config{}, cutover.Errorf(cutover.EINTERNAL, "A destination is TEST's or LIVE's, not %q.", env)
	}
	kind, u, secret, bucket, prefix := settings(env)
	c := Config{Env: env, Kind: strings.TrimSpace(getenv(kind.env))}
	switch c.Kind {
	case "", KindBuiltin:
		c.Kind = KindBuiltin
		return c, nil
	case KindHTTPS:
		c.URL = strings.TrimSpace(getenv(u.env))
		if err := checkURL(u, c.URL); err != nil {
			return Config{}, err
		}
		if c.Secret = strings.TrimSpace(getenv(secret.env)); c.Secret == "" {
			return Config{}, invalid(secret, "an https destination needs the name of the Secrets Manager secret holding its whsec_ signing secret.")
		}
		var err error
		if c.BatchRecords, err = limit(getenv, batchRecords, 1, MaxBatchRecords); err != nil {
			return Config{}, err
		}
		if c.BatchBytes, err = limit(getenv, batchBytes, MinBatchBytes, MaxBatchBytes); err != nil {
			return Config{}, err
		}
		return c, nil
	case KindS3:
		if c.Bucket = strings.TrimSpace(getenv(bucket.env)); c.Bucket == "" {
			return Config{}, invalid(bucket, "an s3 destination needs the vendor's bucket name.")
		}
		c.Prefix = strings.TrimSpace(getenv(prefix.env))
		if c.Prefix != "" && !strings.Contains(c.Prefix, TenantPlaceholder) {
			return Config{}, invalid(prefix, "the prefix %q must contain %s, so that each tenant's records have their own keys.", c.Prefix, TenantPlaceholder)
		}
		return c, nil
	default:
		return Config{}, invalid(kind, "%q is not a destination; choose builtin, https or s3.", c.Kind)
	}
}

// checkURL accepts an https:// base URL, or http:// to this machine (the
// reference receiver of the local stack): records are personal data and
// travel encrypted anywhere else.
func checkURL(s setting, raw string) error {
	if raw == "" {
		return invalid(s, "an https destination needs the vendor's base URL.")
	}
	p, err := url.Parse(raw)
	if err != nil || p.Host == "" || (p.Scheme != "https" && p.Scheme != "http") {
		return invalid(s, "%q is not an absolute https:// URL.", raw)
	}
	if p.Scheme == "http" && !loopback(p.Hostname()) {
		return invalid(s, "%q must use https:// (plain http:// is accepted only to this machine).", raw)
	}
	if p.RawQuery != "" || p.Fragment != "" {
		return invalid(s, "%q must not carry a query or a fragment.", raw)
	}
	if strings.Contains(raw, TenantPlaceholder) || strings.Contains(raw, url.PathEscape(TenantPlaceholder)) {
		return invalid(s, "%q must not contain %s: records go to {base}/tenants/{tenantId}/records.", raw, TenantPlaceholder)
	}
	return nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// limit reads an optional whole number in [lo, hi]; unset is 0 (the
// adapter's default).
func limit(getenv func(string) string, s setting, lo, hi int) (int, error) {
	v := strings.TrimSpace(getenv(s.env))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, invalid(s, "%q is not a whole number from %d to %d.", v, lo, hi)
	}
	return n, nil
}

// webhookConfig is c as the HTTPS adapter's configuration, signing with key.
func (c Config) webhookConfig(key []byte) webhook.Config {
	return webhook.Config{BaseURL: c.URL, Key: key, MaxRecords: c.BatchRecords, MaxBytes: c.BatchBytes}
}
