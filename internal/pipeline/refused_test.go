package pipeline

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
)

// refusingSink is a fake Sink that refuses the records refuse gives a
// reason for.
type refusingSink struct {
	refuse func(rec *mapspec.Record) string
}

func (s refusingSink) Write(_ context.Context, recs []*mapspec.Record) ([]cutover.Refusal, error) {
	var out []cutover.Refusal
	for _, r := range recs {
		if why := s.refuse(r); why != "" {
			out = append(out, cutover.Refusal{Entity: r.Entity, ID: r.ID, Reason: why})
		}
	}
	return out, nil
}

// letters spells n in letters only, so reasons differ by more than their
// digits.
func letters(n int) string {
	s := ""
	for {
		s = string(rune('a'+n%26)) + s
		n /= 26
		if n == 0 {
			return s
		}
	}
}

// The destination's reasons are its free text: one per record, with
// e-mail addresses and ids in them. Grouped as they are, 5,000 refusals
// would make 5,000 reason groups, and the final migration keeps each
// chunk's reports on its DynamoDB item (400 KB at most). The report's
// groups stay few and small and hold no e-mail address; the rejects CSV
// still has each reason in full.
func TestRunBoundsTheDestinationsReasonGroups(t *testing.T) {
	const n = 5000
	var b strings.Builder
	b.WriteString("Record ID,First Name,Email,Phone Number,Create Date,Notes\n")
	for i := range n {
		fmt.Fprintf(&b, "%d,Ann,ann%d@x.com,,01/02/2024,\n", i+1, i)
	}
	reason := func(r *mapspec.Record) string {
		v, _ := r.Get("emails")
		return fmt.Sprintf("email %s already used by member %s (%s plan)", v.List[0], r.SourceID, letters(atoi(r.SourceID)))
	}
	tb, m := compile(t, contactsSpec, b.String())
	var rejects bytes.Buffer
	rep, err := Run(context.Background(), "contacts.csv", tb, m, Outputs{Sink: refusingSink{reason}, Rejects: &rejects}, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts.Read != n || rep.Counts.Rejected != n || rep.Counts.Migrated != 0 || !rep.Counts.Balanced() {
		t.Fatalf("counts %+v", rep.Counts)
	}
	total := 0
	for g, c := range rep.Reasons {
		total += c
		if strings.Contains(g, "@x.com") || len(g) > 200 {
			t.Errorf("reason group %q keeps the destination's text", g)
		}
	}
	if len(rep.Reasons) > MaxRefusalGroups+1 || total != n {
		t.Fatalf("%d reason groups counting %d rows, want at most %d counting %d", len(rep.Reasons), total, MaxRefusalGroups+1, n)
	}
	js, err := json.Marshal([]*Report{rep})
	if err != nil {
		t.Fatal(err)
	}
	if len(js) > 32<<10 {
		t.Fatalf("a chunk's reports take %d bytes of JSON, want at most 32 KiB", len(js))
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(rejects.Bytes(), []byte{0xEF, 0xBB, 0xBF}))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != n+1 {
		t.Fatalf("%d rejects rows, want %d", len(rows)-1, n)
	}
	for _, row := range rows[1:] {
		want := fmt.Sprintf("email %s already used by member %s (%s plan)", row[2], row[0], letters(atoi(row[0])))
		if got := row[len(row)-1]; got != "Refused by the destination: "+want {
			t.Fatalf("rejects row %q, want the destination's full reason %q", row, want)
		}
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// A row repeating the source id of a row whose record the destination
// refused is not a duplicate of a migrated record: none landed. It is
// still rejected (the old CRM has two records with one id), with a
// reason that says the earlier one was refused, whether the earlier row
// was written in an earlier batch or waits in the same one.
func TestRunSaysARepeatOfARefusedRowIsNotOfAMigratedOne(t *testing.T) {
	header := "Record ID,First Name,Email,Phone Number,Create Date,Notes\n"
	for _, batch := range []int{1, 100} {
		tb, m := compile(t, contactsSpec, header+"1,Ann,ann@x.com,,01/02/2024,\n2,Bo,bo@x.com,,01/02/2024,\n1,Annie,annie@x.com,,01/02/2024,\n")
		var rejects bytes.Buffer
		refuse1 := func(r *mapspec.Record) string {
			if r.SourceID == "1" {
				return "no room"
			}
			return ""
		}
		rep, err := Run(context.Background(), "contacts.csv", tb, m, Outputs{Sink: refusingSink{refuse1}, Rejects: &rejects, Seen: NewSeen()}, Options{Workers: 1, BatchSize: batch})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Counts.Migrated != 1 || rep.Counts.Rejected != 2 || !rep.Counts.Balanced() {
			t.Fatalf("batch %d: counts %+v", batch, rep.Counts)
		}
		if rep.Reasons["source id: "+duplicateOfRefused] != 1 || rep.Reasons["source id: "+duplicate] != 0 || strings.Contains(rejects.String(), "which is migrated") {
			t.Errorf("batch %d: reasons %v, rejects:\n%s", batch, rep.Reasons, rejects.String())
		}
	}
}

// A refused row is a rejected row: the values left out of it and its
// warnings are no longer counted among the migrated records'.
func TestRunDoesNotCountARefusedRowLeftOutOrWarned(t *testing.T) {
	header := "Record ID,First Name,Email,Phone Number,Create Date,Notes\n"
	tb, m := compile(t, contactsSpec, header+"1,Ann,ann@x.com,not a phone,01/02/2024,\n2,Bo,bo@x.com,also bad,01/02/2024,\n")
	refuse1 := func(r *mapspec.Record) string {
		if r.SourceID == "1" {
			return "no room"
		}
		return ""
	}
	var review bytes.Buffer
	rep, err := Run(context.Background(), "contacts.csv", tb, m, Outputs{Sink: refusingSink{refuse1}, Review: &review}, Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts.Migrated != 1 || rep.Counts.Rejected != 1 {
		t.Fatalf("counts %+v", rep.Counts)
	}
	if rep.Counts.LeftOut != 1 || rep.LeftOut["phones"] != 1 || rep.Counts.Warned != 1 {
		t.Fatalf("counts %+v, left out %v: want only the migrated row's", rep.Counts, rep.LeftOut)
	}
}
