package lambdasize

import (
	"debug/buildinfo"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/infra/samtemplate"
)

const templatePath = "../../template.yaml"

// TestSAMMakefileTargetsBuildStrippedArm64 runs, for every template function
// built by its Makefile, what `sam build` runs (aws-lambda-builders'
// custom_make workflow): the CodeUri is copied to a scratch directory, and
// make is called there as `make --makefile <CodeUri>/Makefile
// build-<LogicalId>` with ARTIFACTS_DIR in the environment. The bootstrap
// it leaves must be a linux/arm64 ELF of that function's main package, built
// with the flags every build of the project uses (stripped, -trimpath,
// lambda.norpc, no cgo), read back from the binary's build information.
func TestSAMMakefileTargetsBuildStrippedArm64(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}

	m, err := samtemplate.Load(templatePath, samtemplate.Options{})
	if err != nil {
		t.Fatal(err)
	}

	module := modulePath(t)

	for _, f := range m.Functions {
		t.Run(f.LogicalID, func(t *testing.T) {
			if f.BuildMethod != "makefile" {
				t.Fatalf("BuildMethod %q: only a makefile build can strip the binary", f.BuildMethod)
			}

			scratch := t.TempDir()
			if err := os.CopyFS(scratch, os.DirFS(f.CodeDir)); err != nil {
				t.Fatal(err)
			}

			artifacts := t.TempDir()
			makefile := filepath.Join(f.CodeDir, "Makefile")

			cmd := exec.CommandContext(t.Context(), "make", "--makefile", makefile, "build-"+f.LogicalID)
			cmd.Dir = scratch
			cmd.Env = append(os.Environ(), "ARTIFACTS_DIR="+artifacts)

			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("make build-%s: %v\n%s", f.LogicalID, err, out)
			}

			bootstrap := filepath.Join(artifacts, "bootstrap")
			checkLambdaBinary(t, bootstrap, module+"/functions/"+filepath.Base(f.CodeDir))

			// A target named after another logical id must not exist: a
			// catch-all rule would build whatever SAM asks for.
			wrong := exec.CommandContext(t.Context(), "make", "--makefile", makefile, "build-"+f.LogicalID+"Not")
			wrong.Dir = scratch
			wrong.Env = cmd.Env

			if out, err := wrong.CombinedOutput(); err == nil {
				t.Errorf("make build-%sNot succeeded:\n%s", f.LogicalID, out)
			}
		})
	}
}

// checkLambdaBinary fails t unless bin is a stripped linux/arm64 ELF of the
// main package pkg, built without cgo, with -trimpath and the lambda.norpc
// tag, and without symbol table or DWARF (-ldflags "-s -w").
func checkLambdaBinary(t *testing.T, bin, pkg string) {
	t.Helper()

	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	defer f.Close()

	if f.Machine != elf.EM_AARCH64 {
		t.Errorf("machine %v, want EM_AARCH64", f.Machine)
	}

	for _, s := range f.Sections {
		if s.Name == ".symtab" || strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_") {
			t.Errorf("section %s: not stripped", s.Name)
		}
	}

	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatalf("build info: %v", err)
	}

	if info.Path != pkg {
		t.Errorf("main package %s, want %s", info.Path, pkg)
	}

	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}

	want := map[string]string{
		"GOOS": "linux", "GOARCH": "arm64", "CGO_ENABLED": "0",
		"-trimpath": "true", "-tags": "lambda.norpc",
	}
	// -ldflags is not in the list: go omits it from the build information
	// of a -trimpath build (it may hold paths); the sections above show -s -w.
	for k, v := range want {
		if settings[k] != v {
			t.Errorf("build setting %s=%q, want %q", k, settings[k], v)
		}
	}
}

func modulePath(t *testing.T) string {
	t.Helper()

	out, err := exec.CommandContext(t.Context(), "go", "list", "-m").Output()
	if err != nil {
		t.Fatal(err)
	}

	return strings.TrimSpace(string(out))
}
