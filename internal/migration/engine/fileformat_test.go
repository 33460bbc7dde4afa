package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"golang.org/x/text/encoding/charmap"
)

// TestFileFormatChosenByTheCustomer: a file whose code page detection
// cannot be sure of is refused in the proposal with the guess and its
// alternatives shown, never garbled; once the customer chooses the
// encoding and delimiter, the proposal reads the file with them (and says
// so), and choices outside the supported set are refused with a message.
func TestFileFormatChosenByTheCustomer(t *testing.T) {
	store := newMemStore()
	svc, _ := newService(store)
	svc.Files = objects{}
	ctx := context.Background()
	c := create(t, svc, "acme")
	id := c.Migration.ID
	uploaded(t, store, id, cutover.File{ID: "f1", Name: "kontakty.csv", Key: "k1", Purpose: cutover.PurposeTest, Round: 1, Complete: true})
	// One short upper-case name: windows-1251, KOI8-R and ISO-8859-5 all
	// read it as a plausible word.
	raw, err := charmap.Windows1251.NewEncoder().String("Email;Name\nann@example.com;ОЛЕГ\n")
	if err != nil {
		t.Fatal(err)
	}
	files(svc)["k1"] = raw
	m, _ := store.GetMigration(ctx, id)
	if _, err := svc.Propose(ctx, m); cutover.ErrorCode(err) != cutover.ENOTFOUND || !strings.Contains(cutover.ErrorMessage(err), "cannot be told for sure") {
		t.Fatalf("uncertain file: %v", err)
	}
	if _, err := svc.SetFileFormat(ctx, m, "f1", FileFormatInput{Delimiter: ","}); err != nil {
		t.Fatal(err)
	}
	// With another file that maps, the uncertain one is listed as refused
	// with the guess and its alternatives.
	uploaded(t, store, id, cutover.File{ID: "f2", Name: "ok.csv", Key: "k2", Purpose: cutover.PurposeTest, Round: 1, Complete: true})
	files(svc)["k2"] = "Email,Name\nbo@example.com,Bo\n"
	m, _ = store.GetMigration(ctx, id)
	p, err := svc.Propose(ctx, m)
	if err != nil || len(p.Refused) != 1 || p.Refused[0].Format == nil || len(p.Refused[0].Format.Alternatives) == 0 || p.Refused[0].Format.Confidence >= 0.5 {
		t.Fatalf("refused %+v %v", p, err)
	}

	for _, bad := range []FileFormatInput{{Encoding: "ebcdic"}, {Delimiter: "::"}, {Encoding: strings.Repeat("x", 40)}} {
		if _, err := svc.SetFileFormat(ctx, m, "f1", bad); cutover.ErrorCode(err) != cutover.EINVALID {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if _, err := svc.SetFileFormat(ctx, m, "nope", FileFormatInput{}); cutover.ErrorCode(err) != cutover.ENOTFOUND {
		t.Errorf("unknown file: %v", err)
	}
	f, err := svc.SetFileFormat(ctx, m, "f1", FileFormatInput{Encoding: "CP1251", Delimiter: ";"})
	if err != nil || f.Encoding != "windows-1251" || f.Delimiter != ";" {
		t.Fatalf("set: %+v %v", f, err)
	}
	m, _ = store.GetMigration(ctx, id)
	if got := m.FileByID("f1"); got.Encoding != "windows-1251" || got.Delimiter != ";" {
		t.Fatalf("stored %+v", got)
	}
	p, err = svc.Propose(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	pf := p.Files[0]
	if pf.Format.Encoding != "windows-1251" || pf.Format.Confidence != 1 || pf.Format.Delimiter != ";" || !pf.Format.EncodingChosen || !pf.Format.DelimiterChosen {
		t.Fatalf("format %+v", pf.Format)
	}
	var names []string
	for _, col := range pf.Columns {
		names = append(names, col.Column+"="+strings.Join(col.Samples, "|"))
	}
	if got := strings.Join(names, ","); got != "Email=ann@example.com,Name=ОЛЕГ" {
		t.Fatalf("columns %s", got)
	}
}
