package routing

import (
	"context"
	"sync"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination"
	"github.com/cutover/cutover/internal/destination/s3drop"
	"github.com/cutover/cutover/internal/destination/webhook"
	"github.com/cutover/cutover/internal/schema"
)

// Adapters is what a function hands Open to build its destinations with:
// the AWS-backed pieces, built in main.
type Adapters struct {
	// Builtin is the function's built-in destination (its TEST or LIVE
	// table, dynamostore.Destination).
	Builtin cutover.Destination
	// Secret reads a Secrets Manager secret's value (an https destination's
	// signing secret).
	Secret func(ctx context.Context, id string) (string, error)
	// Ledger is the HTTPS destination's delivery ledger.
	Ledger webhook.Ledger
	// S3 reaches an S3 drop's bucket.
	S3 s3drop.API
	// Claims is the S3 drop's claim register (dynamostore.DropClaims), which
	// keeps each record in one object of the drop.
	Claims s3drop.Claims
	// Schema types the records an external destination receives; nil is
	// schema.Default().
	Schema *schema.Schema
	// Webhook are options of the HTTPS adapter (a logger, ...).
	Webhook []webhook.Option
}

// Open reads the destination of each of envs from getenv (ParseEnv),
// builds it (Build) and returns the router over them; an environment not
// in envs has no destination.
//
// Errors: ParseEnv's and Build's, naming the template parameter.
func Open(ctx context.Context, getenv func(string) string, a Adapters, envs ...string) (*Router, error) {
	r := &Router{}
	for _, env := range envs {
		c, err := ParseEnv(env, getenv)
		if err != nil {
			return nil, err
		}
		d, err := Build(ctx, c, a)
		if err != nil {
			return nil, err
		}
		if env == cutover.EnvTest {
			r.Test = d
		} else {
			r.Live = d
		}
	}
	return r, nil
}

// Build returns the destination c chooses: a.Builtin for builtin; the
// HTTPS adapter (webhook.New) signing with the secret a.Secret reads from
// c.Secret and remembering deliveries in a.Ledger; or the S3 drop
// (s3drop.New) on a.S3, claiming records in a.Claims. External destinations receive records typed by
// the schema (destination.Typed), their references resolved within the
// target's tenant.
//
// Errors: EINVALID naming the parameter when the secret does not hold a
// Standard Webhooks secret (whsec_ and base64 of 24 bytes or more) or an
// adapter refuses the configuration; EUNAVAILABLE when the secret cannot
// be read; EINTERNAL when an adapter the kind needs is missing.
func Build(ctx context.Context, c Config, a Adapters) (cutover.Destination, error) {
	_, _, secret, bucket, _ := settings(c.Env)
	sch := a.Schema
	if sch == nil {
		sch = schema.Default()
	}
	switch c.Kind {
	case KindBuiltin:
		if a.Builtin == nil {
			return nil, cutover.Errorf(cutover.EINTERNAL, "No built-in destination was given for %s.", c.Env)
		}
		return a.Builtin, nil
	case KindHTTPS:
		if a.Secret == nil || a.Ledger == nil {
			return nil, cutover.Errorf(cutover.EINTERNAL, "An https destination needs a secret reader and a delivery ledger.")
		}
		value, err := a.Secret(ctx, c.Secret)
		if err != nil {
			return nil, cutover.Wrap(cutover.EUNAVAILABLE, err, "%s (%s): the signing secret %s cannot be read.", secret.param, secret.env, c.Secret)
		}
		key, err := destination.Key(value)
		if err != nil {
			// The error says what is wrong with the value, never the value.
			return nil, invalid(secret, "the secret %s does not hold a Standard Webhooks signing secret (%v).", c.Secret, err)
		}
		cfg := c.webhookConfig(key)
		d, err := perTenant(func(tenant string) (cutover.Destination, error) {
			return webhook.New(cfg, Converter(sch, tenant), a.Ledger, a.Webhook...)
		})
		if err != nil {
			return nil, err
		}
		return d, nil
	case KindS3:
		if a.S3 == nil || a.Claims == nil {
			return nil, cutover.Errorf(cutover.EINTERNAL, "An s3 destination needs an S3 client and a claim register.")
		}
		cfg := s3drop.Config{Bucket: c.Bucket, Prefix: c.Prefix, Claims: a.Claims}
		d, err := perTenant(func(tenant string) (cutover.Destination, error) {
			return s3drop.New(a.S3, cfg, Converter(sch, tenant))
		})
		if err != nil {
			return nil, invalid(bucket, "%s", cutover.ErrorMessage(err))
		}
		return d, nil
	default:
		return nil, cutover.Errorf(cutover.EINTERNAL, "Unknown destination kind %q.", c.Kind)
	}
}

// Converter turns a record into the wire record typed by s, its
// references resolved to ids within tenantID (destination.Typed).
//
// The converted record's errors: EINVALID for a record whose entity is
// not in s, and Typed's.
func Converter(s *schema.Schema, tenantID string) func(cutover.Record) (destination.Record, error) {
	return func(r cutover.Record) (destination.Record, error) {
		ent, ok := s.Entity(r.Entity)
		if !ok {
			return destination.Record{}, cutover.Errorf(cutover.EINVALID, "Record %s: %q is not an entity of the target schema.", r.ID, r.Entity)
		}
		return destination.Typed(tenantID, r, ent)
	}
}

// tenants is a destination built per tenant: the adapters' converters
// carry no target, yet typing a record resolves its references within
// its tenant, so each tenant gets an adapter whose converter knows it.
// A function serves one migration at a time, so the map stays small.
type tenants struct {
	build func(tenant string) (cutover.Destination, error)
	mu    sync.Mutex
	by    map[string]cutover.Destination
}

var (
	_ cutover.Destination = (*tenants)(nil)
	_ cutover.Sealer      = (*tenants)(nil)
	_ cutover.RangeHolder = (*tenants)(nil)
	_ cutover.PartHolder  = (*tenants)(nil)
)

// perTenant returns the destination build makes per tenant, having built
// one first so that a configuration the adapter refuses fails at start.
//
// Errors: build's.
func perTenant(build func(tenant string) (cutover.Destination, error)) (*tenants, error) {
	if _, err := build(""); err != nil {
		return nil, err
	}
	return &tenants{build: build, by: map[string]cutover.Destination{}}, nil
}

func (p *tenants) of(tenant string) (cutover.Destination, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if d, ok := p.by[tenant]; ok {
		return d, nil
	}
	d, err := p.build(tenant)
	if err != nil {
		return nil, err
	}
	p.by[tenant] = d
	return d, nil
}

func (p *tenants) Deliverer(t cutover.Target) cutover.Deliverer {
	d, err := p.of(t.TenantID)
	if err != nil {
		return failing{err}
	}
	return d.Deliverer(t)
}

func (p *tenants) Holdings(ctx context.Context, t cutover.Target) (map[string]cutover.Holding, error) {
	d, err := p.of(t.TenantID)
	if err != nil {
		return nil, err
	}
	return d.Holdings(ctx, t)
}

func (p *tenants) HoldingsIn(ctx context.Context, t cutover.Target, lo, hi string) (map[string]cutover.Holding, bool, error) {
	d, err := p.of(t.TenantID)
	if err != nil {
		return nil, false, err
	}
	return holdingsIn(ctx, d, t, lo, hi)
}

func (p *tenants) HoldingsOfPart(ctx context.Context, t cutover.Target, i, n int) (map[string]cutover.Holding, bool, error) {
	d, err := p.of(t.TenantID)
	if err != nil {
		return nil, false, err
	}
	return holdingsOfPart(ctx, d, t, i, n)
}

func (p *tenants) Seal(ctx context.Context, t cutover.Target, delivered map[string]cutover.Holding, parts int) error {
	d, err := p.of(t.TenantID)
	if err != nil {
		return err
	}
	return seal(ctx, d, t, delivered, parts)
}
