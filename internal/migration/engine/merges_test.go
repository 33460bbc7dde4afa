package engine

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pass"
	"github.com/cutover/cutover/internal/pipeline"
	"github.com/cutover/cutover/internal/schema"
	"github.com/cutover/cutover/internal/workbook"
)

// mergingContacts is a contacts export whose rows share e-mail addresses
// across the whole file (every 25th row has the same one), with rows that
// repeat an earlier row's id under the same address (they merge into its
// record, filling what it lacks) or under another (duplicates), and rows
// without an address (merged with nothing).
func mergingContacts(rows int) string {
	var b strings.Builder
	b.WriteString("Id,Email,Name,Phone\n")
	for i := 1; i <= rows; i++ {
		id, email, name, phone := fmt.Sprint(i), fmt.Sprintf("p%d@x.com", i%25), fmt.Sprintf("Person %d", i), fmt.Sprintf("07700 900%03d", i%1000)
		switch {
		case i > 25 && i%13 == 0: // the id of the row 25 before: the same address
			id, name = fmt.Sprint(i-25), ""
		case i > 30 && i%9 == 0: // the id of the row 30 before: another address
			id = fmt.Sprint(i - 30)
		case i%17 == 0:
			email = ""
		}
		fmt.Fprintf(&b, "%s,%s,%s,%s\n", id, email, name, phone)
	}
	return b.String()
}

// dedupeMapping merges contacts by e-mail; with differentIDs, across
// source ids too.
func dedupeMapping(differentIDs bool) string {
	return `{"version":1,"files":[{"name":"f1","entity":"contact","sourceId":["Id"],"dedupe":["emails"],` +
		fmt.Sprintf(`"mergeDifferentIds":%t,`, differentIDs) +
		`"fields":[{"target":"emails","column":"Email"},{"target":"first_name","column":"Name"},{"target":"phones","column":"Phone"}]}]}`
}

// signedOffDedupe is signedOff with dedupeMapping signed off, for the
// columns signedOff's test extract has (no phone).
func signedOffDedupe(t *testing.T, svc *Service, store *memStore) string {
	t.Helper()
	id := signedOff(t, svc, store, "acme")
	m := store.migs[id]
	mapping := strings.Replace(dedupeMapping(false), `,{"target":"phones","column":"Phone"}`, "", 1)
	spec, err := mapspec.Parse([]byte(mapping))
	if err != nil {
		t.Fatal(err)
	}
	m.Mapping, m.MappingHash, m.SignOff.MappingHash = mapping, spec.Hash(), spec.Hash()
	store.migs[id] = m
	return id
}

// A mapping that merges records by dedupe key, planned into several
// chunks, spills them to merge partitions, and means exactly what the
// one-chunk run means: the same counts (rows merged, duplicates
// rejected), the same records in TEST (each merged from the same rows in
// the same order, so with the same values and conflicts settled the same
// way), the same snapshot, rejected rows and possible duplicates.
func TestRecordsMergeAcrossChunksAsInOne(t *testing.T) {
	body := mergingContacts(300)
	for _, differentIDs := range []bool{false, true} {
		t.Run(fmt.Sprintf("mergeDifferentIds=%t", differentIDs), func(t *testing.T) {
			mapping := dedupeMapping(differentIDs)
			one, err := tryTestMapping(t, body, mapping, 0, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			// In chunks; and in one chunk of more records than a merge
			// partition holds, which spills them to merge partitions too
			// rather than hold them all.
			for _, v := range []struct {
				name       string
				chunkBytes int64
				reading    func(int) bool
			}{
				{"in chunks", 700, func(n int) bool { return n >= 4 }},
				{"one chunk in merge partitions", 0, func(n int) bool { return n == 1 }},
			} {
				many, err := tryTestMapping(t, body, mapping, v.chunkBytes, func(s *Service) { s.Chunking.PartitionRows, s.Chunking.MergeRows = 40, 60 }, nil)
				if err != nil {
					t.Fatal(err)
				}
				merges := 0
				for _, c := range many.chunks {
					if c.Merge {
						merges++
					}
				}
				if len(one.chunks) != 1 || merges < 3 || !v.reading(len(many.chunks)-merges) {
					t.Fatalf("%s: planned %d chunk(s), and %d with %d merge partitions: want 1, and the merge partitions after the chunks", v.name, len(one.chunks), len(many.chunks), merges)
				}
				c1, c2 := *one.counts, *many.counts
				c1.RejectsKey, c2.RejectsKey = "", ""
				if c1 != c2 || c1.Merged == 0 || c1.Rejected == 0 {
					t.Fatalf("counts: one chunk %+v, in chunks %+v", c1, c2)
				}
				if len(one.records) == 0 || !reflect.DeepEqual(one.records, many.records) {
					t.Fatalf("TEST holds %d records after one chunk, %d after several; or they differ", len(one.records), len(many.records))
				}
				if s1, s2 := one.objects[one.m.Workbook.Snapshot], many.objects[many.m.Workbook.Snapshot]; s1 == "" || s1 != s2 {
					t.Fatalf("the snapshots differ:\n%s\n---\n%s", s1, s2)
				}
				wb1, wb2 := workbookOf(t, one), workbookOf(t, many)
				if r1, r2 := rows(t, one.objects, wb1.Issues.RejectsFiles), rows(t, many.objects, wb2.Issues.RejectsFiles); len(r1) != one.counts.Rejected || !reflect.DeepEqual(r1, r2) {
					t.Fatalf("rejected rows: one chunk %q, in chunks %q", r1, r2)
				}
				for name, pick := range map[string]func(w *workbook.Workbook) any{
					"reconciliation": func(w *workbook.Workbook) any { return w.Reconciliation },
					"rejected":       func(w *workbook.Workbook) any { return w.Issues.Rejected },
					"fill rates":     func(w *workbook.Workbook) any { return w.FillRates },
					// Listed by partition, not by first row: compare them by key.
					"duplicates": func(w *workbook.Workbook) any {
						return slices.SortedFunc(slices.Values(w.Issues.Duplicates), func(a, b mapspec.PossibleDuplicate) int { return strings.Compare(a.Key, b.Key) })
					},
					"duplicate groups": func(w *workbook.Workbook) any {
						return slices.SortedFunc(slices.Values(w.Issues.DuplicateGroups), func(a, b workbook.DuplicateGroup) int {
							return cmp.Or(strings.Compare(a.Kind, b.Kind), strings.Compare(a.Key, b.Key))
						})
					},
					// Each run draws its sample with a seed of its own: the rows
					// named are the ones to compare.
					"named spot checks": func(w *workbook.Workbook) any {
						return slices.DeleteFunc(slices.Clone(w.SpotChecks), func(sc workbook.SpotCheck) bool { return sc.Why != workbook.WhyNamed })
					},
					"possible": func(w *workbook.Workbook) any {
						return []int{w.Issues.PossibleDuplicates, w.Issues.PossibleGroups, len(w.Issues.Duplicates), w.Issues.DuplicateCounts.Merged}
					},
				} {
					if a, b := mustJSON(t, pick(wb1)), mustJSON(t, pick(wb2)); a != b {
						t.Errorf("workbook %s: one chunk %s, in chunks %s", name, a, b)
					}
				}
				if !differentIDs && wb1.Issues.PossibleGroups == 0 {
					t.Errorf("no possible duplicates: the export shares addresses between ids")
				}
				// Every spot check shows a record TEST holds: a merged row's is
				// the record it went into.
				mergedSpots := 0
				for _, sc := range wb2.SpotChecks {
					if !sc.Found {
						continue
					}
					rec, ok := many.records[sc.Entity+"#"+sc.RecordID]
					if !ok || rec.SourceID == "" {
						t.Errorf("spot check of line %d shows record %s, which TEST does not hold", sc.Line, sc.RecordID)
					}
					if sc.Outcome == pipeline.Merged {
						mergedSpots++
						if sc.MergedInto != sc.RecordID {
							t.Errorf("spot check of merged line %d: into %q, shows %q", sc.Line, sc.MergedInto, sc.RecordID)
						}
					}
				}
				groups := map[string]int{}
				for _, g := range wb2.Issues.DuplicateGroups {
					groups[g.Kind]++
				}
				if groups[workbook.GroupMerged] == 0 || !differentIDs && groups[workbook.GroupPossible] == 0 {
					t.Errorf("the workbook lists duplicate groups %v: want merged ones, and possible ones", groups)
				}
				t.Logf("%d of the spot checks show a merged row", mergedSpots)
				for _, c := range many.chunks {
					if c.Merge && (c.Counts.Read != 0 || c.Status != cutover.ChunkDone) {
						t.Errorf("merge partition %d: %+v", c.Index, c)
					}
				}
			}
		})
	}
}

// The final migration merges across its chunks as the test does: LIVE
// gets the records, the counts and the final report of the extract as one
// chunk. A merge partition that crashes midway (its write fails once)
// runs again, and LIVE still holds each record once.
func TestRecordsMergeAcrossFinalChunksAsInOne(t *testing.T) {
	extract := mergingContacts(150)
	final := func(chunkBytes int64, failAt int) (*FinalOutput, *liveTable, *Service, string) {
		svc, store, live := finalService(t, chunkBytes)
		svc.Chunking.PartitionRows, svc.Chunking.MergeRows = 40, 40
		id := signedOffDedupe(t, svc, store)
		withFinalExtract(t, svc, store, id, extract)
		cleared(t, svc, id)
		live.failAt = failAt
		out, err := runFinal(t, svc, id)
		if err != nil {
			t.Fatal(err)
		}
		return out, live, svc, id
	}
	one, liveOne, svcOne, idOne := final(0, 0)
	many, liveMany, svc, id := final(600, 3)
	ctx := context.Background()
	m, _ := svc.Store.GetMigration(ctx, id)
	if p := m.FinalPlan; p == nil || p.Merges < 3 || p.Chunks-p.Merges < 4 {
		t.Fatalf("the final plan %+v: want several chunks and merge partitions", m.FinalPlan)
	}
	chunks, err := svc.FinalChunks(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var again []cutover.Chunk
	for _, c := range chunks {
		if c.Attempts != 1 {
			again = append(again, c)
		}
	}
	m, _ = svc.Store.GetMigration(ctx, id)
	if len(again) != 1 || !again[0].Merge || again[0].Attempts != 2 {
		t.Fatalf("chunks run other than once: %+v; want the merge partition whose write failed, run twice (the chunks write nothing)", again)
	}
	c1, c2 := *one.Counts, *many.Counts
	c1.RejectsKey, c2.RejectsKey = "", ""
	if c1 != c2 || c2.Merged == 0 || c2.Rejected == 0 || c2.Read != 150 {
		t.Fatalf("counts: one chunk %+v, in chunks %+v", c1, c2)
	}
	if len(liveOne.records) != c1.Migrated || !reflect.DeepEqual(liveOne.records, liveMany.records) {
		t.Fatalf("LIVE holds %d records after one chunk, %d after several; or they differ", len(liveOne.records), len(liveMany.records))
	}
	audit, _ := svc.Store.(*memStore).ListAudit(ctx, id)
	parts := fmt.Sprintf("in %d chunk(s) and %d merge partition(s)", m.FinalPlan.Chunks-m.FinalPlan.Merges, m.FinalPlan.Merges)
	said := 0
	for _, e := range audit {
		if (e.Action == "final.planned" || e.Action == "final.migrated") && strings.Contains(e.Detail, parts) {
			said++
		}
	}
	if said != 2 {
		t.Errorf("the audit trail says %q of the plan and the migration %d time(s); want both: %+v", parts, said, audit)
	}
	m1, _ := svcOne.Store.GetMigration(ctx, idOne)
	if m1.FinalReport == nil || m.FinalReport == nil {
		t.Fatal("no final report")
	}
	r1, r2 := *m1.FinalReport, *m.FinalReport
	r1.Chunks, r2.Chunks = 0, 0
	if a, b := mustJSON(t, r1), mustJSON(t, r2); a != b {
		t.Fatalf("final report: one chunk %s, in chunks %s", a, b)
	}
}

// A merge partition does not run before every chunk that reads is done:
// it fails naming the chunk, and writes nothing.
func TestMergingWaitsForEveryChunk(t *testing.T) {
	svc, store, live := finalService(t, 600)
	svc.Chunking.MergeRows = 40
	id := signedOffDedupe(t, svc, store)
	withFinalExtract(t, svc, store, id, mergingContacts(150))
	cleared(t, svc, id)
	ctx := context.Background()
	plan, err := svc.Final(ctx, FinalStep{Action: FinalPlan, MigrationID: id, Round: 1})
	if err != nil {
		t.Fatal(err)
	}
	run := planRun(t, plan)
	if run.Merges == nil || run.Merges.Partitions < 2 {
		t.Fatalf("the plan's run %+v: want merge partitions", run)
	}
	merges := manifestItems(t, svc, run.Merges.Manifest)
	_, err = svc.Final(ctx, FinalStep{Action: FinalChunk, MigrationID: id, Round: 1, Index: merges[0].Index})
	if cutover.ErrorCode(err) != cutover.ECONFLICT || !strings.Contains(cutover.ErrorMessage(err), "waits for part 1") || len(live.records) != 0 {
		t.Fatalf("a merge partition before the chunks: %v, %d records in LIVE; want ECONFLICT naming part 1, nothing written", err, len(live.records))
	}
}

// The pre-flight of a mapping that merges by dedupe key runs as the final
// migration runs: in chunks, with the id shuffle and merge partitions of
// its own, writing nothing to LIVE; its counts and entities are the final
// migration's, and its parts are its own, not the final's.
func TestThePreflightMergesAsTheFinalDoes(t *testing.T) {
	svc, store, live := finalService(t, 0)
	svc.ChunkBytes, svc.Chunking.MergeRows = 1024, 20
	id := clearedDedupe(t, svc, store, mergingContacts(150))
	ctx := context.Background()
	checked, _ := svc.Store.GetMigration(ctx, id)
	var rep cutover.PreflightReport
	if err := json.Unmarshal([]byte(files(svc)[checked.Preflight.ReportKey]), &rep); err != nil {
		t.Fatal(err)
	}
	reading, merging := 0, 0
	for k, body := range files(svc) {
		if strings.Contains(k, "/preflight/go-live-") && strings.Contains(k, "/chunks/c-") {
			var c cutover.Chunk
			if err := json.Unmarshal([]byte(body), &c); err != nil || c.Status != cutover.ChunkDone {
				t.Fatalf("%s: %v, %+v", k, err, c)
			}
			if c.Merge {
				merging++
			} else {
				reading++
			}
		}
	}
	if reading < 3 || merging < 3 {
		t.Fatalf("the pre-flight ran %d chunks and %d merge partitions; want several of each", reading, merging)
	}
	if len(live.records) != 0 || live.writes != 0 {
		t.Fatalf("the pre-flight wrote %d records to LIVE", len(live.records))
	}
	if chunks, _ := svc.Chunks.ListChunks(ctx, id); len(chunks) != 0 {
		t.Fatalf("the pre-flight left %d chunks in the final's chunk store", len(chunks))
	}
	out, err := runFinal(t, svc, id)
	if err != nil {
		t.Fatal(err)
	}
	c1, c2 := rep.Counts, *out.Counts
	c1.RejectsKey, c2.RejectsKey = "", ""
	if c1 != c2 || c1.Merged == 0 || c1.Rejected == 0 {
		t.Fatalf("the pre-flight counted %+v; the final migration %+v", c1, c2)
	}
	if len(rep.Entities) != 1 || rep.Entities[0].Migrated != c2.Migrated || len(live.records) != c2.Migrated {
		t.Fatalf("the pre-flight's entities %+v; want the final's %d contacts (LIVE holds %d)", rep.Entities, c2.Migrated, len(live.records))
	}
}

// clearedDedupe is a migration signed off with dedupeMapping whose final
// extract (its size on record) the go-live pre-flight cleared.
func clearedDedupe(t *testing.T, svc *Service, store *memStore, extract string) string {
	t.Helper()
	id := signedOffDedupe(t, svc, store)
	withFinalExtract(t, svc, store, id, extract)
	m := store.migs[id]
	m.Files[len(m.Files)-1].Size = int64(len(extract))
	store.migs[id] = m
	cleared(t, svc, id)
	return id
}

// contactsWithCompanies is mergingContacts with a company column naming a
// company of companies.csv (or, every 23rd row, one no file has), and
// that companies file: 40 companies, after the contacts.
func contactsWithCompanies(rows int) (contacts, companies string) {
	var b strings.Builder
	for i, line := range strings.Split(strings.TrimSuffix(mergingContacts(rows), "\n"), "\n") {
		company := fmt.Sprintf("C%d", i%40)
		if i == 0 {
			company = "Company"
		} else if i%23 == 0 {
			company = "C-gone"
		}
		fmt.Fprintf(&b, "%s,%s\n", line, company)
	}
	var c strings.Builder
	c.WriteString("Company ID,Name\n")
	for i := range 40 {
		fmt.Fprintf(&c, "C%d,Company %d\n", i, i)
	}
	return b.String(), c.String()
}

// companiesMapping maps contacts (with their company; d is their dedupe
// settings, such as `"dedupe":["emails"],`) and companies.
func companiesMapping(d string) string {
	return `{"version":1,"files":[{"name":"f1","entity":"contact","sourceId":["Id"],` + d +
		`"fields":[{"target":"emails","column":"Email"},{"target":"first_name","column":"Name"},{"target":"company_ref","column":"Company"}]},` +
		`{"name":"f2","entity":"company","sourceId":["Company ID"],"fields":[{"target":"name","column":"Name"}]}]}`
}

// mergingCompaniesMapping is companiesMapping(d) with the companies
// merging by name across source ids.
func mergingCompaniesMapping(d string) string {
	return strings.Replace(companiesMapping(d), `"entity":"company","sourceId":["Company ID"],`, `"entity":"company","sourceId":["Company ID"],"dedupe":["name"],"mergeDifferentIds":true,`, 1)
}

// mergingCompanies is a companies file of 240 companies (C0 to C239, in
// a shuffled order) whose names come two rows at a time and repeat every
// 60 rows, so that most of the companies contactsWithCompanies names
// merge into one with another source id, in the same part of the file or
// another. Its last two rows share a new
// name: C7 again (a duplicate: C7 is its second row, kept under another
// name) and C39 (its only row), which survives its name, as in one pass.
func mergingCompanies() string {
	var c strings.Builder
	c.WriteString("Company ID,Name\n")
	for j := range 240 {
		if id := j * 7 % 240; id != 39 {
			fmt.Fprintf(&c, "C%d,Name %d\n", id, j/2%30)
		}
	}
	c.WriteString("C7,Fresh\nC39,Fresh\n")
	return c.String()
}

// inlineMergingMapping is tenanciesMapping with the contacts merging by
// e-mail, across source ids when across.
func inlineMergingMapping(across bool) string {
	m := tenanciesMapping(true)
	if across {
		m = strings.Replace(m, `"dedupe":["emails"],`, `"dedupe":["emails"],"mergeDifferentIds":true,`, 1)
	}
	return m
}

// References between records run in chunks too: each reference resolves
// to its record in whichever chunk or file holds it (the id shuffle knows
// every chunk's records), and one to a record no file has is an orphan,
// as in one pass: the counts (orphans too) and TEST's records, with the
// ids their references resolved to, are those of one pass over both
// files, with and without merging by e-mail, with the contacts merging
// across source ids too (their references name companies, which do not
// merge), and with the companies they name merging by name across source
// ids (a reference to a company merged away names the one it merged into:
// the id shuffle's alias round).
func TestReferencesResolveAcrossChunksAsInOne(t *testing.T) {
	contacts, companies := contactsWithCompanies(200)
	for _, c := range []struct{ name, mapping, companies string }{
		{"no dedupe", companiesMapping(``), companies},
		{"dedupe", companiesMapping(`"dedupe":["emails"],`), companies},
		{"dedupe across ids", companiesMapping(`"dedupe":["emails"],"mergeDifferentIds":true,`), companies},
		{"companies merged across ids", mergingCompaniesMapping(``), mergingCompanies()},
		{"companies and contacts merged across ids", mergingCompaniesMapping(`"dedupe":["emails"],"mergeDifferentIds":true,`), mergingCompanies()},
	} {
		dedupe, companies := c.name != "no dedupe", c.companies
		t.Run(c.name, func(t *testing.T) {
			run := func(chunkBytes int64) testRun {
				var svc *Service
				r, err := tryTestMapping(t, contacts, c.mapping, chunkBytes,
					func(s *Service) { svc, s.Chunking.PartitionRows, s.Chunking.MergeRows = s, 40, 60 },
					func(m *cutover.Migration, _ *testRecords) {
						m.Files = append(m.Files, cutover.File{ID: "f2", Name: "companies.csv", Key: "k-co-" + m.ID, Purpose: cutover.PurposeTest, Round: 1, Complete: true})
						files(svc)["k-co-"+m.ID] = companies
					})
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			many := run(700)
			merges := 0
			for _, c := range many.chunks {
				if c.Merge {
					merges++
				}
			}
			if len(many.chunks)-merges < 4 || (merges > 0) != dedupe {
				t.Fatalf("planned %d chunk(s) with %d merge partitions", len(many.chunks), merges)
			}
			// One pass over both files, as a test migration of one chunk ran.
			spec, err := mapspec.Parse([]byte(c.mapping))
			if err != nil {
				t.Fatal(err)
			}
			one := testRun{records: map[string]cutover.Record{}}
			p := pass.Pass{TenantID: many.m.TenantID, Spec: spec, Files: many.m.TestFiles(1), ArtifactsPrefix: "one/", Now: now0, KeepSource: true}
			res, err := pass.Run(context.Background(), p, many.objects, testRecordsSink{&testRecords{recs: map[string]map[string]cutover.Record{"one": one.records}}, "one"}, many.objects)
			if err != nil {
				t.Fatal(err)
			}
			c1, c2 := res.Counts, *many.counts
			c1.RejectsKey, c2.RejectsKey = "", ""
			if c1 != c2 || c1.Orphans == 0 || (c1.Merged > 0) != dedupe {
				t.Fatalf("counts: one pass %+v, in chunks %+v", c1, c2)
			}
			resolved := 0
			for _, r := range many.records {
				for _, ids := range r.RefIDs {
					for range ids {
						resolved++
					}
				}
			}
			if resolved == 0 || !reflect.DeepEqual(one.records, many.records) {
				t.Fatalf("TEST holds %d records after one chunk, %d after several (%d references resolved); or they differ", len(one.records), len(many.records), resolved)
			}
			for k := range many.objects { // nobody is named inline: no links round
				if strings.Contains(k, "/shuffle/links/") || strings.Contains(k, "/shuffle/linked/") {
					t.Fatalf("the shuffle stored %s", k)
				}
			}
		})
	}
}

// A field naming an entity whose records merge across source ids runs
// the id shuffle's alias round; a person named inline who may be one of
// its records, the links round too (only when a file chose the entry
// that names them); merging elsewhere changes neither.
func TestOnlyMergesAcrossIdsRunTheAliasAndLinksRounds(t *testing.T) {
	unused := strings.Replace(inlineMergingMapping(true), `"name":"f2"`, `"name":"f3"`, 1)
	for _, c := range []struct {
		name, spec             string
		used                   []string
		merges, aliases, links bool
	}{
		{"references, no merging", companiesMapping(``), nil, false, false, false},
		{"references, contacts merge", companiesMapping(`"dedupe":["emails"],`), nil, true, false, false},
		{"references to companies, contacts merge across ids", companiesMapping(`"dedupe":["emails"],"mergeDifferentIds":true,`), nil, true, false, false},
		{"references to companies, which merge across ids", mergingCompaniesMapping(``), nil, true, true, false},
		{"no references, contacts merge across ids", dedupeMapping(true), nil, true, false, false},
		{"people named inline, who merge across ids", inlineMergingMapping(true), nil, true, false, true},
		{"people named inline, who merge across ids, both entries chosen", inlineMergingMapping(true), []string{"f1", "f2"}, true, false, true},
		{"people named inline, who merge across ids, by an entry no file chose", unused, []string{"f1", "f2"}, true, false, false},
		{"people named inline, who merge by id", inlineMergingMapping(false), nil, true, false, false},
	} {
		spec, err := mapspec.Parse([]byte(c.spec))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if merges, aliases, links := chunking(spec, schema.Default(), c.used); merges != c.merges || aliases != c.aliases || links != c.links {
			t.Errorf("%s: merges %v, aliases %v, links %v; want %v, %v, %v", c.name, merges, aliases, links, c.merges, c.aliases, c.links)
		}
	}
}

// The final migration resolves references to records merged across
// source ids as the test migration does (the id shuffle's alias round):
// LIVE gets the records, and the final its counts, of one pass over the
// extract, the references to a company merged away naming the one it
// merged into.
func TestReferencesToRecordsMergedAcrossIdsResolveInFinalChunksAsInOne(t *testing.T) {
	contacts, _ := contactsWithCompanies(200)
	mapping := mergingCompaniesMapping(`"dedupe":["emails"],`)
	companies := mergingCompanies()
	svc, _, live, id, final := twoFileFinal(t, mapping, "companies.csv", "company", map[string]int{"contact": 152, "company": 31}, contacts, companies, companies)
	got, counts := clearedFinal(t, svc, id)
	if p := got.FinalPlan; p == nil || p.Chunks-p.Merges < 6 || p.Partitions == 0 || !p.Aliases {
		t.Fatalf("the final plan %+v: want several chunks and the id shuffle with its alias round", got.FinalPlan)
	}
	finalAsInOne(t, svc, live, got, final, counts)
	merged := 0 // references to a company merged away, resolved to the one it merged into
	for _, r := range live.records {
		for sid, rid := range r.RefIDs["company_ref"] {
			if rid != cutover.RecordID(got.TenantID, "company", sid) {
				merged++
			}
		}
	}
	if merged < 50 {
		t.Fatalf("%d references name a company merged away; want most", merged)
	}
}
