package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// purgeTimes reads every item of a records partition with the SDK and
// returns its PurgeAt (epoch seconds), or -1 for an item without one.
func purgeTimes(t *testing.T, db *dynamodb.Client, table, partition string) []int64 {
	t.Helper()
	items := partitionItems(t, db, table, partition)
	out := make([]int64, len(items))
	for i, it := range items {
		out[i] = -1
		if v, ok := it["PurgeAt"].(*ddb.AttributeValueMemberN); ok {
			var err error
			if out[i], err = strconv.ParseInt(v.Value, 10, 64); err != nil {
				t.Fatalf("PurgeAt %q", v.Value)
			}
		}
	}
	return out
}

// A workbook with more than 100 things to mark (the customer named 20 ids
// of every entity for spot checks) is marked in one PUT /review; a request
// with more marks than that, or one mark twice, is a 400 that says why,
// never a 5xx. The migration then goes live: every TEST record it wrote
// expires TestRecordRetentionDays after the go-live, LIVE records never,
// and the uploads bucket and TEST table have the retention the template
// declares.
func TestLargeReviewAndRetentionAfterGoLive(t *testing.T) {
	cfg := awsConfig(t)
	db := dynamodb.NewFromConfig(cfg)
	a := api{t: t, base: st.APIURL}
	box := mailbox{t: t, endpoint: st.Endpoint}
	ops := st.MintOpsToken("ana@vendor.test", time.Hour)
	id, key := a.create(ops, "umbrella", "Umbrella", "umbrella.test", "alice")

	named := map[string][]string{}
	for _, e := range []string{"contact", "property", "tenancy", "applicant", "appointment", "order"} {
		for i := range 20 {
			named[e] = append(named[e], fmt.Sprintf("%s-missing-%d", e, i))
		}
	}
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/checklist", key, map[string]any{"counts": map[string]int{"contact": 3}, "spotCheckIds": named})
	a.upload(id, key, "contacts.csv", "test", []byte(round2))
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
	a.waitStatus(id, key, "awaiting_review", 1)
	var wb struct {
		SpotChecks []struct {
			SourceID  string
			WaiveOnly bool
		}
	}
	a.must(http.StatusOK, "GET", "/migrations/"+id+"/workbook", key, nil).decode(t, &wb)
	var items []map[string]string
	for _, s := range []string{"reconciliation", "issues", "fillRates", "unmapped"} {
		items = append(items, map[string]string{"section": s, "state": "reviewed"})
	}
	for i, sc := range wb.SpotChecks {
		if sc.WaiveOnly { // a named id no row has: nothing to call right, so waived with a note
			items = append(items, map[string]string{"section": fmt.Sprintf("spot:%d", i), "state": "waived", "note": "not in this extract"})
			continue
		}
		items = append(items, map[string]string{"section": fmt.Sprintf("spot:%d", i), "state": "reviewed"})
	}
	if len(items) <= 100 {
		t.Fatalf("only %d things to mark; the test needs more than 100", len(items))
	}

	tooMany := append(append([]map[string]string(nil), items...), items...)
	r := a.do("PUT", "/migrations/"+id+"/review", key, map[string]any{"items": tooMany})
	if r.Status != http.StatusBadRequest || !strings.Contains(r.errorMessage(), fmt.Sprintf("between 1 and %d marks", len(items)+1)) {
		t.Fatalf("%d marks: %d %s", len(tooMany), r.Status, r.Body)
	}
	twice := append(append([]map[string]string(nil), items[:120]...), items[7])
	r = a.do("PUT", "/migrations/"+id+"/review", key, map[string]any{"items": twice})
	if r.Status != http.StatusBadRequest || !strings.Contains(r.errorMessage(), "spot:3 is marked twice") {
		t.Fatalf("a mark twice: %d %s", r.Status, r.Body)
	}
	var marked struct{ Open []string }
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/review", key, map[string]any{"items": items}).decode(t, &marked)
	if len(marked.Open) != 0 {
		t.Fatalf("still open after marking all %d: %v", len(items), marked.Open)
	}
	v := a.migration(id, key)
	events := 0
	for _, e := range v.Audit {
		if e.Action == "workbook.marked" {
			events++
			if !strings.Contains(e.Detail, fmt.Sprintf("%d marks", len(items))) || !strings.Contains(e.Detail, fmt.Sprintf("spot:%d reviewed", len(wb.SpotChecks)-1)) {
				t.Fatalf("audit detail %q", e.Detail)
			}
		}
	}
	if events != 1 {
		t.Fatalf("%d workbook.marked events for one request; want 1", events)
	}

	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/request-signoff", key, nil)
	a.waitStatus(id, key, "awaiting_signoff", 1)
	a.must(http.StatusOK, "POST", "/signoff", box.signOffLink("alice@umbrella.test", 1), map[string]any{"decision": "approve"})
	a.waitStatus(id, key, "awaiting_final", 1)
	goLive := time.Now().Add(2 * time.Second).UTC().Truncate(time.Second).Add(time.Second)
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/final", key, map[string]any{"goLiveAt": goLive.Format(time.RFC3339)})
	a.waitStatus(id, key, "live", 1)
	var live struct {
		Migration struct {
			WentLiveAt time.Time `json:"wentLiveAt"`
			Test       struct{ Migrated int }
		}
	}
	a.must(http.StatusOK, "GET", "/migrations/"+id, key, nil).decode(t, &live)

	// Every TEST record the round wrote expires 90 days (the default) after
	// go-live: ExpireTest, a Map after Complete, sets it, so the migration
	// is live a moment before (until then each record keeps the expiry it
	// was written with, 90 days after the test round).
	want := live.Migration.WentLiveAt.Add(90 * 24 * time.Hour).Unix()
	var purge []int64
	n := 0
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(250 * time.Millisecond) {
		purge, n = purgeTimes(t, db, st.Names["TestRecordsTable"], id), 0
		for _, p := range purge {
			if p == want {
				n++
			}
		}
		if n == len(purge) || time.Now().After(deadline) {
			break
		}
	}
	if len(purge) == 0 || len(purge) != live.Migration.Test.Migrated || n != len(purge) {
		t.Fatalf("TEST holds %d records (the round migrated %d), %d expiring at %d: %v", len(purge), live.Migration.Test.Migrated, n, want, purge)
	}
	for _, p := range purgeTimes(t, db, st.Names["LiveRecordsTable"], "umbrella") {
		if p != -1 {
			t.Fatal("a LIVE record has an expiry")
		}
	}

	// What the local stack provisioned from the template.
	ttl, err := db.DescribeTimeToLive(context.Background(), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(st.Names["TestRecordsTable"])})
	if err != nil || ttl.TimeToLiveDescription == nil || aws.ToString(ttl.TimeToLiveDescription.AttributeName) != "PurgeAt" {
		t.Fatalf("TEST table TTL: %+v %v", ttl, err)
	}
	lc, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).GetBucketLifecycleConfiguration(context.Background(),
		&s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(st.Names["UploadsBucket"])})
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, r := range lc.Rules {
		s := aws.ToString(r.ID)
		if r.Expiration != nil {
			s += fmt.Sprintf(" expire %d", aws.ToInt32(r.Expiration.Days))
		}
		if r.AbortIncompleteMultipartUpload != nil {
			s += fmt.Sprintf(" abort %d", aws.ToInt32(r.AbortIncompleteMultipartUpload.DaysAfterInitiation))
		}
		rules = append(rules, s)
	}
	if got := strings.Join(sorted(rules), ", "); got != "AbortIncompleteUploads abort 1, ExpireArtifacts expire 365, ExpireUploads expire 90" {
		t.Fatalf("bucket lifecycle: %s", got)
	}
}
