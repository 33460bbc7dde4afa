package schema

import (
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
)

// Every Lambda links this package, most of them to read a field or two
// of an entity, so its package initialisation must stay cheap: the
// embedded default schema is read when it is first asked for, not at
// start-up. The test runs its own binary again with GODEBUG=inittrace=1
// and reads what the runtime says this package's init allocated (a
// count, not a time: the same on every run and every machine).
func TestInitReadsNothing(t *testing.T) {
	if os.Getenv("SCHEMA_INITTRACE_CHILD") != "" {
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestInitReadsNothing$")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1", "SCHEMA_INITTRACE_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	m := regexp.MustCompile(`init github\.com/cutover/cutover/internal/schema @[0-9.]+ ms, [0-9.]+ ms clock, ([0-9]+) bytes`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no inittrace line for this package in:\n%s", out)
	}
	if n, _ := strconv.Atoi(string(m[1])); n > 4096 {
		t.Fatalf("package init allocates %d bytes, want at most 4096 (nothing read at start-up)", n)
	}
}
