package workbook

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pipeline"
	"github.com/cutover/cutover/internal/schema"
	"github.com/cutover/cutover/internal/tabular"
)

// runFile streams one CSV through the real pipeline with the sampler
// watching, as a test migration does, and returns its report.
func runFile(t *testing.T, s *Sampler, merger *mapspec.Merger, spec, file, src string) *pipeline.Report {
	t.Helper()
	sp, err := mapspec.Parse([]byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	tables, err := tabular.Open(strings.NewReader(src), file, tabular.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapspec.Compile(sp.Files[0], schema.Default(), tables[0].Header(), "t", time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := pipeline.Run(context.Background(), file, tables[0], m, pipeline.Outputs{Spot: s, Merger: merger}, pipeline.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

const contactSpec = `{"version":1,"files":[{"name":"c","entity":"contact","sourceId":["id"],"dedupe":["emails"],"fields":[{"target":"emails","column":"email"},{"target":"first_name","column":"name"}]}]}`

// A named id whose row was rejected says where and why, not "not found".
func TestNamedSpotCheckOfARejectedRowSaysWhy(t *testing.T) {
	s := NewSampler(1, map[string][]string{"contact": {"2", "9"}})
	runFile(t, s, nil, contactSpec, "contacts.csv", "id,email,name\n1,a@x.com,Ann\n2,,\n3,c@x.com,Cy\n")
	spots := s.SpotChecks()
	var two, nine *SpotCheck
	for i := range spots {
		if spots[i].Why == "named by you" && spots[i].SourceID == "2" {
			two = &spots[i]
		}
		if spots[i].Why == "named by you" && spots[i].SourceID == "9" {
			nine = &spots[i]
		}
	}
	if two == nil || nine == nil {
		t.Fatalf("named spot checks missing: %+v", spots)
	}
	if two.Found || two.File != "contacts.csv" || two.Line != 3 || len(two.Source) != 3 || two.Source[0].Value != "2" {
		t.Fatalf("the rejected row's spot check = %+v", *two)
	}
	if nine.Found || nine.File != "" || nine.Line != 0 {
		t.Fatalf("a named id in no row = %+v", *nine)
	}
}

// Sampled spot checks come from every file of an entity, not only the
// biggest one.
func TestSampledSpotChecksCoverEveryFile(t *testing.T) {
	s := NewSampler(7, nil)
	var big strings.Builder
	big.WriteString("id,email,name\n")
	for i := 1; i <= 2000; i++ {
		fmt.Fprintf(&big, "%d,p%d@x.com,P%d\n", i, i, i)
	}
	runFile(t, s, nil, contactSpec, "big.csv", big.String())
	runFile(t, s, nil, contactSpec, "small.csv", "id,email,name\nx1,s1@x.com,S\nx2,s2@x.com,T\n")
	files := map[string]int{}
	for _, sc := range s.SpotChecks() {
		files[sc.File]++
	}
	if files["small.csv"] == 0 || files["big.csv"] == 0 {
		t.Fatalf("spot checks by file = %v, want both files", files)
	}
}

func named(spots []SpotCheck, id string) *SpotCheck {
	for i := range spots {
		if spots[i].Why == WhyNamed && spots[i].SourceID == id {
			return &spots[i]
		}
	}
	return nil
}

// The rejected row's spot check says where and why in words, and can only
// be waived; a merged row says into which record.
func TestNamedSpotCheckSaysRejectedAndMerged(t *testing.T) {
	spec := `{"version":1,"files":[{"name":"c","entity":"contact","sourceId":["id"],"dedupe":["emails"],"mergeDifferentIds":true,"fields":[{"target":"emails","column":"email"},{"target":"first_name","column":"name"}]}]}`
	s := NewSampler(1, map[string][]string{"contact": {"2", "4", "9"}})
	runFile(t, s, mapspec.NewMergerFor(mustSpec(t, spec)), spec, "contacts.csv", "id,email,name\n1,a@x.com,Ann\n2,,\n3,c@x.com,Cy\n4,a@x.com,Annie\n")
	spots := s.SpotChecks()
	two, four, nine := named(spots, "2"), named(spots, "4"), named(spots, "9")
	if two == nil || two.Outcome != "rejected" || !two.WaiveOnly || !strings.HasPrefix(two.Says, "rejected at line 3 of contacts.csv: ") || !strings.Contains(two.Says, "nothing identifies") {
		t.Fatalf("rejected: %+v", two)
	}
	if four == nil || !four.Found || four.Outcome != "merged" || four.MergedInto == "" || !strings.Contains(four.Says, "into the record of source id 1") || four.Record["first_name"] != "Ann" {
		t.Fatalf("merged: %+v", four)
	}
	if nine == nil || nine.Found || !nine.WaiveOnly || !strings.Contains(nine.Says, "not found") {
		t.Fatalf("not found: %+v", nine)
	}
	groups := s.DuplicateGroups()
	if len(groups) != 1 || groups[0].Kind != GroupMerged || len(groups[0].Rows) != 2 || groups[0].Rows[0].Line != 2 || groups[0].Rows[1].Line != 5 ||
		groups[0].Rows[0].File != "contacts.csv" || groups[0].Rows[1].Cells[2].Value != "Annie" || len(groups[0].RecordIDs) != 1 || groups[0].Record["emails"] != "a@x.com" {
		t.Fatalf("groups = %+v", groups)
	}
}

func mustSpec(t *testing.T, spec string) *mapspec.Spec {
	sp, err := mapspec.Parse([]byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// Two rows with different ids and one e-mail are kept apart and listed as
// possible duplicates, with both source rows.
func TestPossibleDuplicatesAreListedWithBothRows(t *testing.T) {
	s := NewSampler(1, nil)
	runFile(t, s, mapspec.NewMergerFor(mustSpec(t, contactSpec)), contactSpec, "contacts.csv", "id,email,name\n1,a@x.com,Ann\n2,b@x.com,Bo\n3,a@x.com,Al\n")
	groups := s.DuplicateGroups()
	if len(groups) != 1 || groups[0].Kind != GroupPossible || groups[0].Total != 2 || len(groups[0].RecordIDs) != 2 ||
		groups[0].Rows[0].SourceID != "1" || groups[0].Rows[1].SourceID != "3" || groups[0].Rows[1].Cells[2].Value != "Al" {
		t.Fatalf("groups = %+v", groups)
	}
}

// A key thousands of rows share (an office's info@ address) lists its
// first rows and record ids, and counts them all: the workbook stays small.
func TestAPossibleDuplicateGroupIsBounded(t *testing.T) {
	s := NewSampler(1, nil)
	var b strings.Builder
	b.WriteString("id,email,name\n")
	for i := range 500 {
		fmt.Fprintf(&b, "%d,info@x.com,N%d\n", i, i)
	}
	runFile(t, s, mapspec.NewMergerFor(mustSpec(t, contactSpec)), contactSpec, "contacts.csv", b.String())
	groups := s.DuplicateGroups()
	if len(groups) != 1 || groups[0].Total != 500 || len(groups[0].Rows) != MaxGroupRows || len(groups[0].RecordIDs) != MaxGroupRows {
		t.Fatalf("group: total %d, %d rows, %d record ids; want 500 counted and %d of each listed", groups[0].Total, len(groups[0].Rows), len(groups[0].RecordIDs), MaxGroupRows)
	}
}

// Flagged rows are over-sampled: among 2,000 clean rows, the few with a
// warning are drawn.
func TestFlaggedRowsAreOverSampled(t *testing.T) {
	spec := `{"version":1,"defaults":{"region":"GB"},"files":[{"name":"c","entity":"contact","sourceId":["id"],"fields":[{"target":"emails","column":"email"},{"target":"phones","column":"phone"}]}]}`
	var src strings.Builder
	src.WriteString("id,email,phone\n")
	for i := 1; i <= 2000; i++ {
		phone := ""
		if i%500 == 0 {
			phone = "not a phone"
		}
		fmt.Fprintf(&src, "%d,p%d@x.com,%s\n", i, i, phone)
	}
	pick := func(seed uint64) []SpotCheck {
		s := NewSampler(seed, nil)
		runFile(t, s, nil, spec, "contacts.csv", src.String())
		return s.SpotChecks()
	}
	a := pick(3)
	flagged := 0
	for _, sc := range a {
		if len(sc.Flags) > 0 && sc.Flags[0] == "warning" && len(sc.Warnings) > 0 {
			flagged++
		}
	}
	if flagged < 2 || len(a) != SpotChecksPerEntity {
		t.Fatalf("%d flagged of %d spot checks", flagged, len(a))
	}
	if !reflect.DeepEqual(a, pick(3)) {
		t.Fatal("the same seed gave different spot checks")
	}
}

// Rows whose records hold derived values (here, tenants named inline) are
// drawn among the flagged rows, and say so.
func TestRowsWithDerivedValuesAreFlagged(t *testing.T) {
	spec := `{"version":1,"defaults":{"region":"GB","dateFormats":["DD/MM/YYYY"]},"files":[{"name":"t","entity":"tenancy","sourceId":["Ref"],
	 "inline":[{"target":"tenants","name":"Tenant"}],"fields":[{"target":"property","column":"Property"},{"target":"start_date","column":"Start"}]}]}`
	var src strings.Builder
	src.WriteString("Ref,Property,Tenant,Start\n")
	for i := 1; i <= 500; i++ {
		tenant := ""
		if i%100 == 0 {
			tenant = fmt.Sprintf("Tenant %d", i)
		}
		fmt.Fprintf(&src, "T%d,P%d,%s,01/01/2024\n", i, i, tenant)
	}
	s := NewSampler(5, nil)
	runFile(t, s, nil, spec, "tenancies.csv", src.String())
	derived := 0
	for _, sc := range s.SpotChecks() {
		for _, f := range sc.Flags {
			if f == "derived" {
				derived++
			}
		}
	}
	if derived < 2 {
		t.Fatalf("%d spot checks with derived values, want the flagged rows over-sampled", derived)
	}
}

// A row merged into a record the destination refused is a rejected row
// (its data did not land): its spot check says so, as rejected.
func TestNamedSpotCheckOfARowMergedIntoARefusedRecordIsRejected(t *testing.T) {
	spec := `{"version":1,"files":[{"name":"c","entity":"contact","sourceId":["id"],"dedupe":["emails"],"mergeDifferentIds":true,"fields":[{"target":"emails","column":"email"},{"target":"first_name","column":"name"}]}]}`
	s := NewSampler(1, map[string][]string{"contact": {"4"}})
	runFile(t, s, mapspec.NewMergerFor(mustSpec(t, spec)), spec, "contacts.csv", "id,email,name\n1,a@x.com,Ann\n3,c@x.com,Cy\n4,a@x.com,Annie\n")
	four := named(s.SpotChecks(), "4")
	if four == nil || four.RecordID == "" {
		t.Fatalf("merged: %+v", four)
	}
	s.Refused("contact", four.RecordID, pipeline.RefusedReason("no room"))
	four = named(s.SpotChecks(), "4")
	if four.Outcome != "rejected" || four.Found || !four.WaiveOnly || !strings.Contains(four.Says, "at line 4 of contacts.csv into a record the destination refused: Refused by the destination: no room") {
		t.Fatalf("merged into a refused record: %+v", four)
	}
}
