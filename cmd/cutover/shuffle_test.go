package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/benchdata"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/mapspec/presets"
	"github.com/cutover/cutover/internal/schema"
	"github.com/cutover/cutover/internal/tabular"
)

// The shuffle's bar is byte-identical output: for every fixture the CLI
// is tested on, every real export in /work/shared/conformance (read in
// place), and generated rows with repeated ids and e-mails, `cutover map`
// through spill files writes exactly the records, rejects, review,
// merges, possible duplicates, report and summary the in-memory path
// writes.

// mapOutputs runs `cutover map` with args and returns its exit code,
// stdout (with the output directory's name taken out) and every file it
// wrote.
func mapOutputs(t *testing.T, args ...string) (int, string, map[string][]byte) {
	t.Helper()
	dir := t.TempDir()
	code, out, errs := cli(t, append([]string{"map", "--out", dir}, args...)...)
	out = strings.ReplaceAll(out+errs, dir, "OUT")
	files := map[string][]byte{}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	return code, out, files
}

// sameOutputs maps with args both ways and fails on any difference. It
// reports whether the shuffle ran: spec is nil when map refuses the
// mapping (both ways alike).
func sameOutputs(t *testing.T, spec *mapspec.Spec, args ...string) bool {
	t.Helper()
	mc, mout, mem := mapOutputs(t, append([]string{"--in-memory"}, args...)...)
	spill := t.TempDir()
	sc, sout, sh := mapOutputs(t, append([]string{"--spill-dir", spill}, args...)...)
	if mc != sc || mout != sout {
		t.Errorf("%v: exit %d and output\n%s\nin memory, exit %d and output\n%s\nshuffled", args, mc, mout, sc, sout)
	}
	var names []string
	for n := range mem {
		names = append(names, n)
	}
	for n := range sh {
		if _, ok := mem[n]; !ok {
			t.Errorf("%v: the shuffle wrote %s, the in-memory path did not", args, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		if mc != 0 && strings.HasPrefix(n, "records-") {
			continue // a failed run's records files hold what was written before it stopped
		}
		if !bytes.Equal(mem[n], sh[n]) {
			t.Errorf("%v: %s differs:\nin memory (%d bytes):\n%s\nshuffled (%d bytes):\n%s", args, n, len(mem[n]), clip(mem[n]), len(sh[n]), clip(sh[n]))
		}
	}
	if left, _ := os.ReadDir(spill); len(left) != 0 {
		t.Errorf("%v: the shuffle left %d spill entries behind", args, len(left))
	}
	return spec != nil
}

func clip(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}

// proposed is the mapping `inspect --write-mapping` proposes for path, or
// nil when inspect refuses the file.
func proposed(t *testing.T, path string) (string, *mapspec.Spec) {
	t.Helper()
	spec := filepath.Join(t.TempDir(), "m.json")
	if code, _, _ := cli(t, "inspect", "--write-mapping", spec, path); code != 0 {
		return "", nil
	}
	b, err := os.ReadFile(spec)
	if err != nil {
		return "", nil
	}
	sp, err := mapspec.Parse(b)
	if err != nil {
		return spec, nil // map refuses it, both ways alike
	}
	return spec, sp
}

func fixtureFiles(t *testing.T, dirs ...string) []string {
	t.Helper()
	var out []string
	for _, d := range dirs {
		ents, err := os.ReadDir(d)
		if err != nil {
			continue // the shared conformance exports are not on every machine
		}
		for _, e := range ents {
			switch strings.ToLower(filepath.Ext(e.Name())) {
			case ".csv", ".tsv", ".txt", ".blm", ".xlsx", ".xls":
				if !e.IsDir() {
					out = append(out, filepath.Join(d, e.Name()))
				}
			}
		}
	}
	return out
}

func TestShuffleEqualsInMemoryOnFixtures(t *testing.T) {
	files := fixtureFiles(t, "testdata", "../../internal/mapspec/presets/testdata")
	if len(files) < 40 {
		t.Fatalf("only %d fixture files found", len(files))
	}
	shuffled := 0
	for _, f := range files {
		if spec, sp := proposed(t, f); spec != "" && sameOutputs(t, sp, "--mapping", spec, f) {
			shuffled++
		}
		stem := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		if p, ok := presets.Lookup(stem); ok && sameOutputs(t, p.Spec, "--preset", stem, f) {
			shuffled++
		}
	}
	// The presets that name several files, mapped together.
	for _, set := range [][]string{
		{"crm-contacts.csv", "crm-applicants.csv", "crm-properties.csv", "crm-tenancies.csv", "crm-diary.csv"},
		{"agency2-applicants.csv", "agency2-tenancies.csv"},
	} {
		var paths []string
		for _, n := range set {
			paths = append(paths, filepath.Join("../../internal/mapspec/presets/testdata", n))
		}
		for _, p := range presets.All() {
			sameOutputs(t, p.Spec, append([]string{"--preset", p.ID}, paths...)...)
		}
	}
	if shuffled < 20 {
		t.Fatalf("only %d fixture runs went through the shuffle", shuffled)
	}
	t.Logf("%d fixture files, %d runs through the shuffle", len(files), shuffled)
}

func TestShuffleEqualsInMemoryOnRealExports(t *testing.T) {
	const root = "/work/shared/conformance"
	files := fixtureFiles(t, root+"/real-exports/files", root+"/ghost", root+"/salesforce-dataloader")
	if len(files) == 0 {
		t.Skip("the shared conformance exports are not on this machine")
	}
	shuffled := 0
	for _, f := range files {
		if spec, sp := proposed(t, f); spec != "" && sameOutputs(t, sp, "--mapping", spec, f) {
			shuffled++
		}
	}
	t.Logf("%d real exports, %d through the shuffle", len(files), shuffled)
	if shuffled == 0 {
		t.Fatal("no real export went through the shuffle")
	}
}

// repeats writes rows generated contacts with repeats the global
// operations must resolve: every 5th row again with its id and e-mail
// and a different company (a merge with a conflict), every 7th with its
// id and another e-mail (a duplicate id, rejected), every 11th with a new
// id and its e-mail (a possible duplicate), half of them in a second file.
func repeats(t *testing.T, rows int) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := benchdata.WriteContacts(&buf, rows, 7); err != nil {
		t.Fatal(err)
	}
	all, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header, body := all[0], all[1:]
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	var a, b [][]string
	for i, r := range body {
		a = append(a, r)
		if len(r) != len(header) || r[col["Record ID"]] == "" {
			continue
		}
		add := func(x []string) {
			if i%2 == 0 {
				a = append(a, x)
			} else {
				b = append(b, x)
			}
		}
		if i%5 == 0 {
			x := append([]string(nil), r...)
			x[col["Company Name"]] = "Merged Co " + strconv.Itoa(i)
			add(x)
		}
		if i%7 == 0 {
			x := append([]string(nil), r...)
			x[col["Email"]] = fmt.Sprintf("other%d@example.org", i)
			add(x)
		}
		if i%11 == 0 {
			x := append([]string(nil), r...)
			x[col["Record ID"]] = "N" + r[col["Record ID"]]
			add(x)
		}
	}
	dir := t.TempDir()
	write := func(name string, rows [][]string) string {
		var out bytes.Buffer
		w := csv.NewWriter(&out)
		_ = w.Write(header)
		_ = w.WriteAll(rows)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("contacts.csv", a), write("more-contacts.csv", b)
}

func TestShuffleEqualsInMemoryOnGeneratedRows(t *testing.T) {
	rows := 3000
	if s := os.Getenv("CUTOVER_SHUFFLE_ROWS"); s != "" {
		rows, _ = strconv.Atoi(s)
	}
	a, b := repeats(t, rows)
	specPath, sp := proposed(t, a)
	if sp == nil || len(sp.Files[0].Dedupe) == 0 {
		t.Fatalf("inspect proposed no dedupe for the generated contacts: %+v", sp)
	}
	// One entry for both files, so the second file dedupes with the first.
	sp.Files[0].Name = "contacts"
	one, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	both := strings.Replace(string(one), `"name": "contacts.csv"`, `"name": "contacts"`, 1)
	if both == string(one) {
		t.Fatalf("the proposed mapping does not name contacts.csv:\n%s", one)
	}
	bothPath := filepath.Join(t.TempDir(), "both.json")
	if err := os.WriteFile(bothPath, []byte(both), 0o644); err != nil {
		t.Fatal(err)
	}
	if !sameOutputs(t, sp, "--mapping", bothPath, "--workers", "3", a, b) {
		t.Fatal("the generated contacts did not go through the shuffle")
	}
	// One file given twice: its second reading's rows merge into the
	// first's records, and are counted merged on the second table, which
	// has the same label as the first.
	sameOutputs(t, sp, "--mapping", bothPath, a, a)
	// Small partitions: hundreds of them, merged back in more than one
	// round (more runs than are merged at once).
	sameOutputs(t, sp, "--mapping", bothPath, "--partition-records", "7", a, b)
	// The run must have had every global operation to resolve.
	_, _, out := mapOutputs(t, "--mapping", bothPath, a, b)
	for _, want := range []string{`"mergedRecords": 0`, `"possibleDuplicates": 0`} {
		if bytes.Contains(out["report.json"], []byte(want)) {
			t.Errorf("report.json has %s: the generated repeats did not exercise it", want)
		}
	}
	if !bytes.Contains(out["rejects-contacts.csv"], []byte("repeats the source id")) || !bytes.Contains(out["rejects-more-contacts.csv"], []byte("repeats the source id")) {
		t.Error("no duplicate source id was rejected in each file")
	}
	// And mergeDifferentIds on: the possible duplicates merge.
	sameOutputs(t, sp, "--mapping", edited(t, both, func(f map[string]any) { f["mergeDifferentIds"] = true }), "--partition-records", "50", a, b)
	// And without dedupe: every repeated id is a duplicate, records stream.
	sameOutputs(t, sp, "--mapping", edited(t, both, func(f map[string]any) { delete(f, "dedupe") }), "--partition-records", "50", a, b)
}

// edited is the path of spec with its first file entry changed by fn.
func edited(t *testing.T, spec string, fn func(map[string]any)) string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(spec), &doc); err != nil {
		t.Fatal(err)
	}
	fn(doc["files"].([]any)[0].(map[string]any))
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mapspec.Parse(b); err != nil {
		t.Fatalf("the edited mapping does not parse: %v", err)
	}
	p := filepath.Join(t.TempDir(), "edited.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestShuffleFlagsAreChecked(t *testing.T) {
	code, _, errs := cli(t, "map", "--preset", "hubspot-contacts", "--partition-records", "-1", "--out", t.TempDir(), hubspot)
	if code != 2 || !strings.Contains(errs, "--partition-records must be a positive number") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	spec, sp := proposed(t, "testdata/clients-fr.csv")
	if sp == nil {
		t.Fatal("no proposed mapping for clients-fr.csv")
	}
	code, _, errs = cli(t, "map", "--mapping", spec, "--spill-dir", filepath.Join(t.TempDir(), "missing"), "--out", t.TempDir(), "testdata/clients-fr.csv")
	if code != 1 || !strings.Contains(errs, "missing") {
		t.Fatalf("a spill directory that does not exist: exit %d: %s", code, errs)
	}
}

func TestAnInterruptedShuffleLeavesNoSpillFiles(t *testing.T) {
	spec, sp := proposed(t, "testdata/clients-fr.csv")
	if sp == nil {
		t.Fatal("no proposed mapping for clients-fr.csv")
	}
	spill := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	run := &mapRun{spec: sp, tenant: "t", now: time.Now(), sch: schema.Default(), outDir: t.TempDir()}
	err := run.shuffled(ctx, []string{"testdata/clients-fr.csv"}, tabular.Options{}, true, spill, spec, io.Discard)
	if err == nil || !strings.Contains(message(err), "interrupted") {
		t.Fatalf("an interrupted run: %v", err)
	}
	if left, _ := os.ReadDir(spill); len(left) != 0 {
		t.Fatalf("an interrupted run left %d spill entries behind", len(left))
	}
}

// References between records resolve through the shuffle as in memory:
// each to the record of its entity and source id in either file (the
// companies come after the contacts that name them), and one to a
// company no file has is an orphan, cleared in the record and listed in
// the report in the in-memory order; with dedupe (a merge carries the
// references its survivor lacks) and without, in many small partitions.
func TestShuffleResolvesReferencesAsInMemory(t *testing.T) {
	dir := t.TempDir()
	var contacts, companies strings.Builder
	contacts.WriteString("Id,Email,Name,Company\n")
	for i := 1; i <= 600; i++ {
		id, company := strconv.Itoa(i), fmt.Sprintf("C%d", i%45) // C40-C44 are in no file
		if i%13 == 0 {
			id = strconv.Itoa(i - 7) // an earlier row's id: merged, or a duplicate
		}
		fmt.Fprintf(&contacts, "%s,p%d@x.com,Person %d,%s\n", id, i%150, i, company)
	}
	// Companies in a shuffled order whose names repeat every 15, then C3
	// again under a new name (a duplicate: only C3's first row counts) and
	// C40 under it, which keeps that name when companies merge by name.
	companies.WriteString("Company ID,Name\n")
	for j := range 40 {
		fmt.Fprintf(&companies, "C%d,Company %d\n", j*7%40, j%15)
	}
	companies.WriteString("C3,Fresh\nC40,Fresh\n")
	paths := []string{filepath.Join(dir, "contacts.csv"), filepath.Join(dir, "companies.csv")}
	for i, body := range []string{contacts.String(), companies.String()} {
		if err := os.WriteFile(paths[i], []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The contacts merge by e-mail, and with mergeDifferentIds across
	// source ids too; their references name companies, which merge by name
	// across source ids in the last two cases: a reference to a company
	// merged away means the one it merged into. All go through the shuffle.
	for _, c := range []struct{ contacts, companies string }{
		{``, ``},
		{`"dedupe":["emails"],`, ``},
		{`"dedupe":["emails"],"mergeDifferentIds":true,`, ``},
		{`"dedupe":["emails"],`, `"dedupe":["name"],"mergeDifferentIds":true,`},
		{`"dedupe":["emails"],"mergeDifferentIds":true,`, `"dedupe":["name"],"mergeDifferentIds":true,`},
	} {
		spec := `{"version":1,"files":[{"name":"contacts.csv","entity":"contact","sourceId":["Id"],` + c.contacts +
			`"fields":[{"target":"emails","column":"Email"},{"target":"first_name","column":"Name"},{"target":"company_ref","column":"Company"}]},` +
			`{"name":"companies.csv","entity":"company","sourceId":["Company ID"],` + c.companies + `"fields":[{"target":"name","column":"Name"}]}]}`
		sp, err := mapspec.Parse([]byte(spec))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "refs.json")
		if err := os.WriteFile(path, []byte(spec), 0o644); err != nil {
			t.Fatal(err)
		}
		sameOutputs(t, sp, append([]string{"--mapping", path, "--partition-records", "7"}, paths...)...)
		_, _, out := mapOutputs(t, append([]string{"--mapping", path}, paths...)...)
		if !bytes.Contains(out["report.json"], []byte(`"missing": "C44"`)) || bytes.Count(out["records-contact.jsonl"], []byte(`"C1"`)) == 0 {
			t.Fatalf("%s: no orphan (C44) in the report, or no resolved reference (C1) in the records:\n%s", spec, clip(out["report.json"]))
		}
	}
}

// TestShuffleLinksPeopleNamedInlineAsInMemory: tenancies and applicants
// name their people inline (several to a cell, with and without an
// e-mail), and the shuffle derives each person once and links them to a
// listed contact as the in-memory pass does (mapspec.LinkInline): by
// e-mail to the first listed contact with it, including an address a
// later row of the contact added by merging, else by a name only one
// contact has. People are first named by rows rejected for repeating a
// tenancy id (they are derived at the next row naming them), before and
// after the contacts file, with contacts deduplicated or not, merged
// across source ids or not, in many small partitions.
func TestShuffleLinksPeopleNamedInlineAsInMemory(t *testing.T) {
	dir := t.TempDir()
	var contacts, tenancies, applicants strings.Builder
	contacts.WriteString("Contact ID,Forename,Surname,Email\n")
	for i := 1; i <= 240; i++ {
		id, email := fmt.Sprintf("c%d", i), fmt.Sprintf("p%d@x.com", i%170)
		switch {
		case i%17 == 0: // a later row of an earlier contact, adding an address
			id, email = fmt.Sprintf("c%d", i-9), fmt.Sprintf("p%d@x.com;late%d@x.com", (i-9)%170, i)
		case i%19 == 0: // such an address on another contact, after (and maybe in another partition)
			email = fmt.Sprintf("late%d@x.com", 17*(i/19))
		}
		fmt.Fprintf(&contacts, "%s,Ann%d,Lee,%s\n", id, i%90, email) // names repeat: some two contacts share
	}
	tenancies.WriteString("Tenancy ID,Property ID,Start Date,Tenants,Tenant Email\n")
	for i := 1; i <= 300; i++ {
		id, names, email := fmt.Sprintf("t%d", i), fmt.Sprintf("Ann%d Lee & Stranger %d", i%120, i%40), ""
		switch {
		case i%3 == 0: // one person, by e-mail: a listed address, a late one, or nobody's
			names, email = fmt.Sprintf("Tenant %d", i%50), []string{
				fmt.Sprintf("p%d@x.com", i%170), fmt.Sprintf("late%d@x.com", 17*(i%14+1)), fmt.Sprintf("nobody%d@x.com", i),
			}[i%9/3]
		case i%11 == 0: // a repeated tenancy id naming a new person first: rejected
			id, names = fmt.Sprintf("t%d", i-5), fmt.Sprintf("Newcomer %d", i%7)
		case i%5 == 0: // who a later row names too
			names = fmt.Sprintf("Newcomer %d & Ann%d Lee", i%7, i%100)
		}
		fmt.Fprintf(&tenancies, "%s,P%d,2024-01-%02d,%s,%s\n", id, i%30, i%28+1, names, email)
	}
	// An applicant's contact column may name a derived person's id itself:
	// one a tenancy derives resolves, one nobody derives is an orphan.
	applicants.WriteString("Applicant ID,Applicant Name,Email,Contact ID\n")
	for i := 1; i <= 120; i++ {
		email, contact := "", ""
		if i%4 == 0 {
			email = fmt.Sprintf("p%d@x.com", i)
		}
		switch i % 10 {
		case 5:
			contact = fmt.Sprintf("inline:stranger %d", i%40)
		case 7:
			contact = fmt.Sprintf("inline:ghost %d", i)
		}
		fmt.Fprintf(&applicants, "a%d,Ann%d Lee and Newcomer %d,%s,%s\n", i, i%95, i%9, email, contact)
	}
	files := map[string]string{"contacts.csv": contacts.String(), "tenancies.csv": tenancies.String(), "applicants.csv": applicants.String()}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ contacts, order string }{
		{``, "tenancies,contacts,applicants"},
		{`"dedupe":["emails"],`, "tenancies,contacts,applicants"},
		{`"dedupe":["emails"],`, "contacts,applicants,tenancies"},
		{`"dedupe":["emails"],"mergeDifferentIds":true,`, "applicants,tenancies,contacts"},
	} {
		spec := `{"version":1,"files":[` +
			`{"name":"contacts","entity":"contact","sourceId":["Contact ID"],` + c.contacts +
			`"fields":[{"target":"first_name","column":"Forename"},{"target":"last_name","column":"Surname"},{"target":"emails","column":"Email","steps":[{"op":"split","separator":";"}]}]},` +
			`{"name":"tenancies","entity":"tenancy","sourceId":["Tenancy ID"],"inline":[{"target":"tenants","name":"Tenants","email":"Tenant Email"}],` +
			`"fields":[{"target":"property","column":"Property ID"},{"target":"start_date","column":"Start Date"}]},` +
			`{"name":"applicants","entity":"applicant","sourceId":["Applicant ID"],"inline":[{"target":"contact","name":"Applicant Name","email":"Email"}],` +
			`"fields":[{"target":"contact","column":"Contact ID","optional":true}]}]}`
		sp, err := mapspec.Parse([]byte(spec))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "inline.json")
		if err := os.WriteFile(path, []byte(spec), 0o644); err != nil {
			t.Fatal(err)
		}
		args := []string{"--mapping", path, "--partition-records", "7"}
		for _, f := range strings.Split(c.order, ",") {
			args = append(args, filepath.Join(dir, f+".csv"))
		}
		sameOutputs(t, sp, args...)
		// The run links people and derives others, both ways alike.
		_, _, out := mapOutputs(t, args...)
		recs := string(out["records-tenancy.jsonl"]) + string(out["records-applicant.jsonl"])
		linked := 0
		for i := 1; i <= 240; i++ {
			if strings.Contains(recs, fmt.Sprintf(`"c%d"`, i)) {
				linked++
			}
		}
		if linked < 20 || !strings.Contains(recs, `"inline:`) || !bytes.Contains(out["records-contact.jsonl"], []byte(`"inline:newcomer`)) ||
			!bytes.Contains(out["report.json"], []byte(`"missing": "inline:ghost 17"`)) {
			t.Fatalf("%s: %d listed contacts named by a tenancy or an applicant, or no derived people:\n%s", c, linked, clip([]byte(recs)))
		}
	}
}

// TestAFirstRunThatWritesWritesAsInMemory: a mapping that names no one
// inline does the second run's work in the shuffle's first run
// (shuffle.Streaming): records written as they come, or spilled to merge
// partitions, and the rejects and review files; the rows are mapped again
// only when a row repeats a source id (or, below, a record has references
// or the rows outnumber the partitions' plan), starting over. Either way,
// without dedupe, with e-mail dedupe (possible duplicates across files)
// and merging across source ids, when a later file fails, with the
// records files and without, it writes what the in-memory path writes.
func TestAFirstRunThatWritesWritesAsInMemory(t *testing.T) {
	dir := t.TempDir()
	ids := map[string][]string{} // each file's source ids, in order
	file := func(name string, from, to, repeatEvery int) string {
		var b strings.Builder
		b.WriteString("Record ID,First Name,Email\n")
		for i := from; i <= to; i++ {
			id := strconv.Itoa(i)
			switch {
			case repeatEvery > 0 && i%repeatEvery == 0:
				id = strconv.Itoa(i - from + 1) // a row of the first file: a duplicate
			case i%17 == 0:
				id = "" // rejected: no source id
			}
			ids[name] = append(ids[name], id)
			email := i
			if i > 400 && i%10 == 0 {
				email = i - 400 // a.csv's: a possible duplicate, or merged across ids
			}
			fmt.Fprintf(&b, "%s,person %d,p%d@example.com\n", id, i, email)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b, c := file("a.csv", 1, 400, 0), file("b.csv", 401, 700, 0), file("c.csv", 701, 900, 9)
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("Record ID,First Name,Email\n901,x,x@example.com\n902,\"y,y@example.com\n903,z,z@example.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Rows of under 32 bytes: more than twice what the first run's merge
	// partitions are sized for (a row per 64 bytes of file), so mapped
	// again.
	var tiny strings.Builder
	tiny.WriteString("Record ID,Email\n")
	for i := range 3000 {
		fmt.Fprintf(&tiny, "t%d,t%d@x.io\n", i, i%700)
	}
	small := filepath.Join(dir, "tiny.csv")
	if err := os.WriteFile(small, []byte(tiny.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	mapping := func(name, dedupe string) (string, *mapspec.Spec) {
		spec := `{"version":1,"files":[{"name":"contacts","entity":"contact","sourceId":["Record ID"],` + dedupe +
			`"fields":[{"target":"first_name","column":"First Name","steps":[{"op":"case","to":"title"}]},{"target":"emails","column":"Email"}]}]}`
		sp, err := mapspec.Parse([]byte(spec))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(spec), 0o644); err != nil {
			t.Fatal(err)
		}
		return path, sp
	}
	path, sp := mapping("m.json", "")
	if sp.HoldsRecords(schema.Default()) {
		t.Fatal("the mapping holds records: it would not stream")
	}
	deduped, dsp := mapping("deduped.json", `"dedupe":["emails"],`)
	merged, msp := mapping("merged.json", `"dedupe":["emails"],"mergeDifferentIds":true,`)
	for _, files := range [][]string{
		{a, b},      // no repeats: one run
		{a, b, c},   // repeats in the last file
		{a, c, b},   // and in the middle
		{a, a},      // every row of the second reading repeats
		{a, b, bad}, // no repeats, then a file that fails
		{a, c, bad}, // repeats, then a file that fails
	} {
		for _, extra := range [][]string{nil, {"--records=false"}, {"--workers", "3"}} {
			sameOutputs(t, sp, append(append([]string{"--mapping", path}, extra...), files...)...)
			sameOutputs(t, dsp, append(append([]string{"--mapping", deduped, "--partition-records", "50"}, extra...), files...)...)
			sameOutputs(t, msp, append(append([]string{"--mapping", merged, "--partition-records", "50"}, extra...), files...)...)
		}
	}
	sameOutputs(t, msp, "--mapping", merged, "--partition-records", "7", small, a)
	// References (to companies, some in no file) and no repeated id: the
	// second run resolves them.
	people, companies := filepath.Join(dir, "people.csv"), filepath.Join(dir, "companies.csv")
	var pb strings.Builder
	pb.WriteString("Id,Email,Company\n")
	for i := range 200 {
		fmt.Fprintf(&pb, "P%d,q%d@example.com,C%d\n", i, i, i%7)
	}
	if err := os.WriteFile(people, []byte(pb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(companies, []byte("Company ID,Name\nC0,Zero\nC1,One\nC2,Two\nC3,Three\nC4,Four\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	refSpec := `{"version":1,"files":[{"name":"people.csv","entity":"contact","sourceId":["Id"],"fields":[{"target":"emails","column":"Email"},{"target":"company_ref","column":"Company"}]},` +
		`{"name":"companies.csv","entity":"company","sourceId":["Company ID"],"fields":[{"target":"name","column":"Name"}]}]}`
	rsp, err := mapspec.Parse([]byte(refSpec))
	if err != nil {
		t.Fatal(err)
	}
	refs := filepath.Join(dir, "refs.json")
	if err := os.WriteFile(refs, []byte(refSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	sameOutputs(t, rsp, "--mapping", refs, people, companies)
	if _, _, out := mapOutputs(t, "--mapping", refs, people, companies); !bytes.Contains(out["report.json"], []byte(`"missing": "C6"`)) {
		t.Errorf("no orphan (C6) in the report:\n%s", clip(out["report.json"]))
	}
	if _, _, out := mapOutputs(t, "--mapping", deduped, a, b); bytes.Contains(out["report.json"], []byte(`"possibleDuplicates": 0`)) {
		t.Errorf("b.csv's rows with a.csv's e-mails are no possible duplicates:\n%s", clip(out["report.json"]))
	}
	if _, _, out := mapOutputs(t, "--mapping", merged, a, b); bytes.Contains(out["report.json"], []byte(`"mergedRecords": 0`)) {
		t.Errorf("b.csv's rows with a.csv's e-mails did not merge:\n%s", clip(out["report.json"]))
	}
	// The cases did what they are for.
	code, _, out := mapOutputs(t, "--mapping", path, a, c)
	if code != 0 || !bytes.Contains(out["rejects-c.csv"], []byte("repeats the source id")) || !bytes.Contains(out["rejects-a.csv"], []byte("source id")) {
		t.Errorf("exit %d; c.csv's repeats or a.csv's rows without an id were not rejected:\n%s\n%s", code, clip(out["rejects-c.csv"]), clip(out["rejects-a.csv"]))
	}
	want, withID, seen := 0, 0, map[string]bool{}
	for _, id := range append(ids["a.csv"], ids["c.csv"]...) {
		if id != "" {
			withID++
		}
		if id != "" && !seen[id] {
			seen[id] = true
			want++
		}
	}
	if n := bytes.Count(out["records-contact.jsonl"], []byte("\n")); n != want || want == withID {
		t.Errorf("%d records written for a.csv and c.csv; want %d, fewer than their %d rows with an id", n, want, withID)
	}
	if code, _, _ := mapOutputs(t, "--mapping", path, a, b, bad); code == 0 {
		t.Error("a run with a malformed file succeeded")
	}
}
