package engine

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/pass"
	"github.com/cutover/cutover/internal/schema"
	"github.com/xuri/excelize/v2"
)

// contactsAndTenancies is a contacts export and a tenancies export that
// names its tenants inline. The tenants are every kind a person can be:
// listed with the same e-mail in other letter cases (linked to the first
// contact with it, some addresses shared by two contacts); listed by a
// name exactly one contact has (linked) or two have (not linked); new
// people named on rows all over the file, alone or with others, with and
// without an e-mail (each derived once); and rows naming nobody. Some
// contacts repeat an earlier contact's id far back in the file (under a
// name and an address no tenancy names: see inlinelink.go).
func contactsAndTenancies(rows int) (contacts, tenancies string) {
	var c strings.Builder
	c.WriteString("Id,Email,Name\n")
	for i := 1; i <= rows; i++ {
		id, email, name := fmt.Sprintf("C%d", i), fmt.Sprintf("p%d@x.com", i%(rows-30)), fmt.Sprintf("Person %d", i%(rows-10))
		switch {
		case i%10 == 0:
			email = ""
		case i > 60 && i%37 == 0:
			// A duplicate row, rejected, with an address and a name no
			// tenancy names (inlinelink.go: in chunks, they would link).
			id, email, name = fmt.Sprintf("C%d", i-60), fmt.Sprintf("dup%d@x.com", i), fmt.Sprintf("Dup %d", i)
		}
		fmt.Fprintf(&c, "%s,%s,%s\n", id, email, name)
	}
	var t strings.Builder
	t.WriteString("Tenancy ID,Property ID,Tenant Name(s),Tenant Email,Start Date\n")
	for j := 1; j <= rows; j++ {
		k := 1 + (j*7)%rows
		name, email := "", ""
		switch j % 6 {
		case 0:
			name, email = fmt.Sprintf("Person %d", k), fmt.Sprintf("P%d@X.com", k%(rows-30))
		case 1:
			name = fmt.Sprintf("person  %d", k)
		case 2:
			name = fmt.Sprintf("New %d & Other %d", j%17, j%13)
		case 3:
			name, email = fmt.Sprintf("Stranger %d", j%23), fmt.Sprintf("s%d@y.com", j%23)
		case 4:
			name = fmt.Sprintf("Person %d and New %d", k, j%17)
		}
		if j%29 == 0 {
			name, email = "", ""
		}
		fmt.Fprintf(&t, "T%d,P%d,%s,%s,2024-%02d-01\n", j, j%40, name, email, 1+j%12)
	}
	return c.String(), t.String()
}

// tenanciesMapping maps contacts (merged by e-mail when dedupe) and
// tenancies that name their tenants inline.
func tenanciesMapping(dedupe bool) string {
	d := ""
	if dedupe {
		d = `"dedupe":["emails"],`
	}
	return `{"version":1,"files":[{"name":"f1","entity":"contact","sourceId":["Id"],` + d +
		`"fields":[{"target":"emails","column":"Email"},{"target":"full_name","column":"Name"}]},` +
		`{"name":"f2","entity":"tenancy","sourceId":["Tenancy ID"],"inline":[{"target":"tenants","name":"Tenant Name(s)","email":"Tenant Email","optional":true}],` +
		`"fields":[{"target":"property","column":"Property ID"},{"target":"start_date","column":"Start Date"}]}]}`
}

// People named inline run in chunks too: the id shuffle links each to a
// listed contact by LinkInline's rule, over every chunk, and derives each
// other person once, in the first chunk whose kept rows name them. The counts
// (derived people, orphans) and TEST's records, with every tenancy's
// tenants, are those of one pass over both files, with and without
// merging by e-mail, whichever file comes first.
func TestPeopleNamedInlineLinkAcrossChunksAsInOne(t *testing.T) {
	contacts, tenancies := contactsAndTenancies(240)
	for _, dedupe := range []bool{false, true} {
		for _, tenanciesFirst := range []bool{false, true} {
			t.Run(fmt.Sprintf("dedupe=%t,tenanciesFirst=%t", dedupe, tenanciesFirst), func(t *testing.T) {
				many, _ := tenanciesRun(t, contacts, tenancies, tenanciesMapping(dedupe), tenanciesFirst, 700, 40, 60)
				if reading := len(many.chunks) - merges(many.chunks); reading < 6 {
					t.Fatalf("planned %d chunks that read, want several", reading)
				}
				c1, one := onePass(t, many, tenanciesMapping(dedupe))
				c2 := *many.counts
				c2.RejectsKey = ""
				if c1 != c2 || c1.Derived < 30 || c1.Orphans == 0 {
					t.Fatalf("counts: one pass %+v, in chunks %+v%s", c1, c2, recordsDiff(one, many.records))
				}
				linked, derived := 0, 0
				for _, r := range many.records {
					if r.Entity != "tenancy" {
						continue
					}
					for _, sid := range strings.Split(r.Fields["tenants"], "; ") {
						if strings.HasPrefix(sid, mapspec.InlinePrefix) {
							derived++
						} else if sid != "" {
							linked++
						}
					}
				}
				if linked < 40 || derived < 40 || !reflect.DeepEqual(one, many.records) {
					t.Fatalf("TEST holds %d records after one pass, %d in chunks (%d tenants linked, %d derived); or they differ%s",
						len(one), len(many.records), linked, derived, recordsDiff(one, many.records))
				}
			})
		}
	}
}

// tenanciesRun runs a test migration of contacts and tenancies (the
// mapping's entries f1 and f2; tenanciesFirst puts that file first)
// with mapping, in chunks of chunkBytes, partitionRows to a partition of
// the id shuffle and mergeRows to a merge partition: the run and its
// service. Each of tweaks is applied to the service.
func tenanciesRun(t testing.TB, contacts, tenancies, mapping string, tenanciesFirst bool, chunkBytes int64, partitionRows, mergeRows int, tweaks ...func(*Service)) (testRun, *Service) {
	t.Helper()
	var svc *Service
	run, err := tryTestMapping(t, contacts, mapping, chunkBytes,
		func(s *Service) {
			svc, s.Chunking.PartitionRows, s.Chunking.MergeRows = s, partitionRows, mergeRows
			for _, tweak := range tweaks {
				tweak(s)
			}
		},
		func(m *cutover.Migration, _ *testRecords) {
			f := cutover.File{ID: "f2", Name: "tenancies.csv", Key: "k-t-" + m.ID, Purpose: cutover.PurposeTest, Round: 1, Complete: true}
			if tenanciesFirst {
				m.Files = append([]cutover.File{f}, m.Files...)
			} else {
				m.Files = append(m.Files, f)
			}
			files(svc)["k-t-"+m.ID] = tenancies
		})
	if err != nil {
		t.Fatal(err)
	}
	return run, svc
}

// onePass runs the test files of run's migration as one pass, with
// mapping, as a test migration of one chunk would, and returns its
// counts (without their rejects key) and the records it wrote.
func onePass(t *testing.T, run testRun, mapping string) (cutover.Counts, map[string]cutover.Record) {
	t.Helper()
	spec, err := mapspec.Parse([]byte(mapping))
	if err != nil {
		t.Fatal(err)
	}
	one := map[string]cutover.Record{}
	p := pass.Pass{TenantID: run.m.TenantID, Spec: spec, Files: run.m.TestFiles(1), ArtifactsPrefix: "one/", Now: now0, KeepSource: true}
	res, err := pass.Run(context.Background(), p, run.objects, testRecordsSink{&testRecords{recs: map[string]map[string]cutover.Record{"one": one}}, "one"}, run.objects)
	if err != nil {
		t.Fatal(err)
	}
	res.Counts.RejectsKey = ""
	return res.Counts, one
}

// merges counts the merge partitions among chunks.
func merges(chunks []cutover.Chunk) int {
	n := 0
	for _, c := range chunks {
		if c.Merge {
			n++
		}
	}
	return n
}

// recordsDiff names a few records that differ between a and b.
func recordsDiff(a, b map[string]cutover.Record) string {
	var out []string
	for k, r := range a {
		if o, ok := b[k]; !ok || !reflect.DeepEqual(r, o) {
			out = append(out, fmt.Sprintf("\n  %s: one %v\n      chunks %v", k, r.Fields, o.Fields))
		}
		if len(out) >= 5 {
			break
		}
	}
	for k, r := range b {
		if _, ok := a[k]; !ok && len(out) < 8 {
			out = append(out, fmt.Sprintf("\n  %s only in chunks: %v", k, r.Fields))
		}
	}
	return strings.Join(out, "")
}

// The final migration links and derives the people named inline across
// its chunks as the test migration does: LIVE gets the records, and the
// final its counts, of one pass over the extract.
func TestPeopleNamedInlineLinkAcrossFinalChunksAsInOne(t *testing.T) {
	contacts, tenancies := contactsAndTenancies(240)
	svc, _, live, id, final := agencyFinal(t, tenanciesMapping(true), contacts, tenancies, tenancies)
	got, counts := clearedFinal(t, svc, id)
	if p := got.FinalPlan; p == nil || p.Chunks-p.Merges < 6 || p.Partitions == 0 {
		t.Fatalf("the final plan %+v: want several chunks and the id shuffle", got.FinalPlan)
	}
	c2 := finalAsInOne(t, svc, live, got, final, counts)
	if c2.Derived < 30 {
		t.Fatalf("the final derived %d people", c2.Derived)
	}
}

// clearedFinal clears migration id's final extract at go-live and runs
// the final migration (after each of then): the migration after it, and
// the final's counts.
func clearedFinal(t *testing.T, svc *Service, id string, then ...func()) (*cutover.Migration, cutover.Counts) {
	t.Helper()
	cleared(t, svc, id)
	for _, f := range then {
		f()
	}
	out, err := runPlannedFinal(t, svc, id)
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.Store.GetMigration(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return got, *out.Counts
}

// finalAsInOne checks that LIVE holds, and the final counted, what one
// pass of m's mapping over the final files (f8 read with the entry f2, f9
// with f1) writes and counts, and returns the counts.
func finalAsInOne(t *testing.T, svc *Service, live *liveTable, m *cutover.Migration, final []cutover.File, counts cutover.Counts) cutover.Counts {
	t.Helper()
	spec, err := mapspec.Parse([]byte(m.Mapping))
	if err != nil {
		t.Fatal(err)
	}
	entry := map[string]string{"f8": "f2", "f9": "f1"}
	one := map[string]cutover.Record{}
	p := pass.Pass{
		TenantID: m.TenantID, Spec: spec, Files: final, ArtifactsPrefix: "one/", Now: now0,
		Choose: func(s *mapspec.Spec, table string, h []string) (mapspec.FileSpec, error) {
			return pass.ByName(s, entry[table], h)
		},
	}
	res, err := pass.Run(context.Background(), p, files(svc), testRecordsSink{&testRecords{recs: map[string]map[string]cutover.Record{"one": one}}, "one"}, files(svc))
	if err != nil {
		t.Fatal(err)
	}
	c1, c2 := res.Counts, counts
	c1.RejectsKey, c2.RejectsKey = "", ""
	if c1 != c2 || len(live.records) != c2.Migrated+c2.Derived {
		t.Fatalf("counts: one pass %+v, the final %+v; LIVE holds %d", c1, c2, len(live.records))
	}
	landed := map[string]cutover.Record{}
	for _, r := range live.records {
		landed[r.Entity+"#"+r.ID] = r
	}
	if !reflect.DeepEqual(one, landed) {
		t.Fatalf("LIVE holds %d records, one pass wrote %d; or they differ%s", len(landed), len(one), recordsDiff(one, landed))
	}
	return c2
}

// agencyFinal is a signed-off migration whose test round mapped contacts
// and tenancies (tenancies) with mapping, and whose final extract is
// contacts and finalTenancies, confirmed and due: its service, store,
// LIVE, id and final files. The chunks are small.
func agencyFinal(t *testing.T, mapping, contacts, tenancies, finalTenancies string) (*Service, *memStore, *liveTable, string, []cutover.File) {
	t.Helper()
	// The checklist has the counts the test migration migrated: contacts
	// listed and derived.
	return twoFileFinal(t, mapping, "tenancies.csv", "tenancy", map[string]int{"contact": 235 + 61, "tenancy": 194}, contacts, tenancies, finalTenancies)
}

// twoFileFinal is a signed-off migration whose test round mapped contacts
// (the mapping's entry f1) and a second file, name, of entity (entry f2)
// with mapping, and whose final extract is second again (finalSecond,
// first) and contacts, confirmed and due: its service, store, LIVE, id
// and final files. The chunks are small.
func twoFileFinal(t *testing.T, mapping, name, entity string, checklist map[string]int, contacts, second, finalSecond string) (*Service, *memStore, *liveTable, string, []cutover.File) {
	t.Helper()
	svc, store, live := finalService(t, 700)
	svc.Chunking.PartitionRows, svc.Chunking.MergeRows = 40, 60
	id := signedOff(t, svc, store, "acme")
	m := store.migs[id]
	spec, err := mapspec.Parse([]byte(mapping))
	if err != nil {
		t.Fatal(err)
	}
	m.Mapping, m.MappingHash, m.SignOff.MappingHash = mapping, spec.Hash(), spec.Hash()
	// The test migration the pre-flight compares with ran on the same
	// files.
	m.Files = append(m.Files, cutover.File{ID: "f2", Name: name, Key: "k-t-" + id, Purpose: cutover.PurposeTest, Round: 1, Complete: true})
	files(svc)["k-"+id] = contacts
	m.Checklist = checklist
	final := []cutover.File{
		{ID: "f8", Name: name, Key: "k-tf-" + id, Purpose: cutover.PurposeFinal, Complete: true},
		{ID: "f9", Name: "contacts.csv", Key: "k-c-" + id, Purpose: cutover.PurposeFinal, Complete: true},
	}
	m.Files = append(m.Files, final...)
	m.FinalFileIDs = []string{"f8", "f9"}
	m.FinalMatches = []cutover.FinalMatch{
		{FileID: "f8", FileName: name, Table: "f8", Entry: "f2", Entity: entity, Confirmed: true},
		{FileID: "f9", FileName: "contacts.csv", Table: "f9", Entry: "f1", Entity: "contact", Confirmed: true},
	}
	m.GoLiveAt = now0
	store.migs[id] = m
	files(svc)["k-t-"+id], files(svc)["k-tf-"+id], files(svc)["k-c-"+id] = second, finalSecond, contacts
	return svc, store, live, id, final
}

// A column the signed-off mapping reads but the test extract never had
// (the tenants' phone, which the estate-agency preset names inline) does
// not hold go-live when the final extract lacks it too: its values never
// reached TEST, and the customer signed off without them. A column the
// test had and the final lost still holds.
func TestAColumnTheTestNeverHadDoesNotHoldGoLive(t *testing.T) {
	contacts, tenancies := contactsAndTenancies(240)
	mapping := strings.Replace(tenanciesMapping(true), `"email":"Tenant Email"`, `"email":"Tenant Email","phone":"Tenant Phone"`, 1)
	svc, _, _, id, _ := agencyFinal(t, mapping, contacts, tenancies, tenancies)
	if held, err := goLivePreflight(t, svc, id); err != nil || held != nil {
		t.Fatalf("the extract signed off, again: held %+v, %v", held, err)
	}
	lost := strings.Replace(tenancies, ",Tenant Email,", ",Contact,", 1) // the header only: the values stay
	svc, _, _, id, _ = agencyFinal(t, mapping, contacts, tenancies, lost)
	held, err := goLivePreflight(t, svc, id)
	if err != nil || !hasBreach(held, cutover.RuleColumnMissing, `"Tenant Email"`) || hasBreach(held, cutover.RuleColumnMissing, `"Tenant Phone"`) {
		t.Fatalf("the final without Tenant Email: held %+v, %v; want that column alone", held, err)
	}
}

// xlsxOf is an XLSX workbook with a sheet per CSV text, in order.
func xlsxOf(t *testing.T, sheets ...[2]string) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, s := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", s[0]); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(s[0]); err != nil {
			t.Fatal(err)
		}
		for r, line := range strings.Split(strings.TrimSuffix(s[1], "\n"), "\n") {
			cells := []any{}
			for _, c := range strings.Split(line, ",") {
				cells = append(cells, c)
			}
			cell, _ := excelize.CoordinatesToCellName(1, r+1)
			if err := f.SetSheetRow(s[0], cell, &cells); err != nil {
				t.Fatal(err)
			}
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// A workbook cannot be cut, so it is one chunk; with more records than a
// merge partition holds, that chunk spills them for merging. It still
// runs the id shuffle first, so its references resolve and the people it
// names inline are linked, across its sheets, as in one pass.
func TestOneChunkThatSpillsResolvesAndLinksAsOnePass(t *testing.T) {
	contacts, tenancies := contactsAndTenancies(240)
	var properties strings.Builder
	properties.WriteString("Property ID,Address 1\n")
	for i := range 30 { // P30 to P39 are in no sheet: orphans
		fmt.Fprintf(&properties, "P%d,%d High Street\n", i, i+1)
	}
	book := xlsxOf(t, [2]string{"Contacts", contacts}, [2]string{"Tenancies", tenancies}, [2]string{"Properties", properties.String()})
	mapping := strings.NewReplacer(`"name":"f1"`, `"name":"f1#Contacts"`, `"name":"f2"`, `"name":"f1#Tenancies"`).Replace(tenanciesMapping(true))
	mapping = strings.TrimSuffix(mapping, "]}") + `,{"name":"f1#Properties","entity":"property","sourceId":["Property ID"],"fields":[{"target":"address_line1","column":"Address 1"}]}]}`
	run, err := tryTestMapping(t, book, mapping, 700,
		func(s *Service) { s.Chunking.PartitionRows, s.Chunking.MergeRows = 40, 60 },
		func(m *cutover.Migration, _ *testRecords) { m.Files[0].Name = "agency.xlsx" })
	if err != nil {
		t.Fatal(err)
	}
	if reading, merging := len(run.chunks)-merges(run.chunks), merges(run.chunks); reading != 1 || merging < 2 {
		t.Fatalf("planned %d chunk(s) that read and %d merge partition(s); want one and several", reading, merging)
	}
	c1, one := onePass(t, run, mapping)
	c2 := *run.counts
	c2.RejectsKey = ""
	if c1 != c2 || c1.Derived < 30 || c1.Orphans == 0 {
		t.Fatalf("counts: one pass %+v, spilled %+v%s", c1, c2, recordsDiff(one, run.records))
	}
	if !reflect.DeepEqual(one, run.records) {
		t.Fatalf("TEST holds %d records after one pass, %d spilled; or they differ%s", len(one), len(run.records), recordsDiff(one, run.records))
	}
}

// A partition decides links by LinkInline's rule from the lines chunks
// stored, whatever their source ids hold, and a damaged line is an error,
// never a link.
func TestLinkLinesResolveAndRefuseDamage(t *testing.T) {
	sh := idShuffle{parts: 1, chunks: 2}
	bufs := make([]bytes.Buffer, 1)
	spec, err := mapspec.Parse([]byte(`{"version":1,"files":[{"name":"c","entity":"contact","sourceId":["Id"],"fields":[{"target":"emails","column":"Email"},{"target":"full_name","column":"Name"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapspec.Compile(spec.Files[0], schema.Default(), []string{"Id", "Email", "Name"}, "acme", now0)
	if err != nil {
		t.Fatal(err)
	}
	listed := func(sid, email, name string) *mapspec.Record {
		out := m.Map(2, []string{sid, email, name})
		if out.Record == nil || out.Record.SourceID != sid {
			t.Fatalf("%q, %q, %q became %+v", sid, email, name, out)
		}
		return out.Record
	}
	sh.emitLinkKeys(bufs, listed("C\t\"1", "Ann@X.com", "Ann Lee"))
	sh.emitLinkKeys(bufs, listed("C2", "ann@x.com", "Bo Day"))
	sh.emitLinkKeys(bufs, listed("C3", "", "Bo Day"))
	first := bufs[0].String()
	bufs[0].Reset()
	for _, d := range []*mapspec.Record{
		listed(mapspec.InlinePrefix+"x|ann@x.com", "ANN@x.com", "X"), // by e-mail: the first with it
		listed(mapspec.InlinePrefix+"ann lee", "", "Ann  Lee"),       // by the one name
		listed(mapspec.InlinePrefix+"bo day", "", "Bo Day"),          // two have it: not linked
	} {
		sh.emitLinkKeys(bufs, d)
	}
	l := newLinkResolver()
	for c, body := range []string{first, bufs[0].String()} {
		eachLine([]byte(body), func(line string) {
			if err := l.add(c, line); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
		})
	}
	outs := make([]bytes.Buffer, 2)
	l.resolve(outs)
	e := &pass.Elsewhere{Linked: map[string]string{}}
	eachLine(outs[1].Bytes(), func(line string) {
		if err := addLink(e, line); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
	})
	want := map[string]string{"contact\x00" + mapspec.InlinePrefix + "x|ann@x.com": "C\t\"1", "contact\x00" + mapspec.InlinePrefix + "ann lee": "C\t\"1"}
	if outs[0].Len() != 0 || !reflect.DeepEqual(e.Linked, want) {
		t.Fatalf("links %q (chunk 0 told %q); want %q", e.Linked, outs[0].String(), want)
	}
	for _, bad := range []string{"@contact\te\tann@x.com", "&contact\tn\tann lee\tnot quoted", "=contact\t\"a\"", "=contact\t\"a\"\tb", "?x"} {
		if isLinkLine(bad) {
			err := l.add(0, bad)
			if !strings.HasPrefix(bad, "=") && err == nil {
				t.Errorf("%q was taken as a key", bad)
			}
			if strings.HasPrefix(bad, "=") && addLink(e, bad) == nil {
				t.Errorf("%q was taken as a link", bad)
			}
		}
	}
}

// An agency's own exports (the estate-agency preset's fixtures, in
// another CRM's layout), mapped as the service proposes: the tenants and
// applicants they name are linked to the listed contacts across the
// files' chunks as one pass links them (Ann Lee by e-mail, Bob Stone by
// name; Cara Stone and Dee Ray are derived). The tenancies keep their
// own references as their ids ("Tenancy Ref", which the preset knows as
// "Tenancy ID").
func TestAnAgencysExportsLinkTheirPeopleAsOnePass(t *testing.T) {
	ctx := context.Background()
	svc, store, _ := finalService(t, 0)
	test := &testRecords{recs: map[string]map[string]cutover.Record{}}
	svc.Test, svc.TestChunkBytes = test, 64
	id := create(t, svc, "acme").Migration.ID
	for i, name := range []string{"agency2-tenancies.csv", "crm-contacts.csv", "agency2-applicants.csv"} {
		body, err := os.ReadFile(filepath.Join("..", "..", "mapspec", "presets", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		f := cutover.File{ID: fmt.Sprintf("f%d", i+1), Name: name, Key: fmt.Sprintf("k%d-%s", i, id), Purpose: cutover.PurposeTest, Round: 1, Complete: true}
		uploaded(t, store, id, f)
		files(svc)[f.Key] = string(body)
	}
	submittedAndMapped(t, svc, store, id, migration.ChecklistInput{Counts: map[string]int{"contact": 6, "tenancy": 3, "applicant": 2}})
	counts, err := svc.TestMigrate(ctx, migration.StepInput{MigrationID: id, Round: 1})
	if err != nil {
		t.Fatal(err)
	}
	run := testRun{m: mustGet(t, store, id), counts: counts, records: test.recs[id], objects: files(svc)}
	if run.chunks, err = svc.TestChunks.ListTestChunks(ctx, id, 1); err != nil || len(run.chunks)-merges(run.chunks) < 6 {
		t.Fatalf("planned %d chunk(s) (%v); want several a file", len(run.chunks), err)
	}
	c1, one := onePass(t, run, run.m.Mapping)
	c2 := *run.counts
	c2.RejectsKey = ""
	if c1 != c2 || !reflect.DeepEqual(one, run.records) {
		t.Fatalf("counts: one pass %+v, in chunks %+v; or the records differ%s", c1, c2, recordsDiff(one, run.records))
	}
	tenants := map[string]string{}
	for _, r := range run.records {
		if r.Entity == "tenancy" {
			tenants[r.SourceID] = r.Fields["tenants"]
		}
	}
	// Derived: Cara Stone, Dee Ray, and the applicants Eve Post and Finn Gale.
	if c2.Derived != 4 || tenants["TN-001"] != "C1" || tenants["TN-002"] != "C2; inline:cara stone" || tenants["TN-003"] != "inline:dee ray" {
		t.Fatalf("derived %d; tenants %q: want Ann Lee linked to C1 and Bob Stone to C2", c2.Derived, tenants)
	}
}
