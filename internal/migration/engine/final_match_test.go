package engine

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
)

const (
	matchCompanies = "Record ID,Company name,Company Domain Name,Industry\nc1,Acme Ltd,acme.test,Retail\nc2,Globex,globex.test,Energy\n"
	matchContacts  = "Record ID,First Name,Last Name,Email,Company Name,Website,Street,Postcode,Notes\n" +
		"1,Ann,Lee,ann@x.com,Acme Ltd,acme.test,1 High St,AB1 2CD,VIP\n2,Bo,Ray,bo@x.com,Globex,globex.test,2 Low Rd,EF3 4GH,call back\n"
	// The final extract: the contacts' columns, in another order and case,
	// under another file name, with one more contact.
	matchFinal = "record id,First Name,Last Name,Email,Company Name,Website,Street,Postcode,Notes\n" +
		"1,Ann,Lee,ann@x.com,Acme Ltd,acme.test,1 High St,AB1 2CD,VIP\n2,Bo,Ray,bo@x.com,Globex,globex.test,2 Low Rd,EF3 4GH,call back\n" +
		"3,Cy,Fox,cy@x.com,Acme Ltd,acme.test,3 Mill Ln,IJ5 6KL,new\n"
)

// twoEntitySignedOff is a migration whose signed-off test extract is a
// companies file (mapped first) and a contacts file whose columns the
// companies entry also fits, awaiting its final extract.
func twoEntitySignedOff(t *testing.T, svc *Service, store *memStore, tenant string) string {
	t.Helper()
	ctx := context.Background()
	id := create(t, svc, tenant).Migration.ID
	uploaded(t, store, id, cutover.File{ID: "fco", Name: "companies.csv", Key: "k-co-" + id, Purpose: cutover.PurposeTest, Round: 1, Complete: true})
	uploaded(t, store, id, cutover.File{ID: "fct", Name: "contacts.csv", Key: "k-ct-" + id, Purpose: cutover.PurposeTest, Round: 1, Complete: true})
	files(svc)["k-co-"+id], files(svc)["k-ct-"+id] = matchCompanies, matchContacts
	m, _ := store.GetMigration(ctx, id)
	if _, err := svc.Submit(ctx, m); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Map(ctx, migration.StepInput{MigrationID: id, Round: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.TestMigrate(ctx, migration.StepInput{MigrationID: id, Round: 1}); err != nil {
		t.Fatal(err)
	}
	m, _ = store.GetMigration(ctx, id)
	m.Status, m.Pending = cutover.StatusAwaitingFinal, &cutover.PendingTask{Kind: cutover.TaskFinal, Token: "tok", Round: 1}
	m.SignOff = &cutover.SignOffRecord{Round: 1, MappingVersion: m.MappingVersion, MappingHash: m.MappingHash}
	if err := store.SaveMigration(ctx, m); err != nil {
		t.Fatal(err)
	}
	return id
}

func finalUpload(t *testing.T, svc *Service, store *memStore, id, fileID, name, body string) {
	t.Helper()
	uploaded(t, store, id, cutover.File{ID: fileID, Name: name, Key: "k-" + fileID + "-" + id, Size: int64(len(body)), Purpose: cutover.PurposeFinal, Round: 1, Complete: true})
	files(svc)["k-"+fileID+"-"+id] = body
}

// A final extract under a new name is read with the signed-off entry of the
// test file it has the identity of (its header), not with the first entry
// whose columns fit (the companies file's, mapped first): LIVE gets
// contacts, with every field the contacts mapping fills.
func TestARenamedFinalExtractIsReadWithItsOwnSignedOffEntry(t *testing.T) {
	svc, store, live := finalService(t, 0)
	ctx := context.Background()
	id := twoEntitySignedOff(t, svc, store, "acme")
	finalUpload(t, svc, store, id, "fcof", "companies-final.csv", matchCompanies)
	finalUpload(t, svc, store, id, "ffin", "crm-export-final.csv", matchFinal)
	m, _ := store.GetMigration(ctx, id)
	if _, err := svc.SubmitFinal(ctx, m, FinalInput{GoLiveAt: now0.Add(time.Hour).Format(time.RFC3339), FileIDs: []string{"fcof", "ffin"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := runFinal(t, svc, id); err != nil {
		t.Fatal(err)
	}
	var entities, postcodes []string
	for _, r := range live.records {
		if !strings.HasPrefix(r.SourceID, "c") { // the rows of crm-export-final.csv
			entities = append(entities, r.Entity)
			postcodes = append(postcodes, r.Fields["postcode"])
		}
	}
	sort.Strings(entities)
	sort.Strings(postcodes)
	if strings.Join(entities, ",") != "contact,contact,contact" || strings.Join(postcodes, ",") != "AB1 2CD,EF3 4GH,IJ5 6KL" {
		t.Fatalf("LIVE got entities %v with postcodes %v; want three contacts with their postcodes", entities, postcodes)
	}
}

// A final table that matches no signed-off entry, or two equally, is
// refused when the final extract is submitted, before go-live, naming the
// file and the candidates; the customer's confirmation settles a tie, and
// what is stored is what every final step reads with.
func TestFinalTablesMatchingNoEntryOrTwoAreRefusedBeforeGoLive(t *testing.T) {
	svc, store, _ := finalService(t, 0)
	ctx := context.Background()
	id := twoEntitySignedOff(t, svc, store, "acme")
	goLive := now0.Add(time.Hour).Format(time.RFC3339)
	finalUpload(t, svc, store, id, "fodd", "orders.csv", "Order No,Total\n1,10\n")
	m, _ := store.GetMigration(ctx, id)
	_, err := svc.SubmitFinal(ctx, m, FinalInput{GoLiveAt: goLive, FileIDs: []string{"fodd"}})
	if msg := cutover.ErrorMessage(err); cutover.ErrorCode(err) != cutover.EINVALID || !strings.Contains(msg, "orders.csv matches no signed-off file") ||
		!strings.Contains(msg, "contacts.csv") || !strings.Contains(msg, "companies.csv") {
		t.Fatalf("a table no entry fits: %v", err)
	}
	if m, _ := store.GetMigration(ctx, id); m.Status != cutover.StatusAwaitingFinal || len(m.FinalMatches) != 0 {
		t.Fatalf("refused, yet %s with matches %+v", m.Status, m.FinalMatches)
	}

	// Two test files with the same header: the final one matches both.
	svc2, store2, _ := finalService(t, 0)
	id2 := create(t, svc2, "globex").Migration.ID
	for _, f := range []string{"fa", "fb"} {
		uploaded(t, store2, id2, cutover.File{ID: f, Name: f + ".csv", Key: "k-" + f, Purpose: cutover.PurposeTest, Round: 1, Complete: true})
		files(svc2)["k-"+f] = "Id,Email,Name\n1,a@x.com,Ann\n"
	}
	m2, _ := store2.GetMigration(ctx, id2)
	if _, err := svc2.Submit(ctx, m2); err != nil {
		t.Fatal(err)
	}
	if _, err := svc2.Map(ctx, migration.StepInput{MigrationID: id2, Round: 1}); err != nil {
		t.Fatal(err)
	}
	m2, _ = store2.GetMigration(ctx, id2)
	m2.Status, m2.Pending = cutover.StatusAwaitingFinal, &cutover.PendingTask{Kind: cutover.TaskFinal, Token: "tok", Round: 1}
	m2.SignOff = &cutover.SignOffRecord{Round: 1, MappingVersion: m2.MappingVersion, MappingHash: m2.MappingHash}
	_ = store2.SaveMigration(ctx, m2)
	finalUpload(t, svc2, store2, id2, "fz", "export.csv", "Id,Email,Name\n1,a@x.com,Ann\n")
	m2, _ = store2.GetMigration(ctx, id2)
	view, err := svc2.MatchFinal(ctx, m2, nil)
	if err != nil || len(view.Tables) != 1 || view.Tables[0].How != MatchAmbiguous || view.Tables[0].Entry != "" {
		t.Fatalf("match view %+v: %v", view, err)
	}
	_, err = svc2.SubmitFinal(ctx, m2, FinalInput{GoLiveAt: goLive, FileIDs: []string{"fz"}})
	if msg := cutover.ErrorMessage(err); cutover.ErrorCode(err) != cutover.EINVALID || !strings.Contains(msg, "export.csv matches 2 signed-off files") ||
		!strings.Contains(msg, "fa.csv") || !strings.Contains(msg, "fb.csv") {
		t.Fatalf("a table two entries fit: %v", err)
	}
	if _, err := svc2.SubmitFinal(ctx, m2, FinalInput{GoLiveAt: goLive, FileIDs: []string{"fz"}, Matches: []MatchChoice{{FileID: "fz", Entry: "nope"}}}); cutover.ErrorCode(err) != cutover.EINVALID {
		t.Fatalf("a choice of no entry: %v", err)
	}
	if _, err := svc2.SubmitFinal(ctx, m2, FinalInput{GoLiveAt: goLive, FileIDs: []string{"fz"}, Matches: []MatchChoice{{FileID: "fz", Entry: "fb"}}}); err != nil {
		t.Fatal(err)
	}
	m2, _ = store2.GetMigration(ctx, id2)
	if len(m2.FinalMatches) != 1 || namedMatches(m2)[0] != (cutover.FinalMatch{FileID: "fz", FileName: "export.csv", Table: "fz", Entry: "fb", Entity: "contact", Confirmed: true}) {
		t.Fatalf("stored matches %+v", m2.FinalMatches)
	}
}

// The header signature ignores case, spaces, a BOM and column order, and
// keeps numbered repeated headers apart.
func TestHeaderSignatureNormalises(t *testing.T) {
	a := HeaderSignature([]string{"\ufeffRecord ID", "First  Name", "Email", "Email (2)"})
	if b := HeaderSignature([]string{"email", "record id", " first name ", "Email (2)"}); a != b {
		t.Fatal("the same columns, normalised, sign differently")
	}
	if c := HeaderSignature([]string{"Record ID", "First Name", "Email"}); a == c {
		t.Fatal("a header without the repeated column signs the same")
	}
}
