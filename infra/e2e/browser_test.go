package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestBrowserJourney walks the whole journey through the built site in
// headless Debian Chromium, driven by Playwright (frontend/e2e/journey.mjs):
// ops create a migration; the customer fills the checklist, uploads two
// files with visible progress, edits a mapping and submits; reviews and
// ticks the workbook and requests sign-off; the coordinator opens the
// emailed link and approves; the customer uploads the final extract under
// new names, confirms which signed-off file each replaces, sees go-live
// held for a lost mapped column, the coordinator re-approves from the fresh
// link, the customer sees the pre-flight preview and the migration go live;
// the ops console lists it. A screenshot of
// every page is kept in test-artifacts/browser/.
//
// It needs the site built (`make frontend`) and Chromium (`make chromium`);
// `make test` and .ci/run provide both.
func TestBrowserJourney(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "frontend", "dist", "upload.html")); err != nil {
		t.Fatalf("the site is not built (%v): run `make frontend`", err)
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("no Chromium at %s (%v): run `make chromium`, or set CHROMIUM", chromium, err)
	}
	artifacts := filepath.Join(root, "test-artifacts", "browser")
	if err := os.RemoveAll(artifacts); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("no node on PATH (%v): the journey runs on Node.js", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("e2e", "journey.mjs"))
	cmd.Dir = filepath.Join(root, "frontend")
	// Node and the Chromium it starts share a process group, so a journey
	// that runs out of time leaves no browser behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = append(os.Environ(),
		"SITE_URL="+st.SiteURL,
		"OPS_TOKEN="+st.MintOpsToken("ops@vendor.test", time.Hour),
		"MAIL_URL="+st.Endpoint+"/kumo/ses/v2/sent-emails",
		"ARTIFACTS="+artifacts,
		"CHROMIUM="+chromium,
	)
	out, err := cmd.CombinedOutput()
	t.Logf("journey output:\n%s", out)
	if err != nil {
		t.Fatalf("the browser journey failed: %v (screenshots so far in %s)", err, artifacts)
	}
	shots, _ := filepath.Glob(filepath.Join(artifacts, "*.png"))
	if len(shots) < 8 {
		t.Fatalf("%d screenshots in %s; the journey saves one per page and step", len(shots), artifacts)
	}
}
