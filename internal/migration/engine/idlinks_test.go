package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/schema"
)

// mergedPeopleAndTenancies is a contacts export whose rows merge across
// source ids by their first e-mail address (rows i and i+rows/2 share
// one, so far apart in the file), and a tenancies export naming tenants
// inline by what only the merged records hold: a second address that
// only a row merged away had (linked to the record it merged into), an
// address several records hold (linked to the first record, which may
// stand before the record of the row that has it first), the name of a
// row merged away (its record keeps the first row's name, so nobody has
// it), the name a record took from a later row because its first row had
// none; and by the merging address, by a name no merge touches, people
// nobody lists, and nobody. Some contacts have no address (kept without
// a key); some repeat an earlier contact's id under another address, and
// some with none, after a row kept under a key or without one (all
// rejected; the tenancies name the last two kinds by name); at the end,
// rows merge into an early record, with an address the tenancies name,
// each after a rejected repeat of its id. The name is
// written whole (Name) and in parts (First, Last): where a record's
// first row has no name, the whole name and the last name come from the
// row merged into it.
func mergedPeopleAndTenancies(rows int) (contacts, tenancies string) {
	lateRows := []int{2, 3, 6, 7, 11} // kept under a key, and merged into again at the end
	half := rows / 2
	var c strings.Builder
	c.WriteString("Id,Email,Name,First,Last\nD1,solo@x.com,,,\n")
	for i := 1; i <= rows; i++ {
		id, email, name, first, last := fmt.Sprintf("C%d", i), fmt.Sprintf("g%d@x.com", i%half), fmt.Sprintf("Person %d", i), "Person", strconv.Itoa(i)
		if i%3 == 0 {
			email += fmt.Sprintf("; alt%d@y.com", i)
		}
		if i%4 == 0 {
			email += fmt.Sprintf("; shared%d@y.com", i%3)
		}
		if i%4 == 1 && i <= half {
			name, last = "", "" // the record takes them from row i+half
		}
		if i%4 == 1 && i > half {
			first = ""
		}
		if i%10 == 0 {
			email = "" // kept without a key
		}
		if i > 60 && i%37 == 0 {
			id = fmt.Sprintf("C%d", i-60) // a duplicate, rejected
		}
		fmt.Fprintf(&c, "%s,%q,%s,%s,%s\n", id, email, name, first, last)
	}
	for g := 1; g <= 5; g++ { // duplicates without an address, of a row merged away and of one without an address
		fmt.Fprintf(&c, "C%d,,Ghost %d,Ghost,%d\n", half+4*g+1, g, g)
		fmt.Fprintf(&c, "C%d,,Echo %d,Echo,%d\n", 10*g, g, g)
	}
	for _, i := range lateRows {
		// A duplicate without an address, rejected, then a row that
		// merges into the record of its id: its chunk's keys step, not
		// given the ids earlier chunks hold, keeps the first and rejects
		// the second.
		fmt.Fprintf(&c, "C%d,,Ghost,Gh,Ost\nC%d,\"g%d@x.com; late%d@y.com\",Person %d,Person,%d\n", i, i, i%half, i, i, i)
	}
	// D1's record has no name until D2's row, which merges into it; so
	// does the row after, repeating D1 (rejected in its chunk's keys
	// step, after D1's row without an address), too late to name it.
	c.WriteString("D1,,Zed,Z,Ed\nD2,solo@x.com,Alpha One,Alpha,One\nD1,solo@x.com,Beta Two,Beta,Two\n")
	var t strings.Builder
	t.WriteString("Tenancy ID,Property ID,Tenant Name(s),Tenant Email,Start Date\n")
	for j := 1; j <= rows; j++ {
		k := 1 + (j*7)%rows
		name, email := "", ""
		switch j % 7 {
		case 0:
			name, email = "Someone", fmt.Sprintf("ALT%d@Y.com", k)
		case 1:
			email = fmt.Sprintf("G%d@X.com", k%half)
		case 2:
			name = fmt.Sprintf("Person %d", k)
		case 3:
			name = fmt.Sprintf("New %d & Other %d", j%17, j%13)
		case 4:
			name = fmt.Sprintf("person  %d", k)
		case 5:
			name, email = "Stranger", fmt.Sprintf("c%d@z.com", j%11)
		case 6:
			if j%2 == 0 {
				name, email = "Sharer", fmt.Sprintf("SHARED%d@Y.com", j%3)
			}
		}
		fmt.Fprintf(&t, "T%d,P%d,%s,%s,2024-%02d-01\n", j, j%40, name, email, 1+j%12)
	}
	for g := 1; g <= 5; g++ {
		fmt.Fprintf(&t, "T%d,P1,Ghost %d,,2024-01-01\nT%d,P1,Echo %d,,2024-01-01\n", rows+2*g, g, rows+2*g+1, g)
	}
	for n, i := range lateRows {
		fmt.Fprintf(&t, "T%d,P1,Someone,LATE%d@Y.com,2024-01-01\n", rows+20+n, i)
	}
	fmt.Fprintf(&t, "T%d,P1,Alpha One,,2024-01-01\nT%d,P1,Beta Two,,2024-01-01\n", rows+30, rows+31)
	return c.String(), t.String()
}

// mergedPeopleMapping is inlineMergingMapping(true) with a contact's
// addresses split at semicolons, and its name read in parts (First,
// Last) when parts.
func mergedPeopleMapping(parts bool) string {
	m := strings.Replace(inlineMergingMapping(true), `{"target":"emails","column":"Email"}`, `{"target":"emails","column":"Email","steps":[{"op":"split","separator":";"}]}`, 1)
	if parts {
		m = strings.Replace(m, `{"target":"full_name","column":"Name"}`, `{"target":"first_name","column":"First"},{"target":"last_name","column":"Last"}`, 1)
	}
	return m
}

// People named inline who may be records of an entity that merges across
// source ids run in chunks too: the alias round merges the link keys of
// each record's rows, and the links round links each person to the record
// one pass links them to. The counts and TEST's records, with every
// tenancy's tenants, are those of one pass over both files: whichever file
// comes first, with the name whole or in parts, in many partitions or in
// one (where a rejected duplicate's key and its id's first claim meet).
func TestPeopleNamedInlineLinkToRecordsMergedAcrossIdsAsInOne(t *testing.T) {
	contacts, tenancies := mergedPeopleAndTenancies(240)
	for _, c := range []struct {
		tenanciesFirst, parts bool
		partitionRows         int
	}{{false, false, 40}, {true, false, 40}, {false, true, 40}, {false, false, 100_000}, {true, true, 100_000}} {
		t.Run(fmt.Sprintf("tenanciesFirst=%t,parts=%t,partitionRows=%d", c.tenanciesFirst, c.parts, c.partitionRows), func(t *testing.T) {
			mapping := mergedPeopleMapping(c.parts)
			many, _, plan := mergedPeopleRun(t, contacts, tenancies, mapping, c.tenanciesFirst, 700, c.partitionRows)
			if reading := len(many.chunks) - merges(many.chunks); reading < 6 || (plan.Partitions < 3) != (c.partitionRows > 40) || !plan.Aliases || !plan.Links {
				t.Fatalf("planned %d chunks that read, %d partitions, plan %+v; want several, with the alias and links rounds", reading, plan.Partitions, plan)
			}
			c1, one := onePass(t, many, mapping)
			c2 := *many.counts
			c2.RejectsKey = ""
			if c1 != c2 || c1.Derived < 30 || c1.Merged < 60 || c1.Rejected == 0 {
				t.Fatalf("counts: one pass %+v, in chunks %+v%s", c1, c2, recordsDiff(one, many.records))
			}
			if !reflect.DeepEqual(one, many.records) {
				t.Fatalf("TEST holds %d records after one pass, %d in chunks; they differ%s", len(one), len(many.records), recordsDiff(one, many.records))
			}
			// What the data is for: people linked to a record by an
			// address only a row merged into it had, or by a name it took
			// from such a row.
			byAlt, byTakenName := 0, 0
			for _, r := range one {
				if r.Entity != "contact" || strings.HasPrefix(r.SourceID, mapspec.InlinePrefix) {
					continue
				}
				for i := 1; i <= 240; i++ {
					if i%3 == 0 && i%10 != 0 && r.SourceID != fmt.Sprintf("C%d", i) && strings.Contains(r.Fields["emails"], fmt.Sprintf("alt%d@y.com", i)) {
						byAlt++
					}
				}
				if n := strings.TrimPrefix(r.Fields["full_name"]+r.Fields["last_name"], "Person "); n != "" && n != strings.TrimPrefix(r.SourceID, "C") {
					byTakenName++
				}
			}
			linked := linkedTenants(one)
			if byAlt < 10 || byTakenName < 5 || linked < 40 {
				t.Fatalf("%d records hold an address of a row merged into them, %d a name one gave; %d tenants linked", byAlt, byTakenName, linked)
			}
		})
	}
}

// An execution that began before the links round existed keeps its
// state machine, which does not run it: its planning steps do not say
// LinksRound, and an extract that would need the round is planned as
// one chunk, as before, which runs as one pass; one that needs no links
// round is planned in chunks all the same.
func TestAPlanWithoutTheLinksRoundIsOneChunk(t *testing.T) {
	contacts, tenancies := mergedPeopleAndTenancies(240)
	for _, c := range []struct {
		mapping string
		chunks  bool
	}{
		{mergedPeopleMapping(false), false},
		{strings.Replace(mergedPeopleMapping(false), `"mergeDifferentIds":true,`, "", 1), true}, // merging by id needs no links round
	} {
		var svc *Service
		run, err := tryTestMapping(t, contacts, c.mapping, 700,
			func(s *Service) {
				svc, s.Chunking.PartitionRows, s.Chunking.MergeRows, s.OldDefinition = s, 40, 60, true
			},
			func(m *cutover.Migration, _ *testRecords) {
				m.Files = append(m.Files, cutover.File{ID: "f2", Name: "tenancies.csv", Key: "k-t-" + m.ID, Purpose: cutover.PurposeTest, Round: 1, Complete: true})
				files(svc)["k-t-"+m.ID] = tenancies
			})
		if err != nil {
			t.Fatal(err)
		}
		var plan testPlan
		if err := json.Unmarshal([]byte(run.objects[testPlanKey(run.m.ID, 1)]), &plan); err != nil {
			t.Fatal(err)
		}
		if (plan.Chunks > 1) != c.chunks || plan.Links {
			t.Fatalf("planned without the round: %+v; want chunks %t and no links round", plan, c.chunks)
		}
		if c.chunks {
			continue // linked by inlinelink.go, with its differences from one pass
		}
		c1, one := onePass(t, run, c.mapping)
		c2 := *run.counts
		c2.RejectsKey = ""
		if c1 != c2 || !reflect.DeepEqual(one, run.records) {
			t.Fatalf("counts: one pass %+v, planned without the round %+v; or the records differ%s", c1, c2, recordsDiff(one, run.records))
		}
	}
	// As before the links round, such a step holds every record, so an
	// extract of more rows than it may hold is refused before a record is
	// written, saying what to change.
	var svc *Service
	refused, err := tryTestMapping(t, contacts, mergedPeopleMapping(false), 700,
		func(s *Service) { svc, s.Chunking.WholeRows, s.OldDefinition = s, 520, true },
		func(m *cutover.Migration, _ *testRecords) {
			m.Files = append(m.Files, cutover.File{ID: "f2", Name: "tenancies.csv", Key: "k-t-" + m.ID, Purpose: cutover.PurposeTest, Round: 1, Complete: true})
			files(svc)["k-t-"+m.ID] = tenancies
		})
	if cutover.ErrorCode(err) != cutover.EINVALID || cutover.ErrorMessage(err) != "Turn mergeDifferentIds off for contact, or map the people tenancy rows name inline as a column: "+
		"this migration began before they were linked in parts, so it takes at most 520 rows in one step; this extract has 521." ||
		len(refused.records) != 0 || len(refused.chunks) != 0 {
		t.Fatalf("an extract of 521 rows, 520 allowed: %v; TEST holds %d records, %d chunks planned", err, len(refused.records), len(refused.chunks))
	}
	spec, err := mapspec.Parse([]byte(mergedPeopleMapping(false)))
	if err != nil {
		t.Fatal(err)
	}
	if msg := cutover.ErrorMessage(tooManyForOneStep(spec, schema.Default(), 123_456_789, MaxWholeRows)); len("The final extract cannot be migrated with the signed-off mapping: "+msg) > cutover.MaxReasonBytes {
		t.Errorf("the refusal of 123,456,789 rows does not fit a pre-flight's %d bytes: %q", cutover.MaxReasonBytes, msg)
	}
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 50_000: "50,000", 123_456_789: "123,456,789"} {
		if got := grouped(n); got != want {
			t.Errorf("grouped(%d) = %q, want %q", n, got, want)
		}
	}
	// The final's planning steps say it too: the go-live pre-flight and
	// the final plan of an old execution are one chunk, which lands what
	// one pass writes.
	svc, _, live, id, final := agencyFinal(t, mergedPeopleMapping(false), contacts, tenancies, tenancies)
	svc.OldDefinition = true
	got, counts := clearedFinal(t, svc, id)
	if p := got.FinalPlan; p == nil || p.Chunks != 1 || p.Partitions != 0 || p.Links {
		t.Fatalf("the final planned without the round: %+v; want one chunk", got.FinalPlan)
	}
	finalAsInOne(t, svc, live, got, final, counts)
	// An old execution's go-live pre-flight holds go-live, saying why,
	// for an extract of more rows than its one step may hold: the final's
	// tenancies are 20 more than the test's.
	_, more := mergedPeopleAndTenancies(260)
	svc, _, live, id, _ = agencyFinal(t, mergedPeopleMapping(false), contacts, tenancies, more)
	svc.OldDefinition, svc.Chunking.WholeRows = true, 521
	held, err := goLivePreflight(t, svc, id)
	if err != nil || held == nil || len(held.Breaches) != 1 || held.Breaches[0].Rule != cutover.RuleUnreadable ||
		!strings.Contains(held.Breaches[0].Detail, "Turn mergeDifferentIds off for contact") || !strings.HasSuffix(held.Breaches[0].Detail, "this extract has 541.") || len(live.records) != 0 {
		t.Errorf("an old execution's go-live pre-flight of 541 rows, 521 allowed: held %+v, %v, LIVE %d; want go-live held, saying what to change", held, err, len(live.records))
	}
}

// mergedPeopleRun runs a test migration of contacts and tenancies,
// mapped with mapping, in chunks of chunkBytes with partitionRows to a
// partition of the id shuffle (and twice that to a merge partition): the
// run, its service and its plan.
func mergedPeopleRun(t testing.TB, contacts, tenancies, mapping string, tenanciesFirst bool, chunkBytes int64, partitionRows int) (testRun, *Service, testPlan) {
	t.Helper()
	run, svc := tenanciesRun(t, contacts, tenancies, mapping, tenanciesFirst, chunkBytes, partitionRows, 2*partitionRows)
	var plan testPlan
	if err := json.Unmarshal([]byte(run.objects[testPlanKey(run.m.ID, 1)]), &plan); err != nil {
		t.Fatal(err)
	}
	return run, svc, plan
}

// The alias and links rounds' steps, run again, write the same objects
// (a Map's retried child); a damaged line in what they read is an error,
// never a link; a shuffle without a links round refuses its step.
func TestTheLinksRoundWritesTheSameAgainAndRefusesDamage(t *testing.T) {
	ctx := context.Background()
	contacts, tenancies := mergedPeopleAndTenancies(240)
	run, svc, plan := mergedPeopleRun(t, contacts, tenancies, mergedPeopleMapping(false), false, 700, 40)
	tr, sh := svc.testRun(), testShuffle(run.m.ID, 1, plan)
	written := func() map[string]string {
		out := map[string]string{}
		for k, v := range run.objects {
			if strings.HasPrefix(k, sh.prefix+"links/") || strings.HasPrefix(k, sh.prefix+"linked/") || strings.HasPrefix(k, sh.prefix+"aliases/") {
				out[k] = v
			}
		}
		return out
	}
	before := written()
	if len(before) != sh.parts*sh.parts+2*sh.parts*sh.chunks {
		t.Fatalf("%d objects of the alias and links rounds; want %d", len(before), sh.parts*sh.parts+2*sh.parts*sh.chunks)
	}
	linked := 0
	for p := range sh.parts {
		if _, err := tr.resolveAliases(ctx, sh, p); err != nil {
			t.Fatal(err)
		}
		res, err := tr.resolveLinks(ctx, sh, p)
		if err != nil {
			t.Fatal(err)
		}
		linked += res.Linked
	}
	claimed := 0 // people an earlier chunk derives (idnaming.go)
	for k, v := range before {
		if strings.HasPrefix(k, sh.prefix+"aliases/") {
			claimed += strings.Count("\n"+v, "\n"+personMark)
		}
	}
	if after := written(); !reflect.DeepEqual(before, after) || linked < 40 || claimed < 10 {
		t.Fatalf("run again, the rounds wrote other objects, or linked only %d people, or claimed %d", linked, claimed)
	}
	// Damage, one object at a time.
	damage := func(key, line string, step func() error) {
		t.Helper()
		body := run.objects[key]
		run.objects[key] = body + line + "\n"
		defer func() { run.objects[key] = body }()
		if err := step(); cutover.ErrorCode(err) != cutover.EINVALID {
			t.Errorf("%q added to %s: %v; want EINVALID", line, key, err)
		}
	}
	resolve := func() error { _, err := tr.resolvePartition(ctx, sh, 0); return err }
	aliases := func() error { _, err := tr.resolveAliases(ctx, sh, 0); return err }
	links := func() error { _, err := tr.resolveLinks(ctx, sh, 0); return err }
	// A row kept under a key, in its key's partition.
	for _, bad := range []string{
		"%contact#1\t\"k\"\tnot a place\t\"C1\"\t-\t-\t-", "%contact#1\t\"k\"\t0\t\"C1\"\t-\t-\t-", "%contact#1\t\"k\"\t3\t\"C1\"\t-",
		"%contact#1\t\"k\"\t3\tC1\t-\t-\t-", "%contact#1\t\"k\"\t3\t\"C1\"\tAnn\t-\t-", "%contact#1\t\"k\"\t3\t\"C1\"\t-\t-\t-\tann@x.com",
		"%contact#1\tk\t3\t\"C1\"\t-\t-\t-", "%#1\t\"k\"\t3\t\"C1\"\t-\t-\t-", "%contact#\t\"k\"\t3\t\"C1\"\t-\t-\t-",
	} {
		damage(sh.keysKey(0, 0), bad, aliases)
	}
	// A row kept without one, in its id's partition (chunk 0's object).
	for _, bad := range []string{
		"+contact#1\t^contact\te\tann@x.com\t\"C1\"\t0", "+contact#1\tjunk", "+#1\t^contact\te\tann@x.com\t\"C1\"\t0\t1",
		"+contact#1\t^contact\te\tann@x.com\t\"C1\"\t1\t1", // says another chunk
	} {
		damage(sh.keysKey(0, 0), bad, resolve)
	}
	// What the resolve round passed on, in the survivors.
	damage(sh.survivorsKey(0, 0), "^contact\te\tann@x.com\tC1\t0\t1", aliases)
	// A person derived, in their key's partition.
	for _, bad := range []string{"~contact\te\tann@x.com\tC1", "~garbage\t\"C1\"", "~contact\tq\tann@x.com\t\"C1\""} {
		damage(sh.keysKey(0, 0), bad, links)
	}
	// A listed record's key, as the alias round stored it.
	for _, bad := range []string{
		"@contact\te\tann@x.com\t\"C1\"", "^contact\te\tann@x.com\t\"C1\"\t0", "^contact\te\tann@x.com\tC1\t0\t1", "^contact\te\tann@x.com\t\"C1\"\tx\t1",
		"^contact\te\tann@x.com\t\"C1\"\t0\t0", "^contact\te\tann@x.com\t\"C1\"\t-5\t1", fmt.Sprintf("^contact\te\tann@x.com\t\"C1\"\t%d\t1", sh.chunks),
		"^contact\tx\tann@x.com\t\"C1\"\t0\t1", "^\te\tann@x.com\t\"C1\"\t0\t1",
	} {
		damage(sh.mergedLinksKey(0, 0), bad, links)
	}
	damage(sh.linkedKey(0, 0), "=contact\t\"a\"", func() error { _, _, err := tr.claimedFor(ctx, sh, 0); return err })
	// Who derives a person (idnaming.go): a row naming one, in its id's
	// partition; the people rows that stay name, in the survivors; a
	// person claimed, in a chunk's aliases.
	damage(sh.keysKey(0, 0), "*tenancy#1\tk\t\tcontact", resolve)
	damage(sh.survivorsKey(0, 0), "!contact#1\tx", aliases)
	for _, bad := range []string{"!contact", "!contact#", "!#1", "!contact#1\t3"} {
		damage(sh.aliasKey(0, 0), bad, func() error { _, _, err := tr.claimedFor(ctx, sh, 0); return err })
	}
	// Without a links round, its step is refused, and its lines in the
	// keys are damage.
	sh.links = false
	damage(sh.keysKey(0, 0), "+contact#1\t^contact\te\tann@x.com\t\"C1\"\t0\t1", resolve)
	if _, err := partitionStep(ctx, sh, 0, FinalLinks, tr.resolveLinks); cutover.ErrorCode(err) != cutover.ECONFLICT {
		t.Errorf("the links step of a shuffle without the round: %v; want ECONFLICT", err)
	}
}

// linkedTenants counts the tenants that tenancies name by a listed
// contact's source id, not a derived person's.
func linkedTenants(recs map[string]cutover.Record) int {
	n := 0
	for _, r := range recs {
		if r.Entity != "tenancy" {
			continue
		}
		for _, sid := range strings.Split(r.Fields["tenants"], "; ") {
			if sid != "" && !strings.HasPrefix(sid, mapspec.InlinePrefix) {
				n++
			}
		}
	}
	return n
}

// The final migration, and the pre-flights' dry runs before it, link the
// people named inline to records merged across source ids as the test
// migration does: LIVE gets the records, and the final its counts, of
// one pass over the extract.
func TestPeopleNamedInlineLinkToRecordsMergedAcrossIdsInFinalChunksAsInOne(t *testing.T) {
	contacts, tenancies := mergedPeopleAndTenancies(240)
	svc, _, live, id, final := agencyFinal(t, mergedPeopleMapping(true), contacts, tenancies, tenancies)
	got, counts := clearedFinal(t, svc, id)
	if p := got.FinalPlan; p == nil || p.Chunks-p.Merges < 6 || p.Partitions < 3 || !p.Aliases || !p.Links {
		t.Fatalf("the final plan %+v: want several chunks and the id shuffle's alias and links rounds", got.FinalPlan)
	}
	c2 := finalAsInOne(t, svc, live, got, final, counts)
	if c2.Derived < 30 || c2.Merged < 60 || linkedTenants(liveByKey(live)) < 40 {
		t.Fatalf("the final derived %d people and merged %d rows", c2.Derived, c2.Merged)
	}
}

// liveByKey is LIVE's records by entity and id.
func liveByKey(live *liveTable) map[string]cutover.Record {
	out := map[string]cutover.Record{}
	for _, r := range live.records {
		out[r.Entity+"#"+r.ID] = r
	}
	return out
}

// BenchmarkLinksRoundStep runs a test migration of contacts merged across
// source ids and tenancies naming them inline (half the rows each), at
// three sizes with the same rows per partition, then the resolve, alias
// and links steps of one partition again, and reports the bytes each
// allocates (the resolve step judges the rows naming people, idnaming.go):
// what one of those Lambdas holds, which stays a partition's worth
// whatever the extract (in make bench, not make test).
func BenchmarkLinksRoundStep(b *testing.B) {
	for _, rows := range []int{20_000, 80_000, 320_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			contacts, tenancies := mergedPeopleAndTenancies(rows / 2)
			run, svc, plan := mergedPeopleRun(b, contacts, tenancies, mergedPeopleMapping(false), false, 256<<10, 5_000)
			if !plan.Links {
				b.Fatalf("plan %+v; want the links round", plan)
			}
			ctx, tr, sh := context.Background(), svc.testRun(), testShuffle(run.m.ID, 1, plan)
			var resolveBytes, aliasBytes, linksBytes uint64
			for b.Loop() {
				resolveBytes += allocated(func() error { _, err := tr.resolvePartition(ctx, sh, 0); return err }, b)
				aliasBytes += allocated(func() error { _, err := tr.resolveAliases(ctx, sh, 0); return err }, b)
				linksBytes += allocated(func() error { _, err := tr.resolveLinks(ctx, sh, 0); return err }, b)
			}
			b.ReportMetric(float64(plan.Partitions), "partitions")
			b.ReportMetric(float64(resolveBytes)/float64(b.N)/(1<<20), "resolve-step-MB")
			b.ReportMetric(float64(aliasBytes)/float64(b.N)/(1<<20), "alias-step-MB")
			b.ReportMetric(float64(linksBytes)/float64(b.N)/(1<<20), "links-step-MB")
		})
	}
}

// allocated is how many bytes step allocates.
func allocated(step func() error, b *testing.B) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := step(); err != nil {
		b.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// The final plan reads the whole final extract again when the go-live
// pre-flight's dry run is gone (its plan expired or never written): an
// old execution's (no links round) plans an extract that needs the round
// as one chunk, a new one's in chunks with the round; both land what one
// pass writes.
func TestAFinalPlannedWithoutTheDryRunPlansAsItsDefinitionRuns(t *testing.T) {
	contacts, tenancies := mergedPeopleAndTenancies(240)
	for _, old := range []bool{false, true} {
		t.Run(fmt.Sprintf("old=%t", old), func(t *testing.T) {
			svc, store, live, id, final := agencyFinal(t, mergedPeopleMapping(false), contacts, tenancies, tenancies)
			svc.OldDefinition = old
			got, counts := clearedFinal(t, svc, id, func() {
				m := store.migs[id]
				plan := preflightPrefix(&m, cutover.PreflightAtGoLive) + "plan.json"
				if _, ok := files(svc)[plan]; !ok {
					t.Fatalf("the go-live pre-flight kept no plan at %s", plan)
				}
				delete(files(svc), plan)
			})
			if p := got.FinalPlan; p == nil || (p.Chunks == 1) != old || p.Links == old || p.Links && p.Chunks-p.Merges < 6 {
				t.Fatalf("the final planned without the dry run: %+v; want one chunk when old, several with the links round when not", got.FinalPlan)
			}
			finalAsInOne(t, svc, live, got, final, counts)
		})
	}
}
