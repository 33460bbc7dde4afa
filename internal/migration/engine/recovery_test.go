package engine

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
)

// statuses is a fake migration.ExecutionStatuses built from a function field.
type statuses struct {
	StatusFn func(name string) (string, error)
}

func (f statuses) ExecutionStatus(_ context.Context, name string) (string, error) {
	return f.StatusFn(name)
}

// liveMigration is a migration that went live through its final migration.
func liveMigration(t *testing.T, svc *Service, store *memStore, tenant string) string {
	t.Helper()
	id := signedOff(t, svc, store, tenant)
	if _, err := runFinal(t, svc, id); err != nil {
		t.Fatal(err)
	}
	if err := svc.Complete(context.Background(), migration.StepInput{MigrationID: id, Round: 1}); err != nil {
		t.Fatal(err)
	}
	if got := store.migs[id].Status; got != cutover.StatusLive {
		t.Fatalf("status %s, want live", got)
	}
	return id
}

// A stray execution of a live migration (one started by hand) fails in its
// first step; neither that step's failure nor MarkFailed may move the
// migration out of live.
func TestAStrayExecutionLeavesALiveMigrationLive(t *testing.T) {
	svc, store, _ := finalService(t, 0)
	ctx := context.Background()
	id := liveMigration(t, svc, store, "acme")
	before := store.migs[id]

	if _, err := svc.Map(ctx, migration.StepInput{MigrationID: id, Round: 1}); cutover.ErrorCode(err) != cutover.ECONFLICT {
		t.Fatalf("Map of a live migration: %v", err)
	}
	svc.RecordStepFailure(ctx, id, "Map", "Step mapping cannot run while the migration is live.")
	if err := svc.MarkFailed(ctx, migration.FailInput{StepInput: migration.StepInput{MigrationID: id, Round: 1}, Error: migration.StepError{Error: "States.TaskFailed"}}); err != nil {
		t.Fatal(err)
	}
	after := store.migs[id]
	if after.Status != cutover.StatusLive || after.Failure != nil || after.WentLiveAt != before.WentLiveAt {
		t.Fatalf("after a stray execution: status %s, failure %+v", after.Status, after.Failure)
	}
	if err := svc.Park(ctx, migration.ParkInput{StepInput: migration.StepInput{MigrationID: id, Round: 1}, Kind: cutover.TaskFinal, TaskToken: "t"}); cutover.ErrorCode(err) != cutover.ECONFLICT {
		t.Fatalf("parking a live migration: %v", err)
	}
	if got := store.migs[id].Status; got != cutover.StatusLive {
		t.Fatalf("status %s after a stray callback step", got)
	}
}

// MarkFailed records a failure only for the execution the migration
// follows; a stray one with another name leaves it as it is.
func TestMarkFailedIgnoresAnotherExecution(t *testing.T) {
	svc, store, _ := finalService(t, 0)
	ctx := context.Background()
	id := signedOff(t, svc, store, "acme")
	m := store.migs[id]
	m.Status = cutover.StatusAwaitingSignOff
	store.migs[id] = m
	if err := svc.MarkFailed(ctx, migration.FailInput{StepInput: migration.StepInput{MigrationID: id, Round: 1}, ExecutionName: "someone-elses", Error: migration.StepError{Error: "States.TaskFailed"}}); err != nil {
		t.Fatal(err)
	}
	if got := store.migs[id]; got.Status != cutover.StatusAwaitingSignOff || got.Failure != nil {
		t.Fatalf("a stray execution's failure changed the migration: %s %+v", got.Status, got.Failure)
	}
	if err := svc.MarkFailed(ctx, migration.FailInput{StepInput: migration.StepInput{MigrationID: id, Round: 1}, ExecutionName: m.ExecutionName, Error: migration.StepError{Error: "States.TaskFailed"}}); err != nil {
		t.Fatal(err)
	}
	if got := store.migs[id]; got.Status != cutover.StatusFailed {
		t.Fatalf("its own execution's failure: status %s", got.Status)
	}
}

// Complete of a migration that is live already tells nobody again.
func TestCompleteNotifiesOnce(t *testing.T) {
	svc, store, _ := finalService(t, 0)
	var sent []string
	svc.Mailer = mailer{SendFn: func(to, subject, _ string) error { sent = append(sent, to+": "+subject); return nil }}
	id := liveMigration(t, svc, store, "acme")
	n := len(sent)
	if err := svc.Complete(context.Background(), migration.StepInput{MigrationID: id, Round: 1}); err != nil {
		t.Fatal(err)
	}
	live := 0
	for _, m := range sent {
		if strings.HasSuffix(m, ": Your migration is live") {
			live++
		}
	}
	if len(sent) != n || live != 2 {
		t.Fatalf("mails %v; want the two live notices once", sent)
	}
}

// The sweep notices executions that died outside the service: each such
// migration is failed with a reason that names the problem and the step,
// and ops are mailed. Running ones, stray ones, live and failed migrations
// and a missing execution within its grace are left alone.
func TestSweepFailsMigrationsWhoseExecutionDied(t *testing.T) {
	svc, store, _ := finalService(t, 0)
	ctx := context.Background()
	var mails []sentMail
	svc.Mailer = mailer{SendFn: func(to, subject, body string) error { mails = append(mails, sentMail{to, subject, body}); return nil }}
	svc.OpsEmail = "ops@vendor.test"
	set := func(id string, status cutover.Status, exec string, updated time.Time) {
		m := store.migs[id]
		m.Status, m.ExecutionName, m.UpdatedAt = status, exec, updated
		store.migs[id] = m
	}
	aborted := signedOff(t, svc, store, "t1")
	set(aborted, cutover.StatusAwaitingSignOff, "ex-aborted", now0)
	timedOut := signedOff(t, svc, store, "t2")
	set(timedOut, cutover.StatusScheduled, "ex-timedout", now0)
	gone := signedOff(t, svc, store, "t3")
	set(gone, cutover.StatusAwaitingReview, "ex-gone", now0.Add(-time.Hour))
	fresh := signedOff(t, svc, store, "t4")
	set(fresh, cutover.StatusSubmitted, "ex-fresh", now0) // saved, not started yet
	running := signedOff(t, svc, store, "t5")
	set(running, cutover.StatusAwaitingFinal, "ex-running", now0)
	failed := signedOff(t, svc, store, "t6")
	set(failed, cutover.StatusFailed, "ex-failed", now0)
	stepFailed := signedOff(t, svc, store, "t8")
	set(stepFailed, cutover.StatusMapping, "ex-stepfailed", now0)
	svc.RecordStepFailure(ctx, stepFailed, "Map", "contacts.csv, line 3: the quoted field is never closed")
	live := liveMigration(t, svc, store, "t7")
	set(live, cutover.StatusLive, "ex-live-aborted", now0)
	status := map[string]string{"ex-stepfailed": "FAILED", "ex-aborted": "ABORTED", "ex-timedout": "TIMED_OUT", "ex-running": "RUNNING", "ex-failed": "FAILED", "ex-live-aborted": "ABORTED"}
	svc.Watch = statuses{StatusFn: func(name string) (string, error) {
		if s, ok := status[name]; ok {
			return s, nil
		}
		return "", cutover.Errorf(cutover.ENOTFOUND, "no execution %s", name)
	}}
	mails = nil // the live notices of the setup

	res, err := svc.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed != 4 {
		t.Fatalf("sweep %+v; want 4 migrations failed", res)
	}
	if f := store.migs[stepFailed].Failure; store.migs[stepFailed].Status != cutover.StatusFailed || f == nil || f.Reason != "contacts.csv, line 3: the quoted field is never closed" {
		t.Errorf("a FAILED execution whose step recorded why: %s %+v; want the step's own reason", store.migs[stepFailed].Status, f)
	}
	for id, want := range map[string]string{
		aborted:  "The workflow was stopped outside the service (ABORTED) while awaiting sign-off",
		timedOut: "The workflow timed out (TIMED_OUT) while scheduled for go-live",
		gone:     "The workflow's execution no longer exists while awaiting the customer's review",
	} {
		m := store.migs[id]
		if m.Status != cutover.StatusFailed || m.Failure == nil || !strings.HasPrefix(m.Failure.Reason, want) {
			t.Errorf("%s: %s %+v; want failed with %q", id, m.Status, m.Failure, want)
		}
	}
	for id, want := range map[string]cutover.Status{fresh: cutover.StatusSubmitted, running: cutover.StatusAwaitingFinal, failed: cutover.StatusFailed, live: cutover.StatusLive} {
		if got := store.migs[id].Status; got != want {
			t.Errorf("%s: %s, want %s untouched", id, got, want)
		}
	}
	var ops, customers []sentMail
	for _, m := range mails {
		if m.To == "ops@vendor.test" {
			ops = append(ops, m)
		} else {
			customers = append(customers, m)
		}
	}
	if len(ops) != 4 || len(customers) != 4 {
		t.Fatalf("ops mails %+v, customer mails %+v; want 4 of each", ops, customers)
	}
	for _, m := range ops {
		if !strings.Contains(m.Body, "/retry") || strings.Contains(m.Body, "@acme.test") {
			t.Errorf("ops mail %+v", m)
		}
	}
	for _, m := range customers {
		if m.Subject != "Your migration stopped: a step failed" || !strings.Contains(m.Body, "What happens next") {
			t.Errorf("customer mail %+v", m)
		}
	}
	// A second sweep finds nothing new.
	if res, err := svc.Sweep(ctx); err != nil || res.Failed != 0 || len(mails) != 8 {
		t.Fatalf("second sweep %+v %v, %d mails", res, err, len(mails))
	}
}

// A status-change event reconciles the migration its execution runs,
// unless the execution is not the one the migration follows.
func TestExecutionEventsReconcileOnlyTheMigrationsOwnExecution(t *testing.T) {
	svc, store, _ := finalService(t, 0)
	ctx := context.Background()
	id := signedOff(t, svc, store, "acme")
	m := store.migs[id]
	m.Status, m.ExecutionName = cutover.StatusAwaitingFinal, "ex-own"
	store.migs[id] = m
	event := func(name, status string) migration.ExecutionEvent {
		in, _ := json.Marshal(map[string]any{"migrationId": id, "round": 1})
		ev := migration.ExecutionEvent{Source: "aws.states", DetailType: "Step Functions Execution Status Change"}
		ev.Detail.Name, ev.Detail.Status = name, status
		ev.Detail.Input = new(string)
		*ev.Detail.Input = string(in)
		return ev
	}
	if res, err := svc.Reconcile(ctx, event("ex-stray", "ABORTED")); err != nil || res.Failed != 0 || store.migs[id].Status != cutover.StatusAwaitingFinal {
		t.Fatalf("a stray execution's event: %+v %v, status %s", res, err, store.migs[id].Status)
	}
	if res, err := svc.Reconcile(ctx, event("ex-own", "ABORTED")); err != nil || res.Failed != 1 {
		t.Fatalf("its own execution's event: %+v %v", res, err)
	}
	if f := store.migs[id].Failure; f == nil || !strings.Contains(f.Reason, "(ABORTED) while awaiting the final extract") {
		t.Fatalf("failure %+v", f)
	}
}

// Ops' retry resumes a failed migration from the right step: before
// sign-off a new round from Map, after approval the final extract or the
// go-live wait without a new sign-off, and once the final migration began
// the final migration itself, which never writes a LIVE record twice.
// Every execution's input carries the sign-off clock's settings.
func TestRetryResumesFromTheRightStep(t *testing.T) {
	svc, store, live := finalService(t, 0)
	ctx := context.Background()
	svc.SignOffTimeoutSeconds, svc.SignOffReminderSeconds = 600, 60
	type startCall struct {
		name string
		in   migration.ExecutionInput
	}
	var started []startCall
	svc.Flow = fakeFlow{StartFn: func(name string, in any) error {
		started = append(started, startCall{name, in.(migration.ExecutionInput)})
		return nil
	}}
	fail := func(id string, edit func(*cutover.Migration)) {
		m := store.migs[id]
		m.Status, m.Failure, m.ExecutionName = cutover.StatusFailed, &cutover.Failure{Step: "x", Reason: "stopped"}, "ex-dead"
		edit(&m)
		store.migs[id] = m
	}
	check := func(id string, status cutover.Status, resumeAt string) migration.ExecutionInput {
		t.Helper()
		n := len(started)
		got, err := svc.Retry(ctx, id, "ops:ana")
		if err != nil || got.Status != status || got.Failure != nil || len(started) != n+1 {
			t.Fatalf("retry: %v, %+v", err, got)
		}
		in := started[n].in
		if started[n].name != got.ExecutionName || in.ExecutionName != got.ExecutionName || in.ResumeAt != resumeAt ||
			in.SignOffTimeoutSeconds != 600 || in.SignOffReminderSeconds != 60 || in.MigrationID != id || in.Round != 1 {
			t.Fatalf("started %s with %+v; want resumeAt %q and the sign-off settings", started[n].name, in, resumeAt)
		}
		if _, err := svc.Retry(ctx, id, "ops:ana"); cutover.ErrorCode(err) != cutover.ECONFLICT {
			t.Fatalf("retrying a migration that runs again: %v", err)
		}
		return in
	}

	// Before sign-off: a new round from Map.
	before := signedOff(t, svc, store, "t1")
	fail(before, func(m *cutover.Migration) { m.SignOff = nil })
	check(before, cutover.StatusSubmitted, "")

	// Approved, no go-live time yet (or one that passed): the final extract.
	approvedOnly := signedOff(t, svc, store, "t2")
	fail(approvedOnly, func(m *cutover.Migration) { m.GoLiveAt = now0.Add(-time.Minute) })
	check(approvedOnly, cutover.StatusAwaitingFinal, migration.ResumeFinalExtract)

	// Approved and scheduled ahead: the go-live wait, for the same time.
	scheduled := signedOff(t, svc, store, "t3")
	goLive := now0.Add(time.Hour)
	fail(scheduled, func(m *cutover.Migration) { m.GoLiveAt = goLive })
	in := check(scheduled, cutover.StatusScheduled, migration.ResumeGoLive)
	if in.Final == nil || in.Final.GoLiveAt != goLive.Format(time.RFC3339) {
		t.Fatalf("the go-live wait resumes with %+v", in.Final)
	}

	// The final migration began: one chunk done, then the execution died.
	svc.ChunkBytes = 8
	began := signedOff(t, svc, store, "t4")
	withFinalExtract(t, svc, store, began, "Id,Email,Name\n1,a@x.com,Ann\n2,b@x.com,Bo\n3,c@x.com,Cy\n")
	cleared(t, svc, began)
	plan, err := svc.PlanFinal(ctx, FinalStep{MigrationID: began, Round: 1})
	if err != nil || plan.Run == nil || plan.Run.Chunks < 2 {
		t.Fatalf("plan %+v %v", plan, err)
	}
	if err := runFinalShuffle(svc, plan.Run); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.MigrateChunk(ctx, FinalStep{MigrationID: began, Round: 1, Index: manifestItems(t, svc, plan.Run.Manifest)[0].Index}); err != nil {
		t.Fatal(err)
	}
	writes := live.writes
	fail(began, func(*cutover.Migration) {})
	check(began, cutover.StatusFinalMigrating, migration.ResumeFinalMigration)
	out, err := runFinal(t, svc, began) // the resumed execution: plan (its own lock), the chunks, finish
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Complete(ctx, migration.StepInput{MigrationID: began, Round: 1}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for k, r := range live.records {
		if strings.HasPrefix(k, "t4/") {
			ids = append(ids, r.SourceID)
		}
	}
	slices.Sort(ids)
	chunks, _ := svc.FinalChunks(ctx, began)
	if !slices.Equal(ids, []string{"1", "2", "3"}) || out.Counts.Migrated != 3 || store.migs[began].Status != cutover.StatusLive || chunks[0].Attempts != 1 {
		t.Fatalf("LIVE %v, counts %+v, status %s, first chunk run %d times", ids, out.Counts, store.migs[began].Status, chunks[0].Attempts)
	}
	if live.writes-writes != 3-1 {
		t.Fatalf("the resumed final migration wrote %d records; want only the 2 of the chunks not done", live.writes-writes)
	}
}
