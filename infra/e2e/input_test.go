package e2e

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startUpload asks for an upload plan and returns the reply, for inputs
// the API should refuse.
func (a api) startUpload(id, key, name, contentType string, size int) reply {
	a.t.Helper()
	return a.do("POST", "/migrations/"+id+"/uploads", key, map[string]any{"fileName": name, "size": size, "contentType": contentType, "purpose": "test"})
}

// tryUpload uploads content as the browser does and returns the file's id
// and the reply to completing it, which may be a refusal.
func (a api) tryUpload(id, key, name string, content []byte) (string, reply) {
	a.t.Helper()
	var plan struct {
		FileID string `json:"fileId"`
		Parts  []struct {
			URL string `json:"url"`
		} `json:"parts"`
	}
	a.must(http.StatusCreated, "POST", "/migrations/"+id+"/uploads", key,
		map[string]any{"fileName": name, "size": len(content), "contentType": "application/octet-stream", "purpose": "test"}).decode(a.t, &plan)
	req, err := http.NewRequest(http.MethodPut, plan.Parts[0].URL, bytes.NewReader(content))
	if err != nil {
		a.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		a.t.Fatalf("PUT part: %d", resp.StatusCode)
	}
	r := a.do("POST", fmt.Sprintf("/migrations/%s/uploads/%s/complete", id, plan.FileID), key,
		map[string]any{"parts": []map[string]any{{"partNumber": 1, "etag": resp.Header.Get("ETag")}}})
	return plan.FileID, r
}

// appError asserts the service's own error shape, {"error":{"code","message"}},
// with the status and a message containing want.
func appError(t *testing.T, what string, r reply, status int, want string) {
	t.Helper()
	var body struct {
		Error *struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || body.Error == nil || body.Error.Code == "" {
		t.Fatalf("%s: %d %s: not the {\"error\":{\"code\",\"message\"}} shape", what, r.Status, r.Body)
	}
	if r.Status != status || !strings.Contains(body.Error.Message, want) {
		t.Fatalf("%s: %d %q, want %d with %q", what, r.Status, body.Error.Message, status, want)
	}
}

type fileView struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Complete bool   `json:"complete"`
	Refused  string `json:"refused"`
}

func (a api) files(id, key string) map[string]fileView {
	a.t.Helper()
	var v struct {
		Migration struct{ Files []fileView } `json:"migration"`
	}
	a.must(http.StatusOK, "GET", "/migrations/"+id, key, nil).decode(a.t, &v)
	out := map[string]fileView{}
	for _, f := range v.Migration.Files {
		out[f.ID] = f
	}
	return out
}

// A PDF, random bytes named .zip and a zip of a CSV are refused when their
// upload completes, naming the file and what it is; bad names, content
// types and bodies get a 400 in the service's shape; a file can be removed
// before submitting; a round with a good file then completes.
func TestBadFilesAndInputAreRefusedClearly(t *testing.T) {
	a := api{t: t, base: st.APIURL}
	ops := st.MintOpsToken("ana@vendor.test", time.Hour)

	r := a.do("POST", "/ops/migrations", ops, map[string]any{"tenantId": "inputs", "customerName": "Acme\u202Egnp.exe", "customerEmail": "it@inputs.test", "coordinatorEmail": "boss@inputs.test"})
	appError(t, "a customer name with a bidi override", r, http.StatusBadRequest, "invisible or control character (U+202E")
	id, key := a.create(ops, "inputs", "Inputs Ltd", "inputs.test", "boss")

	pdf := []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n")
	pdfID, r := a.tryUpload(id, key, "contacts.pdf", pdf)
	appError(t, "a PDF", r, http.StatusBadRequest, "contacts.pdf: this is a PDF document, not a spreadsheet export")

	random := make([]byte, 4096)
	rand.New(rand.NewSource(10)).Read(random)
	_, r = a.tryUpload(id, key, "export.zip", random)
	appError(t, "random bytes named .zip", r, http.StatusBadRequest, "export.zip: this is binary data, not text")

	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.Create("contacts.csv")
	_, _ = w.Write([]byte("Id,Email\n1,a@x.com\n"))
	_ = zw.Close()
	_, r = a.tryUpload(id, key, "contacts.zip", zb.Bytes())
	appError(t, "a zip of a CSV", r, http.StatusBadRequest, "contacts.zip is not a readable XLSX workbook: it is a zip archive of other files")

	if f := a.files(id, key)[pdfID]; f.Complete || !strings.Contains(f.Refused, "PDF document") {
		t.Fatalf("the PDF on the migration: %+v", f)
	}

	for _, c := range []struct{ name, ct, want string }{
		{"..", "text/csv", "is not a file's name"},
		{"../../x.csv", "text/csv", "path separator"},
		{"contacts\u202Evsc.exe", "text/csv", "U+202E"},
		{"c.csv", "text/csv\r\nX-Amz-Acl: public-read", "printable ASCII only"},
	} {
		appError(t, fmt.Sprintf("upload %q %q", c.name, c.ct), a.startUpload(id, key, c.name, c.ct, 10), http.StatusBadRequest, c.want)
	}
	appError(t, "data after the JSON body", a.raw("PUT", "/migrations/"+id+"/checklist", key, `{"counts":{"contact":1}} {"counts":{"contact":2}}`),
		http.StatusBadRequest, "data after the JSON value")

	// Remove: a refused file, a complete one and an unfinished one.
	good := []byte("Id,Email,First Name,Last Name\n1,ann@x.com,Ann,Lee\n2,bo@x.com,Bo,Ng\n")
	extraID, r := a.tryUpload(id, key, "extra.csv", good)
	if r.Status != http.StatusOK {
		t.Fatalf("a CSV: %d %s", r.Status, r.Body)
	}
	var plan struct{ FileID string }
	a.must(http.StatusCreated, "POST", "/migrations/"+id+"/uploads", key, map[string]any{"fileName": "half.csv", "size": 100, "contentType": "text/csv", "purpose": "test"}).decode(t, &plan)
	for _, f := range []string{pdfID, extraID, plan.FileID} {
		a.must(http.StatusOK, "DELETE", "/migrations/"+id+"/uploads/"+f, key, nil)
		if _, still := a.files(id, key)[f]; still {
			t.Fatalf("file %s is still listed after its removal", f)
		}
	}
	appError(t, "removing it again", a.do("DELETE", "/migrations/"+id+"/uploads/"+extraID, key, nil), http.StatusNotFound, "No upload")
	audit := a.migration(id, key).Audit
	removed, refused := 0, 0
	for _, e := range audit {
		switch e.Action {
		case "file.removed":
			removed++
		case "file.refused":
			refused++
		}
	}
	if removed != 3 || refused != 3 {
		t.Fatalf("audit has %d file.removed and %d file.refused, want 3 and 3", removed, refused)
	}

	// The round runs on the good file and completes.
	goodID := a.upload(id, key, "contacts.csv", "test", good)
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
	v := a.waitStatus(id, key, "awaiting_review", 1)
	if v.Migration.Test == nil || v.Migration.Test.Read != 2 || v.Migration.Test.Migrated != 2 {
		t.Fatalf("test counts %+v", v.Migration.Test)
	}
	appError(t, "removing a submitted round's file", a.do("DELETE", "/migrations/"+id+"/uploads/"+goodID, key, nil), http.StatusConflict, "already submitted")
}

// raw sends a body as it is, for bodies a JSON encoder would not write.
func (a api) raw(method, path, bearer, body string) reply {
	a.t.Helper()
	req, err := http.NewRequest(method, a.base+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{Status: resp.StatusCode, Body: b}
}

// What the gateway answers itself, before any function runs, has its own
// shape, {"message": "..."}, which cannot be changed on an HTTP API. The
// README promises the service's shape for everything else and names these
// answers exactly; this holds it to that.
func TestGatewayAnswersAreTheOnesTheReadmeNames(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	a := api{t: t, base: st.APIURL}
	for _, c := range []struct {
		what, method, path, bearer string
		status                     int
	}{
		{"an ops route without a token", "GET", "/ops/migrations", "", http.StatusUnauthorized},
		{"an ops route with a forged token", "GET", "/ops/migrations", "not-a-jwt", http.StatusUnauthorized},
		{"an unknown route", "GET", "/no/such/route", "", http.StatusNotFound},
		{"an unknown method", "PATCH", "/migrations/m-1", "k", http.StatusNotFound},
	} {
		r := a.do(c.method, c.path, c.bearer, nil)
		if r.Status != c.status {
			t.Fatalf("%s: %d %s, want %d", c.what, r.Status, r.Body, c.status)
		}
		documented := fmt.Sprintf("`%d %s`", r.Status, strings.TrimSpace(string(r.Body)))
		if !bytes.Contains(readme, []byte(documented)) {
			t.Errorf("%s: the gateway answers %s, which the README does not name", c.what, documented)
		}
	}
	// Past the gateway, every refusal is the service's own shape.
	appError(t, "a customer route without a key", a.do("GET", "/migrations/m-nope", "", nil), http.StatusUnauthorized, "key from your invite link")
	appError(t, "a customer route with a wrong key", a.do("GET", "/migrations/m-nope", "wrong", nil), http.StatusNotFound, "")
}
