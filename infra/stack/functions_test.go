package stack

import (
	"bytes"
	"context"
	"debug/elf"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/cutover/cutover/infra/samtemplate"
)

// TestBuiltFunctionsAreStripped builds a one-function module the way the
// local stack builds the project's functions and checks the binary the way
// SAM's build leaves it: no symbol table, no DWARF, and no path of the
// machine that built it (-trimpath).
func TestBuiltFunctionsAreStripped(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads the binary as ELF")
	}

	root := t.TempDir()

	for rel, content := range map[string]string{
		"go.mod":               "module example.com/strip\n\ngo 1.22\n",
		"functions/hi/main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hi\") }\n",
	} {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}

		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	m := &samtemplate.Model{Dir: root, Functions: []samtemplate.Function{
		{LogicalID: "HiFunction", CodeDir: filepath.Join(root, "functions", "hi")},
	}}

	bins, err := buildFunctions(context.Background(), root, m)
	if err != nil {
		t.Fatal(err)
	}

	bin := bins["HiFunction"]

	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	for _, s := range f.Sections {
		if s.Name == ".symtab" || s.Name == ".debug_info" || s.Name == ".zdebug_info" {
			t.Errorf("binary has section %s: not stripped", s.Name)
		}
	}

	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}

	if bytes.Contains(data, []byte(root)) {
		t.Errorf("binary contains the build directory %s: not built with -trimpath", root)
	}
}
