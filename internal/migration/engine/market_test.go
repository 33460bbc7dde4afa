package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
)

// Ops set the market when they invite the customer; the customer can
// change it with the checklist; a value that is not a country code is a
// clear 400, never stored.
func TestMarketIsSetValidatedAndChangeable(t *testing.T) {
	store := newMemStore()
	svc, _ := newService(store)
	ctx := context.Background()
	in := migration.CreateInput{TenantID: "acme", CustomerName: "Acme", CustomerEmail: "c@acme.test", CoordinatorEmail: "k@acme.test", Market: "Narnia"}
	_, err := svc.Create(ctx, "ops", in)
	if cutover.ErrorCode(err) != cutover.EINVALID || !strings.Contains(cutover.ErrorMessage(err), "two-letter country code") {
		t.Fatalf("bad market: err = %v", err)
	}
	in.Market = " us "
	c, err := svc.Create(ctx, "ops", in)
	if err != nil {
		t.Fatal(err)
	}
	if c.Migration.Market != "US" {
		t.Fatalf("market = %q, want US", c.Migration.Market)
	}
	fr := "fr"
	m, err := svc.UpdateChecklist(ctx, c.Migration, migration.ChecklistInput{Market: &fr})
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := store.GetMigration(ctx, m.ID)
	if stored.Market != "FR" {
		t.Fatalf("stored market = %q, want FR", stored.Market)
	}
	bad := "XX"
	if _, err := svc.UpdateChecklist(ctx, stored, migration.ChecklistInput{Market: &bad}); cutover.ErrorCode(err) != cutover.EINVALID {
		t.Fatalf("XX: err = %v", err)
	}
	// Leaving the market out of a checklist update keeps it.
	if m, err = svc.UpdateChecklist(ctx, stored, migration.ChecklistInput{Counts: map[string]int{"contact": 3}}); err != nil || m.Market != "FR" {
		t.Fatalf("market after a checklist update = %q, %v", m.Market, err)
	}
}
