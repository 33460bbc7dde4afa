// Package e2e runs the whole service on the local emulator, stood up from
// template.yaml by infra/stack, and drives it through the HTTP API only,
// the way a customer, a coordinator and ops would.
package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfnt "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/cutover/cutover/infra/stack"
	"github.com/cutover/cutover/internal/signoff"
)

// st is the one local stack every test in this package drives.
var st *stack.Stack

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	logf, err := os.CreateTemp("", "cutover-e2e-*.log")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.Remove(logf.Name())
	defer logf.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// The reference receiver hears the lifecycle events through the
	// template's rule and API destination (events_test.go).
	lifecycle, err := startEventsReceiver()
	if err != nil {
		fmt.Fprintf(os.Stderr, "start the events receiver: %v\n", err)
		return 1
	}
	defer lifecycle.close()
	st, err = stack.Start(ctx, stack.Options{Root: root, StackName: "e2e", Log: logf, Parameters: lifecycle.parameters()})
	if err != nil {
		fmt.Fprintf(os.Stderr, "start stack: %v\n", err)
		dumpLog(logf.Name())
		return 1
	}
	code := m.Run()
	closeDest(code != 0) // the destinations' stack, if a test started it
	_ = st.Close()
	if code != 0 {
		dumpLog(logf.Name())
	}
	return code
}

// dumpLog prints the tail of the stack's log (every function's JSON log
// lines, the runner and the provisioner) to explain a failure.
func dumpLog(path string) {
	b, _ := os.ReadFile(path)
	var keep []string
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, `"msg":"aws sdk"`) {
			keep = append(keep, line)
		}
	}
	out := strings.Join(keep, "\n")
	if len(out) > 30000 {
		out = out[len(out)-30000:]
	}
	fmt.Fprintf(os.Stderr, "stack log (tail):\n%s\n", out)
}

// awsConfig reaches the shared stack's emulator.
func awsConfig(t testing.TB) aws.Config { return stackConfig(t, st) }

// stackConfig reaches s's emulator (a stack of a test's own).
func stackConfig(t testing.TB, s *stack.Stack) aws.Config {
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(s.Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
		config.WithBaseEndpoint(s.Endpoint))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// records reads the items in one partition of a records table (for LIVE,
// a tenant's: partitionItems).
func records(t *testing.T, db *dynamodb.Client, table, partition string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, item := range partitionItems(t, db, table, partition) {
		fields := map[string]string{}
		if m, ok := item["fields"].(*ddb.AttributeValueMemberM); ok {
			for k, v := range m.Value {
				fields[k] = fieldText(t, v)
			}
		}
		out[item["SK"].(*ddb.AttributeValueMemberS).Value] = fields
	}
	return out
}

// partitionItems reads every item of one partition of a records table:
// TEST's of a migration id; LIVE's of a tenant, under the tenant's key or
// any of its shard keys ("<tenant>#NN", dynamostore.LivePartition). It
// scans the table for them, so it finds them wherever the writer put
// them, apart from the code that chose the keys.
func partitionItems(tb testing.TB, db *dynamodb.Client, table, partition string) []map[string]ddb.AttributeValue {
	tb.Helper()
	var out []map[string]ddb.AttributeValue
	p := dynamodb.NewScanPaginator(db, partitionScan(table, partition))
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, page.Items...)
	}
	return out
}

// partitionScan is a strongly consistent Scan of table for the items
// under partition or one of its shard keys.
func partitionScan(table, partition string) *dynamodb.ScanInput {
	return &dynamodb.ScanInput{
		TableName: &table, ConsistentRead: aws.Bool(true),
		FilterExpression: aws.String("PK = :p OR begins_with(PK, :s)"),
		ExpressionAttributeValues: map[string]ddb.AttributeValue{
			":p": &ddb.AttributeValueMemberS{Value: partition}, ":s": &ddb.AttributeValueMemberS{Value: partition + "#"},
		},
	}
}

// fieldText is a typed stored field as the engine's text (the form the
// assertions compare): a list joined with "; ", money as "amount
// currency", a number or boolean as written.
func fieldText(t *testing.T, v ddb.AttributeValue) string {
	t.Helper()
	switch v := v.(type) {
	case *ddb.AttributeValueMemberS:
		return v.Value
	case *ddb.AttributeValueMemberN:
		return v.Value
	case *ddb.AttributeValueMemberBOOL:
		return strconv.FormatBool(v.Value)
	case *ddb.AttributeValueMemberL:
		items := make([]string, len(v.Value))
		for i, it := range v.Value {
			items[i] = fieldText(t, it)
		}
		return strings.Join(items, "; ")
	case *ddb.AttributeValueMemberM:
		return fieldText(t, v.Value["amount"]) + " " + fieldText(t, v.Value["currency"])
	}
	t.Fatalf("a stored field of type %T", v)
	return ""
}

// fieldKinds is, per item of a partition, the DynamoDB type its field is
// stored as (*types.AttributeValueMemberL for a list, ...).
func fieldKinds(t *testing.T, db *dynamodb.Client, table, partition, field string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, item := range partitionItems(t, db, table, partition) {
		if m, ok := item["fields"].(*ddb.AttributeValueMemberM); ok {
			if v, ok := m.Value[field]; ok {
				out[item["SK"].(*ddb.AttributeValueMemberS).Value] = fmt.Sprintf("%T", v)
			}
		}
	}
	return out
}

func emails(recs map[string]map[string]string) string {
	var out []string
	for _, f := range recs {
		out = append(out, f["emails"])
	}
	return strings.Join(sorted(out), ",")
}

func sorted(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

const (
	round1 = "Contact ID,First Name,Last Name,Email,Phone,Shoe Size\n1,Ann,Lee,ann@acme.test,+44 20 7946 0001,5\n2,Bo,Ng,bo@acme.test,,9\n3,,,not-an-email,,\n4,Di,Gone,di@acme.test,,\n"
	round2 = "Contact ID,First Name,Last Name,Email,Phone\n1,Ann,Lee,ann@acme.test,+44 20 7946 0001\n2,Bo,Ng,bo@acme.test,\n3,Cy,Old,cy@acme.test,\n,,,,\n"
	final  = "Contact ID,First Name,Last Name,Email,Phone\n1,Ann,Lee,ann@acme.test,+44 20 7946 0001\n2,Bo,Ng,bo@acme.test,\n3,Cy,Old,cy@acme.test,\n5,Ed,New,ed@acme.test,\n"
)

func TestMigrationEndToEnd(t *testing.T) {
	cfg := awsConfig(t)
	db := dynamodb.NewFromConfig(cfg)
	sf := sfn.NewFromConfig(cfg)
	a := api{t: t, base: st.APIURL}
	box := mailbox{t: t, endpoint: st.Endpoint}
	ops := st.MintOpsToken("ana@vendor.test", time.Hour)
	coordinator := "coordinator@acme.test"

	// Ops create the migration; the API refuses anyone without an ops token.
	newMigration := map[string]any{"tenantId": "acme", "customerName": "Acme Lettings", "customerEmail": "it@acme.test", "coordinatorEmail": coordinator}
	a.must(http.StatusUnauthorized, "POST", "/ops/migrations", "", newMigration)
	a.must(http.StatusUnauthorized, "POST", "/ops/migrations", "not-a-jwt", newMigration)
	var created struct {
		Migration   struct{ ID string }
		CustomerKey string `json:"customerKey"`
		InviteURL   string `json:"inviteUrl"`
	}
	a.must(http.StatusCreated, "POST", "/ops/migrations", ops, newMigration).decode(t, &created)
	id, key := created.Migration.ID, created.CustomerKey
	if !strings.HasPrefix(created.InviteURL, st.SiteURL+"/upload.html#m="+id+"&k=") {
		t.Fatalf("invite URL %q", created.InviteURL)
	}

	// Tenants are isolated: another migration's key, no key, a made-up id.
	var other struct {
		Migration   struct{ ID string }
		CustomerKey string `json:"customerKey"`
	}
	a.must(http.StatusCreated, "POST", "/ops/migrations", ops,
		map[string]any{"tenantId": "globex", "customerName": "Globex", "customerEmail": "it@globex.test", "coordinatorEmail": "boss@globex.test"}).decode(t, &other)
	a.must(http.StatusForbidden, "GET", "/migrations/"+id, other.CustomerKey, nil)
	a.must(http.StatusForbidden, "POST", "/migrations/"+id+"/submit", other.CustomerKey, nil)
	a.must(http.StatusUnauthorized, "GET", "/migrations/"+id, "", nil)
	a.must(http.StatusNotFound, "GET", "/migrations/m-doesnotexist", key, nil)

	// The pre-test checklist: the counts the customer sees in the old CRM
	// (a property count is planted with no property file), corrected once.
	a.must(http.StatusBadRequest, "PUT", "/migrations/"+id+"/checklist", key, map[string]any{"counts": map[string]int{"widgets": 1}})
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/checklist", key, map[string]any{"counts": map[string]int{"contact": 5, "property": 12}})
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/checklist", key,
		map[string]any{"counts": map[string]int{"contact": 4, "property": 12}, "spotCheckIds": map[string][]string{"contact": {"2"}}})
	a.must(http.StatusNotFound, "GET", "/migrations/"+id+"/workbook", key, nil)

	// Round 1: upload through presigned multipart, submit, test migration.
	a.must(http.StatusConflict, "POST", "/migrations/"+id+"/submit", key, nil)
	a.must(http.StatusNotFound, "GET", "/migrations/"+id+"/proposal", key, nil)
	a.upload(id, key, "contacts.csv", "test", []byte(round1))
	// Before submitting, the customer reviews the suggested mapping column
	// by column, with sample values.
	var proposal struct {
		Files []struct {
			Entity  string
			Columns []struct {
				Column, Target string
				Samples        []string
			}
		}
		Targets map[string][]struct{ Name string }
	}
	a.must(http.StatusOK, "GET", "/migrations/"+id+"/proposal", key, nil).decode(t, &proposal)
	if len(proposal.Files) != 1 || proposal.Files[0].Entity != "contact" || len(proposal.Files[0].Columns) == 0 || len(proposal.Targets["contact"]) == 0 {
		t.Fatalf("proposal %+v", proposal)
	}
	emailSeen := false
	for _, c := range proposal.Files[0].Columns {
		if c.Column == "Email" {
			emailSeen = true
			if c.Target != "emails" || len(c.Samples) == 0 {
				t.Fatalf("the Email column is proposed as %+v", c)
			}
		}
	}
	if !emailSeen {
		t.Fatalf("the proposal lacks the Email column: %+v", proposal.Files[0].Columns)
	}
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
	v := a.waitStatus(id, key, "awaiting_review", 1)
	if c := v.Migration.Test; c == nil || c.Read != 4 || c.Migrated != 3 || c.Rejected != 1 || c.Skipped != 0 {
		t.Fatalf("round 1 counts = %+v", v.Migration.Test)
	}
	var wb struct {
		Seed           uint64
		Reconciliation []struct {
			Entity      string
			Checklist   *int
			Rows        int
			Migrated    int
			Status      string
			Explanation string
		}
		SpotChecks []struct {
			Entity, Why, SourceID string
			Found                 bool
			Record                map[string]string
		}
		Unmapped []struct {
			File    string
			Columns []string
		}
		Issues struct {
			Rejected []struct {
				Reason string
				Count  int
			}
			RejectsFiles []struct{ File, URL string }
		}
	}
	a.must(http.StatusOK, "GET", "/migrations/"+id+"/workbook", key, nil).decode(t, &wb)
	rec := map[string]string{}
	for _, r := range wb.Reconciliation {
		rec[r.Entity] = r.Status
	}
	if rec["contact"] != "explained" || rec["property"] != "unexplained" || len(wb.Reconciliation) != 2 {
		t.Fatalf("reconciliation = %+v", wb.Reconciliation)
	}
	if len(wb.Unmapped) != 1 || strings.Join(wb.Unmapped[0].Columns, ",") != "Shoe Size" {
		t.Fatalf("unmapped = %+v", wb.Unmapped)
	}
	if len(wb.SpotChecks) != 4 || wb.SpotChecks[0].SourceID != "2" || wb.SpotChecks[0].Why != "named by you" || wb.SpotChecks[0].Record["emails"] != "bo@acme.test" || wb.Seed == 0 {
		t.Fatalf("spot checks = %+v (seed %d)", wb.SpotChecks, wb.Seed)
	}
	if len(wb.Issues.Rejected) != 1 || wb.Issues.Rejected[0].Count != 1 || len(wb.Issues.RejectsFiles) != 1 {
		t.Fatalf("issues = %+v", wb.Issues)
	}
	// The rejects file downloads through its short-lived link, with every
	// rejected row's original values and reasons.
	resp, err := http.Get(wb.Issues.RejectsFiles[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	rejectsCSV, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(rejectsCSV), "not-an-email") || !strings.Contains(string(rejectsCSV), "cutover_reasons") {
		t.Fatalf("rejects download: %d %q", resp.StatusCode, rejectsCSV)
	}

	// Sign-off can be requested only when every part is reviewed or waived.
	if r := a.do("POST", "/migrations/"+id+"/request-signoff", key, nil); r.Status != http.StatusConflict || !strings.Contains(r.errorMessage(), "still open: reconciliation") {
		t.Fatalf("request with nothing reviewed: %d %s", r.Status, r.Body)
	}
	a.must(http.StatusBadRequest, "PUT", "/migrations/"+id+"/review", key, map[string]any{"items": []map[string]string{{"section": "issues", "state": "waived"}}})
	a.must(http.StatusBadRequest, "PUT", "/migrations/"+id+"/review", key, map[string]any{"items": []map[string]string{{"section": "spotChecks", "state": "reviewed"}}})
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/review", key, map[string]any{"items": []map[string]string{
		{"section": "reconciliation", "state": "reviewed"},
		{"section": "issues", "state": "waived", "note": "Cy's email is fixed in round 2"},
		{"section": "fillRates", "state": "reviewed"},
		{"section": "unmapped", "state": "reviewed"},
		{"section": "spot:0", "state": "reviewed"},
	}})
	if r := a.do("POST", "/migrations/"+id+"/request-signoff", key, nil); r.Status != http.StatusConflict || !strings.Contains(r.errorMessage(), "still open: spot:1, spot:2, spot:3") {
		t.Fatalf("request with spot checks open: %d %s", r.Status, r.Body)
	}
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/review", key, map[string]any{"items": []map[string]string{{"section": "spotChecks", "state": "waived", "note": "checked in the old CRM"}}})
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/request-signoff", key, nil)
	a.waitStatus(id, key, "awaiting_signoff", 1)
	testTable := st.Names["TestRecordsTable"]
	if got := emails(records(t, db, testTable, id)); got != "ann@acme.test,bo@acme.test,di@acme.test" {
		t.Fatalf("TEST after round 1 = %s", got)
	}
	for sk, kind := range fieldKinds(t, db, testTable, id, "emails") {
		if kind != "*types.AttributeValueMemberL" {
			t.Errorf("TEST %s stores its emails as %s, not a list", sk, kind)
		}
	}

	// The sign-off link: GET and HEAD show and change nothing.
	link1 := box.signOffLink(coordinator, 1)
	for i := 0; i < 2; i++ {
		var show struct {
			State    string
			Round    int
			Summary  struct{ Read, Migrated, Rejected int }
			Workbook struct {
				Entities []struct{ Entity, Status string }
			}
			Review map[string]struct{ State, Note string }
			Issues struct {
				Rejected []struct {
					Reason string
					Count  int
				}
			}
		}
		a.must(http.StatusOK, "GET", "/signoff", link1, nil).decode(t, &show)
		if len(show.Issues.Rejected) != 1 || show.Issues.Rejected[0].Count != 1 || !strings.Contains(show.Issues.Rejected[0].Reason, "not a valid email") {
			t.Fatalf("the coordinator does not see the issues: %+v", show.Issues)
		}
		if show.State != "pending" || show.Round != 1 || show.Summary.Migrated != 3 {
			t.Fatalf("sign-off view = %+v", show)
		}
		// The coordinator sees what is being approved: the reconciliation
		// and what the customer reviewed or waived, and why.
		if len(show.Workbook.Entities) != 2 || show.Workbook.Entities[0].Status != "explained" ||
			show.Review["issues"].State != "waived" || show.Review["issues"].Note != "Cy's email is fixed in round 2" {
			t.Fatalf("sign-off view lacks the workbook: %+v", show)
		}
	}
	a.must(http.StatusOK, "HEAD", "/signoff", link1, nil)
	if s := a.migration(id, key).Migration.Status; s != "awaiting_signoff" {
		t.Fatalf("looking at the link changed the status to %s", s)
	}

	// Forged and expired links are refused.
	a.must(http.StatusNotFound, "POST", "/signoff", "forged."+link1, map[string]any{"decision": "approve"})
	a.must(http.StatusNotFound, "GET", "/signoff", link1[:len(link1)-4]+"AAAA", nil)
	expired, _ := signoff.Links{Key: []byte(st.SigningKey)}.Mint(time.Now().Add(-time.Minute))
	if r := a.do("POST", "/signoff", expired, map[string]any{"decision": "approve"}); r.Status != http.StatusGone || !strings.Contains(r.errorMessage(), "expired") {
		t.Fatalf("expired link: %d %s", r.Status, r.Body)
	}

	// Reject: the migration goes back to the customer for revision.
	a.must(http.StatusOK, "POST", "/signoff", link1, map[string]any{"decision": "reject", "comment": "Cy's email is wrong and Di left"})
	a.must(http.StatusConflict, "POST", "/signoff", link1, map[string]any{"decision": "approve"})
	a.waitStatus(id, key, "awaiting_revision", 1)

	// The customer revises the mapping: last names in capitals. A broken
	// spec is refused with where it is broken.
	spec := a.mapping(id, key)
	for _, f := range spec["files"].([]any)[0].(map[string]any)["fields"].([]any) {
		if fm := f.(map[string]any); fm["target"] == "last_name" {
			fm["steps"] = []any{map[string]any{"op": "case", "to": "upper"}}
		}
	}
	if r := a.do("PUT", "/migrations/"+id+"/mapping", key, map[string]any{"mapping": map[string]any{"version": 1, "files": []any{map[string]any{"name": "x", "entity": "widget"}}}}); r.Status != http.StatusBadRequest || !strings.Contains(r.errorMessage(), "$.files[0]") {
		t.Fatalf("a broken mapping: %d %s", r.Status, r.Body)
	}
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/mapping", key, map[string]any{"mapping": spec})

	// Round 2 with a corrected extract: TEST is reset, not appended to.
	a.upload(id, key, "contacts-fixed.csv", "test", []byte(round2))
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
	a.reviewAll(id, key, 2)
	v = a.waitStatus(id, key, "awaiting_signoff", 2)
	if c := v.Migration.Test; c == nil || c.Read != 4 || c.Migrated != 3 || c.Rejected != 0 || c.Skipped != 1 {
		t.Fatalf("round 2 counts = %+v", v.Migration.Test)
	}
	round2Records := records(t, db, testTable, id)
	if got := emails(round2Records); got != "ann@acme.test,bo@acme.test,cy@acme.test" {
		t.Fatalf("TEST after round 2 = %s (round 1's records must be gone)", got)
	}
	for _, f := range round2Records {
		if f["last_name"] != strings.ToUpper(f["last_name"]) {
			t.Fatalf("the revised mapping was not used: %v", f)
		}
	}
	// Round 2's workbook is new: the blank row is skipped by its rule, the
	// extract no longer has the unmapped column.
	var wb2 struct {
		Round          int
		Reconciliation []struct {
			Entity, Status, Explanation string
		}
		Unmapped []struct{ Columns []string }
	}
	a.must(http.StatusOK, "GET", "/migrations/"+id+"/workbook", key, nil).decode(t, &wb2)
	if wb2.Round != 2 || wb2.Reconciliation[0].Entity != "contact" || wb2.Reconciliation[0].Status != "explained" ||
		!strings.Contains(wb2.Reconciliation[0].Explanation, "1 skipped by the rule blank-row") || len(wb2.Unmapped) != 0 {
		t.Fatalf("round 2 workbook = %+v", wb2)
	}
	link2 := box.signOffLink(coordinator, 2)
	if r := a.do("POST", "/signoff", link1, map[string]any{"decision": "approve"}); r.Status != http.StatusGone && r.Status != http.StatusConflict {
		t.Fatalf("round 1's link in round 2: %d %s", r.Status, r.Body)
	}
	a.must(http.StatusGone, "GET", "/signoff", link1, nil)
	// Two decisions race (a double click, two tabs): exactly one is recorded.
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	errs := make([]error, 2)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := a.try("POST", "/signoff", link2, map[string]any{"decision": "approve", "comment": "Matches our counts"})
			statuses[i], errs[i] = r.Status, err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if !(statuses[0] == http.StatusOK && statuses[1] == http.StatusConflict || statuses[0] == http.StatusConflict && statuses[1] == http.StatusOK) {
		t.Fatalf("racing decisions answered %v; want one 200 and one 409", statuses)
	}
	a.waitStatus(id, key, "awaiting_final", 2)

	// The final extract and a go-live time a few seconds ahead.
	finalID := a.upload(id, key, "contacts-final.csv", "final", []byte(final))
	goLive := time.Now().Add(4 * time.Second).UTC().Truncate(time.Second).Add(time.Second)
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/final", key, map[string]any{"goLiveAt": goLive.Format(time.RFC3339), "fileIds": []string{finalID}})
	v = a.waitStatus(id, key, "live", 2)
	if c := v.Migration.Final; c == nil || c.Read != 4 || c.Migrated != 4 {
		t.Fatalf("final counts = %+v", v.Migration.Final)
	}
	if time.Now().Before(goLive) {
		t.Fatal("the final migration ran before its go-live time")
	}
	liveTable := st.Names["LiveRecordsTable"]
	live := records(t, db, liveTable, "acme")
	if got := emails(live); got != "ann@acme.test,bo@acme.test,cy@acme.test,ed@acme.test" {
		t.Fatalf("LIVE = %s", got)
	}
	for sk, kind := range fieldKinds(t, db, liveTable, "acme", "emails") {
		if kind != "*types.AttributeValueMemberL" {
			t.Errorf("LIVE %s stores its emails as %s, not a list", sk, kind)
		}
	}
	exec, err := sf.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{
		ExecutionArn: aws.String(executionARN(st.ARNs["MigrationStateMachine"], v.Migration.ExecutionName)),
	})
	if err != nil {
		t.Fatal(err)
	}
	// The Complete step stores "live" (and announces it) before it
	// returns; the execution ends a moment after.
	deadline := time.Now().Add(30 * time.Second)
	for exec.Status == sfnt.ExecutionStatusRunning && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		exec, err = sf.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: exec.ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
	}
	if exec.Status != sfnt.ExecutionStatusSucceeded {
		t.Fatalf("execution %s", exec.Status)
	}

	// A second migration for the same tenant cannot go live: LIVE is untouched.
	var second struct {
		Migration   struct{ ID string }
		CustomerKey string `json:"customerKey"`
	}
	a.must(http.StatusCreated, "POST", "/ops/migrations", ops, newMigration).decode(t, &second)
	id2, key2 := second.Migration.ID, second.CustomerKey
	a.upload(id2, key2, "contacts.csv", "test", []byte(final))
	a.must(http.StatusAccepted, "POST", "/migrations/"+id2+"/submit", key2, nil)
	a.reviewAll(id2, key2, 1)
	a.waitStatus(id2, key2, "awaiting_signoff", 1)
	a.must(http.StatusOK, "POST", "/signoff", box.signOffLink(coordinator, 3), map[string]any{"decision": "approve"})
	a.waitStatus(id2, key2, "awaiting_final", 1)
	r := a.do("POST", "/migrations/"+id2+"/final", key2, map[string]any{"goLiveAt": time.Now().Add(time.Minute).UTC().Format(time.RFC3339)})
	if r.Status != http.StatusConflict || !strings.Contains(r.errorMessage(), "already went live") || !strings.Contains(r.errorMessage(), "duplicate every record") {
		t.Fatalf("second final migration: %d %s", r.Status, r.Body)
	}
	if after := records(t, db, liveTable, "acme"); len(after) != len(live) {
		t.Fatalf("LIVE changed from %d to %d records", len(live), len(after))
	}

	// Ops see both migrations and the audit trail of the first.
	var detail migrationView
	a.must(http.StatusOK, "GET", "/ops/migrations/"+id, ops, nil).decode(t, &detail)
	var actions []string
	for _, e := range detail.Audit {
		actions = append(actions, e.Action)
	}
	for _, want := range []string{"migration.created", "checklist.updated", "spotchecks.updated", "file.uploaded", "round.submitted", "workbook.marked", "signoff.asked", "signoff.requested", "signoff.rejected", "mapping.edited", "signoff.approved", "final.scheduled", "migration.live"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit trail lacks %s: %v", want, actions)
		}
	}
	// Only the invite mail carries the customer's key: every later mail
	// points back to it instead.
	for _, m := range box.all() {
		if strings.Contains(m.Body, key) && (m.Subject != "Your data migration: your invite link" || len(m.To) != 1 || m.To[0] != "it@acme.test") {
			t.Errorf("mail %q to %v contains the customer's key", m.Subject, m.To)
		}
	}
}

func executionARN(stateMachineARN, name string) string {
	return strings.Replace(stateMachineARN, ":stateMachine:", ":execution:", 1) + ":" + name
}

// A step that fails takes the execution through Catch to MarkFailed: the
// migration is failed with the step's own, clear reason, and the execution
// FAILED (which is what the ops alarm counts).
func TestFailedStepIsRecordedAndTheExecutionFails(t *testing.T) {
	cfg := awsConfig(t)
	a := api{t: t, base: st.APIURL}
	ops := st.MintOpsToken("ana@vendor.test", time.Hour)
	id, key := a.create(ops, "initech", "Initech", "initech.test", "bill")
	a.upload(id, key, "broken.csv", "test", []byte("Email,Name\nann@initech.test,Ann\nbo@initech.test,\"Bo\n"))
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
	v := a.waitStatus(id, key, "failed", 1)
	if v.Migration.Failure == nil || !strings.Contains(v.Migration.Failure.Reason, "broken.csv, line 3: the quoted field in column 2 that starts on this line is never closed") {
		t.Fatalf("failure = %+v", v.Migration.Failure)
	}
	exec, err := sfn.NewFromConfig(cfg).DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{
		ExecutionArn: aws.String(executionARN(st.ARNs["MigrationStateMachine"], v.Migration.ExecutionName)),
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for exec.Status == sfnt.ExecutionStatusRunning && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		exec, err = sfn.NewFromConfig(cfg).DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: exec.ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
	}
	if exec.Status != sfnt.ExecutionStatusFailed || aws.ToString(exec.Error) != "MigrationFailed" {
		t.Fatalf("execution %s (%s)", exec.Status, aws.ToString(exec.Error))
	}

	// Ops see the execution on the detail, and can start the round again:
	// a new execution, which meets the same broken file.
	var detail struct {
		Execution *struct {
			Name, Status string
			Events       []struct{ Type string }
		}
	}
	a.must(http.StatusOK, "GET", "/ops/migrations/"+id, ops, nil).decode(t, &detail)
	if detail.Execution == nil || detail.Execution.Name != v.Migration.ExecutionName || detail.Execution.Status != "FAILED" || len(detail.Execution.Events) == 0 {
		t.Fatalf("ops detail execution %+v", detail.Execution)
	}
	a.must(http.StatusAccepted, "POST", "/ops/migrations/"+id+"/retry", ops, nil)
	deadline = time.Now().Add(60 * time.Second)
	for {
		again := a.migration(id, key)
		retried := false
		for _, e := range again.Audit {
			retried = retried || e.Action == "round.retried" && e.Actor == "ops:ana@vendor.test"
		}
		if again.Migration.Status == "failed" && again.Migration.ExecutionName != v.Migration.ExecutionName && retried {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the retried round did not run: %s, execution %s, audit %+v", again.Migration.Status, again.Migration.ExecutionName, again.Audit)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// A sign-off request nobody answers is reminded (with a fresh link; the
// earlier one stops working), then expires: the wait ends with a clear
// status, the link is dead, and the customer can ask again.
func TestUnansweredSignOffExpires(t *testing.T) {
	quick := ownStack(t, "expiry", 5*time.Minute, stack.Options{
		Parameters: map[string]string{"SignOffTimeoutSeconds": "12", "SignOffReminderSeconds": "5"},
	})
	a := api{t: t, base: quick.APIURL}
	box := mailbox{t: t, endpoint: quick.Endpoint}
	id, key := a.create(quick.MintOpsToken("ops@vendor.test", time.Hour), "hooli", "Hooli", "hooli.test", "gavin")
	a.upload(id, key, "contacts.csv", "test", []byte(round2))
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
	a.reviewAll(id, key, 1)
	a.waitStatus(id, key, "awaiting_signoff", 1)
	link := box.signOffLink("gavin@hooli.test", 1)

	v := a.waitStatus(id, key, "signoff_expired", 1)
	if n := box.reminders("gavin@hooli.test"); n < 1 {
		t.Fatalf("%d reminders before the request expired; want at least one", n)
	}
	found := false
	for _, e := range v.Audit {
		found = found || e.Action == "await.expired" && strings.Contains(e.Detail, "did not decide in time")
	}
	if !found {
		t.Fatalf("the audit trail does not say the request expired: %+v", v.Audit)
	}
	// The customer is told, once, and how to ask again.
	if got := box.waitMail("it@hooli.test", "Your sign-off request expired", 1); len(got) != 1 || !strings.Contains(got[0].Body, "Request sign-off again") {
		t.Fatalf("expiry mails to the customer: %+v", got)
	}
	if r := a.do("POST", "/signoff", link, map[string]any{"decision": "approve"}); r.Status != http.StatusGone {
		t.Fatalf("the expired link: %d %s", r.Status, r.Body)
	}
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/request-signoff", key, nil)
	a.waitStatus(id, key, "awaiting_signoff", 1)
	box.signOffLink("gavin@hooli.test", 2)
	// A reminder may supersede the link between reading and posting it.
	for attempt := 0; ; attempt++ {
		r := a.do("POST", "/signoff", box.latestLink("gavin@hooli.test"), map[string]any{"decision": "approve"})
		if r.Status == http.StatusOK {
			break
		}
		if r.Status != http.StatusGone || attempt == 3 {
			t.Fatalf("approving the fresh request: %d %s", r.Status, r.Body)
		}
	}
	a.waitStatus(id, key, "awaiting_final", 1)
}

// ownStack starts a stack of the test's own, for a test that needs its own
// template parameters, faults or schedule tick; it is closed when the test
// ends, and its log printed when the test failed. The start may take
// startFor (building kumo and the functions, when not cached).
func ownStack(t testing.TB, name string, startFor time.Duration, opts stack.Options) *stack.Stack {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	logf, err := os.CreateTemp(t.TempDir(), name+"-*.log")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startFor)
	opts.Root, opts.StackName, opts.Log = root, name, logf
	s, err := stack.Start(ctx, opts)
	if err != nil {
		cancel()
		t.Fatalf("start stack %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = s.Close()
		cancel()
		if t.Failed() {
			dumpLog(logf.Name())
		}
	})
	return s
}
