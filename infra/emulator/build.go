// Package emulator builds and runs kumo (github.com/sivchari/kumo), the
// pure-Go AWS emulator the local stack runs on.
//
// # The Step Functions patch
//
// kumo v0.33.1's Step Functions engine calls Lambda at a hard-coded
// http://localhost:4566 (internal/service/sfn/service.go), whatever port
// kumo listens on, and gives each call a 30 second HTTP timeout. Every other
// kumo service that calls back into kumo (execute-api, Lambda function URLs,
// EventBridge) follows KUMO_HOST/KUMO_PORT instead. With the hard-coded URL
// a Task state on a kumo that is not on port 4566 fails with "connection
// refused" — or worse, invokes a function of whatever other kumo happens to
// own port 4566 — so no two stacks (a developer's `make up` and a test run,
// or two test packages) could run Step Functions side by side, and a Task
// longer than 30 seconds would fail although Lambda allows 900.
//
// Build therefore compiles kumo from a copy of its module source plus one
// added file (stepfunctions_patch.go.txt in this package) that points the
// Step Functions engine at KUMO_HOST/KUMO_PORT, like the other services, and
// raises its Lambda call timeout to Lambda's maximum of 15 minutes plus a
// margin.
//
// # The execution cap
//
// kumo v0.33.1 also ends every Step Functions execution after an internal
// 5-minute cap (executionTimeoutCap in internal/service/sfn/storage.go),
// reported as States.Runtime, whatever the definition says. Our workflow
// waits days for people (a workbook review, a coordinator's decision, a
// go-live time), so at a human pace every journey died silently on the
// local stack. The cap is a constant, so it cannot be changed from an added
// file: Build makes one checked source edit (sourceEdits) that raises it to
// a year and a day, beyond the year a Standard workflow may run on AWS. A
// definition's own TimeoutSeconds still applies, since kumo bounds an
// execution by the smaller of the two. A Distributed Map's children (the
// final migration's chunks) are no executions of their own in kumo: it runs
// them inside the parent execution, under its context, so the raised cap is
// the only one they meet, and ListExecutions never lists them. If the expected text is not found
// exactly once (a different kumo version), the build fails and says so,
// rather than quietly building an emulator with the cap.
//
// # The API destination's credentials
//
// kumo v0.33.1's EventBridge delivers to an API destination over HTTP but
// sends none of its connection's credentials, so a receiver that checks
// them (as every real one must: EventBridge adds the API key header, or
// basic auth, of the connection) refused every event. Three checked edits
// to internal/service/eventbridge/storage.go (sourceEdits) add the
// connection's API key header (or basic Authorization) to each delivery,
// as EventBridge does.
//
// # Invocations at once
//
// kumo v0.33.1 passes every call to a function's InvokeEndpoint through a
// per-function gate of one (internal/service/lambda/async.go,
// newInvokeGate), so that a single-process endpoint never sees two at once.
// Lambda runs invocations of one function side by side, and the local
// function runner keeps several processes per function to do the same, so
// two checked edits (sourceEdits) size the gate from
// KUMO_CUTOVER_INVOKE_CONCURRENCY (Options.FunctionConcurrency; one when
// unset, kumo's own behaviour).
//
// Nothing else changes. The copy lives under <root>/.build and is
// selected with a generated go.work `replace`, so the build command is
// still `go build -o <out> github.com/sivchari/kumo/cmd/kumo` with the
// version go.mod pins, and go.mod is untouched.
package emulator

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// KumoModule is the emulator's module path.
const KumoModule = "github.com/sivchari/kumo"

//go:embed stepfunctions_patch.go.txt
var stepFunctionsPatch []byte

// patchFile is where the patch goes inside the copied module.
const patchFile = "internal/service/sfn/zz_cutover_stepfunctions_patch.go"

// sourceEdit replaces Old, which must occur exactly once in File (a path
// inside the kumo module), with New.
type sourceEdit struct {
	File, Old, New string
}

// sourceEdits are the checked edits made to the copied kumo source; see
// "The execution cap" in the package documentation.
var sourceEdits = []sourceEdit{{
	File: "internal/service/sfn/storage.go",
	Old:  "const executionTimeoutCap = 5 * time.Minute",
	New:  "const executionTimeoutCap = 366 * 24 * time.Hour // raised by cutover's infra/emulator: a Standard workflow runs up to a year",
}, {
	// See "The API destination's credentials" in the package documentation.
	File: "internal/service/eventbridge/storage.go",
	Old:  "go s.deliverToHTTP(dest, target, payload)",
	New:  "go s.deliverToHTTP(dest, s.cutoverWithConnectionAuth(dest, target), payload) // cutover's infra/emulator: send the connection's credentials",
}, {
	File: "internal/service/eventbridge/storage.go",
	Old:  "import (\n",
	New:  "import (\n\t\"encoding/base64\" // cutover's infra/emulator: basic auth connections\n",
}, {
	File: "internal/service/eventbridge/storage.go",
	Old:  "// trimDeliveredEventsLocked drops the oldest entries beyond the cap.\n",
	New:  connectionAuthFunc + "// trimDeliveredEventsLocked drops the oldest entries beyond the cap.\n",
}, {
	// See "Invocations at once" in the package documentation.
	File: "internal/service/lambda/async.go",
	Old:  "func newInvokeGate() invokeGate {\n\treturn make(invokeGate, 1)\n}\n",
	New:  invokeGateFunc,
}, {
	File: "internal/service/lambda/async.go",
	Old:  "import (\n",
	New:  "import (\n\t\"os\"      // cutover's infra/emulator: KUMO_CUTOVER_INVOKE_CONCURRENCY\n\t\"strconv\" // cutover's infra/emulator\n",
}}

// InvokeConcurrencyEnv names the variable that sizes kumo's per-function
// invoke gate in the patched build (see "Invocations at once").
const InvokeConcurrencyEnv = "KUMO_CUTOVER_INVOKE_CONCURRENCY"

// invokeGateFunc replaces kumo's newInvokeGate: a gate as wide as
// InvokeConcurrencyEnv says, one by default.
const invokeGateFunc = `func newInvokeGate() invokeGate {
	// cutover's infra/emulator: as many calls of one function at once as
	// the local function runner keeps processes for it (one when unset).
	n, err := strconv.Atoi(os.Getenv("` + InvokeConcurrencyEnv + `"))
	if err != nil || n < 1 {
		n = 1
	}

	return make(invokeGate, n)
}
`

// connectionAuthFunc is added to kumo's EventBridge storage: a copy of the
// target whose header parameters carry the API destination's connection
// credentials (an API key connection's header, a basic connection's
// Authorization), as EventBridge sends them. It runs under the storage's
// lock, where matchAndDeliver calls it.
const connectionAuthFunc = `// cutoverWithConnectionAuth is added by cutover's infra/emulator: the
// target, with the API destination's connection credentials as headers.
func (s *MemoryStorage) cutoverWithConnectionAuth(dest *APIDestination, target *Target) *Target {
	var conn *Connection
	for _, c := range s.Connections {
		if c.Arn == dest.ConnectionArn {
			conn = c
		}
	}
	if conn == nil {
		return target
	}
	headers := map[string]string{}
	if target.HTTPParameters != nil {
		for k, v := range target.HTTPParameters.HeaderParameters {
			headers[k] = v
		}
	}
	if p := conn.AuthParameters.APIKeyAuthParameters; p != nil && p.APIKeyName != "" {
		headers[p.APIKeyName] = p.APIKeyValue
	}
	if p := conn.AuthParameters.BasicAuthParameters; p != nil {
		headers["Authorization"] = "Basic " + base64.StdEncoding.EncodeToString([]byte(p.Username+":"+p.Password))
	}
	out := *target
	params := HTTPParameters{HeaderParameters: headers}
	if target.HTTPParameters != nil {
		params.PathParameterValues = target.HTTPParameters.PathParameterValues
		params.QueryStringParameters = target.HTTPParameters.QueryStringParameters
	}
	out.HTTPParameters = &params
	return &out
}

`

// patchKey identifies a patched copy: the kumo version, the added file and
// every source edit, so changing any of them makes a fresh copy.
func patchKey(version string, edits []sourceEdit) string {
	h := sha256.New()
	h.Write([]byte(version + "\x00"))
	h.Write(stepFunctionsPatch)
	for _, e := range edits {
		h.Write([]byte("\x00" + e.File + "\x00" + e.Old + "\x00" + e.New))
	}
	return hex.EncodeToString(h.Sum(nil)[:6])
}

// applyEdits makes each edit in the module copy at dir.
//
// It returns an error naming the file and the text when a file cannot be
// read or written, or the text to replace does not occur exactly once.
func applyEdits(dir string, edits []sourceEdit) error {
	for _, e := range edits {
		path := filepath.Join(dir, filepath.FromSlash(e.File))
		src, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("emulator: patch kumo: %w", err)
		}
		if n := bytes.Count(src, []byte(e.Old)); n != 1 {
			return fmt.Errorf("emulator: patch kumo: %s holds %q %d times, not once; this kumo is not the version infra/emulator patches, update sourceEdits", e.File, e.Old, n)
		}
		if err := os.WriteFile(path, bytes.Replace(src, []byte(e.Old), []byte(e.New), 1), 0o644); err != nil {
			return fmt.Errorf("emulator: patch kumo: %w", err)
		}
	}
	return nil
}

// Build compiles kumo, with the Step Functions patch described in the package
// documentation, into the executable out. dir is any directory of the
// module whose go.mod pins kumo (normally the repository root); the patched
// source is kept in <module root>/.build/kumo-src so later builds hit the Go
// build cache.
//
// It returns an error if dir is not inside a module, the kumo module cannot
// be located or downloaded, the copy cannot be written, or go build fails
// (the error then carries go's output).
func Build(ctx context.Context, dir, out string) error {
	gomod, err := goCommand(ctx, dir, nil, "env", "GOMOD")
	if err != nil {
		return err
	}

	gomod = strings.TrimSpace(gomod)
	if gomod == "" || gomod == os.DevNull {
		return fmt.Errorf("emulator: %s is not inside a Go module", dir)
	}

	root := filepath.Dir(gomod)

	mod, err := locateKumo(ctx, root)
	if err != nil {
		return err
	}

	buildDir := filepath.Join(root, ".build")
	if err := ensureBuildDir(buildDir); err != nil {
		return err
	}

	srcDir := filepath.Join(buildDir, "kumo-src", mod.Version+"-"+patchKey(mod.Version, sourceEdits))

	if err := ensurePatchedCopy(mod.Dir, srcDir); err != nil {
		return err
	}

	goVersion, err := goCommand(ctx, root, nil, "list", "-m", "-f", "{{.GoVersion}}")
	if err != nil {
		return err
	}

	work := fmt.Sprintf("go %s\n\nuse %s\n\nreplace %s %s => %s\n",
		strings.TrimSpace(goVersion), strconv.Quote(root), KumoModule, mod.Version, strconv.Quote(srcDir))
	workFile := srcDir + ".work"

	if err := writeFileAtomic(workFile, []byte(work)); err != nil {
		return err
	}

	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("emulator: %w", err)
	}

	// Build next to out and rename, so a kumo already running from out (a
	// parallel test, another stack) is never overwritten in place. The
	// name is unique to this call, not to the process: parallel tests of
	// one package build at once, and a name they shared was renamed away
	// from under all but the first.
	f, err := os.CreateTemp(filepath.Dir(out), filepath.Base(out)+".tmp-*")
	if err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	tmp := f.Name()
	_ = f.Close()
	if _, err := goCommand(ctx, root, []string{"GOWORK=" + workFile},
		"build", "-o", tmp, KumoModule+"/cmd/kumo"); err != nil {
		_ = os.Remove(tmp)

		return err
	}

	if err := os.Rename(tmp, out); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("emulator: %w", err)
	}

	return nil
}

type moduleInfo struct {
	Path    string
	Version string
	Dir     string
	Error   string
}

// locateKumo finds (downloading if needed) the kumo version root's go.mod pins.
func locateKumo(ctx context.Context, root string) (moduleInfo, error) {
	js, err := goCommand(ctx, root, nil, "mod", "download", "-json", KumoModule)
	if err != nil {
		return moduleInfo{}, err
	}

	var mod moduleInfo
	if err := json.Unmarshal([]byte(js), &mod); err != nil {
		return mod, fmt.Errorf("emulator: go mod download: %w", err)
	}

	if mod.Error != "" || mod.Dir == "" || mod.Version == "" {
		return mod, fmt.Errorf("emulator: cannot locate %s: %s", KumoModule, mod.Error)
	}

	return mod, nil
}

// ensureBuildDir creates dir and keeps it out of git.
func ensureBuildDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("emulator: %w", err)
	}

	ignore := filepath.Join(dir, ".gitignore")
	if _, err := os.Stat(ignore); errors.Is(err, fs.ErrNotExist) {
		if err := writeFileAtomic(ignore, []byte("# build output of infra/ (kumo, function binaries)\n*\n")); err != nil {
			return err
		}
	}

	return nil
}

// ensurePatchedCopy copies the module at src to dst, makes the source
// edits and adds the patch, unless dst already exists. The copy is made beside dst and renamed into
// place, so concurrent builds never see half a copy.
func ensurePatchedCopy(src, dst string) error {
	if _, err := os.Stat(filepath.Join(dst, patchFile)); err == nil {
		return nil
	}

	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("emulator: %w", err)
	}

	tmp, err := os.MkdirTemp(filepath.Dir(dst), filepath.Base(dst)+".tmp-")
	if err != nil {
		return fmt.Errorf("emulator: %w", err)
	}

	defer func() { _ = os.RemoveAll(tmp) }()

	if err := copyTree(src, tmp); err != nil {
		return err
	}

	if err := applyEdits(tmp, sourceEdits); err != nil {
		return err
	}

	if err := os.WriteFile(filepath.Join(tmp, patchFile), stepFunctionsPatch, 0o644); err != nil {
		return fmt.Errorf("emulator: write patch: %w", err)
	}

	if err := os.Rename(tmp, dst); err != nil {
		if _, statErr := os.Stat(filepath.Join(dst, patchFile)); statErr == nil {
			return nil // a concurrent build got there first
		}

		return fmt.Errorf("emulator: %w", err)
	}

	return nil
}

// copyTree copies the regular files under src to dst, writable.
func copyTree(src, dst string) error {
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}

		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}

		target := filepath.Join(dst, rel)

		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}

		if !d.Type().IsRegular() {
			return nil
		}

		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}

		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		return fmt.Errorf("emulator: copy kumo source: %w", err)
	}

	return nil
}

// writeFileAtomic writes data to path through a file of its own beside
// it, renamed into place, so concurrent builds never read half a file.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("emulator: %w", err)
	}

	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}

	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}

	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("emulator: %w", err)
	}

	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("emulator: %w", err)
	}

	return nil
}

// goCommand runs the go tool in dir and returns its standard output.
func goCommand(ctx context.Context, dir string, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)

	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr

	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("emulator: go %s: %w\n%s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()+stdout.String()))
	}

	return stdout.String(), nil
}
