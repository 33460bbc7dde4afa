package lambdasize

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Target is what a build is for.
type Target struct {
	GOOS, GOARCH string
	// Strip drops the symbol table and DWARF (-ldflags "-s -w").
	Strip bool
}

// Lambda is the target `sam build` builds for (functions/lambda.mk).
var Lambda = Target{GOOS: "linux", GOARCH: "arm64", Strip: true}

// Host is a stripped build for the machine running the checks, whose init
// can be timed.
var Host = Target{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, Strip: true}

// Build builds the main package dir (relative to root, e.g.
// "./functions/park") for t into out, with the flags of functions/lambda.mk:
// the lambda.norpc tag, -trimpath, no cgo, and -ldflags "-s -w" when t
// strips.
//
// It returns go's output in the error when the build fails.
func Build(ctx context.Context, root, dir string, t Target, out string) error {
	args := []string{"build", "-tags", "lambda.norpc", "-trimpath"}
	if t.Strip {
		args = append(args, "-ldflags=-s -w")
	}

	args = append(args, "-o", out, dir)

	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS="+t.GOOS, "GOARCH="+t.GOARCH, "CGO_ENABLED=0")

	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("lambdasize: go build %s for %s/%s: %w\n%s", dir, t.GOOS, t.GOARCH, err, bytes.TrimSpace(b))
	}

	return nil
}

// Deps returns `go list -deps` of the package dir (relative to root) for
// linux/arm64, the platform Lambda runs.
//
// It returns go's output in the error when the listing fails.
func Deps(ctx context.Context, root, dir string) ([]string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-deps", "-tags", "lambda.norpc", dir)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")

	var stderr bytes.Buffer
	cmd.Stderr = &stderr

	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("lambdasize: go list -deps %s: %w\n%s", dir, err, bytes.TrimSpace(stderr.Bytes()))
	}

	return strings.Fields(string(out)), nil
}

// Size returns the size of the file at path.
//
// It returns the error os.Stat returns.
func Size(path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("lambdasize: %w", err)
	}

	return fi.Size(), nil
}

// HeavyDeps returns the third-party libraries of deps: the packages that
// are neither the standard library, nor the AWS SDK and Lambda runtime, nor
// the project's own. Internal and
// vendored packages are left out, as a program cannot import them; the
// packages that import them bring them in.
func HeavyDeps(deps []string) []string {
	var out []string

	for _, d := range deps {
		first, _, _ := strings.Cut(d, "/")
		switch {
		case !strings.Contains(first, "."): // standard library, vendor/...
		case d == Module || strings.HasPrefix(d, Module+"/"):
		case strings.HasPrefix(d, "github.com/aws/"):
		case strings.Contains(d, "/internal/") || strings.HasSuffix(d, "/internal"):
		default:
			out = append(out, d)
		}
	}

	return out
}

// EngineCeiling returns the size an engine function's stripped arm64
// bootstrap may reach, derived from its dependencies deps (`go list -deps`):
// the size of a probe program that starts the Lambda runtime, loads the SDK
// configuration, creates a client of every AWS service package in deps and
// imports every heavy third-party library of deps (HeavyDeps), built as SAM
// builds a function; plus EngineAllowanceBytes for what the probe does not
// hold: the engine, the domain and adapters, and the SDK operations and
// library functions the function calls. A function that grows past it links
// more than its dependencies need (a second copy of a library, a package the
// engine does not use).
//
// It returns the build's error.
func EngineCeiling(ctx context.Context, root string, deps []string) (int64, error) {
	dir, err := os.MkdirTemp(filepath.Join(root, ".build"), "lambdasize-probe-")
	if err != nil {
		return 0, fmt.Errorf("lambdasize: %w", err)
	}
	defer os.RemoveAll(dir)

	bin := filepath.Join(dir, "probe")
	if err := BuildProbe(ctx, root, deps, Lambda, bin); err != nil {
		return 0, err
	}

	n, err := Size(bin)
	if err != nil {
		return 0, err
	}

	return n + EngineAllowanceBytes, nil
}

// BuildProbe builds the probe program of deps (ProbeSource) for t into out.
// Its source is written in a temporary directory under root/.build (inside
// the module, so it resolves go.mod's versions), removed afterwards.
//
// It returns the build's error.
func BuildProbe(ctx context.Context, root string, deps []string, t Target, out string) error {
	base := filepath.Join(root, ".build")
	if err := os.MkdirAll(base, 0o755); err != nil {
		return fmt.Errorf("lambdasize: %w", err)
	}

	dir, err := os.MkdirTemp(base, "lambdasize-probe-src-")
	if err != nil {
		return fmt.Errorf("lambdasize: %w", err)
	}
	defer os.RemoveAll(dir)

	file := filepath.Join(dir, "probe.go")
	if err := os.WriteFile(file, []byte(ProbeSource(deps)), 0o644); err != nil {
		return fmt.Errorf("lambdasize: %w", err)
	}

	return Build(ctx, root, file, t, out)
}

const (
	lambdaPkg  = "github.com/aws/aws-lambda-go/lambda"
	configPkg  = "github.com/aws/aws-sdk-go-v2/config"
	awsPkg     = "github.com/aws/aws-sdk-go-v2/aws"
	servicePkg = "github.com/aws/aws-sdk-go-v2/service/"
)

// ProbeSource returns EngineCeiling's probe program for deps: lambda.Start
// and config.LoadDefaultConfig when deps hold their packages (an empty
// aws.Config otherwise), NewFromConfig
// of every AWS service client package (github.com/aws/aws-sdk-go-v2/service/X)
// in deps, and a blank import of every HeavyDeps package.
func ProbeSource(deps []string) string {
	has := map[string]bool{}
	for _, d := range deps {
		has[d] = true
	}

	var clients []string

	for _, d := range deps {
		name, ok := strings.CutPrefix(d, servicePkg)
		if ok && name != "internal" && !strings.Contains(name, "/") {
			clients = append(clients, d)
		}
	}

	var b strings.Builder

	b.WriteString("package main\n\nimport (\n\t\"context\"\n")

	if has[lambdaPkg] {
		fmt.Fprintf(&b, "\t%q\n", lambdaPkg)
	}

	if has[configPkg] {
		fmt.Fprintf(&b, "\t%q\n", configPkg)
	} else if len(clients) > 0 {
		fmt.Fprintf(&b, "\t%q\n", awsPkg)
	}

	for i, c := range clients {
		fmt.Fprintf(&b, "\tc%d %q\n", i, c)
	}

	for _, p := range HeavyDeps(deps) {
		fmt.Fprintf(&b, "\t_ %q\n", p)
	}

	b.WriteString(")\n\nfunc main() {\n\tctx := context.Background()\n\t_ = ctx\n")

	if has[configPkg] {
		b.WriteString("\tcfg, _ := config.LoadDefaultConfig(ctx)\n")
	} else if len(clients) > 0 {
		b.WriteString("\tcfg := aws.Config{} // the functions build theirs from the environment (awsenv)\n")
	}

	for i := range clients {
		fmt.Fprintf(&b, "\t_ = c%d.NewFromConfig(cfg)\n", i)
	}

	if has[lambdaPkg] {
		b.WriteString("\tlambda.Start(func(context.Context) error { return nil })\n")
	}

	b.WriteString("}\n")

	return b.String()
}
