package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfnt "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/cutover/cutover/infra/stack"
)

// humanPace is how long after submitting the coordinator decides in
// TestJourneyAtHumanPaceGoesLive: longer than the 5-minute cap kumo v0.33.1
// puts on every execution, which infra/emulator lifts.
const humanPace = 6 * time.Minute

// A journey at a human pace: the coordinator decides six minutes after
// the customer submitted, and the migration still goes live. The wait is
// real (no clock is faked); the test runs in parallel with the others so
// it does not add six minutes to the package.
func TestJourneyAtHumanPaceGoesLive(t *testing.T) {
	if testing.Short() {
		t.Skip("waits six minutes")
	}
	t.Parallel()
	a := api{t: t, base: st.APIURL}
	box := mailbox{t: t, endpoint: st.Endpoint}
	ops := st.MintOpsToken("ops@vendor.test", 2*time.Hour)
	id, key := a.create(ops, "slowco", "Slow Co", "slowco.test", "sloth")
	a.upload(id, key, "contacts.csv", "test", []byte(round2))
	submitted := time.Now()
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
	a.reviewAll(id, key, 1)
	a.waitStatus(id, key, "awaiting_signoff", 1)
	link := box.signOffLink("sloth@slowco.test", 1)

	time.Sleep(time.Until(submitted.Add(humanPace)))
	if s := a.migration(id, key).Migration.Status; s != "awaiting_signoff" {
		t.Fatalf("after %s the migration is %s; want it still awaiting the coordinator", humanPace, s)
	}
	a.must(http.StatusOK, "POST", "/signoff", link, map[string]any{"decision": "approve", "comment": "took my time"})
	a.waitStatus(id, key, "awaiting_final", 1)
	goLive := time.Now().Add(3 * time.Second).UTC().Truncate(time.Second).Add(time.Second)
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/final", key, map[string]any{"goLiveAt": goLive.Format(time.RFC3339)})
	v := a.waitStatus(id, key, "live", 1)
	if c := v.Migration.Final; c == nil || c.Migrated != 3 {
		t.Fatalf("final counts = %+v", v.Migration.Final)
	}
	if n := len(records(t, dynamodb.NewFromConfig(awsConfig(t)), st.Names["LiveRecordsTable"], "slowco")); n != 3 {
		t.Fatalf("LIVE holds %d records for slowco; want 3", n)
	}
}

// sweepTick is how often the recovery stack fires the reconcile sweep
// (template: rate(1 minute)), so a dead execution is noticed in seconds.
const sweepTick = 3 * time.Second

// opsEmail is where the recovery stack mails ops (OpsAlarmEmail).
const opsEmail = "ops-alarm@vendor.test"

// Executions that die outside the service (stopped with the SDK, as an
// operator or the emulator might) are noticed by the reconcile sweep, the
// migration says what happened, ops are mailed, and ops' retry resumes it
// from the right step: a new round before sign-off, the customer's final
// steps after approval (no new sign-off), the final migration itself once
// it began (LIVE is never written twice). The subtests share one stack
// whose sweep ticks every few seconds, and run in parallel with each other
// and with the rest of the package.
func TestDeadExecutionsAreNoticedAndResumed(t *testing.T) {
	t.Parallel()
	rs := ownStack(t, "recovery", 10*time.Minute, stack.Options{
		ScheduleTick: sweepTick,
		Parameters:   map[string]string{"OpsAlarmEmail": opsEmail, "FinalChunkBytes": "256"},
	})
	t.Run("before sign-off: a new round through the coordinator's decision", func(t *testing.T) {
		t.Parallel()
		stoppedBeforeSignOff(t, rs)
	})
	t.Run("after approval: the final extract and the go-live wait, no new sign-off", func(t *testing.T) {
		t.Parallel()
		stoppedAfterApproval(t, rs)
	})
	t.Run("during the final migration: resumed, LIVE written once", func(t *testing.T) {
		t.Parallel()
		stoppedDuringFinal(t, rs)
	})
}

// recovery drives one migration on the recovery stack.
type recovery struct {
	t      *testing.T
	rs     *stack.Stack
	a      api
	box    mailbox
	sf     *sfn.Client
	ops    string
	id     string
	key    string
	coord  string
	tenant string
}

func newRecovery(t *testing.T, rs *stack.Stack, tenant string) *recovery {
	r := &recovery{
		t: t, rs: rs, a: api{t: t, base: rs.APIURL}, box: mailbox{t: t, endpoint: rs.Endpoint},
		ops: rs.MintOpsToken("ana@vendor.test", time.Hour), tenant: tenant, coord: "boss@" + tenant + ".test",
	}
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(rs.Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
		config.WithBaseEndpoint(rs.Endpoint))
	if err != nil {
		t.Fatal(err)
	}
	r.sf = sfn.NewFromConfig(cfg)
	r.id, r.key = r.a.create(r.ops, tenant, strings.ToUpper(tenant[:1])+tenant[1:], tenant+".test", "boss")
	return r
}

// toSignOff uploads the test extract, submits, reviews and waits for the
// coordinator's n-th link.
func (r *recovery) toSignOff(extract string) string {
	r.t.Helper()
	r.a.upload(r.id, r.key, "contacts.csv", "test", []byte(extract))
	r.a.must(http.StatusAccepted, "POST", "/migrations/"+r.id+"/submit", r.key, nil)
	r.a.reviewAll(r.id, r.key, 1)
	r.a.waitStatus(r.id, r.key, "awaiting_signoff", 1)
	return r.box.signOffLink(r.coord, 1)
}

// stop stops the migration's current execution from outside the service,
// as `aws stepfunctions stop-execution` would.
func (r *recovery) stop() {
	r.t.Helper()
	name := r.a.migration(r.id, r.key).Migration.ExecutionName
	if _, err := r.sf.StopExecution(context.Background(), &sfn.StopExecutionInput{
		ExecutionArn: aws.String(executionARN(r.rs.ARNs["MigrationStateMachine"], name)), Cause: aws.String("stopped by hand"),
	}); err != nil {
		r.t.Fatal(err)
	}
}

// waitNoticed waits (at most a minute) for the migration to be failed with
// a reason that names the problem and where it stopped, and for ops to be
// mailed about it.
func (r *recovery) waitNoticed(while string) {
	r.t.Helper()
	want := "The workflow was stopped outside the service (ABORTED) while " + while
	deadline := time.Now().Add(time.Minute)
	for {
		v := r.a.migration(r.id, r.key)
		mailed := false
		for _, m := range r.box.all() {
			mailed = mailed || len(m.To) == 1 && m.To[0] == opsEmail && m.Subject == "Migration stopped: "+r.id &&
				strings.Contains(m.Body, want) && strings.Contains(m.Body, "/ops/migrations/"+r.id+"/retry")
		}
		if v.Migration.Status == "failed" && v.Migration.Failure != nil && strings.HasPrefix(v.Migration.Failure.Reason, want) && mailed {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("a minute after the stop: %s, failure %+v, ops mailed %v; want failed with %q", v.Migration.Status, v.Migration.Failure, mailed, want)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func (r *recovery) retry() {
	r.t.Helper()
	r.a.must(http.StatusAccepted, "POST", "/ops/migrations/"+r.id+"/retry", r.ops, nil)
}

func (r *recovery) signOffMails() int {
	n := 0
	for _, m := range r.box.all() {
		if len(m.To) == 1 && m.To[0] == r.coord && strings.HasPrefix(m.Subject, "Sign-off requested") {
			n++
		}
	}
	return n
}

func stoppedBeforeSignOff(t *testing.T, rs *stack.Stack) {
	r := newRecovery(t, rs, "umbrella")
	r.toSignOff(round2)
	r.stop()
	r.waitNoticed("awaiting sign-off")

	// Ops resume it: a new round from Map that reaches the coordinator
	// (the retried execution has the sign-off clock's settings) and on to
	// the decision.
	r.retry()
	r.a.reviewAll(r.id, r.key, 1)
	r.a.waitStatus(r.id, r.key, "awaiting_signoff", 1)
	link := r.box.signOffLink(r.coord, 2)
	r.a.must(http.StatusOK, "POST", "/signoff", link, map[string]any{"decision": "approve"})
	r.a.waitStatus(r.id, r.key, "awaiting_final", 1)
}

func stoppedAfterApproval(t *testing.T, rs *stack.Stack) {
	r := newRecovery(t, rs, "cyberdyne")
	link := r.toSignOff(round2)
	r.a.must(http.StatusOK, "POST", "/signoff", link, map[string]any{"decision": "approve"})
	r.a.waitStatus(r.id, r.key, "awaiting_final", 1)

	// Stopped while awaiting the final extract: back to it, not to sign-off.
	r.stop()
	r.waitNoticed("awaiting the final extract")
	r.retry()
	r.a.waitStatus(r.id, r.key, "awaiting_final", 1)

	// Stopped while scheduled: back to the go-live wait for the same time.
	goLive := time.Now().Add(40 * time.Second).UTC().Truncate(time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for { // the resumed execution parks on AwaitFinalExtract before it takes the extract
		res := r.a.do("POST", "/migrations/"+r.id+"/final", r.key, map[string]any{"goLiveAt": goLive.Format(time.RFC3339)})
		if res.Status == http.StatusAccepted {
			break
		}
		if res.Status != http.StatusConflict || time.Now().After(deadline) {
			t.Fatalf("final extract after the resume: %d %s", res.Status, res.Body)
		}
		time.Sleep(300 * time.Millisecond)
	}
	r.a.waitStatus(r.id, r.key, "scheduled", 1)
	r.stop()
	r.waitNoticed("scheduled for go-live")
	r.retry()
	v := r.a.waitStatus(r.id, r.key, "live", 1)
	if time.Now().Before(goLive) {
		t.Fatal("the resumed migration went live before its go-live time")
	}
	if n := r.signOffMails(); n != 1 {
		t.Fatalf("%d sign-off requests; a resume after approval must not ask again", n)
	}
	if c := v.Migration.Final; c == nil || c.Migrated != 3 {
		t.Fatalf("final counts %+v", v.Migration.Final)
	}
}

func stoppedDuringFinal(t *testing.T, rs *stack.Stack) {
	r := newRecovery(t, rs, "tyrell")
	link := r.toSignOff(round2)
	r.a.must(http.StatusOK, "POST", "/signoff", link, map[string]any{"decision": "approve"})
	r.a.waitStatus(r.id, r.key, "awaiting_final", 1)
	const rows = 400
	var b strings.Builder
	b.WriteString("Contact ID,First Name,Last Name,Email,Phone\n")
	for i := 1; i <= rows; i++ {
		// Every row has a phone: the test round's contacts had one in three,
		// and a field emptied in the final extract would hold go-live.
		fmt.Fprintf(&b, "%d,N%d,L%d,n%d@tyrell.test,+44 20 7946 %04d\n", i, i, i, i, i)
	}
	finalID := r.a.upload(r.id, r.key, "final.csv", "final", []byte(b.String()))
	goLive := time.Now().Add(2 * time.Second).UTC().Truncate(time.Second).Add(time.Second)
	r.a.must(http.StatusAccepted, "POST", "/migrations/"+r.id+"/final", r.key, map[string]any{"goLiveAt": goLive.Format(time.RFC3339), "fileIds": []string{finalID}})

	// Stop it once some chunks are done and others are not.
	type detail struct {
		Migration struct{ Status string }
		Chunks    []chunkView `json:"chunks"`
	}
	var d detail
	deadline := time.Now().Add(3 * time.Minute)
	for {
		r.a.must(http.StatusOK, "GET", "/ops/migrations/"+r.id, r.ops, nil).decode(t, &d)
		done := 0
		for _, c := range d.Chunks {
			if c.Status == "done" {
				done++
			}
		}
		if d.Migration.Status == "final_migrating" && done > 0 && done < len(d.Chunks)-2 {
			break
		}
		if d.Migration.Status == "live" || time.Now().After(deadline) {
			t.Fatalf("could not catch the final migration midway: %s, %d of %d chunks done", d.Migration.Status, done, len(d.Chunks))
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.stop()
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(rs.Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")), config.WithBaseEndpoint(rs.Endpoint))
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	table := rs.Names["LiveRecordsTable"]
	r.waitNoticed("running the final migration")
	var stopped detail
	r.a.must(http.StatusOK, "GET", "/ops/migrations/"+r.id, r.ops, nil).decode(t, &stopped)
	before := liveItems(t, db, table, r.tenant)
	if len(before) == 0 || len(before) >= rows {
		t.Fatalf("LIVE holds %d of %d records when stopped; want part of them", len(before), rows)
	}

	r.retry()
	r.a.waitStatus(r.id, r.key, "live", 1)
	after := liveItems(t, db, table, r.tenant)
	seen := map[string]bool{}
	for _, it := range after {
		if seen[it.sourceID] {
			t.Fatalf("source record %s is in LIVE twice", it.sourceID)
		}
		seen[it.sourceID] = true
	}
	if len(after) != rows {
		t.Fatalf("LIVE holds %d records; want exactly the %d of the final extract", len(after), rows)
	}
	for k, it := range before {
		if after[k] != it {
			t.Fatalf("LIVE record %s was written again: %+v then %+v", k, it, after[k])
		}
	}
	var resumed detail
	r.a.must(http.StatusOK, "GET", "/ops/migrations/"+r.id, r.ops, nil).decode(t, &resumed)
	for i, c := range stopped.Chunks {
		if c.Status == "done" && resumed.Chunks[i].Attempts != c.Attempts {
			t.Fatalf("chunk %d was done before the stop and ran again (%d attempts, then %d)", c.Index, c.Attempts, resumed.Chunks[i].Attempts)
		}
	}
	if n := r.signOffMails(); n != 1 {
		t.Fatalf("%d sign-off requests; resuming the final migration must not ask again", n)
	}
}

// An execution started by hand for a migration that is live (as an
// operator might, with the migration's id) fails on its own: the
// migration stays live, with no failure, and LIVE is untouched.
func TestStrayExecutionLeavesALiveMigrationLive(t *testing.T) {
	t.Parallel()
	cfg := awsConfig(t)
	sf, db := sfn.NewFromConfig(cfg), dynamodb.NewFromConfig(cfg)
	a := api{t: t, base: st.APIURL}
	box := mailbox{t: t, endpoint: st.Endpoint}
	ops := st.MintOpsToken("ops@vendor.test", time.Hour)
	id, key := a.create(ops, "wonka", "Wonka", "wonka.test", "willy")
	a.upload(id, key, "contacts.csv", "test", []byte(round2))
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
	a.reviewAll(id, key, 1)
	a.waitStatus(id, key, "awaiting_signoff", 1)
	a.must(http.StatusOK, "POST", "/signoff", box.signOffLink("willy@wonka.test", 1), map[string]any{"decision": "approve"})
	a.waitStatus(id, key, "awaiting_final", 1)
	goLive := time.Now().Add(2 * time.Second).UTC().Truncate(time.Second).Add(time.Second)
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/final", key, map[string]any{"goLiveAt": goLive.Format(time.RFC3339)})
	a.waitStatus(id, key, "live", 1)
	liveBefore := records(t, db, st.Names["LiveRecordsTable"], "wonka")

	out, err := sf.StartExecution(context.Background(), &sfn.StartExecutionInput{
		StateMachineArn: aws.String(st.ARNs["MigrationStateMachine"]),
		Name:            aws.String("stray-" + id), Input: aws.String(fmt.Sprintf(`{"migrationId":%q,"round":1}`, id)),
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		d, err := sf.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: out.ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status == sfnt.ExecutionStatusFailed {
			break
		}
		if d.Status != sfnt.ExecutionStatusRunning || time.Now().After(deadline) {
			t.Fatalf("the stray execution is %s; want it FAILED", d.Status)
		}
		time.Sleep(250 * time.Millisecond)
	}
	v := a.migration(id, key)
	if v.Migration.Status != "live" || v.Migration.Failure != nil {
		t.Fatalf("after a stray execution the migration is %s (failure %+v); want live", v.Migration.Status, v.Migration.Failure)
	}
	if after := records(t, db, st.Names["LiveRecordsTable"], "wonka"); len(after) != len(liveBefore) {
		t.Fatalf("LIVE changed from %d to %d records", len(liveBefore), len(after))
	}
}
