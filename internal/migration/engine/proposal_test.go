package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/migration"
)

func TestProposeLaysOutEveryColumn(t *testing.T) {
	store := newMemStore()
	svc, _ := newService(store)
	svc.Files = objects{}
	ctx := context.Background()
	c := create(t, svc, "acme")
	id := c.Migration.ID
	m, _ := store.GetMigration(ctx, id)
	if _, err := svc.Propose(ctx, m); cutover.ErrorCode(err) != cutover.ENOTFOUND {
		t.Fatalf("before any upload: %v", err)
	}
	uploaded(t, store, id, cutover.File{ID: "f1", Name: "c.csv", Key: "k1", Purpose: cutover.PurposeTest, Round: 1, Complete: true})
	files(svc)["k1"] = "Id,Email,Name,Shoe Size\n1,a@x.com,Ann,5\n2,b@x.com,Bo,\n3,a@x.com,Cy,7\n4,d@x.com,Di,8\n"
	m, _ = store.GetMigration(ctx, id)
	p, err := svc.Propose(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Files) != 1 || p.Files[0].FileID != "f1" || p.Files[0].Entity != "contact" || len(p.Files[0].Columns) != 4 {
		t.Fatalf("files %+v", p.Files)
	}
	cols := map[string]ProposedColumn{}
	for _, c := range p.Files[0].Columns {
		cols[c.Column] = c
	}
	if e := cols["Email"]; e.Target != "emails" || e.Confidence <= 0 || strings.Join(e.Samples, ",") != "a@x.com,b@x.com,d@x.com" {
		t.Fatalf("Email: %+v (three distinct samples, in order)", e)
	}
	if !cols["Id"].SourceID || cols["Shoe Size"].Target != "" || !strings.Contains(cols["Shoe Size"].Reason, "will not migrate") {
		t.Fatalf("Id %+v, Shoe Size %+v", cols["Id"], cols["Shoe Size"])
	}
	if !strings.Contains(string(p.Mapping), `"entity":"contact"`) || len(p.Targets["contact"]) == 0 || len(p.Targets["property"]) == 0 {
		t.Fatalf("mapping %s, targets %d entities", p.Mapping, len(p.Targets))
	}

	// A saved revision is what the next round uses, so it is what is shown.
	draft := strings.Replace(string(p.Mapping), `"target":"full_name"`, `"target":"notes"`, 1)
	if _, err := svc.SaveMapping(ctx, m, []byte(draft)); err != nil {
		t.Fatal(err)
	}
	m, _ = store.GetMigration(ctx, id)
	p, err = svc.Propose(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range p.Files[0].Columns {
		if c.Column == "Name" && (c.Target != "notes" || c.Reason != "Your saved mapping." || c.Confidence != 1) {
			t.Fatalf("the revision is not shown as the customer's own: %+v", c)
		}
	}
}

// uploadsFake is a migration.Uploads built from function fields.
type uploadsFake struct {
	PresignFn  func(key, uploadID string, numbers []int) ([]string, error)
	CompleteFn func(key, uploadID string) (int64, error)
	RemoveFn   func(key, uploadID string) error
	ListFn     func(key, uploadID string) ([]migration.StoredPart, error)
}

func (u uploadsFake) Begin(context.Context, string, string) (string, error) { return "up-1", nil }
func (u uploadsFake) PresignParts(_ context.Context, key, uploadID string, numbers []int, _ time.Duration) ([]string, error) {
	return u.PresignFn(key, uploadID, numbers)
}

func (u uploadsFake) Complete(_ context.Context, key, uploadID string, _ []migration.Part) (int64, error) {
	if u.CompleteFn == nil {
		return 0, nil
	}
	return u.CompleteFn(key, uploadID)
}

func (u uploadsFake) Remove(_ context.Context, key, uploadID string) error {
	return u.RemoveFn(key, uploadID)
}

func (u uploadsFake) ListParts(_ context.Context, key, uploadID string) ([]migration.StoredPart, error) {
	return u.ListFn(key, uploadID)
}

func TestSignPartsPresignsOnlyPartsOfAnOpenUpload(t *testing.T) {
	store := newMemStore()
	svc, _ := newService(store)
	svc.Uploads = uploadsFake{PresignFn: func(key, uploadID string, numbers []int) ([]string, error) {
		var out []string
		for _, n := range numbers {
			out = append(out, fmt.Sprintf("https://s3/%s?uploadId=%s&partNumber=%d", key, uploadID, n))
		}
		return out, nil
	}}
	ctx := context.Background()
	id := create(t, svc, "acme").Migration.ID
	uploaded(t, store, id, cutover.File{ID: "f1", Name: "big.csv", Key: "k1", UploadID: "up-1", Size: 20 << 20, Purpose: cutover.PurposeTest, Round: 1})
	uploaded(t, store, id, cutover.File{ID: "f2", Name: "done.csv", Key: "k2", Size: 10, Purpose: cutover.PurposeTest, Round: 1, Complete: true})
	uploaded(t, store, id, cutover.File{ID: "f3", Name: "final.csv", Key: "k3", UploadID: "up-3", Size: 10, Purpose: cutover.PurposeFinal, Round: 1})
	m, _ := store.GetMigration(ctx, id)
	parts, err := svc.SignParts(ctx, m, "f1", []int{3, 1})
	if err != nil || len(parts) != 2 || parts[0].PartNumber != 3 || parts[0].URL != "https://s3/k1?uploadId=up-1&partNumber=3" || parts[1].PartNumber != 1 {
		t.Fatalf("parts %+v, %v", parts, err)
	}
	for _, c := range []struct {
		file    string
		numbers []int
		code    string
	}{
		{"f1", []int{4}, cutover.EINVALID}, // 20 MiB in 8 MiB parts: 1 to 3
		{"f1", nil, cutover.EINVALID},
		{"f2", []int{1}, cutover.ECONFLICT},
		{"f3", []int{1}, cutover.ECONFLICT}, // a final upload before sign-off: not open
		{"f9", []int{1}, cutover.ENOTFOUND},
	} {
		if _, err := svc.SignParts(ctx, m, c.file, c.numbers); cutover.ErrorCode(err) != c.code {
			t.Errorf("%s %v: %v, want %s", c.file, c.numbers, err, c.code)
		}
	}
}

// A plan carries the first parts' URLs only; a large file's others are
// asked for as the upload goes.
func TestUploadPlanSignsTheFirstPartsOnly(t *testing.T) {
	store := newMemStore()
	svc, _ := newService(store)
	var signed []int
	svc.Uploads = uploadsFake{PresignFn: func(_, _ string, numbers []int) ([]string, error) {
		signed = append(signed, numbers...)
		return make([]string, len(numbers)), nil
	}}
	ctx := context.Background()
	m := create(t, svc, "acme").Migration
	plan, err := svc.StartUpload(ctx, m, migration.UploadInput{FileName: "huge.csv", Size: 2 << 30, Purpose: cutover.PurposeTest})
	if err != nil || plan.PartSize != migration.MinPartSize || len(plan.Parts) != migration.PlanSignedParts || len(signed) != migration.PlanSignedParts {
		t.Fatalf("plan of %d parts of %d bytes (%d signed), %v", len(plan.Parts), plan.PartSize, len(signed), err)
	}
	m, _ = store.GetMigration(ctx, m.ID)
	rest, err := svc.SignParts(ctx, m, plan.FileID, []int{101, 256})
	if err != nil || len(rest) != 2 || rest[1].PartNumber != 256 {
		t.Fatalf("the later parts: %+v %v", rest, err)
	}
	if _, err := svc.SignParts(ctx, m, plan.FileID, []int{257}); cutover.ErrorCode(err) != cutover.EINVALID {
		t.Fatalf("part 257 of a 256-part file: %v", err)
	}
}

// A file that cannot be migrated is listed with why, apart from the
// mapping, which stays valid: the mapping screen never breaks on it.
func TestProposeListsUnusableFilesApart(t *testing.T) {
	svc, store, id := proposing(t)
	ctx := context.Background()
	for i, f := range []struct{ name, body string }{
		{"c.csv", "Id,Email\n1,a@x.com\n"},
		{"c.pdf", "%PDF-1.5\n%\xe2\xe3\xcf\xd3\n"},
		{"shoes.csv", "Shoe Size,Lace Colour\n5,red\n"},
	} {
		key := fmt.Sprintf("k%d", i)
		uploaded(t, store, id, cutover.File{ID: fmt.Sprintf("f%d", i), Name: f.name, Key: key, Purpose: cutover.PurposeTest, Round: 1, Complete: true})
		files(svc)[key] = f.body
	}
	m, _ := store.GetMigration(ctx, id)
	p, err := svc.Propose(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Files) != 1 || p.Files[0].FileName != "c.csv" {
		t.Fatalf("files %+v", p.Files)
	}
	if len(p.Refused) != 2 || p.Refused[0].FileID != "f1" || !strings.Contains(p.Refused[0].Reason, "c.pdf: this is a PDF document") ||
		p.Refused[1].FileName != "shoes.csv" || !strings.Contains(p.Refused[1].Reason, "none of its columns") {
		t.Fatalf("refused %+v", p.Refused)
	}
	if _, err := mapspec.Parse(p.Mapping); err != nil {
		t.Fatalf("the proposed mapping does not parse: %v", err)
	}

	// With only unusable files there is nothing to map, and the answer says why.
	cur := store.migs[id]
	cur.Files = cur.Files[1:]
	store.migs[id] = cur
	m, _ = store.GetMigration(ctx, id)
	_, err = svc.Propose(ctx, m)
	if cutover.ErrorCode(err) != cutover.ENOTFOUND || !strings.Contains(cutover.ErrorMessage(err), "c.pdf: this is a PDF document") {
		t.Fatalf("only unusable files: %v", err)
	}
}

// The site's column table is exactly what the proposed mapping does: a
// HubSpot file with columns the preset does not read shows them mapped by
// the suggestions, as the mapping maps them.
func TestProposalColumnsAreWhatTheMappingDoes(t *testing.T) {
	store := newMemStore()
	svc, _ := newService(store)
	svc.Files = objects{}
	ctx := context.Background()
	c := create(t, svc, "acme")
	id := c.Migration.ID
	uploaded(t, store, id, cutover.File{ID: "f1", Name: "h.csv", Key: "k1", Purpose: cutover.PurposeTest, Round: 1, Complete: true})
	files(svc)["k1"] = "Record ID,First Name,Last Name,Email,Street,Postcode,Notes,Lifecycle Stage\n1,Ann,Lee,a@x.com,1 High St,LS1 4AP,vip,lead\n2,Bo,Ng,b@x.com,2 Low Rd,M1 1AA,,customer\n"
	m, _ := store.GetMigration(ctx, id)
	p, err := svc.Propose(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := mapspec.Parse(p.Mapping)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, f := range spec.Files[0].Fields {
		for _, col := range f.SourceColumns() {
			if _, ok := want[col]; !ok {
				want[col] = f.Target
			}
		}
	}
	if p.Files[0].Preset != "hubspot-contacts" || want["Street"] != "address_line1" || want["Notes"] != "notes" {
		t.Fatalf("preset %q, mapping %v", p.Files[0].Preset, want)
	}
	for _, col := range p.Files[0].Columns {
		if col.Target != want[col.Column] {
			t.Errorf("the page shows %s -> %q, the mapping %q", col.Column, col.Target, want[col.Column])
		}
	}
}

// A saved mapping is shown as it reads the file: a column it reads under
// an alias, or names people inline from, goes where the mapping sends it
// (not "will not migrate"), and an id column known by an alias is the id.
func TestASavedMappingIsShownAsItReadsTheFile(t *testing.T) {
	svc, store, id := proposing(t)
	ctx := context.Background()
	uploaded(t, store, id, cutover.File{ID: "f1", Name: "t.csv", Key: "k1", Purpose: cutover.PurposeTest, Round: 1, Complete: true})
	files(svc)["k1"] = "Tenancy Ref,Property Ref,Tenant Name(s),Tenant Email,Tenancy Start\nTN-1,PR-1,Ann Lee,ann@x.com,2024-01-01\n"
	m, _ := store.GetMigration(ctx, id)
	saved := `{"version":1,"files":[{"name":"f1","entity":"tenancy","sourceId":["Tenancy ID"],` +
		`"aliases":{"Tenancy ID":["Tenancy Ref"],"Property ID":["Property Ref"],"Start Date":["Tenancy Start"]},` +
		`"inline":[{"target":"tenants","name":"Tenant Name(s)","email":"Tenant Email"}],` +
		`"fields":[{"target":"property","column":"Property ID"},{"target":"start_date","column":"Start Date"}]}]}`
	if _, err := svc.SaveMapping(ctx, m, []byte(saved)); err != nil {
		t.Fatal(err)
	}
	m, _ = store.GetMigration(ctx, id)
	p, err := svc.Propose(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"Tenancy Ref": "", "Property Ref": "property", "Tenant Name(s)": "tenants", "Tenant Email": "tenants", "Tenancy Start": "start_date"}
	for _, c := range p.Files[0].Columns {
		if c.Target != want[c.Column] || c.SourceID != (c.Column == "Tenancy Ref") || strings.Contains(c.Reason, "will not migrate") && c.Target != "" {
			t.Errorf("column %q shown as %+v; the mapping sends it to %q", c.Column, c, want[c.Column])
		}
	}
}

// proposing is a service with files in memory and a new migration of
// tenant acme: its id.
func proposing(t *testing.T) (*Service, *memStore, string) {
	t.Helper()
	store := newMemStore()
	svc, _ := newService(store)
	svc.Files = objects{}
	return svc, store, create(t, svc, "acme").Migration.ID
}
