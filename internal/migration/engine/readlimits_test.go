package engine

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/tabular"
)

// TestReadLimitsReachTheReader: the XLSX limits a Lambda is wired with
// (Service.ReadLimits, from its memory) are the ones its reads use. A
// workbook with 3 MB of text is refused, with the way out, by a service
// wired for 8 MB of memory, and proposed by one wired for 64 MB.
func TestReadLimitsReachTheReader(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	if err := f.SetSheetRow("Sheet1", "A1", &[]any{"Id", "Email", "Notes"}); err != nil {
		t.Fatal(err)
	}
	for i := range 3000 {
		note := make([]byte, 1024)
		for j := range note {
			note[j] = byte('a' + rng.IntN(26))
		}
		if err := f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", i+2), &[]any{i + 1, fmt.Sprintf("c%d@x.com", i), string(note)}); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}

	store := newMemStore()
	svc, _ := newService(store)
	svc.Files = objects{}
	ctx := context.Background()
	id := create(t, svc, "acme").Migration.ID
	uploaded(t, store, id, cutover.File{ID: "f1", Name: "contacts.xlsx", Key: "k1", Purpose: cutover.PurposeTest, Round: 1, Complete: true})
	files(svc)["k1"] = buf.String()
	m, _ := store.GetMigration(ctx, id)

	svc.ReadLimits = tabular.XLSXLimitsForMemory(8 << 20)
	_, err := svc.Propose(ctx, m)
	if msg := cutover.ErrorMessage(err); !strings.Contains(msg, "contacts.xlsx is too large to read as an XLSX workbook here: its text is more than 2 MB") ||
		!strings.Contains(msg, "Save each sheet as CSV (UTF-8)") {
		t.Fatalf("8 MB of memory: %v", err)
	}

	svc.ReadLimits = tabular.XLSXLimitsForMemory(64 << 20)
	p, err := svc.Propose(ctx, m)
	if err != nil {
		t.Fatalf("64 MB of memory: %v", err)
	}
	if len(p.Files) != 1 || p.Files[0].FileName != "contacts.xlsx" {
		t.Fatalf("64 MB of memory: files %+v, refused %+v", p.Files, p.Refused)
	}
}
