package emulator

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The cap edit applies to the kumo version go.mod pins: its text is there
// exactly once, and afterwards the cap is gone.
func TestSourceEditsApplyToThePinnedKumo(t *testing.T) {
	mod, err := locateKumo(context.Background(), filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, e := range sourceEdits {
		src, err := os.ReadFile(filepath.Join(mod.Dir, filepath.FromSlash(e.File)))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, e.File)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.File), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := applyEdits(dir, sourceEdits); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "internal/service/sfn/storage.go"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(got), "executionTimeoutCap = 5 * time.Minute") || !strings.Contains(string(got), "executionTimeoutCap = 366 * 24 * time.Hour") {
		t.Fatal("the 5-minute execution cap is still in the patched copy")
	}
}

// A kumo whose source does not hold the expected text fails the build
// loudly instead of building an emulator that still has the cap.
func TestSourceEditFailsLoudlyWhenTheTextIsMissing(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "internal", "service", "sfn", "storage.go")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("package sfn\n\nconst executionTimeoutCap = 10 * time.Minute\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := applyEdits(dir, sourceEdits)
	if err == nil || !strings.Contains(err.Error(), "not once") || !strings.Contains(err.Error(), "storage.go") {
		t.Fatalf("applyEdits = %v; want an error naming the file and the missing text", err)
	}
	twice := "package sfn\n\n" + sourceEdits[0].Old + "\n" + sourceEdits[0].Old + "\n"
	if err := os.WriteFile(file, []byte(twice), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := applyEdits(dir, sourceEdits); err == nil {
		t.Fatal("applyEdits accepted text that occurs twice")
	}
}

// The patched copy's cache key changes with the edits, so a changed edit
// is never served from an old copy.
func TestPatchKeyIncludesTheEdits(t *testing.T) {
	base := patchKey("v0.33.1", sourceEdits)
	if patchKey("v0.33.1", nil) == base {
		t.Fatal("the key ignores the source edits")
	}
	changed := []sourceEdit{sourceEdits[0]}
	changed[0].New += " "
	if patchKey("v0.33.1", changed) == base {
		t.Fatal("the key ignores what an edit writes")
	}
}
