package e2e

import (
	"bytes"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfnt "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/cutover/cutover/infra/stack"
	"github.com/cutover/cutover/internal/cutover"
)

// Issue 15, item 2: a mapping that merges contacts by e-mail, on a stack
// whose chunks are 2 KiB, runs the test and the final migration in
// chunks on the emulator, and merges records across them: rows 301–400
// repeat the ids and addresses of rows 1–100 (in the first chunks) with
// a last name those lack, so each merges into its earlier record and
// fills it; two more rows repeat an id under another address (rejected
// as duplicates). Both migrations run the merge partitions as a
// Distributed Map after the chunks (TestMerge, MergePartitions), count
// what the file says (counted here from the rows), and LIVE (read with
// the SDK) holds each record once, merged.
func TestRecordsMergeAcrossChunksOnTheStack(t *testing.T) {
	t.Parallel()
	ms := ownStack(t, "merges", 5*time.Minute, stack.Options{Parameters: map[string]string{"FinalChunkBytes": "2048"}})
	ctx := ctxT(t)
	cfg := stackConfig(t, ms)
	sf := sfn.NewFromConfig(cfg)
	a := api{t: t, base: ms.APIURL}
	box := mailbox{t: t, endpoint: ms.Endpoint}
	ops := ms.MintOpsToken("ops@vendor.test", time.Hour)
	id, key := a.create(ops, "merger", "Merger & Co", "merger.test", "mo")

	var b bytes.Buffer
	b.WriteString("Contact ID,Email,First Name,Last Name\n")
	for i := 1; i <= 300; i++ {
		fmt.Fprintf(&b, "%d,person%d@merger.test,Person %d,\n", i, i, i)
	}
	for i := 301; i <= 400; i++ {
		fmt.Fprintf(&b, "%d,person%d@merger.test,,Surname %d\n", i-300, i-300, i-300)
	}
	b.WriteString("7,someone.else@merger.test,Other,\n250,another@merger.test,Another,\n")
	extract := b.Bytes()
	rows := bytes.Count(extract, []byte("\n")) - 1
	const distinct, merged, rejected = 300, 100, 2

	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/checklist", key, map[string]any{"counts": map[string]int{"contact": distinct}})
	fileID := a.upload(id, key, "contacts.csv", "test", extract)
	mapping := contactsMapping(fileID, true)
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/mapping", key, map[string]any{"mapping": mapping})
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
	tested := a.waitStatus(id, key, "awaiting_review", 1)
	if c := tested.Migration.Test; c == nil || c.Read != rows || c.Migrated != distinct || c.Merged != merged || c.Rejected != rejected {
		t.Fatalf("the test migration counts %+v; want %d read, %d migrated, %d merged, %d rejected", tested.Migration.Test, rows, distinct, merged, rejected)
	}
	v := a.goLive(box, id, key, "mo@merger.test", extract)
	if c := v.Migration.Final; c == nil || c.Read != rows || c.Migrated != distinct || c.Merged != merged || c.Rejected != rejected {
		t.Fatalf("the final counts %+v; want %d read, %d migrated, %d merged, %d rejected", v.Migration.Final, rows, distinct, merged, rejected)
	}

	// LIVE: each id once; ids 1–100 hold the address and first name of
	// their first row and the last name of their repeat; 7 and 250 the
	// first row's address, not the duplicate's.
	items := liveItems(t, dynamodb.NewFromConfig(cfg), ms.Names["LiveRecordsTable"], "merger")
	held := map[string]string{}
	for _, it := range items {
		if _, twice := held[it.sourceID]; twice {
			t.Fatalf("LIVE holds source id %s twice", it.sourceID)
		}
		held[it.sourceID] = it.fields
	}
	if len(held) != distinct {
		t.Fatalf("LIVE holds %d records; want %d", len(held), distinct)
	}
	for _, sid := range []string{"1", "7", "100"} {
		f := held[sid]
		if !strings.Contains(f, "person"+sid+"@merger.test") || !strings.Contains(f, "Person "+sid) || !strings.Contains(f, "Surname "+sid) {
			t.Fatalf("LIVE's record %s is %s; want the first row's address and name, and its repeat's last name", sid, f)
		}
	}
	if f := held["250"]; !strings.Contains(f, "person250@merger.test") || strings.Contains(f, "another@") || strings.Contains(f, "Surname") {
		t.Fatalf("LIVE's record 250 is %s; want its own row's only", f)
	}

	// Both migrations ran their merge partitions as a Distributed Map
	// after the chunks, every partition done.
	arn := aws.String(executionARN(ms.ARNs["MigrationStateMachine"], v.Migration.ExecutionName))
	runs, err := sf.ListMapRuns(ctx, &sfn.ListMapRunsInput{ExecutionArn: arn})
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, r := range runs.MapRuns {
		arn := aws.ToString(r.MapRunArn)
		state := arn[strings.LastIndex(arn, "/")+1 : strings.LastIndex(arn, ":")]
		states = append(states, state)
		if state != "TestMerge" && state != "MergePartitions" {
			continue
		}
		mr, err := sf.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: r.MapRunArn})
		if err != nil {
			t.Fatal(err)
		}
		if mr.Status != sfnt.MapRunStatusSucceeded || mr.ItemCounts == nil || mr.ItemCounts.Total == 0 || mr.ItemCounts.Succeeded != mr.ItemCounts.Total {
			t.Fatalf("%s's Map run %s with items %+v; want every partition succeeded", state, mr.Status, mr.ItemCounts)
		}
	}
	for _, want := range []string{"TestChunks", "TestMerge", "MigrateChunks", "MergePartitions"} {
		if !slices.Contains(states, want) {
			t.Fatalf("the execution has the Map runs of %v; want %s among them", states, want)
		}
	}
	var detail struct {
		Chunks []struct {
			Merge  bool   `json:"merge"`
			Status string `json:"status"`
		} `json:"chunks"`
	}
	a.must(http.StatusOK, "GET", "/ops/migrations/"+id, ops, nil).decode(t, &detail)
	partitions := 0
	for _, c := range detail.Chunks {
		if c.Merge {
			partitions++
		}
		if c.Status != "done" {
			t.Fatalf("a part of the final is %s: %+v", c.Status, detail.Chunks)
		}
	}
	if partitions == 0 || partitions == len(detail.Chunks) {
		t.Fatalf("ops sees %d merge partitions among %d parts; want both kinds", partitions, len(detail.Chunks))
	}
}

// smallChunks starts a stack of its own whose extracts are cut into 2 KiB
// chunks, and creates a migration there for tenant: its id and the
// customer's key.
func smallChunks(t *testing.T, tenant, name, domain, coordinator string) (*stack.Stack, api, string, string) {
	t.Helper()
	ms := ownStack(t, tenant, 5*time.Minute, stack.Options{Parameters: map[string]string{"FinalChunkBytes": "2048"}})
	a := api{t: t, base: ms.APIURL}
	id, key := a.create(ms.MintOpsToken("ops@vendor.test", time.Hour), tenant, name, domain, coordinator)
	return ms, a, id, key
}

// References between files resolve across chunks on the emulator: 300
// contacts, each naming one of 40 companies of companies.csv (which comes
// after them) or, every 23rd, a company no file has, run in 2 KiB chunks
// through the id shuffle, which tells each chunk which named records no
// chunk holds: the test migration counts exactly those 13 references as
// orphans, as one pass over both files counts them.
func TestReferencesResolveAcrossChunksOnTheStack(t *testing.T) {
	t.Parallel()
	ms, a, id, key := smallChunks(t, "refs", "Refs Ltd", "refs.test", "rae")
	var companies bytes.Buffer
	companies.WriteString("Company ID,Name\n")
	for i := range 40 {
		fmt.Fprintf(&companies, "C%d,Company %d\n", i, i)
	}
	orphans := submitContactsNamingCompanies(a, id, key, "refs.test", companies.Bytes(), nil, 40)
	v := a.waitStatus(id, key, "awaiting_review", 1)
	if c := v.Migration.Test; c == nil || c.Read != 340 || c.Migrated != 340 || c.Orphans != orphans {
		t.Fatalf("the test migration counts %+v; want 340 read and migrated, %d orphans", v.Migration.Test, orphans)
	}
	if states := mapRunStates(t, ms, v.Migration.ExecutionName); !slices.Equal(states, []string{"TestChunks", "TestComparePartitions", "TestKeys", "TestPlanParts", "TestPlanParts", "TestResolve"}) {
		t.Fatalf("the execution has the Map runs of %v; want the contacts' plan in parts (scans, then checks), the chunks, the id shuffle's two and the snapshot's merge, no merge partitions", states)
	}
}

// submitContactsNamingCompanies uploads 300 contacts (CON-001 to CON-300)
// of domain, each naming company C<i mod 40> or, every 23rd, C-gone, which
// no file has, and companies, maps them (the companies' entry with
// companyDedupe's settings added), puts a checklist of the 300 contacts
// and companies companies, and submits: the references that are orphans.
func submitContactsNamingCompanies(a api, id, key, domain string, companies []byte, companyDedupe map[string]any, wantCompanies int) int {
	a.t.Helper()
	var contacts bytes.Buffer
	contacts.WriteString("Contact ID,Email,First Name,Company\n")
	orphans := 0
	for i := 1; i <= 300; i++ {
		company := fmt.Sprintf("C%d", i%40)
		if i%23 == 0 {
			company, orphans = "C-gone", orphans+1
		}
		fmt.Fprintf(&contacts, "CON-%03d,person%d@%s,Person %d,%s\n", i, i, domain, i, company)
	}
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/checklist", key, map[string]any{"counts": map[string]int{"contact": 300, "company": wantCompanies}})
	contactsID := a.upload(id, key, "contacts.csv", "test", contacts.Bytes())
	companiesID := a.upload(id, key, "companies.csv", "test", companies)
	companyEntry := map[string]any{"name": companiesID, "entity": "company", "sourceId": []string{"Company ID"}, "fields": []any{
		map[string]any{"target": "name", "column": "Name"},
	}}
	maps.Copy(companyEntry, companyDedupe)
	mapping := map[string]any{"version": 1, "files": []any{
		map[string]any{"name": contactsID, "entity": "contact", "sourceId": []string{"Contact ID"}, "fields": []any{
			map[string]any{"target": "emails", "column": "Email"},
			map[string]any{"target": "first_name", "column": "First Name"},
			map[string]any{"target": "company_ref", "column": "Company"},
		}},
		companyEntry,
	}}
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/mapping", key, map[string]any{"mapping": mapping})
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
	return orphans
}

// References to records merged across source ids resolve across chunks
// on the emulator: 300 contacts name one of C0 to C39 (or, every 23rd, a
// company no file has); companies.csv lists C239 down to C0, whose names
// repeat every 30 companies and merge across source ids, so each named
// company merged into the first of its name, C210 to C239, at the top of
// the file, parts away. The id shuffle's alias round (TestAliases) tells
// each chunk the company each of its references now means: TEST's
// contacts name the surviving companies, as one pass names them.
func TestReferencesToRecordsMergedAcrossIdsResolveOnTheStack(t *testing.T) {
	t.Parallel()
	ms, a, id, key := smallChunks(t, "aliases", "Aliases Ltd", "aliases.test", "ada")
	var companies bytes.Buffer
	companies.WriteString("Company ID,Name\n")
	for i := 239; i >= 0; i-- {
		fmt.Fprintf(&companies, "C%d,Company number %d\n", i, i%30)
	}
	orphans := submitContactsNamingCompanies(a, id, key, "aliases.test", companies.Bytes(), map[string]any{"dedupe": []string{"name"}, "mergeDifferentIds": true}, 30)
	v := a.waitStatus(id, key, "awaiting_review", 1)
	if c := v.Migration.Test; c == nil || c.Read != 540 || c.Migrated != 330 || c.Merged != 210 || c.Orphans != orphans {
		t.Fatalf("the test migration counts %+v; want 540 read, 330 migrated, 210 merged, %d orphans", v.Migration.Test, orphans)
	}
	if states := mapRunStates(t, ms, v.Migration.ExecutionName); !slices.Contains(states, "TestAliases") || !slices.Contains(states, "TestMerge") {
		t.Fatalf("the execution has the Map runs of %v; want the id shuffle's alias round and the merge partitions among them", states)
	}
	for _, i := range []int{1, 29, 30, 39, 41, 298} {
		p := a.testRecords(id, key, fmt.Sprintf("CON-%03d", i), "", 0)
		if len(p.Records) != 1 {
			t.Fatalf("TEST has %d records for CON-%03d", len(p.Records), i)
		}
		survivor := fmt.Sprintf("C%d", 210+i%40%30)
		if got, want := fmt.Sprint(p.Records[0].Fields["company_ref"]), cutover.RecordID(v.Migration.TenantID, "company", survivor); got != want {
			t.Errorf("CON-%03d (naming C%d) names the company %s; want %s's record, %s", i, i%40, got, survivor, want)
		}
	}
}

// People named inline are linked across chunks on the emulator: 300
// tenancies name their tenants, a third by the e-mail of one of 200
// listed contacts (in other letter cases), a third by a listed contact's
// name, and a third as two people of 32 no file lists. Run in 2 KiB
// chunks through the id shuffle, the test migration links the first two
// thirds to the listed contacts, derives each of the 32 once, however many
// chunks name them, and writes tenancies that name exactly those. Three
// rows half way down repeat the first tenancies' ids, each naming a
// person first ("Late i"), and are rejected; three tenancies at the end
// name them again: the alias round (TestAliases) has the last chunk
// derive them, as one pass would.
func TestPeopleNamedInlineLinkAcrossChunksOnTheStack(t *testing.T) {
	t.Parallel()
	ms, a, id, key := smallChunks(t, "inline", "Inline Lettings", "inline.test", "ivy")
	var contacts, tenancies bytes.Buffer
	contacts.WriteString("Contact ID,Email,Full Name\n")
	for i := 1; i <= 200; i++ {
		fmt.Fprintf(&contacts, "CON-%03d,person%d@inline.test,Person %d\n", i, i, i)
	}
	tenancies.WriteString("Tenancy ID,Property ID,Tenant Name(s),Tenant Email,Start Date\n")
	want := map[string][]string{} // by tenancy: its tenants' source ids, "inline:" for a derived one
	derived := map[string]bool{}
	for j := 1; j <= 300; j++ {
		k := 1 + (j*7)%200
		name, email := "", ""
		switch j % 3 {
		case 0:
			name, email = "Whoever", fmt.Sprintf("PERSON%d@Inline.Test", k)
			want[fmt.Sprintf("TEN-%03d", j)] = []string{fmt.Sprintf("CON-%03d", k)}
		case 1:
			name = fmt.Sprintf("person %d", k)
			want[fmt.Sprintf("TEN-%03d", j)] = []string{fmt.Sprintf("CON-%03d", k)}
		default:
			a, b := fmt.Sprintf("New %d", j%25), fmt.Sprintf("Other %d", j%7)
			name = a + " & " + b
			derived[a], derived[b] = true, true
			want[fmt.Sprintf("TEN-%03d", j)] = []string{"inline:" + strings.ToLower(a), "inline:" + strings.ToLower(b)}
		}
		fmt.Fprintf(&tenancies, "TEN-%03d,P%d,%s,%s,2024-%02d-01\n", j, j%40, name, email, 1+j%12)
		if j == 150 {
			for i := 1; i <= 3; i++ {
				fmt.Fprintf(&tenancies, "TEN-%03d,P%d,Late %d,,2024-01-01\n", i, i, i)
			}
		}
	}
	for i := 1; i <= 3; i++ {
		fmt.Fprintf(&tenancies, "TEN-%03d,P%d,Late %d,,2024-01-01\n", 300+i, 300+i, i)
		want[fmt.Sprintf("TEN-%03d", 300+i)] = []string{fmt.Sprintf("inline:late %d", i)}
		derived[fmt.Sprintf("Late %d", i)] = true
	}
	submitContactsAndTenancies(a, id, key, contacts.Bytes(), tenancies.Bytes(), 200+len(derived), 303, func(contactsID string) map[string]any {
		return map[string]any{"name": contactsID, "entity": "contact", "sourceId": []string{"Contact ID"}, "dedupe": []string{"emails"}, "fields": []any{
			map[string]any{"target": "emails", "column": "Email"},
			map[string]any{"target": "full_name", "column": "Full Name"},
		}}
	})
	v := a.waitStatus(id, key, "awaiting_review", 1)
	// 303 tenancies name a property no file has: 303 orphans; every tenant resolves.
	if c := v.Migration.Test; c == nil || c.Read != 506 || c.Migrated != 503 || c.Rejected != 3 || c.Derived != len(derived) || c.Orphans != 303 {
		t.Fatalf("the test migration counts %+v; want 506 read, 503 migrated, 3 rejected, %d derived, 303 orphans", v.Migration.Test, len(derived))
	}
	if states := mapRunStates(t, ms, v.Migration.ExecutionName); !slices.Contains(states, "TestKeys") || !slices.Contains(states, "TestResolve") || !slices.Contains(states, "TestAliases") {
		t.Fatalf("the execution has the Map runs of %v; want the id shuffle's among them, with its alias round", states)
	}
	checkTenants(t, a, id, key, v.Migration.TenantID, want, 1, 2, 3, 4, 5, 150, 298, 299, 300, 301, 302, 303)
}

// submitContactsAndTenancies uploads contacts and tenancies for
// migration id, sets the checklist to wantContacts contacts and
// wantTenancies tenancies, maps the tenancies as naming their tenants inline and the
// contacts as contactEntry says (given the contacts file's id), and
// submits.
func submitContactsAndTenancies(a api, id, key string, contacts, tenancies []byte, wantContacts, wantTenancies int, contactEntry func(contactsID string) map[string]any) {
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/checklist", key, map[string]any{"counts": map[string]int{"contact": wantContacts, "tenancy": wantTenancies}})
	contactsID := a.upload(id, key, "contacts.csv", "test", contacts)
	tenanciesID := a.upload(id, key, "tenancies.csv", "test", tenancies)
	mapping := map[string]any{"version": 1, "files": []any{
		map[string]any{
			"name": tenanciesID, "entity": "tenancy", "sourceId": []string{"Tenancy ID"},
			"inline": []any{map[string]any{"target": "tenants", "name": "Tenant Name(s)", "email": "Tenant Email"}},
			"fields": []any{
				map[string]any{"target": "property", "column": "Property ID"},
				map[string]any{"target": "start_date", "column": "Start Date"},
			},
		},
		contactEntry(contactsID),
	}}
	a.must(http.StatusOK, "PUT", "/migrations/"+id+"/mapping", key, map[string]any{"mapping": mapping})
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
}

// checkTenants checks that TEST's tenancies TEN-<j> name exactly the
// contacts want says, by source id ("inline:" for a derived person).
func checkTenants(t *testing.T, a api, id, key, tenant string, want map[string][]string, js ...int) {
	t.Helper()
	for _, j := range js {
		tenancy := fmt.Sprintf("TEN-%03d", j)
		p := a.testRecords(id, key, tenancy, "", 0)
		if len(p.Records) != 1 {
			t.Fatalf("TEST has %d records for %s", len(p.Records), tenancy)
		}
		var got, wantIDs []string
		tenants, _ := p.Records[0].Fields["tenants"].([]any)
		for _, x := range tenants {
			got = append(got, fmt.Sprint(x))
		}
		for _, sid := range want[tenancy] {
			wantIDs = append(wantIDs, cutover.RecordID(tenant, "contact", sid))
		}
		if !slices.Equal(got, wantIDs) {
			t.Errorf("%s names the tenants %q; want the records of %q", tenancy, got, want[tenancy])
		}
	}
}

// People named inline who may be records merged across source ids are
// linked across chunks on the emulator, by what merging left in the
// records: 200 contacts, CON-101 to CON-200 each merging (same first
// address, mergeDifferentIds) into CON-001 to CON-100, far up the file;
// every merged-away row has a home address of its own, and the even
// survivors have no name, so take the merged-away row's. 300 tenancies
// name their tenants by a home address (linked to the record that row
// merged into), by a name (linked when the merged record has it; a name
// only a merged-away row had, its record keeping the first row's, is
// nobody's: derived), or as two people no file lists. The id shuffle's
// alias and links rounds (TestAliases, TestLinks) run before the chunks,
// and TEST's tenancies name exactly those records.
func TestPeopleNamedInlineLinkToRecordsMergedAcrossIdsOnTheStack(t *testing.T) {
	t.Parallel()
	ms, a, id, key := smallChunks(t, "inlinemerged", "Merged Lettings", "merged.test", "mia")
	var contacts, tenancies bytes.Buffer
	contacts.WriteString("Contact ID,Email,Full Name\n")
	for i := 1; i <= 200; i++ {
		email, name := fmt.Sprintf("person%d@merged.test", (i-1)%100+1), fmt.Sprintf("Person %d", i)
		if i > 100 {
			email += fmt.Sprintf("; home%d@merged.test", i)
		} else if i%2 == 0 {
			name = ""
		}
		fmt.Fprintf(&contacts, "CON-%03d,%s,%s\n", i, email, name)
	}
	tenancies.WriteString("Tenancy ID,Property ID,Tenant Name(s),Tenant Email,Start Date\n")
	want := map[string][]string{} // by tenancy: its tenants' source ids, "inline:" for a derived one
	derived := map[string]bool{}
	for j := 1; j <= 300; j++ {
		k := 101 + (j*7)%100 // a merged-away row
		name, email := "", ""
		tenancy := fmt.Sprintf("TEN-%03d", j)
		switch j % 3 {
		case 0:
			name, email = "Whoever", fmt.Sprintf("HOME%d@Merged.Test", k)
			want[tenancy] = []string{fmt.Sprintf("CON-%03d", k-100)}
		case 1:
			name = fmt.Sprintf("person %d", k)
			if (k-100)%2 == 0 { // its record took this row's name
				want[tenancy] = []string{fmt.Sprintf("CON-%03d", k-100)}
			} else {
				derived[name] = true
				want[tenancy] = []string{"inline:" + name}
			}
		default:
			a, b := fmt.Sprintf("New %d", j%25), fmt.Sprintf("Other %d", j%7)
			name = a + " & " + b
			derived[a], derived[b] = true, true
			want[tenancy] = []string{"inline:" + strings.ToLower(a), "inline:" + strings.ToLower(b)}
		}
		fmt.Fprintf(&tenancies, "%s,P%d,%s,%s,2024-%02d-01\n", tenancy, j%40, name, email, 1+j%12)
	}
	submitContactsAndTenancies(a, id, key, contacts.Bytes(), tenancies.Bytes(), 100+len(derived), 300, func(contactsID string) map[string]any {
		return map[string]any{"name": contactsID, "entity": "contact", "sourceId": []string{"Contact ID"}, "dedupe": []string{"emails"}, "mergeDifferentIds": true, "fields": []any{
			map[string]any{"target": "emails", "column": "Email", "steps": []any{map[string]any{"op": "split", "separator": ";"}}},
			map[string]any{"target": "full_name", "column": "Full Name"},
		}}
	})
	v := a.waitStatus(id, key, "awaiting_review", 1)
	// 300 tenancies name a property no file has: 300 orphans; every tenant resolves.
	if c := v.Migration.Test; c == nil || c.Read != 500 || c.Migrated != 400 || c.Merged != 100 || c.Derived != len(derived) || c.Orphans != 300 {
		t.Fatalf("the test migration counts %+v; want 500 read, 400 migrated, 100 merged, %d derived, 300 orphans", v.Migration.Test, len(derived))
	}
	if states := mapRunStates(t, ms, v.Migration.ExecutionName); !slices.Contains(states, "TestAliases") || !slices.Contains(states, "TestLinks") {
		t.Fatalf("the execution has the Map runs of %v; want the id shuffle's alias and links rounds among them", states)
	}
	checkTenants(t, a, id, key, v.Migration.TenantID, want, 1, 3, 4, 5, 6, 7, 150, 298, 299, 300)

	// Signed off, the same files go live: the final's links round (after
	// the go-live pre-flight's dry run through it) links them alike.
	a.reviewAll(id, key, 1)
	a.waitStatus(id, key, "awaiting_signoff", 1)
	box := mailbox{t: t, endpoint: ms.Endpoint}
	a.must(http.StatusOK, "POST", "/signoff", box.signOffLink("mia@merged.test", 1), map[string]any{"decision": "approve"})
	a.waitStatus(id, key, "awaiting_final", 1)
	fc := a.upload(id, key, "contacts-final.csv", "final", contacts.Bytes())
	ft := a.upload(id, key, "tenancies-final.csv", "final", tenancies.Bytes())
	matches := pfMatches(t, a, id, key, []string{fc, ft}, map[string]string{"contacts-final.csv": "contact/exact", "tenancies-final.csv": "tenancy/exact"})
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/final", key, map[string]any{"goLiveAt": time.Now().Add(5 * time.Second).UTC().Format(time.RFC3339), "fileIds": []string{fc, ft}, "matches": matches})
	v = a.waitStatus(id, key, "live", 1)
	if states := mapRunStates(t, ms, v.Migration.ExecutionName); !slices.Contains(states, "FinalAliases") || !slices.Contains(states, "FinalLinks") {
		t.Fatalf("the execution has the Map runs of %v; want the final's alias and links rounds among them", states)
	}
	live := records(t, dynamodb.NewFromConfig(stackConfig(t, ms)), ms.Names["LiveRecordsTable"], v.Migration.TenantID)
	if c := v.Migration.Final; c == nil || c.Migrated != 400 || c.Merged != 100 || c.Derived != len(derived) || len(live) != 400+len(derived) {
		t.Fatalf("the final counts %+v, LIVE holds %d; want 400 migrated, 100 merged, %d derived, as many in LIVE", v.Migration.Final, len(live), len(derived))
	}
	for tenancy, sids := range want {
		var ids []string
		for _, sid := range sids {
			ids = append(ids, cutover.RecordID(v.Migration.TenantID, "contact", sid))
		}
		if got := live["tenancy#"+cutover.RecordID(v.Migration.TenantID, "tenancy", tenancy)]["tenants"]; got != strings.Join(ids, "; ") {
			t.Errorf("LIVE's %s names the tenants %q; want the records of %q", tenancy, got, sids)
		}
	}
}
