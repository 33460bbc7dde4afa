package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cutover/cutover/infra/stack"
	"github.com/cutover/cutover/internal/cutover"
)

// contacts is a contacts extract of the ids from..to (Contact ID is the
// source id); the rows of the ids in bad have no name and no valid
// e-mail, so our own mapping rejects them.
func contacts(tenant string, from, to int, bad ...int) []byte {
	var b strings.Builder
	b.WriteString("Contact ID,First Name,Last Name,Email\n")
	for i := from; i <= to; i++ {
		row := fmt.Sprintf("%d,Name%d,Surname%d,p%d@%s.test\n", i, i, i, i, tenant)
		for _, x := range bad {
			if x == i {
				row = fmt.Sprintf("%d,,,not-an-email\n", i)
			}
		}
		b.WriteString(row)
	}
	return []byte(b.String())
}

// recordIDs are the ids the records of these source ids must arrive
// under: computed here from the contract's rule (cutover.RecordID), not
// taken from anything the migration reported.
func recordIDs(tenant string, sources ...int) []string {
	out := make([]string, len(sources))
	for i, s := range sources {
		out[i] = cutover.RecordID(tenant, "contact", strconv.Itoa(s))
	}
	return out
}

func span(from, to int, except ...int) []int {
	var out []int
next:
	for i := from; i <= to; i++ {
		for _, x := range except {
			if x == i {
				continue next
			}
		}
		out = append(out, i)
	}
	return out
}

// journey drives one tenant's migration.
type journey struct {
	t      *testing.T
	s      *stack.Stack
	a      api
	box    mailbox
	tenant string
	id     string
	key    string
	coord  string
}

func newJourney(t *testing.T, s *stack.Stack, tenant string) *journey {
	a := api{t: t, base: s.APIURL, wait: 3 * time.Minute}
	ops := s.MintOpsToken("ana@vendor.test", time.Hour)
	j := &journey{t: t, s: s, a: a, box: mailbox{t: t, endpoint: s.Endpoint}, tenant: tenant, coord: "boss@" + tenant + ".test"}
	j.id, j.key = a.create(ops, tenant, strings.ToUpper(tenant[:1])+tenant[1:], tenant+".test", "boss")
	return j
}

// submit uploads the test extract and submits it.
func (j *journey) submit(extract []byte) {
	j.t.Helper()
	j.a.upload(j.id, j.key, "contacts.csv", "test", extract)
	j.a.must(http.StatusAccepted, "POST", "/migrations/"+j.id+"/submit", j.key, nil)
}

// approve reviews the workbook, requests sign-off, has the coordinator
// approve and waits for the final extract to be asked for.
func (j *journey) approve() migrationView {
	j.t.Helper()
	j.a.reviewAll(j.id, j.key, 1)
	v := j.a.waitStatus(j.id, j.key, "awaiting_signoff", 1)
	j.a.must(http.StatusOK, "POST", "/signoff", j.box.signOffLink(j.coord, 1), map[string]any{"decision": "approve"})
	j.a.waitStatus(j.id, j.key, "awaiting_final", 1)
	return v
}

// final uploads the final extract and schedules go-live a few seconds ahead.
func (j *journey) final(extract []byte) {
	j.t.Helper()
	fid := j.a.upload(j.id, j.key, "contacts-final.csv", "final", extract)
	goLive := time.Now().Add(3 * time.Second).UTC().Truncate(time.Second).Add(time.Second)
	j.a.must(http.StatusAccepted, "POST", "/migrations/"+j.id+"/final", j.key, map[string]any{"goLiveAt": goLive.Format(time.RFC3339), "fileIds": []string{fid}})
}

// builtInRecords counts the items of s's own TEST and LIVE tables: with
// both destinations external, nothing may land there.
func builtInRecords(t *testing.T, s *stack.Stack) int32 {
	t.Helper()
	db := dynamodb.NewFromConfig(stackConfig(t, s))
	var n int32
	for _, table := range []string{s.Names["TestRecordsTable"], s.Names["LiveRecordsTable"]} {
		out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table), Select: ddb.SelectCount})
		if err != nil {
			t.Fatal(err)
		}
		n += out.Count
	}
	return n
}

// A whole journey with the product's staging as TEST and its production
// as LIVE: the test round's records arrive in staging (typed), the final
// migration's in production, each exactly once and nothing else, as the
// receiver's own database counts them; the built-in tables stay empty.
func TestJourneyDeliversEachRecordToTheProductOnce(t *testing.T) {
	t.Parallel()
	s := destStack(t)
	j := newJourney(t, s, "acme")
	j.submit(contacts("acme", 1, 6, 3))
	v := j.approve()
	if c := v.Migration.Test; c == nil || c.Read != 6 || c.Migrated != 5 || c.Rejected != 1 {
		t.Fatalf("test counts %+v", v.Migration.Test)
	}
	exactlyOnce(t, "staging after the test migration", arrived(t, "acme", "test", j.id), recordIDs("acme", span(1, 6, 3)...))
	f := fieldsOf(t, "acme", "test", recordIDs("acme", 1)[0])
	if emails, ok := f["emails"].([]any); !ok || len(emails) != 1 || emails[0] != "p1@acme.test" || f["first_name"] != "Name1" {
		t.Errorf("staging holds record 1 as %v; want its fields typed (emails a list)", f)
	}
	if n := len(arrived(t, "acme", "live", "")); n != 0 {
		t.Fatalf("production holds %d records before the final migration", n)
	}

	j.final(contacts("acme", 1, 9))
	v = j.a.waitStatus(j.id, j.key, "live", 1)
	if c := v.Migration.Final; c == nil || c.Read != 9 || c.Migrated != 9 {
		t.Fatalf("final counts %+v", v.Migration.Final)
	}
	exactlyOnce(t, "production after go-live", arrived(t, "acme", "live", ""), recordIDs("acme", span(1, 9)...))
	answeredOnce(t, "acme", recordIDs("acme", span(1, 9)...))
	if n := builtInRecords(t, s); n != 0 {
		t.Errorf("the built-in TEST and LIVE tables hold %d records; every record should have gone to the product", n)
	}
	if m := misrouted(); len(m) > 0 {
		t.Errorf("requests reached the other environment: %v", m)
	}
}

// A final migration through 429s (with Retry-After), 500s, a lost answer
// (the receiver stored a batch and answered 500) and a chunk whose process
// is killed after the receiver stored one of its batches: every record
// arrives in production exactly once, and the migration goes live with
// all of them.
func TestFinalThroughFaultsAndAKilledChunkDeliversEachRecordOnce(t *testing.T) {
	t.Parallel()
	const tenant = "steady"
	j := newJourney(t, destStack(t), tenant)
	j.submit(contacts(tenant, 1, 20))
	j.approve()

	p, err := products.tenant(tenant)
	if err != nil {
		t.Fatal(err)
	}
	products.mu.Lock()
	p.killAt = 3 // the third LIVE batch the receiver stores: mid-migration, mid-chunk
	products.mu.Unlock()
	setFaults(t, tenant, map[string]any{"tooManyRequests": 2, "retryAfterSeconds": 1, "serverErrors": 1, "duplicates": 1})

	j.final(contacts(tenant, 1, 30))
	v := j.a.waitStatus(j.id, j.key, "live", 1)
	if c := v.Migration.Final; c == nil || c.Read != 30 || c.Migrated != 30 {
		t.Fatalf("final counts %+v", v.Migration.Final)
	}
	exactlyOnce(t, "production after a final through faults", arrived(t, tenant, "live", ""), recordIDs(tenant, span(1, 30)...))
	// The killed chunk ran again; the records it had been answered for
	// were not sent again (the delivery ledger), only the lost batch was.
	answeredOnce(t, tenant, recordIDs(tenant, span(1, 30)...))

	products.mu.Lock()
	killed := p.killed
	products.mu.Unlock()
	if killed != 1 {
		t.Errorf("the final migration's process was killed %d times; want once", killed)
	}
	if left := faultsLeft(t, tenant); left.TooManyRequests+left.ServerErrors+left.Duplicates != 0 {
		t.Errorf("faults not used up: %+v", left)
	}
}

// A count mismatch planted in the receiver (it reports one contact more
// than it holds) fails the test migration's read-back, and the final
// migration's, naming the entity.
func TestPlantedCountMismatchFailsTheReadBack(t *testing.T) {
	t.Parallel()
	s := destStack(t)
	t.Run("test migration", func(t *testing.T) {
		t.Parallel()
		j := newJourney(t, s, "miscount")
		setFaults(t, "miscount", map[string]any{"countPlusOne": []string{"contact"}})
		j.submit(contacts("miscount", 1, 5))
		v := j.a.waitStatus(j.id, j.key, "failed", 1)
		if f := v.Migration.Failure; f == nil || f.Step != "TestMigrate" || !strings.Contains(f.Reason, "Read-back of TEST") || !strings.Contains(f.Reason, "contact") {
			t.Fatalf("failure %+v; want TestMigrate's read-back naming contact", v.Migration.Failure)
		}
		// The records did arrive: it is the count that is wrong.
		exactlyOnce(t, "staging", arrived(t, "miscount", "test", j.id), recordIDs("miscount", span(1, 5)...))
	})
	t.Run("final migration", func(t *testing.T) {
		t.Parallel()
		j := newJourney(t, s, "recount")
		j.submit(contacts("recount", 1, 5))
		j.approve()
		setFaults(t, "recount", map[string]any{"countPlusOne": []string{"contact"}})
		j.final(contacts("recount", 1, 6))
		v := j.a.waitStatus(j.id, j.key, "failed", 1)
		if f := v.Migration.Failure; f == nil || !strings.Contains(f.Reason, "Read-back of LIVE") || !strings.Contains(f.Reason, "contact") {
			t.Fatalf("failure %+v; want the final read-back naming contact", v.Migration.Failure)
		}
		exactlyOnce(t, "production", arrived(t, "recount", "live", ""), recordIDs("recount", span(1, 6)...))
	})
}

// Three records the product refuses (its own rules) reach the workbook's
// rejects with the product's reason, like our own rejections; the others
// are migrated.
func TestRecordsTheProductRejectsReachTheWorkbook(t *testing.T) {
	t.Parallel()
	const tenant, reason = "picky", "The product already has a contact with this e-mail."
	j := newJourney(t, destStack(t), tenant)
	setFaults(t, tenant, map[string]any{"rejectSourceIds": []string{"2", "4", "6"}, "rejectReason": reason})
	j.submit(contacts(tenant, 1, 8))
	v := j.a.waitStatus(j.id, j.key, "awaiting_review", 1)
	if c := v.Migration.Test; c == nil || c.Read != 8 || c.Migrated != 5 || c.Rejected != 3 {
		t.Fatalf("test counts %+v; want 5 migrated and the product's 3 rejected", v.Migration.Test)
	}
	var wb struct {
		Issues struct {
			Rejected []struct {
				Reason string
				Count  int
			}
			RejectsFiles []struct{ File, URL string }
		}
	}
	j.a.must(http.StatusOK, "GET", "/migrations/"+j.id+"/workbook", j.key, nil).decode(t, &wb)
	found := false
	for _, r := range wb.Issues.Rejected {
		found = found || strings.Contains(r.Reason, reason) && r.Count == 3
	}
	if !found || len(wb.Issues.RejectsFiles) == 0 {
		t.Fatalf("workbook issues %+v; want the product's reason for 3 records and a rejects file", wb.Issues)
	}
	resp, err := http.Get(wb.Issues.RejectsFiles[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	csv, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, id := range []string{"2", "4", "6"} {
		if !strings.Contains(string(csv), "\n"+id+",") {
			t.Errorf("the rejects file lacks row %s: %s", id, csv)
		}
	}
	if !strings.Contains(string(csv), reason) {
		t.Errorf("the rejects file lacks the product's reason: %s", csv)
	}
	exactlyOnce(t, "staging", arrived(t, tenant, "test", j.id), recordIDs(tenant, span(1, 8, 2, 4, 6)...))
}
