package engine

import (
	"bytes"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/mapspec"
)

// repeatingTenancies is a contacts export and a tenancies export in which
// rows far down the file repeat an early tenancy's id, naming people:
//
//   - "Zed i" is named first on a row that repeats T<i> under another
//     start date (a rejected duplicate), and again on a new tenancy
//     further down: one pass derives them there;
//   - T<i> is repeated twice in a row, first under another start date
//     (rejected, naming "Xer i", whom nobody else names), then under its
//     own (merged into T<i>'s record: one pass derives the person it
//     names, or links them to contact C<i> by their address), and "Merge
//     i" is named again further down;
//   - a last column, Tenant ID, names a tenant by id instead (mapped only
//     by repeatingMapping("refs")): the merging rows name one no file
//     holds (an orphan in the merged record's tenants);
//   - "Yan j" is named first on a row that repeats the tenancy just
//     before it under another date (rejected in its own chunk), and
//     again at the end.
func repeatingTenancies() (contacts, tenancies string) {
	var c strings.Builder
	c.WriteString("Id,Email,Name\n")
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&c, "C%d,c%d@x.com,Listed %d\n", i, i, i)
	}
	date := func(i int) string { return fmt.Sprintf("2024-%02d-01", 1+i%12) }
	var t strings.Builder
	t.WriteString("Tenancy ID,Property ID,Tenant Name(s),Tenant Email,Start Date,Tenant ID\n")
	for j := 1; j <= 240; j++ {
		name, email, tenant := "", "", fmt.Sprintf("C%d", 1+j%30)
		switch {
		case j%4 == 2 && j > 16: // names nobody: rejected (the tenancies it repeats below name someone)
			tenant = ""
		case j%4 == 0:
			name = fmt.Sprintf("Person %d", j%17)
		case j%4 == 1:
			name, email = "Listed", fmt.Sprintf("c%d@x.com", 1+j%30)
		default:
			name = fmt.Sprintf("Person %d & Other %d", j%13, j%7)
		}
		fmt.Fprintf(&t, "T%d,P%d,%s,%s,%s,%s\n", j, j, name, email, date(j), tenant)
		if j >= 20 && j < 28 {
			fmt.Fprintf(&t, "T%d,P%d,Yan %d,,2023-06-15,C1\n", j, j, j)
		}
		switch i := (j - 100) / 10; {
		case j > 100 && j <= 180 && j%10 == 0:
			fmt.Fprintf(&t, "T%d,P%d,Zed %d,zed%d@z.com,2023-06-15,C1\n", i, i, i, i)
		case j > 100 && j <= 180 && j%10 == 5:
			i += 9
			email := ""
			if i%2 == 0 {
				email = fmt.Sprintf("c%d@x.com", i)
			}
			fmt.Fprintf(&t, "T%d,P%d,Xer %d,,2023-06-15,C1\nT%d,PM%d,Merge %d,%s,%s,C9%d\n", i, i, i, i, i, i, email, date(i), i)
		}
		if i := (j - 200) / 5; j > 200 && j <= 240 && j%5 == 0 {
			fmt.Fprintf(&t, "T%d,P%d,Zed %d,zed%d@z.com,2024-01-01,C2\nT%d,P%d,Merge %d,,2024-01-01,C2\nT%d,P%d,Yan %d,,2024-01-01,C2\n", 1000+i, 1000+i, i, i, 1100+i, 1100+i, i+8, 1200+i, 1200+i, i+19)
		}
	}
	return c.String(), t.String()
}

// repeatingMapping is a mapping of contacts (not merged, merged by
// e-mail, or merged across source ids by e-mail: the links round) with
// tenancies merged by their start date (a row repeating a tenancy's id
// merges into it under the same date; under another it is a rejected
// duplicate); or, "unkeyed", neither merged (every repeat rejected); or,
// "refs", tenancies merged so that name their tenants by id (Tenant ID),
// not inline.
func repeatingMapping(contacts string) string {
	m := map[string]string{"plain": tenanciesMapping(false), "dedupe": tenanciesMapping(true), "across": mergedPeopleMapping(false), "unkeyed": tenanciesMapping(false)}[contacts]
	if contacts == "unkeyed" {
		return m
	}
	if contacts == "refs" {
		m = strings.Replace(tenanciesMapping(false), `"inline":[{"target":"tenants","name":"Tenant Name(s)","email":"Tenant Email","optional":true}],"fields":[`, `"fields":[{"target":"tenants","column":"Tenant ID"},`, 1)
	}
	return strings.Replace(m, `"entity":"tenancy","sourceId":["Tenancy ID"],`, `"entity":"tenancy","sourceId":["Tenancy ID"],"dedupe":["start_date"],`, 1)
}

// A row that repeats a source id an earlier chunk holds is judged as one
// pass judges it, and so is everything it names: the people named first
// on a row that is a rejected duplicate are derived where a row that
// stays names them; those a row merging into its id's record names are
// derived (or linked) once; its references to records no file holds are
// orphans. The counts and TEST's records are those of one pass.
func TestRowsRepeatingAnIdElsewhereNameAsInOne(t *testing.T) {
	contacts, tenancies := repeatingTenancies()
	for _, merging := range []string{"plain", "dedupe", "across", "unkeyed", "refs"} {
		t.Run(merging, func(t *testing.T) {
			mapping := repeatingMapping(merging)
			many, _, plan := mergedPeopleRun(t, contacts, tenancies, mapping, false, 700, 40)
			if reading := len(many.chunks) - merges(many.chunks); reading < 6 || plan.Aliases != (merging != "refs") || plan.Links != (merging == "across") {
				t.Fatalf("planned %d chunks that read, plan %+v; want several, with the alias round (and the links round when merging across ids)", reading, plan)
			}
			c1, one := onePass(t, many, mapping)
			c2 := *many.counts
			c2.RejectsKey = ""
			keyed := merging != "unkeyed"
			if c1 != c2 || (c1.Merged == 8) != keyed || c1.Rejected < 24 {
				t.Fatalf("counts: one pass %+v, in chunks %+v%s", c1, c2, recordsDiff(one, many.records))
			}
			if !reflect.DeepEqual(one, many.records) {
				t.Fatalf("TEST holds %d records after one pass, %d in chunks; they differ%s", len(one), len(many.records), recordsDiff(one, many.records))
			}
			if merging == "refs" { // the merging rows' tenants no file holds: orphans of the records they merged into
				orphans := 0
				for i := 9; i <= 16; i++ {
					r, sid := one[recordKey(one, fmt.Sprintf("T%d", i))], fmt.Sprintf("C9%d", i)
					if _, resolved := r.RefIDs["tenants"][sid]; slices.Contains(r.Lists["tenants"], sid) && !resolved {
						orphans++
					}
				}
				if orphans != 8 {
					t.Fatalf("one pass left %d merged tenancies with the orphan their merging row named; want 8", orphans)
				}
				return
			}
			// What the data is for: every Zed, Yan and Merge derived
			// (those named with an address linked, and derived again
			// without; unkeyed, only again), no Xer; the merging rows'
			// people in their tenancies.
			people := map[string]int{}
			for _, r := range one {
				if n, _, ok := strings.Cut(r.Fields["full_name"], " "); ok && r.Entity == "contact" {
					people[n]++
				}
			}
			merged := 0
			for i := 9; i <= 16; i++ {
				r := one[recordKey(one, fmt.Sprintf("T%d", i))]
				if tenants := strings.Split(r.Fields["tenants"], "; "); slices.Contains(tenants, fmt.Sprintf("C%d", i)) == (i%2 == 0) && slices.Contains(tenants, fmt.Sprintf("inline:merge %d", i)) == (i%2 == 1) {
					merged++
				}
			}
			if people["Zed"] != 8 || people["Yan"] != 8 || people["Merge"] != 8 || people["Xer"] != 0 || (merged == 8) != keyed {
				t.Fatalf("one pass derived %v, and merged %d rows as expected; want 8 Zeds, Yans and Merges, no Xer (and 8 rows merged when keyed)", people, merged)
			}
		})
	}
}

// A round planned before the alias round decided who derives each person
// named inline (its id shuffle has no alias round: an execution begun
// before the deploy) keeps the claims its keys step makes, which hold
// where no row naming a person repeats an id another chunk holds, and
// where a row merging after a repeat in its chunk names a person nobody
// else names (its references to them are no orphans): the counts and
// TEST's records are those of one pass, and no alias step ran.
func TestARoundPlannedBeforeKeepsTheKeysClaimsOfPeople(t *testing.T) {
	contacts, tenancies := contactsAndTenancies(240)
	// T6 repeated far down under another start date (rejected), then
	// under its own (merged), naming someone new.
	tenancies = strings.Replace(tenancies, "\nT151,", "\nT6,P6,Xer Solo,,2023-06-15\nT6,P6,Merge Solo,,2024-07-01\nT151,", 1)
	for _, old := range []bool{false, true} {
		t.Run(fmt.Sprintf("plannedBefore=%t", old), func(t *testing.T) {
			mapping := repeatingMapping("plain")
			many, svc := tenanciesRun(t, contacts, tenancies, mapping, false, 700, 40, 60, func(s *Service) { s.PlannedWithoutPeople = old })
			namings, aliases := 0, 0
			for k, body := range files(svc) {
				if strings.Contains(k, "/shuffle/keys/") {
					namings += strings.Count("\n"+body, "\n"+namingMark)
				}
				if strings.Contains(k, "/shuffle/aliases/") {
					aliases++
				}
			}
			if (namings == 0) != old || (aliases == 0) != old {
				t.Fatalf("the keys hold %d lines naming people and %d alias objects were written; want none when planned before, some after", namings, aliases)
			}
			c1, one := onePass(t, many, mapping)
			c2 := *many.counts
			c2.RejectsKey = ""
			if c1 != c2 || c1.Derived < 30 || c1.Merged != 1 || !reflect.DeepEqual(one, many.records) {
				t.Fatalf("counts: one pass %+v, in chunks %+v%s", c1, c2, recordsDiff(one, many.records))
			}
			if r := one[recordKey(one, "T6")]; !strings.Contains(r.Fields["tenants"], "inline:merge solo") || len(r.RefIDs["tenants"]) != len(r.Lists["tenants"]) {
				t.Fatalf("T6 after one pass: %v (%v); want Merge Solo among its tenants, every one resolved", r.Fields, r.RefIDs)
			}
		})
	}
}

// The final migration judges the rows that repeat an id another chunk
// holds as the test migration does: LIVE gets the records, and the final
// its counts, of one pass over the extract.
func TestRowsRepeatingAnIdElsewhereNameAsInOneInFinalChunks(t *testing.T) {
	contacts, tenancies := repeatingTenancies()
	for _, merging := range []string{"dedupe", "across"} {
		t.Run(merging, func(t *testing.T) {
			svc, _, live, id, final := twoFileFinal(t, repeatingMapping(merging), "tenancies.csv", "tenancy", map[string]int{"contact": 78, "tenancy": 210}, contacts, tenancies, tenancies)
			got, counts := clearedFinal(t, svc, id)
			if p := got.FinalPlan; p == nil || p.Chunks-p.Merges < 6 || !p.Aliases || p.Links != (merging == "across") {
				t.Fatalf("the final plan %+v: want several chunks and the id shuffle's alias round", got.FinalPlan)
			}
			if c2 := finalAsInOne(t, svc, live, got, final, counts); c2.Derived != 48 || c2.Merged != 8 {
				t.Fatalf("the final derived %d people and merged %d rows; want 48 and 8", c2.Derived, c2.Merged)
			}
		})
	}
}

// The lines that decide who derives a person: a row that stays passes its
// people on once per chunk, one that does not passes nothing, the first
// chunk of each person keeps them and every later one is told; a damaged
// line is an error, never a claim.
func TestNamingLinesDecideWhoDerivesAndRefuseDamage(t *testing.T) {
	sh := idShuffle{parts: 3, chunks: 4, rounds: rounds{aliases: true}}
	held := map[string]struct {
		chunk  int
		quoted string
	}{"tenancy#a": {1, `"k"`}, "tenancy#b": {0, ""}}
	first := func(id string) (int, string, bool) { h, ok := held[id]; return h.chunk, h.quoted, ok }
	lines := []keysLine{ // in chunk order, as the resolve step reads them
		{0, `*tenancy#b	k		contact#r`},    // its id's first chunk: stays
		{1, `*tenancy#a	k	"k"	contact#p`}, // its id's first chunk, kept: stays
		{1, `*tenancy#a	r	"k"	contact#q`}, // a repeat in the id's first chunk: rejected
		{2, `*tenancy#a	r	"k"	contact#p`}, // an earlier chunk's id, the same key: merges
		{2, `*tenancy#a	k	"k"	contact#p`}, // the same person and chunk again: once
		{3, `*tenancy#a	k	"j"	contact#q`}, // another key: rejected
		{3, `*tenancy#b	k		contact#q`},    // an earlier chunk's id, no key: rejected
		{3, `*tenancy#a	k	"k"	contact#p`}, // the same key again: stays
	}
	surv := newSurvivors(sh)
	n := naming{surv: surv}
	for _, l := range lines {
		if err := n.judge(l.chunk, l.line, first); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, b := range surv.outs {
		eachLine(b.Bytes(), func(l string) { got = append(got, strings.TrimPrefix(l, personMark)) })
	}
	slices.Sort(got)
	if want := []string{"contact#p\t1", "contact#p\t2", "contact#p\t3", "contact#r\t0"}; !slices.Equal(got, want) {
		t.Fatalf("passed on %q; want %q", got, want)
	}
	outs := make([]bytes.Buffer, 4)
	n2, derived, err := claimPeople(append(got, "contact#p\t1", "contact#s\t3"), 4, outs)
	if err != nil || n2 != 2 || outs[2].String() != "!contact#p\n" || outs[3].String() != "!contact#p\n" || outs[0].Len()+outs[1].Len() != 0 {
		t.Fatalf("claimed %d (%v): %q %q %q %q; want contact#p told to chunks 2 and 3 only", n2, err, outs[0].String(), outs[1].String(), outs[2].String(), outs[3].String())
	}
	// A reference to a record no chunk holds is missing unless a chunk
	// derives it.
	outs = make([]bytes.Buffer, 4)
	if err := missingFrom([]string{"contact#p\t3", "contact#x\t3", "tenancy#y\t0"}, derived, 4, outs); err != nil || outs[3].String() != "?contact#x\n" || outs[0].String() != "?tenancy#y\n" {
		t.Fatalf("missing (%v): %q in chunk 0, %q in chunk 3; want tenancy#y and contact#x, not contact#p", err, outs[0].String(), outs[3].String())
	}
	for _, bad := range []string{
		`*tenancy#a	k	"k"`, `*tenancy#a	x	"k"	contact#p`, `*tenancy#a	k	"k	contact#p`, `*tenancya	k	"k"	contact#p`,
		`*tenancy#a	k	"k"	contactp`, `*tenancy#z	k	"k"	contact#p`, `*tenancy#a	k	"k"	contact#p	x`, `*tenancy#a	k	"k"	contact#`,
		`*tenancy#a	k	"k"	#p`,
	} {
		n := naming{surv: newSurvivors(sh)}
		if err := n.judge(1, bad, first); err == nil {
			t.Errorf("%q passed", bad)
		}
	}
	if n := (naming{surv: newSurvivors(sh)}); n.judge(0, lines[1].line, first) == nil {
		t.Error("a row from a chunk before its id's first claim passed")
	}
	if n := (naming{}); n.judge(0, lines[0].line, first) == nil {
		t.Error("a naming line of a shuffle without the alias round passed")
	}
	for _, bad := range []string{"contact#p", "contact#p\tx", "contact#p\t4", "contact#p\t-1", "contactp\t1", "contact#\t1", "#p\t1"} {
		if _, _, err := claimPeople([]string{bad}, 4, make([]bytes.Buffer, 4)); err == nil {
			t.Errorf("survivors line %q passed", bad)
		}
		if err := missingFrom([]string{bad}, nil, 4, make([]bytes.Buffer, 4)); err == nil {
			t.Errorf("unheld line %q passed", bad)
		}
	}
}

// A record's own source id may start as a derived person's does
// ("inline:"): a tenancy without a source id column takes its dedupe key,
// its tenants, as its id; a CRM may use such ids, and records name them,
// or name a derived person by theirs. The keys step knows a person by the
// row that derives them, not by their id, so such rows are rows in the id
// shuffle's claims, and a reference by id to a person some row that stays
// derives resolves (one to a person nobody derives is an orphan): in
// chunks, the counts and TEST's records are those of one pass.
func TestRowsWithIdsLikeADerivedPersonsAreRows(t *testing.T) {
	contacts, tenancies := contactsAndTenancies(240)
	repContacts, repTenancies := repeatingTenancies()
	var byID strings.Builder // tenants named inline, or by a derived person's id
	byID.WriteString("Tenancy ID,Property ID,Tenant Name(s),Tenant Email,Start Date,Tenant ID\n")
	for j := 1; j <= 240; j++ {
		name, id := fmt.Sprintf("New %d", j%17), ""
		switch {
		case j == 150:
			name, id = "", "inline:nobody"
		case j == 120:
			name = "Solo One" // named once, by id elsewhere
		case j%9 == 0:
			name, id = "", "inline:solo one"
		case j%11 == 0:
			name, id = "", "inline:ghost" // named only on a rejected repeat: derived by nobody
		case j > 100 && j%5 == 0:
			name, id = "", fmt.Sprintf("inline:new %d", j%17)
		}
		fmt.Fprintf(&byID, "T%d,P%d,%s,,2024-01-01,%s\n", j, j, name, id)
		if j == 130 {
			byID.WriteString("T5,P5,Ghost,,2024-01-01,\n")
		}
	}
	for name, c := range map[string]struct {
		contacts, tenancies, mapping string
		derived                      int // at least, in one pass
		inlineIDs                    int // records whose own ids start with "inline:" though nobody named them inline, at least
	}{
		"tenancies keyed by their tenants": {contacts, tenancies, strings.Replace(tenanciesMapping(false), `"sourceId":["Tenancy ID"],`, `"dedupe":["tenants"],`, 1), 30, 30},
		"contacts with inline: ids":        {strings.ReplaceAll(contacts, "\nC", "\ninline:c"), tenancies, tenanciesMapping(false), 30, 30},
		"tenants named by inline: ids":     {strings.ReplaceAll(repContacts, "\nC", "\ninline:c"), strings.ReplaceAll(repTenancies, ",C", ",inline:c"), repeatingMapping("refs"), 0, 30},
		"derived people named by id":       {contacts, byID.String(), strings.Replace(tenanciesMapping(false), `"fields":[{"target":"property"`, `"fields":[{"target":"tenants","column":"Tenant ID"},{"target":"property"`, 1), 17, 0},
	} {
		t.Run(name, func(t *testing.T) {
			many, _, plan := mergedPeopleRun(t, c.contacts, c.tenancies, c.mapping, false, 700, 40)
			if reading := len(many.chunks) - merges(many.chunks); reading < 6 || plan.Aliases != (c.derived > 0) {
				t.Fatalf("planned %d chunks that read, plan %+v; want several, with the alias round when people are named inline", reading, plan)
			}
			c1, one := onePass(t, many, c.mapping)
			c2 := *many.counts
			c2.RejectsKey = ""
			if c1 != c2 || c1.Derived < c.derived || !reflect.DeepEqual(one, many.records) {
				t.Fatalf("counts: one pass %+v, in chunks %+v%s", c1, c2, recordsDiff(one, many.records))
			}
			inlineIDs := 0
			byID := map[string]int{} // tenancies naming a person by id, by the person and whether it resolved
			for _, r := range one {
				if strings.HasPrefix(r.SourceID, mapspec.InlinePrefix) && r.Fields["full_name"] == "" || strings.HasPrefix(r.SourceID, "inline:c") {
					inlineIDs++
				}
				for _, sid := range []string{"inline:new 3", "inline:solo one", "inline:ghost", "inline:nobody"} {
					if _, resolved := r.RefIDs["tenants"][sid]; r.Fields["tenants"] == sid {
						byID[fmt.Sprintf("%s %t", sid, resolved)]++
					}
				}
			}
			if want := map[string]int{"inline:new 3 true": 11, "inline:solo one true": 27, "inline:ghost false": 19, "inline:nobody false": 1}; inlineIDs < c.inlineIDs || c.inlineIDs == 0 && !maps.Equal(byID, want) {
				t.Fatalf("one pass wrote %d records of rows whose ids start with %q; tenancies naming a person by id (and whether it resolved): %v, want %v", inlineIDs, mapspec.InlinePrefix, byID, want)
			}
		})
	}
}
