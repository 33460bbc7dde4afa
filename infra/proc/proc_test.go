package proc

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.String()
}

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}

	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // no procfs: trust kill(0)
	}

	// The state follows the parenthesised command name.
	s := string(stat)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}

	return true
}

func TestLineWriterPrefixesWholeLines(t *testing.T) {
	var out bytes.Buffer

	w := LineWriter(&out, "Fn")
	_, _ = w.Write([]byte("one\ntw"))
	_, _ = w.Write([]byte("o\nthree"))

	if got := out.String(); got != "Fn one\nFn two\n" {
		t.Fatalf("before Close: %q", got)
	}

	_ = w.Close()

	if got := out.String(); got != "Fn one\nFn two\nFn three\n" {
		t.Fatalf("after Close: %q", got)
	}
}

// TestStopKillsTheWholeGroup starts a shell that starts a grandchild and
// checks that stopping the shell also ends the grandchild.
func TestStopKillsTheWholeGroup(t *testing.T) {
	var out syncBuffer

	cmd := exec.Command("sh", "-c", "sleep 60 & echo $!; wait")
	cmd.Stdout = &out

	p, err := Start(cmd)
	if err != nil {
		t.Fatal(err)
	}

	var child int

	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if s := strings.TrimSpace(out.String()); s != "" {
			child, _ = strconv.Atoi(s)

			break
		}
	}

	if child == 0 {
		t.Fatal("grandchild pid not reported")
	}

	_ = p.Stop(5 * time.Second)

	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if !alive(child) {
			return
		}

		if time.Now().After(deadline) {
			t.Fatalf("grandchild %d still running after Stop", child)
		}
	}
}
