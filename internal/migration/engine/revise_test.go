package engine

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
)

// reviseSpec is a valid mapping the customer saves as a revision.
const reviseSpec = `{"version":1,"name":"revised","files":[{"name":"c.csv","entity":"contact","fields":[{"column":"Email","target":"emails"},{"column":"Name","target":"notes"}]}]}`

// parkedAt puts a migration whose round 1 was test-migrated where status
// says, parked on the callback kind (none when kind is ""), with a
// workbook and some of its marks.
func parkedAt(t *testing.T, svc *Service, store *memStore, status cutover.Status, kind string) string {
	t.Helper()
	id := create(t, svc, "acme").Migration.ID
	m := store.migs[id]
	m.Status, m.Round, m.ExecutionName = status, 1, migration.ExecutionName(id, 1)
	m.Files = []cutover.File{{ID: "f1", Name: "c.csv", Key: "k1", Purpose: cutover.PurposeTest, Round: 1, Complete: true, Size: 10}}
	m.Workbook = &cutover.WorkbookSummary{Round: 1, Key: "wb1", Spots: 2}
	m.Review = map[string]cutover.ReviewMark{"reconciliation": {State: migration.Reviewed}, "spot:0": {State: migration.Reviewed}}
	if kind != "" {
		m.Pending = &cutover.PendingTask{Kind: kind, Token: "tok-" + kind, Round: 1}
	}
	store.migs[id] = m
	return id
}

func reviseWorld(t *testing.T) (*Service, *memStore, *[]resumed) {
	t.Helper()
	store := newMemStore()
	svc, _ := newService(store)
	var got []resumed
	svc.Flow = fakeFlow{
		StartFn: func(name string, _ any) error {
			t.Errorf("a rerun started execution %s; it must resume the parked one", name)
			return nil
		},
		ResumeFn: func(tok string, out any) error { got = append(got, resumed{tok, out}); return nil },
	}
	svc.Uploads = uploadsFake{
		PresignFn: func(_, _ string, n []int) ([]string, error) { return make([]string, len(n)), nil },
		RemoveFn:  func(string, string) error { return nil },
	}
	return svc, store, &got
}

type resumed struct {
	token string
	out   any
}

// Before sign-off is requested (in review, or after the request expired)
// the customer revises the mapping, replaces the test extract and runs the
// test migration again: the parked execution is told to run round 2.
func TestReviseAndRerunBeforeSignOffIsRequested(t *testing.T) {
	for _, c := range []struct {
		status cutover.Status
		kind   string
	}{{cutover.StatusAwaitingReview, cutover.TaskReview}, {cutover.StatusSignOffExpired, cutover.TaskExpired}} {
		t.Run(string(c.status), func(t *testing.T) {
			svc, store, got := reviseWorld(t)
			ctx := context.Background()
			id := parkedAt(t, svc, store, c.status, c.kind)

			if _, err := svc.SaveMapping(ctx, mustGet(t, store, id), []byte(reviseSpec)); err != nil {
				t.Fatalf("SaveMapping in %s: %v", c.status, err)
			}
			if store.migs[id].DraftMapping == "" {
				t.Fatal("the revised mapping was not kept")
			}
			plan, err := svc.StartUpload(ctx, mustGet(t, store, id), migration.UploadInput{FileName: "c-fixed.csv", Size: 10, Purpose: cutover.PurposeTest})
			if err != nil {
				t.Fatalf("StartUpload in %s: %v", c.status, err)
			}
			if f := mustGet(t, store, id).FileByID(plan.FileID); f == nil || f.Round != 2 {
				t.Fatalf("the corrected extract is not for round 2: %+v", f)
			}
			// The round being prepared may lose a file; the submitted one keeps its own.
			if _, err := svc.RemoveUpload(ctx, mustGet(t, store, id), plan.FileID); err != nil {
				t.Fatalf("removing the new file: %v", err)
			}
			if _, err := svc.RemoveUpload(ctx, mustGet(t, store, id), "f1"); cutover.ErrorCode(err) != cutover.ECONFLICT {
				t.Fatalf("removing round 1's file: %v", err)
			}
			uploaded(t, store, id, cutover.File{ID: "f2", Name: "c-fixed.csv", Key: "k2", Purpose: cutover.PurposeTest, Round: 2, Complete: true})

			m, err := svc.Submit(ctx, mustGet(t, store, id))
			if err != nil {
				t.Fatalf("Submit in %s: %v", c.status, err)
			}
			if m.Status != cutover.StatusSubmitted || m.Round != 2 || m.ExecutionName != migration.ExecutionName(id, 1) || m.Review != nil || m.CurrentLink != "" {
				t.Fatalf("after the rerun: status %s round %d execution %s review %v link %q", m.Status, m.Round, m.ExecutionName, m.Review, m.CurrentLink)
			}
			if len(*got) != 1 || (*got)[0].token != "tok-"+c.kind {
				t.Fatalf("resumed %+v; want the parked %s token once", *got, c.kind)
			}
			var out struct {
				Rerun bool                     `json:"rerun"`
				Next  migration.ExecutionInput `json:"next"`
			}
			raw, _ := json.Marshal((*got)[0].out)
			if err := json.Unmarshal(raw, &out); err != nil || !out.Rerun || out.Next.Round != 2 || out.Next.MigrationID != id || out.Next.ExecutionName != migration.ExecutionName(id, 1) {
				t.Fatalf("callback output %s; want rerun with round 2's input", raw)
			}
			audit, _ := store.ListAudit(ctx, id)
			var detail string
			for _, e := range audit {
				if e.Action == "round.rerun" {
					detail = e.Detail
				}
			}
			if !strings.Contains(detail, "round 2 replaces round 1's workbook") || !strings.Contains(detail, "mapping revised") || !strings.Contains(detail, "corrected extract") {
				t.Fatalf("audit round.rerun = %q", detail)
			}
		})
	}
}

// A rerun needs something new to run: otherwise it would only redo the
// same workbook and throw away the customer's marks.
func TestRerunWithNothingNewIsRefused(t *testing.T) {
	svc, store, got := reviseWorld(t)
	id := parkedAt(t, svc, store, cutover.StatusAwaitingReview, cutover.TaskReview)
	_, err := svc.Submit(context.Background(), mustGet(t, store, id))
	if cutover.ErrorCode(err) != cutover.ECONFLICT || !strings.Contains(cutover.ErrorMessage(err), "Change the mapping or upload a corrected extract") {
		t.Fatalf("rerun with nothing new: %v", err)
	}
	if len(*got) != 0 || store.migs[id].Review == nil {
		t.Fatalf("a refused rerun resumed %v or lost the marks", *got)
	}
}

// Once sign-off is requested, what the coordinator is asked about stands:
// no revision, no new extract, no rerun.
func TestNoRevisionOnceSignOffIsRequested(t *testing.T) {
	for _, status := range []cutover.Status{cutover.StatusSignOffRequested, cutover.StatusAwaitingSignOff} {
		t.Run(string(status), func(t *testing.T) {
			svc, store, got := reviseWorld(t)
			ctx := context.Background()
			id := parkedAt(t, svc, store, status, "")
			uploaded(t, store, id, cutover.File{ID: "f2", Name: "c-fixed.csv", Key: "k2", Purpose: cutover.PurposeTest, Round: 2, Complete: true})
			_, err := svc.SaveMapping(ctx, mustGet(t, store, id), []byte(reviseSpec))
			if cutover.ErrorCode(err) != cutover.ECONFLICT || !strings.Contains(cutover.ErrorMessage(err), "sign-off was requested") {
				t.Errorf("SaveMapping: %v", err)
			}
			_, err = svc.StartUpload(ctx, mustGet(t, store, id), migration.UploadInput{FileName: "c.csv", Size: 10, Purpose: cutover.PurposeTest})
			if cutover.ErrorCode(err) != cutover.ECONFLICT || !strings.Contains(cutover.ErrorMessage(err), "sign-off was requested") {
				t.Errorf("StartUpload: %v", err)
			}
			_, err = svc.Submit(ctx, mustGet(t, store, id))
			if cutover.ErrorCode(err) != cutover.ECONFLICT || !strings.Contains(cutover.ErrorMessage(err), "sign-off was requested") {
				t.Errorf("Submit: %v", err)
			}
			if len(*got) != 0 || store.migs[id].DraftMapping != "" {
				t.Fatalf("a refused revision changed something: resumed %v, draft %q", *got, store.migs[id].DraftMapping)
			}
		})
	}
}

// A revision saved during the review but not run would be signed off
// unseen: the coordinator would approve the old workbook, and the final
// migration would run the old mapping. Sign-off waits for the rerun.
func TestSignOffWaitsForARevisionToRun(t *testing.T) {
	for name, revise := range map[string]func(t *testing.T, svc *Service, store *memStore, id string){
		"mapping": func(t *testing.T, svc *Service, store *memStore, id string) {
			if _, err := svc.SaveMapping(context.Background(), mustGet(t, store, id), []byte(reviseSpec)); err != nil {
				t.Fatal(err)
			}
		},
		"extract": func(t *testing.T, _ *Service, store *memStore, id string) {
			uploaded(t, store, id, cutover.File{ID: "f2", Name: "c-fixed.csv", Key: "k2", Purpose: cutover.PurposeTest, Round: 2, Complete: true})
		},
	} {
		t.Run(name, func(t *testing.T) {
			svc, store, got := reviseWorld(t)
			id := parkedAt(t, svc, store, cutover.StatusAwaitingReview, cutover.TaskReview)
			m := store.migs[id]
			m.Workbook.Spots = 0
			m.Review = map[string]cutover.ReviewMark{}
			for _, sec := range migration.ReviewSections {
				m.Review[sec] = cutover.ReviewMark{State: migration.Waived, Note: "checked"}
			}
			store.migs[id] = m
			revise(t, svc, store, id)
			_, err := svc.RequestSignOff(context.Background(), mustGet(t, store, id))
			if cutover.ErrorCode(err) != cutover.ECONFLICT || !strings.Contains(cutover.ErrorMessage(err), "Run the test migration again with these changes first") {
				t.Fatalf("RequestSignOff with an unrun revision: %v", err)
			}
			if len(*got) != 0 || store.migs[id].Status != cutover.StatusAwaitingReview {
				t.Fatalf("a refused request moved on: resumed %v, status %s", *got, store.migs[id].Status)
			}
		})
	}
}
