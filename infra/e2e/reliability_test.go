package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
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
