package stack

import (
	"bytes"
	"context"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cutover/cutover/infra/samtemplate"
)

// buildFunctions builds every functions/<dir> that has a main.go into
// root/.build/functions/<dir>, with one go build, and returns each template
// function's binary by logical id. Binaries are built for the local machine
// with the flags SAM's build uses for Lambda (functions/lambda.mk): the
// lambda.norpc tag, -trimpath, and stripped (-ldflags "-s -w"), so the local
// runner starts the same kind of binary Lambda does.
//
// It returns an error naming the function when a template function's
// CodeUri has no main package, and go's output when the build fails.
func buildFunctions(ctx context.Context, root string, m *samtemplate.Model) (map[string]string, error) {
	mains, err := filepath.Glob(filepath.Join(root, "functions", "*", "main.go"))
	if err != nil {
		return nil, fmt.Errorf("stack: %w", err)
	}

	dirs := map[string]bool{}
	for _, f := range mains {
		dirs[filepath.Dir(f)] = true
	}

	if err := checkMainPackages(m); err != nil {
		return nil, err
	}

	for _, f := range m.Functions {
		dirs[filepath.Clean(f.CodeDir)] = true
	}

	if err := ensureBuildDir(filepath.Join(root, ".build")); err != nil {
		return nil, err
	}

	outDir := filepath.Join(root, ".build", "functions")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("stack: %w", err)
	}

	args := []string{"build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", outDir + string(filepath.Separator)}

	var pkgs []string

	for d := range dirs {
		rel, err := filepath.Rel(root, d)
		if err != nil || strings.HasPrefix(rel, "..") {
			return nil, fmt.Errorf("stack: function code %s is outside %s", d, root)
		}

		pkgs = append(pkgs, "./"+filepath.ToSlash(rel))
	}

	sort.Strings(pkgs)

	if len(pkgs) > 0 {
		cmd := exec.CommandContext(ctx, "go", append(args, pkgs...)...)
		cmd.Dir = root

		var out bytes.Buffer
		cmd.Stdout = &out
		cmd.Stderr = &out

		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("stack: go build %s: %w\n%s", strings.Join(pkgs, " "), err, strings.TrimSpace(out.String()))
		}
	}

	binaries := map[string]string{}
	for _, f := range m.Functions {
		binaries[f.LogicalID] = filepath.Join(outDir, filepath.Base(filepath.Clean(f.CodeDir)))
	}

	return binaries, nil
}

// ensureBuildDir creates dir, the local stack's build output, and keeps it
// out of git.
func ensureBuildDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("stack: %w", err)
	}

	ignore := filepath.Join(dir, ".gitignore")
	if _, err := os.Stat(ignore); err == nil {
		return nil
	}

	if err := os.WriteFile(ignore, []byte("# build output of infra/ (kumo, function binaries)\n*\n"), 0o644); err != nil {
		return fmt.Errorf("stack: %w", err)
	}

	return nil
}

// checkMainPackages returns an error naming every template function whose
// CodeUri directory holds no main package.
func checkMainPackages(m *samtemplate.Model) error {
	var bad []string

	for _, f := range m.Functions {
		if !hasMainPackage(f.CodeDir) {
			rel, err := filepath.Rel(m.Dir, f.CodeDir)
			if err != nil {
				rel = f.CodeDir
			}

			bad = append(bad, fmt.Sprintf("%s (CodeUri %s)", f.LogicalID, filepath.ToSlash(rel)))
		}
	}

	if len(bad) > 0 {
		return fmt.Errorf("stack: no main package for function %s", strings.Join(bad, ", "))
	}

	return nil
}

// hasMainPackage reports whether dir holds a non-test Go file of package main.
func hasMainPackage(dir string) bool {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return false
	}

	fset := token.NewFileSet()

	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}

		file, err := parser.ParseFile(fset, f, nil, parser.PackageClauseOnly)
		if err == nil && file.Name.Name == "main" {
			return true
		}
	}

	return false
}
