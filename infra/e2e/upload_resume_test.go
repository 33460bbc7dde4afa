package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// storedParts is the parts-listing route's answer.
type storedParts struct {
	Parts []struct {
		PartNumber int    `json:"partNumber"`
		Size       int64  `json:"size"`
		ETag       string `json:"etag"`
	} `json:"parts"`
}

func TestAnUnfinishedUploadListsThePartsStorageHolds(t *testing.T) {
	a := api{t: t, base: st.APIURL}
	ops := st.MintOpsToken("ana@vendor.test", time.Hour)
	id, key := a.create(ops, "pied-piper", "Pied Piper", "piedpiper.test", "richard")
	_, otherKey := a.create(ops, "hooli-parts", "Hooli", "hooli-parts.test", "gavin")
	content := bytes.Repeat([]byte("Email,Name\nann@piedpiper.test,Ann\n"), (20<<20)/34+1)
	var plan struct {
		FileID   string `json:"fileId"`
		PartSize int64  `json:"partSize"`
		Parts    []struct {
			PartNumber int    `json:"partNumber"`
			URL        string `json:"url"`
		} `json:"parts"`
	}
	a.must(http.StatusCreated, "POST", "/migrations/"+id+"/uploads", key,
		map[string]any{"fileName": "big.csv", "size": len(content), "contentType": "text/csv", "purpose": "test"}).decode(t, &plan)
	if len(plan.Parts) != 3 {
		t.Fatalf("%d parts planned", len(plan.Parts))
	}
	put := func(n int) string {
		lo := int64(n-1) * plan.PartSize
		hi := min(lo+plan.PartSize, int64(len(content)))
		req, _ := http.NewRequest(http.MethodPut, plan.Parts[n-1].URL, bytes.NewReader(content[lo:hi]))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("PUT part %d: %d", n, resp.StatusCode)
		}
		return resp.Header.Get("ETag")
	}
	path := fmt.Sprintf("/migrations/%s/uploads/%s/parts", id, plan.FileID)
	var got storedParts
	a.must(http.StatusOK, "GET", path, key, nil).decode(t, &got)
	if len(got.Parts) != 0 {
		t.Fatalf("before any part: %+v", got)
	}
	etag1, etag3 := put(1), put(3)
	a.must(http.StatusOK, "GET", path, key, nil).decode(t, &got)
	if len(got.Parts) != 2 || got.Parts[0].PartNumber != 1 || got.Parts[0].ETag != etag1 || got.Parts[0].Size != plan.PartSize ||
		got.Parts[1].PartNumber != 3 || got.Parts[1].ETag != etag3 || got.Parts[1].Size != int64(len(content))-2*plan.PartSize {
		t.Fatalf("stored parts %+v; want 1 (%s) and 3 (%s)", got.Parts, etag1, etag3)
	}
	a.must(http.StatusForbidden, "GET", path, otherKey, nil)
	a.must(http.StatusNotFound, "GET", fmt.Sprintf("/migrations/%s/uploads/f-nope/parts", id), key, nil)

	// Resume with only the missing part; the listed ETags complete it.
	etag2 := put(2)
	parts := []map[string]any{{"partNumber": 1, "etag": got.Parts[0].ETag}, {"partNumber": 2, "etag": etag2}, {"partNumber": 3, "etag": got.Parts[1].ETag}}
	a.must(http.StatusOK, "POST", fmt.Sprintf("/migrations/%s/uploads/%s/complete", id, plan.FileID), key, map[string]any{"parts": parts})
	if r := a.do("GET", path, key, nil); r.Status != http.StatusConflict || !strings.Contains(r.errorMessage(), "complete") {
		t.Fatalf("parts of a complete upload: %d %s", r.Status, r.Body)
	}
}
