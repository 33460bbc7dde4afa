// Package migration is the light half of the application layer: the
// services that move no rows. It creates migrations and invites customers
// (Ops), takes the customer's uploads, submits and reviews (Customer),
// carries out the state machine's steps that map nothing (Steps,
// Completion), keeps each migration true to its execution (Reconciler), and
// owns the shared core every service builds on (Core: updates with audit
// events, the mail and its outbox, the notices). The services that read and
// map rows are in package migration/engine, which builds on this one.
//
// It imports no part of the mapping engine (mapspec, presets, pipeline,
// pass, workbook, delta, tabular): the Lambdas that never map a row link
// only this package, and stay small and quick to start. It talks to
// storage, Step Functions and mail only through the interfaces in
// ports.go, and has no AWS types.
package migration

import (
	"context"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

// Config is the deployment's settings the services read.
type Config struct {
	// SiteURL is where the static site is served: the links in mail.
	SiteURL string
	// OpsEmail is where ops hear of migrations that stopped or wait for
	// them; "" sends ops nothing.
	OpsEmail string
	// SignOffTimeoutSeconds is how long a sign-off request waits for a
	// decision; it travels in the execution's input to RequestSignOff.
	SignOffTimeoutSeconds int
	// SignOffReminderSeconds is how often the coordinator is reminded.
	SignOffReminderSeconds int
	// Now is the clock; nil is the wall clock. Tests pin it.
	Now func() time.Time
}

// Core is what every service shares: the store, the clock, the
// deployment's settings and, for the services that mail, the mailer and
// its outbox. Its exported methods are the building blocks the engine's
// services (package migration/engine) use; they are not API routes.
type Core struct {
	store  Store
	mailer Mailer
	outbox Outbox
	cfg    Config
	// announcer raises lifecycle events; nil in functions that make no
	// transition a vendor hears of.
	announcer Announcer
}

// errNilPort is the wiring error of a constructor given a nil port.
func errNilPort(service, port string) error {
	return cutover.Errorf(cutover.EINTERNAL, "%s needs a %s; it was wired without one.", service, port)
}

// NewCore returns the core of services that send no mail (the Map and
// TestMigrate steps, the sign-off step's failure recorder).
//
// Errors: EINTERNAL when store is nil, a wiring mistake main reports at
// start rather than a request failing on it later.
func NewCore(store Store, cfg Config) (*Core, error) {
	if store == nil {
		return nil, errNilPort("the migration core", "Store")
	}
	return &Core{store: store, cfg: cfg}, nil
}

// NewMailingCore returns the core of services that mail people: every mail
// is kept in outbox until sent, so one that fails is retried and ops see it.
//
// Errors: EINTERNAL when a port is nil.
func NewMailingCore(store Store, mailer Mailer, outbox Outbox, cfg Config) (*Core, error) {
	c, err := NewCore(store, cfg)
	if err != nil {
		return nil, err
	}
	if mailer == nil {
		return nil, errNilPort("the migration core", "Mailer")
	}
	if outbox == nil {
		return nil, errNilPort("the migration core", "Outbox")
	}
	c.mailer, c.outbox = mailer, outbox
	return c, nil
}

// needsMail refuses a core that cannot mail, for the constructors of
// services that mail.
func needsMail(service string, c *Core) error {
	if c == nil {
		return errNilPort(service, "Core")
	}
	if c.mailer == nil || c.outbox == nil {
		return cutover.Errorf(cutover.EINTERNAL, "%s mails people; build its core with NewMailingCore.", service)
	}
	return nil
}

// NeedsCore refuses a nil core, for the constructors of the engine's
// services; mail says whether the service mails people.
//
// Errors: EINTERNAL naming the service.
func NeedsCore(service string, c *Core, mail bool) error {
	if c == nil {
		return errNilPort(service, "Core")
	}
	if mail {
		return needsMail(service, c)
	}
	return nil
}

// NilPort is the wiring error of an engine service's constructor given a
// nil port: EINTERNAL naming the service and the port.
func NilPort(service, port string) error { return errNilPort(service, port) }

// Store returns the store, for the engine's services.
func (s *Core) Store() Store { return s.store }

// Now is the core's clock, in UTC.
func (s *Core) Now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now().UTC()
	}
	return time.Now().UTC()
}

// System is the actor of what the state machine's steps do.
const System = "system"

// Update loads a migration, applies fn and saves it with fn's audit events,
// retrying when a concurrent save wins: every change to a migration goes
// through it, so none is lost to a race.
//
// Errors: whatever fn returns; ENOTFOUND; EUNAVAILABLE when saves keep
// losing the race, or from the Store.
func (s *Core) Update(ctx context.Context, id string, fn func(m *cutover.Migration) ([]cutover.AuditEvent, error)) (*cutover.Migration, error) {
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		m, err := s.store.GetMigration(ctx, id)
		if err != nil {
			return nil, err
		}
		events, err := fn(m)
		if err != nil {
			return nil, err
		}
		m.UpdatedAt = s.Now()
		err = s.store.SaveMigration(ctx, m, events...)
		if err == nil {
			m.Version++
			return m, nil
		}
		if cutover.ErrorCode(err) != cutover.ECONFLICT {
			return nil, err
		}
		lastErr = err
	}
	return nil, cutover.Wrap(cutover.EUNAVAILABLE, lastErr, "The migration is busy; try again.")
}

// Event is an audit event at the core's time.
func (s *Core) Event(actor, action, detail string) cutover.AuditEvent {
	return cutover.AuditEvent{At: s.Now(), Actor: actor, Action: action, Detail: detail}
}

// Audit returns a migration's audit trail.
//
// Errors: whatever the Store returns.
func (s *Core) Audit(ctx context.Context, id string) ([]cutover.AuditEvent, error) {
	return s.store.ListAudit(ctx, id)
}
