package migration

import (
	"context"
	"net/mail"
	"regexp"
	"strings"
	"sync"

	"github.com/cutover/cutover/internal/cutover"
)

// List returns the newest migrations for ops.
//
// Errors: whatever the Store returns.
func (s *Ops) List(ctx context.Context) ([]*cutover.Migration, error) {
	return s.store.ListMigrations(ctx, 200)
}

// Execution returns the state machine execution of a migration's latest
// round, or nil before there is one.
//
// Errors: EUNAVAILABLE when it cannot be read.
func (s *Ops) Execution(ctx context.Context, m *cutover.Migration) (*cutover.Execution, error) {
	if m.ExecutionName == "" {
		return nil, nil
	}
	ex, err := s.runs.Execution(ctx, m.ExecutionName)
	if cutover.ErrorCode(err) == cutover.ENOTFOUND {
		return nil, nil
	}
	return ex, err
}

// Get returns one migration for ops.
//
// Errors: ENOTFOUND.
func (s *Ops) Get(ctx context.Context, id string) (*cutover.Migration, error) {
	return s.store.GetMigration(ctx, id)
}

// CreateInput is what ops give to start a migration.
type CreateInput struct {
	TenantID         string `json:"tenantId"`
	CustomerName     string `json:"customerName"`
	CustomerEmail    string `json:"customerEmail"`
	CoordinatorEmail string `json:"coordinatorEmail"`
	Market           string `json:"market"` // ISO 3166-1 alpha-2, optional; the customer can change it
}

// Created is a new migration (or a re-issued invite) with the customer's
// key, which is shown once and stored only as a hash. InviteMailed says
// whether the invite mail went out.
type Created struct {
	Migration    *cutover.Migration `json:"migration"`
	CustomerKey  string             `json:"customerKey"`
	InviteURL    string             `json:"inviteUrl"`
	InviteMailed bool               `json:"inviteMailed"`
}

var tenantPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}$`) }) // compiled on first use: a cold start of a function that never needs it should not pay for it

// Create starts a migration for a customer and mails them the invite link.
//
// Errors: EINVALID when a field is missing or malformed, the market
// included (the message names it); whatever the Store returns. A mail that cannot be sent does not fail
// the creation: InviteMailed says so, and the outbox shows it.
func (s *Ops) Create(ctx context.Context, actor string, in CreateInput) (*Created, error) {
	in.TenantID = strings.TrimSpace(in.TenantID)
	in.CustomerName = strings.TrimSpace(in.CustomerName)
	if !tenantPattern().MatchString(in.TenantID) {
		return nil, cutover.Errorf(cutover.EINVALID, "tenantId must be 2-63 lowercase letters, digits or dashes.")
	}
	if err := cutover.CheckName("customerName", in.CustomerName, cutover.MaxCustomerNameBytes); err != nil {
		return nil, err
	}
	for _, e := range []struct{ name, v string }{{"customerEmail", in.CustomerEmail}, {"coordinatorEmail", in.CoordinatorEmail}} {
		if len(e.v) > cutover.MaxEmailBytes {
			return nil, cutover.Errorf(cutover.EINVALID, "%s is longer than an email address can be (%d bytes).", e.name, cutover.MaxEmailBytes)
		}
		if a, err := mail.ParseAddress(e.v); err != nil || a.Address != e.v || strings.ContainsAny(e.v, "<> ") || cutover.CheckName(e.name, e.v, cutover.MaxEmailBytes) != nil {
			return nil, cutover.Errorf(cutover.EINVALID, "%s must be an email address.", e.name)
		}
	}
	in.Market = strings.ToUpper(strings.TrimSpace(in.Market))
	if err := cutover.CheckMarket(in.Market); err != nil {
		return nil, err
	}
	key := cutover.NewSecret(32)
	now := s.Now()
	m := &cutover.Migration{
		ID:               cutover.NewID("m-"),
		TenantID:         in.TenantID,
		CustomerName:     in.CustomerName,
		CustomerEmail:    in.CustomerEmail,
		CoordinatorEmail: in.CoordinatorEmail,
		Market:           in.Market,
		KeyHash:          cutover.HashSecret(key),
		Status:           cutover.StatusCreated,
		Files:            []cutover.File{},
		Invites:          1,
		InvitedAt:        now,
		CreatedAt:        now,
		UpdatedAt:        now,
	}
	if err := s.store.CreateMigration(ctx, m, s.Event(actor, "migration.created", "tenant "+m.TenantID)); err != nil {
		return nil, err
	}
	mailed := s.mailInvite(ctx, m, key, 1)
	return &Created{Migration: m, CustomerKey: key, InviteURL: s.link("upload.html", m.ID, key), InviteMailed: mailed}, nil
}
