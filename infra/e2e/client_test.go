package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/cutover/cutover/infra/stack"
)

// api is a tiny client for the HTTP API, as a browser would call it.
type api struct {
	t    testing.TB
	base string
	// wait bounds waitStatus; zero is 90 seconds. The destinations'
	// journeys wait longer: their final migration goes through the
	// receiver's faults, Retry-After and a killed chunk.
	wait time.Duration
}

type reply struct {
	Status int
	Body   []byte
}

func (r reply) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

func (r reply) errorMessage() string {
	var e struct {
		Error struct{ Code, Message string }
	}
	_ = json.Unmarshal(r.Body, &e)
	return e.Error.Message
}

func (a api) do(method, path, bearer string, body any) reply {
	a.t.Helper()
	r, err := a.try(method, path, bearer, body)
	if err != nil {
		a.t.Fatal(err)
	}
	return r
}

// try is do for goroutines other than the test's, which must not call Fatal.
func (a api) try(method, path, bearer string, body any) (reply, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return reply{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		return reply{}, err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{Status: resp.StatusCode, Body: b}, nil
}

// must asserts the status and returns the reply.
func (a api) must(status int, method, path, bearer string, body any) reply {
	a.t.Helper()
	r := a.do(method, path, bearer, body)
	if r.Status != status {
		a.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, status, r.Body)
	}
	return r
}

type migrationView struct {
	Migration struct {
		ID       string `json:"id"`
		TenantID string `json:"tenantId"`
		Status   string `json:"status"`
		Round    int    `json:"round"`
		Test     *struct {
			Read, Migrated, Merged, Rejected, Skipped, Orphans, Derived int
		} `json:"test"`
		Final *struct {
			Read, Migrated, Merged, Rejected, Skipped, Derived int
		} `json:"final"`
		Failure *struct{ Step, Reason string } `json:"failure"`
		Files   []struct {
			ID string `json:"id"`
		} `json:"files"`
		ExecutionName string `json:"executionName"`
	} `json:"migration"`
	Audit []struct{ Actor, Action, Detail string } `json:"audit"`
}

// create has ops create a migration for a tenant whose customer and
// coordinator are at domain, and returns its id and the customer's key.
func (a api) create(ops, tenant, name, domain, coordinator string) (id, key string) {
	a.t.Helper()
	var created struct {
		Migration   struct{ ID string }
		CustomerKey string `json:"customerKey"`
	}
	a.must(http.StatusCreated, "POST", "/ops/migrations", ops,
		map[string]any{"tenantId": tenant, "customerName": name, "customerEmail": "it@" + domain, "coordinatorEmail": coordinator + "@" + domain}).decode(a.t, &created)
	return created.Migration.ID, created.CustomerKey
}

func (a api) migration(id, key string) migrationView {
	a.t.Helper()
	var v migrationView
	a.must(http.StatusOK, "GET", "/migrations/"+id, key, nil).decode(a.t, &v)
	return v
}

// waitStatus polls the customer's status until it is want, failing early
// when the migration fails.
func (a api) waitStatus(id, key, want string, round int) migrationView {
	a.t.Helper()
	wait := a.wait
	if wait == 0 {
		wait = 90 * time.Second
	}
	deadline := time.Now().Add(wait)
	for {
		v := a.migration(id, key)
		if v.Migration.Status == want && v.Migration.Round == round {
			return v
		}
		if v.Migration.Status == "failed" && want != "failed" {
			a.t.Fatalf("migration failed while waiting for %s: %+v", want, v.Migration.Failure)
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("timed out waiting for %s round %d; at %s round %d", want, round, v.Migration.Status, v.Migration.Round)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// upload sends a file the way the browser does: a presigned multipart
// upload straight to S3, then completion through the API.
// mapRunStates names the state of each Map run of a migration's execution
// (a Map run's ARN ends …/<state>:<id>), sorted.
func mapRunStates(t *testing.T, st *stack.Stack, executionName string) []string {
	t.Helper()
	runs, err := sfn.NewFromConfig(stackConfig(t, st)).ListMapRuns(context.Background(), &sfn.ListMapRunsInput{
		ExecutionArn: aws.String(executionARN(st.ARNs["MigrationStateMachine"], executionName)),
	})
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, r := range runs.MapRuns {
		arn := aws.ToString(r.MapRunArn)
		states = append(states, arn[strings.LastIndex(arn, "/")+1:strings.LastIndex(arn, ":")])
	}
	slices.Sort(states)
	return states
}

// goLive takes a migration whose test round 1 is in review through a
// coordinator's (to's) approval, then submits final as the final extract
// to go live in about two seconds, and waits until it is live.
func (a api) goLive(box mailbox, id, key, to string, final []byte) migrationView {
	a.t.Helper()
	a.reviewAll(id, key, 1)
	a.waitStatus(id, key, "awaiting_signoff", 1)
	a.must(http.StatusOK, "POST", "/signoff", box.signOffLink(to, 1), map[string]any{"decision": "approve"})
	a.waitStatus(id, key, "awaiting_final", 1)
	finalID := a.upload(id, key, "contacts-final.csv", "final", final)
	goLive := time.Now().Add(2 * time.Second).UTC().Truncate(time.Second).Add(time.Second)
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/final", key, map[string]any{"goLiveAt": goLive.Format(time.RFC3339), "fileIds": []string{finalID}})
	return a.waitStatus(id, key, "live", 1)
}

// contactsMapping maps a test file of Contact ID, Email, First Name and
// Last Name columns; dedupe, when set, merges its contacts by e-mail.
func contactsMapping(fileID string, dedupe bool) map[string]any {
	file := map[string]any{
		"name": fileID, "entity": "contact", "sourceId": []string{"Contact ID"},
		"fields": []any{
			map[string]any{"target": "emails", "column": "Email"},
			map[string]any{"target": "first_name", "column": "First Name"},
			map[string]any{"target": "last_name", "column": "Last Name"},
		},
	}
	if dedupe {
		file["dedupe"] = []string{"emails"}
	}
	return map[string]any{"version": 1, "files": []any{file}}
}

func (a api) upload(id, key, name, purpose string, content []byte) string {
	a.t.Helper()
	var plan struct {
		FileID   string `json:"fileId"`
		PartSize int64  `json:"partSize"`
		Parts    []struct {
			PartNumber int    `json:"partNumber"`
			URL        string `json:"url"`
		} `json:"parts"`
	}
	a.must(http.StatusCreated, "POST", "/migrations/"+id+"/uploads", key,
		map[string]any{"fileName": name, "size": len(content), "contentType": "text/csv", "purpose": purpose}).decode(a.t, &plan)
	if len(plan.Parts) == 0 {
		a.t.Fatal("no parts to upload")
	}
	var done []map[string]any
	for i, p := range plan.Parts {
		lo := int64(i) * plan.PartSize
		hi := min(lo+plan.PartSize, int64(len(content)))
		req, err := http.NewRequest(http.MethodPut, p.URL, bytes.NewReader(content[lo:hi]))
		if err != nil {
			a.t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			a.t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == "" {
			a.t.Fatalf("PUT part %d: %d %s", p.PartNumber, resp.StatusCode, body)
		}
		done = append(done, map[string]any{"partNumber": p.PartNumber, "etag": resp.Header.Get("ETag")})
	}
	a.must(http.StatusOK, "POST", fmt.Sprintf("/migrations/%s/uploads/%s/complete", id, plan.FileID), key, map[string]any{"parts": done})
	return plan.FileID
}

// mailbox reads what the emulator's SES v2 has sent.
type mailbox struct {
	t        testing.TB
	endpoint string
}

type mail struct {
	To      []string
	Subject string
	Body    string
}

func (m mailbox) all() []mail {
	m.t.Helper()
	resp, err := http.Get(m.endpoint + "/kumo/ses/v2/sent-emails")
	if err != nil {
		m.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		SentEmails []struct {
			Destination struct{ ToAddresses []string }
			Subject     string
			Body        string
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		m.t.Fatal(err)
	}
	var mails []mail
	for _, e := range out.SentEmails {
		mails = append(mails, mail{To: e.Destination.ToAddresses, Subject: e.Subject, Body: e.Body})
	}
	return mails
}

// signOffLink waits for the n-th sign-off mail to to, and returns the
// link's token.
func (m mailbox) signOffLink(to string, n int) string {
	m.t.Helper()
	return m.link(to, n, "Sign-off requested")
}

// reminders counts the sign-off reminders mailed to to.
func (m mailbox) reminders(to string) int {
	n := 0
	for _, e := range m.all() {
		if len(e.To) == 1 && e.To[0] == to && strings.HasPrefix(e.Subject, "Reminder: sign-off requested") {
			n++
		}
	}
	return n
}

// latestLink returns the link of the newest sign-off mail (request or
// reminder) to to.
func (m mailbox) latestLink(to string) string {
	m.t.Helper()
	var last string
	for _, e := range m.all() {
		if len(e.To) == 1 && e.To[0] == to && strings.Contains(e.Body, "signoff.html#t=") {
			_, tok, _ := strings.Cut(e.Body, "signoff.html#t=")
			last = strings.Fields(tok)[0]
		}
	}
	if last == "" {
		m.t.Fatalf("no sign-off mail to %s", to)
	}
	return last
}

func (m mailbox) link(to string, n int, subject string) string {
	m.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var links []string
		for _, e := range m.all() {
			if len(e.To) == 1 && e.To[0] == to && strings.HasPrefix(e.Subject, subject) {
				_, tok, ok := strings.Cut(e.Body, "signoff.html#t=")
				if !ok {
					m.t.Fatalf("sign-off mail without a link: %q", e.Body)
				}
				links = append(links, strings.Fields(tok)[0])
			}
		}
		if len(links) >= n {
			return links[n-1]
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("no sign-off mail #%d to %s", n, to)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// reviewAll marks every section and spot check of the workbook reviewed and
// requests sign-off, as a customer who checked it all would.
func (a api) reviewAll(id, key string, round int) {
	a.t.Helper()
	a.waitStatus(id, key, "awaiting_review", round)
	var wb struct {
		SpotChecks []struct {
			SourceID  string
			WaiveOnly bool
		}
		Issues struct{ Warnings []struct{ Reason string } }
	}
	a.must(http.StatusOK, "GET", "/migrations/"+id+"/workbook", key, nil).decode(a.t, &wb)
	var items []map[string]string
	for _, s := range []string{"reconciliation", "issues", "fillRates", "unmapped"} {
		items = append(items, map[string]string{"section": s, "state": "reviewed"})
	}
	for i, sc := range wb.SpotChecks {
		if sc.WaiveOnly { // no record to call right: only a waiver with a note
			items = append(items, map[string]string{"section": fmt.Sprintf("spot:%d", i), "state": "waived", "note": "checked in the old CRM"})
			continue
		}
		items = append(items, map[string]string{"section": fmt.Sprintf("spot:%d", i), "state": "reviewed"})
	}
	for i := range wb.Issues.Warnings {
		items = append(items, map[string]string{"section": fmt.Sprintf("warn:%d", i), "state": "reviewed"})
	}
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/review", key, map[string]any{"items": items})
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/request-signoff", key, nil)
}

// mapping returns the migration's current mapping spec as JSON values, for
// a test to edit as the customer's editor would and PUT back.
func (a api) mapping(id, key string) map[string]any {
	a.t.Helper()
	var cur struct {
		Migration struct{ Mapping string }
	}
	a.must(http.StatusOK, "GET", "/migrations/"+id, key, nil).decode(a.t, &cur)
	var spec map[string]any
	if err := json.Unmarshal([]byte(cur.Migration.Mapping), &spec); err != nil {
		a.t.Fatalf("mapping %q: %v", cur.Migration.Mapping, err)
	}
	return spec
}
