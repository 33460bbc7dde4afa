package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// `make up` prints its banner cleanly: nothing of the stack's JSON logs
// before or inside it, and it says where the logs went (.build/up.log by
// default); the logs are in that file.
func TestBannerIsCleanAndNamesTheLogFile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a whole local stack")
	}
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "up")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-root", root, "-stack", "uptest", "-kumo-port", "0", "-site-port", "0")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w // as a terminal shows them: interleaved
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	var lines []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.HasPrefix(sc.Text(), "Press Ctrl-C") {
			break
		}
	}
	out := strings.Join(lines, "\n")
	if !strings.Contains(out, "cutover is running locally.") {
		t.Fatalf("no banner:\n%s", out)
	}
	for _, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "{") {
			t.Fatalf("a log line in the output:\n%s\n\nall of it:\n%s", l, out)
		}
	}
	_, after, ok := strings.Cut(out, "  logs            ")
	if !ok {
		t.Fatalf("the banner does not say where the logs are:\n%s", out)
	}
	logFile := strings.Fields(after)[0]
	if logFile != filepath.Join(root, ".build", "up.log") {
		t.Fatalf("logs in %s; want .build/up.log", logFile)
	}
	b, err := os.ReadFile(logFile)
	if err != nil || !strings.Contains(string(b), `"msg":"local stack ready"`) {
		t.Fatalf("the log file lacks the stack's logs (%v)", err)
	}
}

// `DESTINATION=receiver make up` starts the reference receiver as TEST's
// and LIVE's destination: the functions start with its signing secret read
// from the emulator's Secrets Manager (a function that cannot read it
// stops the stack's start), and the banner names the receiver's page of
// what arrived, which answers.
func TestReceiverModeNamesTheProductsPage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a whole local stack")
	}
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "up")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	db := filepath.Join(dir, "receiver.db")
	cmd := exec.CommandContext(ctx, bin, "-root", root, "-stack", "uprcv", "-kumo-port", "0", "-site-port", "0",
		"-destination", "receiver", "-receiver-port", "0", "-receiver-db", db, "-log", filepath.Join(dir, "up.log"))
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	var lines []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.HasPrefix(sc.Text(), "Press Ctrl-C") {
			break
		}
	}
	out := strings.Join(lines, "\n")
	_, after, ok := strings.Cut(out, "  the product     ")
	if !ok {
		t.Fatalf("the banner does not name the product:\n%s", out)
	}
	page := strings.Fields(after)[0]
	if !strings.Contains(after, db) {
		t.Errorf("the banner does not name the database %s:\n%s", db, out)
	}
	resp, err := http.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "reference receiver") {
		t.Fatalf("GET %s: %d %.200s", page, resp.StatusCode, body)
	}
	if logs, err := os.ReadFile(filepath.Join(dir, "up.log")); err != nil || strings.Contains(string(logs), "whsec_") {
		t.Errorf("the logs show the signing secret (or cannot be read: %v)", err)
	}
}

// The processes per function come from the flag, else FUNCTION_CONCURRENCY,
// else the runner's default; anything but a whole number of at least one is
// refused with a message naming it.
func TestFunctionConcurrencyFromTheFlagOrTheEnvironment(t *testing.T) {
	for _, c := range []struct {
		flag    int
		env     string
		want    int
		wantErr string
	}{
		{0, "", 4, ""},
		{0, "7", 7, ""},
		{2, "7", 2, ""},
		{0, "0", 0, `not "0"`},
		{0, "many", 0, `not "many"`},
		{-1, "", 0, "not -1"},
	} {
		got, err := functionConcurrency(c.flag, c.env)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("flag %d env %q: %d, %v; want an error with %s", c.flag, c.env, got, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("flag %d env %q: %d, %v; want %d", c.flag, c.env, got, err, c.want)
		}
	}
}
