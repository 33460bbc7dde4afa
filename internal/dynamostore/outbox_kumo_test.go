package dynamostore_test

import (
	"context"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/dynamostore"
	"github.com/cutover/cutover/internal/migration"
)

func TestOutboxOnTheEmulator(t *testing.T) {
	ctx := context.Background()
	db, table := migrationsTable(t)
	store := &dynamostore.Migrations{API: db, Table: table}
	now := time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)
	mail := cutover.Mail{
		ID: migration.MailID("m-1", migration.PurposeWorkbookReady, 1, ""), MigrationID: "m-1", Purpose: migration.PurposeWorkbookReady, Round: 1,
		To: "it@acme.test", Subject: "Your test migration workbook is ready", Body: "…", Status: cutover.MailPending, NextAt: now, CreatedAt: now,
	}

	stored, created, err := store.AddMail(ctx, mail)
	if err != nil || !created || stored.ID != mail.ID {
		t.Fatalf("first add: %+v %v %v", stored, created, err)
	}
	// The same id again (a retried step) finds the stored mail.
	again := mail
	again.Body = "another body"
	stored, created, err = store.AddMail(ctx, again)
	if err != nil || created || stored.Body != "…" {
		t.Fatalf("second add: %+v %v %v", stored, created, err)
	}

	// Claim an attempt; a second claim from the same read loses.
	claim := stored
	claim.Attempts, claim.NextAt, claim.LastError = 1, now.Add(time.Minute), "The email could not be sent (SES: Throttling)."
	if err := store.UpdateMail(ctx, claim, 0); err != nil {
		t.Fatal(err)
	}
	if err := store.UpdateMail(ctx, claim, 0); cutover.ErrorCode(err) != cutover.ECONFLICT {
		t.Fatalf("a second claim of the same attempt: %v", err)
	}

	// Due only once NextAt has come; other migrations' mail is in the same sweep.
	other := mail
	other.ID, other.MigrationID, other.NextAt = migration.MailID("m-2", migration.PurposeLive, 1, ""), "m-2", now.Add(-time.Hour)
	if _, _, err := store.AddMail(ctx, other); err != nil {
		t.Fatal(err)
	}
	due, err := store.DueMail(ctx, now, 10)
	if err != nil || len(due) != 1 || due[0].MigrationID != "m-2" {
		t.Fatalf("due at %s: %+v %v", now, due, err)
	}
	due, _ = store.DueMail(ctx, now.Add(time.Minute), 10)
	if len(due) != 2 {
		t.Fatalf("due a minute later: %+v", due)
	}

	// Sent: out of the sweep for good, and no longer claimable.
	sent := claim
	sent.Status, sent.SentAt = cutover.MailSent, now.Add(time.Minute)
	if err := store.UpdateMail(ctx, sent, 1); err != nil {
		t.Fatal(err)
	}
	due, _ = store.DueMail(ctx, now.Add(24*time.Hour), 10)
	if len(due) != 1 || due[0].MigrationID != "m-2" {
		t.Fatalf("a sent mail is still due: %+v", due)
	}
	if err := store.UpdateMail(ctx, sent, 1); cutover.ErrorCode(err) != cutover.ECONFLICT {
		t.Fatalf("a sent mail was updated again: %v", err)
	}
	list, err := store.ListMail(ctx, "m-1")
	if err != nil || len(list) != 1 || list[0].Status != cutover.MailSent || list[0].Attempts != 1 || list[0].To != "it@acme.test" {
		t.Fatalf("m-1's mail: %+v %v", list, err)
	}
	// The migration's audit trail does not pick up its mail.
	if audit, err := store.ListAudit(ctx, "m-1"); err != nil || len(audit) != 0 {
		t.Fatalf("audit %+v %v", audit, err)
	}
}
