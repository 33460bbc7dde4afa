package delta

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

// ent builds an entry keyed entity#id with the given field name/value pairs.
func ent(entity, id, src string, kv ...string) Entry {
	f := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		f[kv[i]] = kv[i+1]
	}
	return Entry{Key: entity + "#" + id, Entity: entity, SourceID: src, Fields: f}
}

// snap writes entries, in the order given, as a snapshot.
func snap(t testing.TB, es ...Entry) []byte {
	t.Helper()
	s := NewSnapshot()
	for _, e := range es {
		s.Add(e)
	}
	var buf bytes.Buffer
	n, err := s.WriteTo(&buf)
	if err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("WriteTo returned %d, wrote %d bytes", n, buf.Len())
	}
	return buf.Bytes()
}

func readers(bs ...[]byte) []io.Reader {
	rs := make([]io.Reader, len(bs))
	for i, b := range bs {
		rs[i] = bytes.NewReader(b)
	}
	return rs
}

func compare(t *testing.T, before []byte, after ...[]byte) (*Report, string) {
	t.Helper()
	var out bytes.Buffer
	r, err := Compare(bytes.NewReader(before), readers(after...), &out)
	if err != nil {
		t.Fatalf("Compare: %v", err)
	}
	return r, out.String()
}

const header = "\ufeffentity,change,source_id,field,before,after\r\n"

func TestComparePlanted(t *testing.T) {
	before := snap(t,
		ent("contact", "p5", "P5", "email", "e@x"),
		ent("company", "k1", "C1", "name", "Acme", "city", "Oslo"),
		ent("contact", "p1", "P1", "email", "a@x", "first", "Ann"),
		ent("company", "k2", "C2", "name", "Beta"),
		ent("contact", "p2", "P2", "email", "b@x", "first", "Bob", "last", "=cmd()"),
		ent("company", "k3", "C3", "name", "Gamma", "phone", ""),
		ent("contact", "p3", "P3", "email", "c@x"),
		ent("contact", "p4", "P4", "email", "d@x", "first", "Dan"),
	)
	final := []Entry{
		ent("contact", "p6", "=P6", "email", "f@x"),                  // added
		ent("company", "k3", "C3", "name", "Gamma"),                  // "" to absent: unchanged
		ent("contact", "p1", "P1", "email", "a@x", "first", "Ann"),   // unchanged
		ent("company", "k1", "C1", "name", "Acme", "city", "Bergen"), // changed
		ent("contact", "p2", "P2", "email", "b@x", "first", "Bob"),   // field dropped
		ent("contact", "p4", "P4", "email", "d@x", "first", "Dan", "last", "-Doe"),
		ent("company", "k4", "C4", "name", "Delta"),                   // added
		ent("contact", "p5", "P5", "email", "e2@x", "phone", "+4712"), // two fields
	}
	var chunks [3][]Entry
	for i, e := range final {
		chunks[i%3] = append(chunks[i%3], e)
	}
	r, out := compare(t, before, snap(t, chunks[0]...), snap(t, chunks[1]...), snap(t, chunks[2]...))

	want := &Report{Entities: []EntityDelta{
		{Entity: "company", Before: 3, After: 3, Added: 1, Removed: 1, Changed: 1, Unchanged: 1, Examples: []Change{
			{Kind: Changed, Entity: "company", SourceID: "C1", Fields: []FieldChange{{"city", "Oslo", "Bergen"}}},
			{Kind: Removed, Entity: "company", SourceID: "C2"},
			{Kind: Added, Entity: "company", SourceID: "C4"},
		}},
		{Entity: "contact", Before: 5, After: 5, Added: 1, Removed: 1, Changed: 3, Unchanged: 1, Examples: []Change{
			{Kind: Changed, Entity: "contact", SourceID: "P2", Fields: []FieldChange{{"last", "=cmd()", ""}}},
			{Kind: Removed, Entity: "contact", SourceID: "P3"},
			{Kind: Changed, Entity: "contact", SourceID: "P4", Fields: []FieldChange{{"last", "", "-Doe"}}},
			{Kind: Changed, Entity: "contact", SourceID: "P5", Fields: []FieldChange{{"email", "e@x", "e2@x"}, {"phone", "", "+4712"}}},
			{Kind: Added, Entity: "contact", SourceID: "=P6"},
		}},
	}}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("report:\n got %+v\nwant %+v", r, want)
	}
	wantCSV := header +
		"company,changed,C1,city,Oslo,Bergen\r\n" +
		"company,removed,C2,,,\r\n" +
		"company,added,C4,,,\r\n" +
		"contact,changed,P2,last,'=cmd(),\r\n" +
		"contact,removed,P3,,,\r\n" +
		"contact,changed,P4,last,,'-Doe\r\n" +
		"contact,changed,P5,email,e@x,e2@x\r\n" +
		"contact,changed,P5,phone,,'+4712\r\n" +
		"contact,added,'=P6,,,\r\n"
	if out != wantCSV {
		t.Errorf("CSV:\n got %q\nwant %q", out, wantCSV)
	}

	// The same final migration in one snapshot, and with no CSV, gives the same report.
	r1, err := Compare(bytes.NewReader(before), readers(snap(t, final...)), nil)
	if err != nil || !reflect.DeepEqual(r1, want) {
		t.Errorf("one snapshot, no CSV: got %+v, %v", r1, err)
	}
}

func TestCompareExamplesCapped(t *testing.T) {
	var after []Entry
	for i := range MaxExamples + 5 {
		after = append(after, ent("deal", fmt.Sprintf("%03d", i), fmt.Sprint(i)))
	}
	r, out := compare(t, nil, snap(t, after...))
	d := r.Entities[0]
	if d.Added != MaxExamples+5 || d.After != MaxExamples+5 || len(d.Examples) != MaxExamples {
		t.Fatalf("got added %d, after %d, %d examples", d.Added, d.After, len(d.Examples))
	}
	for i, c := range d.Examples {
		if c.SourceID != fmt.Sprint(i) {
			t.Fatalf("example %d is %q: not in key order", i, c.SourceID)
		}
	}
	if n := strings.Count(out, "\r\n"); n != MaxExamples+5+1 {
		t.Errorf("CSV has %d lines, want every change and the header", n)
	}
}

func TestCompareEqualKeysAcrossChunks(t *testing.T) {
	before := snap(t, ent("contact", "a", "A", "x", "1"), ent("contact", "b", "B", "x", "1"))
	c0 := snap(t, ent("contact", "a", "A", "x", "1"), ent("contact", "c", "C", "x", "0"))
	c1 := snap(t, ent("contact", "b", "B", "x", "2"), ent("contact", "c", "C", "x", "9"))
	c2 := snap(t, ent("contact", "a", "A", "x", "5"), ent("contact", "b", "B", "x", "1"))
	r, out := compare(t, before, c0, c1, c2)
	// a: chunk 0 wins (unchanged), b: chunk 1 wins (changed), c: chunk 0 wins (added).
	want := EntityDelta{Entity: "contact", Before: 2, After: 3, Added: 1, Changed: 1, Unchanged: 1, Examples: []Change{
		{Kind: Changed, Entity: "contact", SourceID: "B", Fields: []FieldChange{{"x", "1", "2"}}},
		{Kind: Added, Entity: "contact", SourceID: "C"},
	}}
	if len(r.Entities) != 1 || !reflect.DeepEqual(r.Entities[0], want) {
		t.Errorf("got %+v\nwant %+v", r.Entities, want)
	}
	if wantCSV := header + "contact,changed,B,x,1,2\r\ncontact,added,C,,,\r\n"; out != wantCSV {
		t.Errorf("CSV %q, want %q", out, wantCSV)
	}
}

func TestSnapshotKeepsFirstOfEqualKeys(t *testing.T) {
	s := NewSnapshot()
	s.Add(ent("e", "b", "2", "v", "b"))
	s.Add(ent("e", "a", "1", "v", "first"))
	s.Add(ent("e", "a", "3", "v", "second"))
	if s.Len() != 3 {
		t.Errorf("Len %d, want 3", s.Len())
	}
	var buf bytes.Buffer
	n, err := s.WriteTo(&buf)
	want := `{"k":"e#a","e":"e","s":"1","f":{"v":"first"}}` + "\n" + `{"k":"e#b","e":"e","s":"2","f":{"v":"b"}}` + "\n"
	if err != nil || buf.String() != want || n != int64(len(want)) {
		t.Errorf("WriteTo = %d, %v, wrote\n%s\nwant\n%s", n, err, buf.String(), want)
	}
	// Written again, after more adds, it is still the first of equal keys.
	s.Add(ent("e", "a", "4", "v", "third"))
	buf.Reset()
	if _, err := s.WriteTo(&buf); err != nil || buf.String() != want {
		t.Errorf("second WriteTo wrote\n%s, %v", buf.String(), err)
	}
}

func TestSnapshotConcurrentAdd(t *testing.T) {
	s := NewSnapshot()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				s.Add(ent("contact", fmt.Sprintf("%d-%03d", g, i), "x"))
			}
		})
	}
	wg.Wait()
	var buf bytes.Buffer
	if _, err := s.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	r, err := Compare(strings.NewReader(""), readers(buf.Bytes()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 4000 || r.Entities[0].Added != 4000 {
		t.Errorf("Len %d, added %d, want 4000", s.Len(), r.Entities[0].Added)
	}
}

func TestCompareEmpty(t *testing.T) {
	two := snap(t, ent("contact", "1", "1"), ent("contact", "2", "2"))
	for _, tc := range []struct {
		name   string
		before string
		after  []string
		want   []EntityDelta
		csv    string
	}{
		{"nothing", "", nil, []EntityDelta{}, ""},
		{"empty snapshots", "", []string{"", ""}, []EntityDelta{}, ""},
		{
			"all removed", string(two), nil,
			[]EntityDelta{{Entity: "contact", Before: 2, Removed: 2, Examples: []Change{
				{Kind: Removed, Entity: "contact", SourceID: "1"}, {Kind: Removed, Entity: "contact", SourceID: "2"},
			}}},
			"contact,removed,1,,,\r\ncontact,removed,2,,,\r\n",
		},
		{
			"all added, one chunk empty, no final newline", "",
			[]string{"", strings.TrimSuffix(string(two), "\n")},
			[]EntityDelta{{Entity: "contact", After: 2, Added: 2, Examples: []Change{
				{Kind: Added, Entity: "contact", SourceID: "1"}, {Kind: Added, Entity: "contact", SourceID: "2"},
			}}},
			"contact,added,1,,,\r\ncontact,added,2,,,\r\n",
		},
		{
			"CRLF lines", strings.ReplaceAll(string(two), "\n", "\r\n"),
			[]string{string(two)},
			[]EntityDelta{{Entity: "contact", Before: 2, After: 2, Unchanged: 2, Examples: []Change{}}},
			"",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var after [][]byte
			for _, a := range tc.after {
				after = append(after, []byte(a))
			}
			r, out := compare(t, []byte(tc.before), after...)
			if !reflect.DeepEqual(r.Entities, tc.want) {
				t.Errorf("got %+v\nwant %+v", r.Entities, tc.want)
			}
			if out != header+tc.csv {
				t.Errorf("CSV %q, want %q", out, header+tc.csv)
			}
		})
	}
	r, _ := compare(t, nil)
	if b, _ := json.Marshal(r); string(b) != `{"entities":[]}` {
		t.Errorf("empty report JSON %s", b)
	}
}

func TestCompareBlankIsAbsent(t *testing.T) {
	before := snap(t,
		ent("e", "1", "1", "a", "", "b", "x"),
		ent("e", "2", "2", "a", "y"),
		Entry{Key: "e#3", Entity: "e", SourceID: "3"}, // no fields at all
		ent("e", "4", "4", "a", ""),
		ent("e", "5", "5", "a", "v"),
	)
	after := snap(t,
		ent("e", "1", "1", "b", "x"),
		ent("e", "2", "2", "a", "y", "c", ""),
		ent("e", "3", "3", "a", ""),
		ent("e", "4", "4", "a", "z"),
		ent("e", "5", "5", "a", ""),
	)
	r, out := compare(t, before, after)
	d := r.Entities[0]
	if d.Unchanged != 3 || d.Changed != 2 {
		t.Errorf("unchanged %d, changed %d; want 3, 2", d.Unchanged, d.Changed)
	}
	if want := header + "e,changed,4,a,,z\r\ne,changed,5,a,v,\r\n"; out != want {
		t.Errorf("CSV %q, want %q", out, want)
	}
}

func TestCompareLongLines(t *testing.T) {
	line := func(v string) string { return `{"k":"e#1","e":"e","s":"1","f":{"a":"` + v + `"}}` }
	pad := func(n int, c string) string { return strings.Repeat(c, n-len(line(""))) }

	// A line far beyond bufio's default buffers is read whole.
	before, after := line(pad(1<<20, "x")), line(pad(1<<20, "y"))
	r, _ := compare(t, []byte(before+"\n"), []byte(after))
	if d := r.Entities[0]; d.Changed != 1 || d.Examples[0].Fields[0].Before != pad(1<<20, "x") {
		t.Fatalf("a 1 MiB line: changed %d", d.Changed)
	}

	// MaxLine bytes is the limit, without the newline.
	atMax := line(pad(MaxLine, "x"))
	if _, err := Compare(strings.NewReader(atMax+"\n"), nil, nil); err != nil {
		t.Errorf("a line of MaxLine bytes: %v", err)
	}
	over := `{"k":"e#0","e":"e"}` + "\n" + line(pad(MaxLine+1, "x")) + "\n"
	_, err := Compare(strings.NewReader(""), readers(nil, []byte(over)), nil)
	if cutover.ErrorCode(err) != cutover.EINVALID || !strings.Contains(cutover.ErrorMessage(err), "after snapshot 1, line 2: longer than 16 MiB") {
		t.Errorf("a line over MaxLine: %v", err)
	}
}

func TestCompareInvalid(t *testing.T) {
	ok := `{"k":"e#1","e":"e","s":"1"}` + "\n"
	for _, tc := range []struct {
		name, before string
		after        []string
		want         string
	}{
		{"not JSON", ok + "{\"k\":\n", nil, "before snapshot, line 2: not a JSON snapshot entry"},
		{"trailing garbage", ok + ok[:len(ok)-1] + " x\n", nil, "before snapshot, line 2: not a JSON snapshot entry"},
		{"an array", "[1]\n", nil, "before snapshot, line 1: not a JSON snapshot entry"},
		{"a field not a string", `{"k":"e#1","e":"e","f":{"a":1}}`, nil, "before snapshot, line 1: not a JSON snapshot entry"},
		{"blank line", "", []string{ok, ok + "\n" + ok}, "after snapshot 1, line 2: not a JSON snapshot entry"},
		{"null", "null\n", nil, "before snapshot, line 1: it has no key"},
		{"empty key", "", []string{ok, `{"e":"e"}`}, "after snapshot 1, line 1: it has no key"},
		{"no entity", `{"k":"e#1"}`, nil, `line 1: its entity "" is empty or contains "#"`},
		{"entity with #", `{"k":"e#1#2","e":"e#1"}`, nil, `its entity "e#1" is empty`},
		{"key not of its entity", `{"k":"f#1","e":"e"}`, nil, `its key "f#1" does not start with its entity "e" and "#"`},
		{"key the entity only", `{"k":"e","e":"e"}`, nil, `its key "e" does not start`},
		{
			"out of order", "",
			[]string{ok + `{"k":"e#3","e":"e"}` + "\n" + `{"k":"e#2","e":"e"}`},
			`after snapshot 0, line 3: key "e#2" is not after the key before it, "e#3"`,
		},
		{"repeated key", ok + ok, nil, `before snapshot, line 2: key "e#1" is not after`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var after [][]byte
			for _, a := range tc.after {
				after = append(after, []byte(a))
			}
			var out bytes.Buffer
			r, err := Compare(strings.NewReader(tc.before), readers(after...), &out)
			if r != nil || cutover.ErrorCode(err) != cutover.EINVALID || !strings.Contains(cutover.ErrorMessage(err), tc.want) {
				t.Errorf("got %v, %v; want EINVALID with %q", r, err, tc.want)
			}
		})
	}
	if _, err := Compare(nil, nil, nil); cutover.ErrorCode(err) != cutover.EINVALID {
		t.Errorf("nil before: %v", err)
	}
	if _, err := Compare(strings.NewReader(""), []io.Reader{strings.NewReader(""), nil}, nil); cutover.ErrorCode(err) != cutover.EINVALID ||
		cutover.ErrorMessage(err) != "after snapshot 1 is missing" {
		t.Errorf("nil after: %v", err)
	}
}

type failWriter struct{ after int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.after < len(p) {
		return 0, errors.New("disk full")
	}
	w.after -= len(p)
	return len(p), nil
}

type failReader struct{ err error }

func (r failReader) Read([]byte) (int, error) { return 0, r.err }

func TestIOErrors(t *testing.T) {
	before := snap(t, ent("e", "1", "1"))
	if _, err := Compare(io.MultiReader(bytes.NewReader(before), failReader{errors.New("reset")}), nil, nil); cutover.ErrorCode(err) != cutover.EUNAVAILABLE ||
		cutover.ErrorMessage(err) != "reading the before snapshot failed" {
		t.Errorf("failing reader: %v", err)
	}
	gone := cutover.Errorf(cutover.EGONE, "expired")
	if _, err := Compare(bytes.NewReader(before), []io.Reader{failReader{gone}}, nil); !errors.Is(err, gone) {
		t.Errorf("an application error from a reader: %v", err)
	}
	if _, err := Compare(bytes.NewReader(before), []io.Reader{failReader{}}, nil); cutover.ErrorCode(err) != cutover.EUNAVAILABLE {
		t.Errorf("a reader making no progress: %v", err)
	}
	var many []Entry
	for i := range 10000 {
		many = append(many, ent("e", fmt.Sprint(i), fmt.Sprint(i)))
	}
	for _, n := range []int{0, 100} {
		if _, err := Compare(bytes.NewReader(snap(t, many...)), nil, &failWriter{after: n}); cutover.ErrorCode(err) != cutover.EUNAVAILABLE {
			t.Errorf("out failing after %d bytes: %v", n, err)
		}
	}

	s := NewSnapshot()
	s.Add(ent("e", "1", "1"))
	if _, err := s.WriteTo(&failWriter{}); cutover.ErrorCode(err) != cutover.EUNAVAILABLE {
		t.Errorf("WriteTo a failing writer: %v", err)
	}
}

func TestSnapshotInvalid(t *testing.T) {
	for _, e := range []Entry{
		{Entity: "e"},
		{Key: "e#1"},
		{Key: "e#1", Entity: "f"},
		{Key: "e#1#2", Entity: "e#1"},
		{Key: "e#\xff", Entity: "e"},
	} {
		s := NewSnapshot()
		s.Add(ent("e", "0", "0"))
		s.Add(e)
		var buf bytes.Buffer
		if n, err := s.WriteTo(&buf); cutover.ErrorCode(err) != cutover.EINVALID || n != 0 || buf.Len() != 0 {
			t.Errorf("%+v: wrote %d bytes, %v; want EINVALID and nothing written", e, n, err)
		}
	}
}

func TestFromRecord(t *testing.T) {
	r := cutover.Record{ID: "abc", Entity: "contact", SourceID: "7", Fields: map[string]string{"a": "1"}}
	e := FromRecord(r)
	if e.Key != "contact#abc" || e.Entity != "contact" || e.SourceID != "7" || e.Fields["a"] != "1" || check(&e) != "" {
		t.Errorf("FromRecord = %+v", e)
	}
}

// TestCompareMatchesModel checks Compare against a plain in-memory diff on
// random migrations split into chunks with overlapping keys.
func TestCompareMatchesModel(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 1))
		randEntry := func() Entry {
			e := ent([]string{"a", "b", "c"}[rng.IntN(3)], fmt.Sprint(rng.IntN(20)), fmt.Sprint(rng.IntN(1000)))
			for _, f := range []string{"x", "y", "z"} {
				if v := rng.IntN(4); v < 3 {
					e.Fields[f] = []string{"", "0", "1"}[v]
				}
			}
			return e
		}
		// before: first added of a key wins, as in Snapshot.
		var bs []Entry
		model := map[string]Entry{}
		for range rng.IntN(40) {
			e := randEntry()
			bs = append(bs, e)
			if _, ok := model[e.Key]; !ok {
				model[e.Key] = e
			}
		}
		// after: chunk by chunk, first added of a key wins.
		chunks := make([][]Entry, 1+rng.IntN(4))
		for range rng.IntN(60) {
			i := rng.IntN(len(chunks))
			chunks[i] = append(chunks[i], randEntry())
		}
		final := map[string]Entry{}
		var snaps [][]byte
		for _, c := range chunks {
			for _, e := range c {
				if _, ok := final[e.Key]; !ok {
					final[e.Key] = e
				}
			}
			snaps = append(snaps, snap(t, c...))
		}

		want := map[string]*EntityDelta{}
		var wantRows []string
		get := func(entity string) *EntityDelta {
			if want[entity] == nil {
				want[entity] = &EntityDelta{Entity: entity}
			}
			return want[entity]
		}
		nonBlank := func(m map[string]string) map[string]string {
			m = maps.Clone(m)
			maps.DeleteFunc(m, func(_, v string) bool { return v == "" })
			return m
		}
		for k, b := range model {
			d := get(b.Entity)
			d.Before++
			a, ok := final[k]
			switch {
			case !ok:
				d.Removed++
				wantRows = append(wantRows, b.Entity+",removed,"+b.SourceID+",,,")
			case maps.Equal(nonBlank(b.Fields), nonBlank(a.Fields)):
				d.Unchanged++
			default:
				d.Changed++
				for _, f := range []string{"x", "y", "z"} {
					if b.Fields[f] != a.Fields[f] {
						wantRows = append(wantRows, fmt.Sprintf("%s,changed,%s,%s,%s,%s", a.Entity, a.SourceID, f, b.Fields[f], a.Fields[f]))
					}
				}
			}
		}
		for k, a := range final {
			d := get(a.Entity)
			d.After++
			if _, ok := model[k]; !ok {
				d.Added++
				wantRows = append(wantRows, a.Entity+",added,"+a.SourceID+",,,")
			}
		}

		var out bytes.Buffer
		r, err := Compare(bytes.NewReader(snap(t, bs...)), readers(snaps...), &out)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		var got []string
		for _, d := range r.Entities {
			w := get(d.Entity)
			if d.Before != w.Before || d.After != w.After || d.Added != w.Added || d.Removed != w.Removed || d.Changed != w.Changed || d.Unchanged != w.Unchanged {
				t.Fatalf("seed %d, %s: got %+v, want %+v", seed, d.Entity, d, *w)
			}
			delete(want, d.Entity)
		}
		if len(want) != 0 {
			t.Fatalf("seed %d: entities missing from the report: %v", seed, slices.Collect(maps.Keys(want)))
		}
		got = strings.Split(strings.TrimSuffix(strings.TrimPrefix(out.String(), header), "\r\n"), "\r\n")
		if got[0] == "" {
			got = nil
		}
		slices.Sort(got)
		slices.Sort(wantRows)
		if !slices.Equal(got, wantRows) {
			t.Fatalf("seed %d: CSV rows\n got %q\nwant %q", seed, got, wantRows)
		}
	}
}

func FuzzCompare(f *testing.F) {
	before := snap(f, ent("company", "k1", "C1", "name", "Acme"), ent("contact", "p1", "P1", "email", "a@x"), ent("contact", "p2", "P2", "email", ""))
	a0 := snap(f, ent("company", "k1", "C1", "name", "Acme", "city", "Oslo"), ent("contact", "p3", "=P3"))
	a1 := snap(f, ent("contact", "p1", "P1", "email", "a@x"), ent("contact", "p3", "P3", "a", "b"))
	f.Add(before, a0, a1)
	f.Add(before, before, []byte{})
	f.Add([]byte{}, a1, a0)
	f.Add(a0, []byte("\n"), []byte(`{"k":"e#1","e":"e","f":{"":"\u2028"}}`))
	f.Add([]byte(`{"k":"e#2","e":"e"}`+"\n"+`{"k":"e#1","e":"e"}`), []byte("{"), []byte("null"))
	f.Add([]byte(`{"k":"e#1","e":"e","f":{"a":null}}`+"\r\n"), []byte(`{"k":"e#1","e":"e","K":"e#0"}`), []byte(`{"k":"e#1","e":"e","f":{"a":"1"}}`))
	f.Fuzz(func(t *testing.T, before, a0, a1 []byte) {
		var out bytes.Buffer
		r, err := Compare(bytes.NewReader(before), readers(a0, a1), &out)
		if err != nil {
			if r != nil || cutover.ErrorCode(err) != cutover.EINVALID {
				t.Fatalf("got %v, %v; want a nil report and EINVALID", r, err)
			}
			return
		}
		rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(out.Bytes(), []byte("\ufeff")))).ReadAll()
		if err != nil {
			t.Fatalf("the CSV does not parse: %v", err)
		}
		kinds := map[string]int{}
		for _, row := range rows[1:] {
			kinds[row[1]]++
		}
		var added, removed, changed int
		for i, d := range r.Entities {
			if i > 0 && r.Entities[i-1].Entity >= d.Entity {
				t.Fatalf("entities not sorted: %q then %q", r.Entities[i-1].Entity, d.Entity)
			}
			if d.Added+d.Unchanged+d.Changed != d.After || d.Removed+d.Unchanged+d.Changed != d.Before {
				t.Fatalf("%+v does not balance", d)
			}
			if n := min(MaxExamples, d.Added+d.Removed+d.Changed); len(d.Examples) != n {
				t.Fatalf("%s: %d examples, want %d", d.Entity, len(d.Examples), n)
			}
			for _, c := range d.Examples {
				if c.Entity != d.Entity || (c.Kind == Changed) != (len(c.Fields) > 0) {
					t.Fatalf("%s: example %+v", d.Entity, c)
				}
			}
			added += d.Added
			removed += d.Removed
			changed += d.Changed
		}
		if kinds[Added] != added || kinds[Removed] != removed || kinds[Changed] < changed || len(kinds) > 3 {
			t.Fatalf("CSV rows by kind %v; report added %d, removed %d, changed %d", kinds, added, removed, changed)
		}

		// A valid snapshot has no delta with itself, and swapping the sides swaps added and removed.
		self, err := Compare(bytes.NewReader(before), readers(before), nil)
		if err != nil {
			t.Fatalf("before against itself: %v", err)
		}
		for _, d := range self.Entities {
			if d.Unchanged != d.Before || d.Before != d.After {
				t.Fatalf("before against itself: %+v", d)
			}
		}
		fwd, err1 := Compare(bytes.NewReader(before), readers(a0), nil)
		back, err2 := Compare(bytes.NewReader(a0), readers(before), nil)
		if err1 != nil || err2 != nil {
			t.Fatalf("before and a0 alone: %v, %v", err1, err2)
		}
		if len(fwd.Entities) != len(back.Entities) {
			t.Fatalf("swapped sides: %d entities, then %d", len(fwd.Entities), len(back.Entities))
		}
		for i, d := range fwd.Entities {
			b := back.Entities[i]
			if d.Added != b.Removed || d.Removed != b.Added || d.Changed != b.Changed || d.Before != b.After {
				t.Fatalf("swapped sides: %+v, then %+v", d, b)
			}
		}
	})
}

// benchSnapshots are 100k records before and 100k after in 4 chunks, 1%
// added, 1% removed and 2% changed, written with their indexes.
func benchSnapshots(b *testing.B) (before []byte, beforeIdx Index, after [][]byte, afterIdx []Index, n int) {
	n = 100_000
	rec := func(i int, city string) Entry {
		entity := "contact"
		if i%5 == 0 {
			entity = "company"
		}
		src := fmt.Sprintf("src-%07d", i)
		return FromRecord(cutover.Record{ID: cutover.RecordID("acme", entity, src), Entity: entity, SourceID: src, Fields: map[string]string{
			"first_name": "Firstname", "last_name": fmt.Sprintf("Lastname%d", i), "email": fmt.Sprintf("person%d@example.com", i),
			"phone": "+47 22 33 44 55", "city": city, "country": "NO", "owner": "owner@vendor.test", "status": "active",
		}})
	}
	bs, chunks := NewSnapshot(), []*Snapshot{NewSnapshot(), NewSnapshot(), NewSnapshot(), NewSnapshot()}
	for i := range n {
		bs.Add(rec(i, "Oslo"))
		switch {
		case i%100 == 0: // removed
		case i%50 == 1:
			chunks[i%4].Add(rec(i, "Bergen"))
		default:
			chunks[i%4].Add(rec(i, "Oslo"))
		}
		if i%100 == 0 {
			chunks[i%4].Add(rec(n+i, "Oslo"))
		}
	}
	write := func(s *Snapshot) ([]byte, Index) {
		var buf bytes.Buffer
		idx, err := s.WriteIndexed(&buf)
		if err != nil {
			b.Fatal(err)
		}
		return buf.Bytes(), idx
	}
	before, beforeIdx = write(bs)
	for _, c := range chunks {
		a, x := write(c)
		after, afterIdx = append(after, a), append(afterIdx, x)
	}
	return before, beforeIdx, after, afterIdx, n
}

// BenchmarkCompare compares 100k records with 100k records in 4 chunks,
// 1% added, 1% removed and 2% changed, in one merge.
func BenchmarkCompare(b *testing.B) {
	bb, _, as, _, n := benchSnapshots(b)
	size := len(bb)
	for _, a := range as {
		size += len(a)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		r, err := Compare(bytes.NewReader(bb), readers(as...), io.Discard)
		if err != nil || r.Entities[1].Changed != n/50 {
			b.Fatalf("%+v, %v", r, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(2*n), "ns/record")
}

// BenchmarkCompareInKeyRanges compares the same snapshots in 16 key ranges
// of about equal bytes (Cut, Index.Range), one after another, each its
// own merge of its byte ranges, the reports then merged: the whole costs
// about what one merge does, and its largest range (largest-range-share,
// of the whole's time) is the most any one step of the state machine
// spends.
func BenchmarkCompareInKeyRanges(b *testing.B) {
	bb, bx, as, ax, n := benchSnapshots(b)
	sizes := map[string]int64{}
	bx.SlotSizes(sizes)
	size := len(bb)
	for i, x := range ax {
		x.SlotSizes(sizes)
		size += len(as[i])
	}
	starts := Cut(sizes, int64(size)/16)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	var largest, total time.Duration
	for b.Loop() {
		var parts []*Report
		for i, lo := range starts {
			hi := ""
			if i+1 < len(starts) {
				hi = starts[i+1]
			}
			t0 := time.Now()
			s, e := bx.Range(lo, hi)
			var after [][]byte
			for j, x := range ax {
				s, e := x.Range(lo, hi)
				after = append(after, as[j][s:e])
			}
			r, err := Compare(bytes.NewReader(bb[s:e]), readers(after...), io.Discard)
			if err != nil {
				b.Fatal(err)
			}
			parts = append(parts, r)
			d := time.Since(t0)
			total += d
			largest = max(largest, d)
		}
		if r := Merge(parts); r.Entities[1].Changed != n/50 {
			b.Fatalf("%+v", r)
		}
	}
	b.ReportMetric(float64(len(starts)), "ranges")
	b.ReportMetric(float64(largest)/(float64(total)/float64(b.N)), "largest-range-share")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(2*n), "ns/record")
}
