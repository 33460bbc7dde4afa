package lambdarunner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// echoBinary is the testdata function, built once by TestMain.
var echoBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lambdarunner-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}

	echoBinary = filepath.Join(dir, "echofn")

	build := exec.Command("go", "build", "-o", echoBinary, "./testdata/echofn")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr

	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build testdata/echofn:", err)
		os.Exit(1)
	}

	code := m.Run()

	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// logBuffer is a concurrency-safe log destination.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.String()
}

// records returns the log's JSON records with the given msg.
func (b *logBuffer) records(msg string) []map[string]any {
	var out []map[string]any

	for _, line := range strings.Split(b.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
			out = append(out, rec)
		}
	}

	return out
}

const testEndpoint = "http://127.0.0.1:1" // the echo function makes no AWS calls

func startRunner(t *testing.T, fns ...Function) (*Runner, *logBuffer) {
	t.Helper()

	log := &logBuffer{}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	r, err := Start(ctx, Options{Functions: fns, Endpoint: testEndpoint, Log: log})
	if err != nil {
		t.Fatalf("Start: %v\n%s", err, log.String())
	}

	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})

	return r, log
}

func echoFunction(name string, timeout time.Duration) Function {
	return Function{
		LogicalID: "Echo" + name,
		Name:      "test-" + name,
		ARN:       "arn:aws:lambda:us-east-1:000000000000:function:test-" + name,
		Binary:    echoBinary,
		Timeout:   timeout,
		MemoryMB:  256,
		Env:       map[string]string{"CUSTOM": "from-template", "AWS_REGION": "eu-west-3"},
	}
}

type echoResponse struct {
	PID         int               `json:"pid"`
	Value       json.RawMessage   `json:"value"`
	Env         map[string]string `json:"env"`
	FunctionARN string            `json:"functionArn"`
	RequestID   string            `json:"requestId"`
	DeadlineMS  int64             `json:"deadlineMs"`
}

// invoke POSTs payload to the function's invoke endpoint the way kumo does
// (following redirects), returning the response or the transport error.
func invoke(t *testing.T, r *Runner, name string, payload any) (*echoResponse, error) {
	t.Helper()

	body, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.InvokeEndpoint(name), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}

	defer func() { _ = resp.Body.Close() }()

	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("invoke answered %d: %s", resp.StatusCode, data)
	}

	var out echoResponse
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}

	return &out, nil
}

func mustInvoke(t *testing.T, r *Runner, name string, payload any) *echoResponse {
	t.Helper()

	out, err := invoke(t, r, name, payload)
	if err != nil {
		t.Fatalf("invoke %v: %v", payload, err)
	}

	return out
}

// mustFail checks the invocation fails at the transport level, naming
// errorType in the failed URL.
func mustFail(t *testing.T, r *Runner, name string, payload any, errorType string) {
	t.Helper()

	out, err := invoke(t, r, name, payload)
	if err == nil {
		t.Fatalf("invoke %v succeeded: %+v", payload, out)
	}

	if want := "/failed/" + name + "/" + errorType; !strings.Contains(err.Error(), want) {
		t.Fatalf("invoke error %q does not name %s", err, want)
	}
}

func TestSuccessReturnsThePayloadWithLambdaEnvironment(t *testing.T) {
	fn := echoFunction("ok", 5*time.Second)
	r, log := startRunner(t, fn)

	before := time.Now()
	out := mustInvoke(t, r, fn.Name, map[string]any{
		"value": map[string]any{"a": 1, "b": "two"},
		"env": []string{
			"CUSTOM", "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_LAMBDA_FUNCTION_NAME",
			"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION", "S3_USE_PATH_STYLE",
			"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_LAMBDA_RUNTIME_API",
		},
	})
	after := time.Now()

	if string(out.Value) != `{"a":1,"b":"two"}` {
		t.Errorf("value %s", out.Value)
	}

	want := map[string]string{
		"CUSTOM":                          "from-template",
		"AWS_REGION":                      "us-east-1", // reserved: the runner's value wins
		"AWS_ENDPOINT_URL":                testEndpoint,
		"AWS_LAMBDA_FUNCTION_NAME":        fn.Name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"S3_USE_PATH_STYLE":               "true",
		"AWS_ACCESS_KEY_ID":               "test",
		"AWS_SECRET_ACCESS_KEY":           "test",
	}

	for k, v := range want {
		if out.Env[k] != v {
			t.Errorf("%s=%q, want %q", k, out.Env[k], v)
		}
	}

	if api := out.Env["AWS_LAMBDA_RUNTIME_API"]; !strings.HasPrefix(api, strings.TrimPrefix(r.URL, "http://")+"/runtime/"+fn.Name+"/") {
		t.Errorf("AWS_LAMBDA_RUNTIME_API=%q", api)
	}

	if out.FunctionARN != fn.ARN || out.RequestID == "" {
		t.Errorf("context: arn %q request id %q", out.FunctionARN, out.RequestID)
	}

	// The deadline is the function timeout counted from when it took the
	// invocation, which happened between before and after.
	if out.DeadlineMS < before.Add(fn.Timeout).UnixMilli() || out.DeadlineMS > after.Add(fn.Timeout).UnixMilli() {
		t.Errorf("deadline %d outside [%d, %d]", out.DeadlineMS, before.Add(fn.Timeout).UnixMilli(), after.Add(fn.Timeout).UnixMilli())
	}

	if n := len(log.records("function invocation failed")); n != 0 {
		t.Errorf("%d failures logged for a success", n)
	}
}

func TestFunctionErrorFailsTheInvocation(t *testing.T) {
	fn := echoFunction("err", 5*time.Second)
	r, log := startRunner(t, fn)

	first := mustInvoke(t, r, fn.Name, map[string]any{})

	const secretMarker = "payload-must-not-be-logged-7f3a"
	mustFail(t, r, fn.Name, map[string]any{"action": "error", "message": "the mapping is broken", "value": secretMarker}, "TransientError")

	recs := log.records("function invocation failed")
	if len(recs) != 1 {
		t.Fatalf("want one failure record, got %d:\n%s", len(recs), log.String())
	}

	if recs[0]["errorType"] != "TransientError" || recs[0]["errorMessage"] != "the mapping is broken" || recs[0]["function"] != fn.LogicalID {
		t.Errorf("failure record %v", recs[0])
	}

	if strings.Contains(log.String(), secretMarker) {
		t.Error("the invocation payload reached the log")
	}

	// lambda.Start prints the error document; it arrives prefixed.
	if !strings.Contains(log.String(), "\n"+fn.LogicalID+"#1 ") && !strings.HasPrefix(log.String(), fn.LogicalID+"#1 ") {
		t.Errorf("no process output prefixed with %s:\n%s", fn.LogicalID, log.String())
	}

	// A handled error does not replace the process.
	if again := mustInvoke(t, r, fn.Name, map[string]any{}); again.PID != first.PID {
		t.Errorf("process replaced after a function error: %d -> %d", first.PID, again.PID)
	}
}

func TestPanicFailsAndTheProcessIsRestarted(t *testing.T) {
	fn := echoFunction("panic", 5*time.Second)
	r, log := startRunner(t, fn)

	first := mustInvoke(t, r, fn.Name, map[string]any{})

	mustFail(t, r, fn.Name, map[string]any{"action": "panic", "message": "nil map"}, "")

	recs := log.records("function invocation failed")
	if len(recs) != 1 || recs[0]["errorMessage"] != "nil map" {
		t.Fatalf("failure records %v", recs)
	}

	again := mustInvoke(t, r, fn.Name, map[string]any{})
	if again.PID == first.PID {
		t.Errorf("process %d was not replaced after a panic", first.PID)
	}

	if len(log.records("function process exited; restarting")) == 0 {
		t.Error("restart not logged")
	}
}

func TestCrashFailsTheInvocation(t *testing.T) {
	fn := echoFunction("crash", 5*time.Second)
	r, log := startRunner(t, fn)

	first := mustInvoke(t, r, fn.Name, map[string]any{})

	mustFail(t, r, fn.Name, map[string]any{"action": "exit"}, "Runtime.ExitError")

	if again := mustInvoke(t, r, fn.Name, map[string]any{}); again.PID == first.PID {
		t.Errorf("process %d was not replaced after exiting", first.PID)
	}

	recs := log.records("function invocation failed")
	if len(recs) != 1 || recs[0]["errorType"] != "Runtime.ExitError" {
		t.Errorf("failure records %v", recs)
	}
}

func TestTimeoutIsHonoured(t *testing.T) {
	fn := echoFunction("slow", time.Second)
	r, log := startRunner(t, fn)

	first := mustInvoke(t, r, fn.Name, map[string]any{})

	// The handler sleeps 30s and ignores its context; the runner fails the
	// invocation at the 1s timeout and replaces the process.
	mustFail(t, r, fn.Name, map[string]any{"action": "sleep", "sleepMs": 30000}, "Sandbox.Timedout")

	recs := log.records("function invocation failed")
	if len(recs) != 1 || recs[0]["errorMessage"] != "Task timed out after 1.00 seconds" {
		t.Fatalf("failure records %v", recs)
	}

	if again := mustInvoke(t, r, fn.Name, map[string]any{}); again.PID == first.PID {
		t.Errorf("timed-out process %d was not replaced", first.PID)
	}
}

func TestOversizedResponseFails(t *testing.T) {
	fn := echoFunction("big", 10*time.Second)
	r, _ := startRunner(t, fn)

	mustFail(t, r, fn.Name, map[string]any{"sizeBytes": maxPayload + 1}, "Function.ResponseSizeTooLarge")
	mustInvoke(t, r, fn.Name, map[string]any{"sizeBytes": 1024})
}

func TestFunctionsRunSideBySide(t *testing.T) {
	a, b := echoFunction("a", 5*time.Second), echoFunction("b", 5*time.Second)
	r, _ := startRunner(t, a, b)

	ra := mustInvoke(t, r, a.Name, map[string]any{"env": []string{"AWS_LAMBDA_FUNCTION_NAME"}})
	rb := mustInvoke(t, r, b.Name, map[string]any{"env": []string{"AWS_LAMBDA_FUNCTION_NAME"}})

	if ra.Env["AWS_LAMBDA_FUNCTION_NAME"] != a.Name || rb.Env["AWS_LAMBDA_FUNCTION_NAME"] != b.Name || ra.PID == rb.PID {
		t.Errorf("a=%+v b=%+v", ra, rb)
	}

	resp, err := http.Post(r.InvokeEndpoint("nope"), "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}

	_ = resp.Body.Close()

	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown function: status %d", resp.StatusCode)
	}
}

func TestInitFailureStopsStart(t *testing.T) {
	fn := echoFunction("noinit", 5*time.Second)
	fn.Env["ECHOFN_FAIL_INIT"] = "1"

	log := &logBuffer{}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	r, err := Start(ctx, Options{Functions: []Function{fn}, Endpoint: testEndpoint, Log: log})
	if err == nil {
		_ = r.Close()
		t.Fatal("Start succeeded with a function that cannot start")
	}

	if !strings.Contains(err.Error(), fn.LogicalID) || !strings.Contains(err.Error(), "exit status 2") {
		t.Errorf("error %q does not name the function and its exit", err)
	}

	if !strings.Contains(log.String(), fn.LogicalID+"#1 echofn: refusing to start") {
		t.Errorf("process output not logged with its prefix:\n%s", log.String())
	}
}

func TestCloseFailsWaitingCallers(t *testing.T) {
	fn := echoFunction("closing", 30*time.Second)
	r, _ := startRunner(t, fn)

	errc := make(chan error, 1)

	go func() {
		_, err := invoke(t, r, fn.Name, map[string]any{"action": "sleep", "sleepMs": 20000})
		errc <- err
	}()

	// Wait until the invocation is in flight, then close.
	f, _ := r.function(fn.Name)

	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		f.mu.Lock()
		n := len(f.inflight)
		f.mu.Unlock()

		if n == 1 {
			break
		}

		if time.Now().After(deadline) {
			t.Fatal("invocation never started")
		}
	}

	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	select {
	case err := <-errc:
		var urlErr interface{ Timeout() bool }
		if err == nil || errors.As(err, &urlErr) && urlErr.Timeout() {
			t.Errorf("in-flight invocation: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("caller still waiting after Close")
	}
}

// Each invocation that ran is reported once, as Lambda's REPORT line: the
// function, how long it ran, whether it failed, and the payload's action;
// nothing else of the payload.
func TestEveryInvocationIsReportedWithItsActionAndNoPayload(t *testing.T) {
	fn := echoFunction("report", 5*time.Second)
	reports := &logBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := Start(ctx, Options{Functions: []Function{fn}, Endpoint: testEndpoint, Reports: reports})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })

	const secretMarker = "payload-must-not-be-reported-91c2"
	mustInvoke(t, r, fn.Name, map[string]any{"action": "sleep", "sleepMs": 200, "value": secretMarker})
	mustFail(t, r, fn.Name, map[string]any{"action": "error", "message": "no"}, "TransientError")
	mustInvoke(t, r, fn.Name, map[string]any{"value": 1, "ACTION": secretMarker})

	var got []Report
	for _, line := range strings.Split(strings.TrimSpace(reports.String()), "\n") {
		var rep Report
		if err := json.Unmarshal([]byte(line), &rep); err != nil {
			t.Fatalf("a report that is not JSON: %q", line)
		}
		got = append(got, rep)
	}
	if len(got) != 3 {
		t.Fatalf("%d reports, want 3:\n%s", len(got), reports.String())
	}
	want := []struct {
		action string
		failed bool
	}{{"sleep", false}, {"error", true}, {"", false}}
	for i, rep := range got {
		if rep.Function != fn.LogicalID || rep.RequestID == "" || rep.StartedAt.IsZero() || rep.Action != want[i].action || rep.Failed != want[i].failed {
			t.Errorf("report %d: %+v, want action %q failed %v", i, rep, want[i].action, want[i].failed)
		}
	}
	if got[0].DurationMs < 200 {
		t.Errorf("the 200 ms invocation reported %.1f ms", got[0].DurationMs)
	}
	if strings.Contains(reports.String(), secretMarker) {
		t.Error("the payload reached the reports")
	}
}
