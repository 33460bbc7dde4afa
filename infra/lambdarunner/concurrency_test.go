package lambdarunner

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// meetAll invokes fn n times at once, each asking to meet parties
// invocations in dir, and returns the responses and errors by call.
func meetAll(t *testing.T, r *Runner, name, dir string, n, parties int) ([]*echoResponse, []error) {
	t.Helper()

	outs, errs := make([]*echoResponse, n), make([]error, n)

	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			outs[i], errs[i] = invoke(t, r, name, map[string]any{"action": "meet", "dir": dir, "parties": parties})
		})
	}
	wg.Wait()

	return outs, errs
}

// Three invocations that each end only once all three are running at once
// (they meet in a directory) all succeed, in three processes: the runner
// started processes as the invocations needed them.
func TestInvocationsOfOneFunctionRunAtOnceInSeparateProcesses(t *testing.T) {
	fn := echoFunction("overlap", 5*time.Second)
	r, log := startRunner(t, fn)

	if procs, peak, err := r.Concurrency(fn.Name); err != nil || procs != 1 || peak != 0 {
		t.Fatalf("before any invocation: %d processes, peak %d, %v; want one process started, none busy", procs, peak, err)
	}

	outs, errs := meetAll(t, r, fn.Name, t.TempDir(), 3, 3)

	pids := map[int]bool{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("invocation %d: %v\n%s", i, err, log.String())
		}
		pids[outs[i].PID] = true
	}

	if len(pids) != 3 {
		t.Errorf("three overlapping invocations ran in %d processes", len(pids))
	}

	if procs, peak, _ := r.Concurrency(fn.Name); procs != 3 || peak != 3 {
		t.Errorf("after three overlapping invocations: %d processes, peak %d; want 3 and 3", procs, peak)
	}

	// Idle processes are kept and reused: one at a time needs no new one.
	for range 5 {
		if out := mustInvoke(t, r, fn.Name, map[string]any{}); !pids[out.PID] {
			t.Errorf("invocation ran in a new process %d while three were idle", out.PID)
		}
	}

	if procs, peak, _ := r.Concurrency(fn.Name); procs != 3 || peak != 3 {
		t.Errorf("after sequential invocations: %d processes, peak %d; want 3 and 3", procs, peak)
	}

	if _, _, err := r.Concurrency("nope"); err == nil {
		t.Error("Concurrency of an unknown function answered")
	}
}

// With a limit of two processes, four invocations that need pairs to meet
// run two at a time: never more than two processes, and all four succeed.
func TestProcessesPerFunctionAreLimited(t *testing.T) {
	fn := echoFunction("limited", 5*time.Second)
	log := &logBuffer{}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	r, err := Start(ctx, Options{Functions: []Function{fn}, Endpoint: testEndpoint, Log: log, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })

	// Two rounds of a pair each: the first pair meets in one directory,
	// then the second pair in another.
	for round := range 2 {
		_, errs := meetAll(t, r, fn.Name, t.TempDir(), 2, 2)
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d invocation %d: %v\n%s", round, i, err, log.String())
			}
		}
	}

	// Three at once with room for two: the third waits for a process and
	// runs after one of the first two ended (it needs only itself).
	outs, errs := make([]*echoResponse, 3), make([]error, 3)
	dir := t.TempDir()
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			outs[i], errs[i] = invoke(t, r, fn.Name, map[string]any{"action": "meet", "dir": dir, "parties": 2})
		})
	}
	wg.Wait()

	for i, err := range errs {
		if err != nil {
			t.Fatalf("invocation %d of three: %v", i, err)
		}
	}

	if procs, peak, _ := r.Concurrency(fn.Name); procs != 2 || peak != 2 {
		t.Errorf("%d processes, peak %d; want at most the limit of 2, reached", procs, peak)
	}
}

// waitBusy waits (10 s at most) until n invocations of the function are
// running.
func waitBusy(t *testing.T, r *Runner, name string, n int) {
	t.Helper()
	f, _ := r.function(name)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		f.mu.Lock()
		busy := len(f.inflight)
		f.mu.Unlock()
		if busy == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d invocations running, want %d", busy, n)
		}
	}
}

// Kill takes the process that is running an invocation, not an idle one:
// that invocation fails, the other running one succeeds, and the function
// keeps serving.
func TestKillTakesTheBusyProcess(t *testing.T) {
	fn := echoFunction("killbusy", 20*time.Second)
	r, log := startRunner(t, fn)

	// Two processes exist; then one invocation keeps one busy.
	_, errs := meetAll(t, r, fn.Name, t.TempDir(), 2, 2)
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("warm-up: %v", errs)
	}

	errc := make(chan error, 1)
	dir := t.TempDir()
	go func() {
		// It waits for a partner that never comes, until killed.
		_, err := invoke(t, r, fn.Name, map[string]any{"action": "meet", "dir": dir, "parties": 2})
		errc <- err
	}()

	waitBusy(t, r, fn.Name, 1)

	if err := r.Kill(fn.Name); err != nil {
		t.Fatal(err)
	}

	err := <-errc
	if err == nil || !strings.Contains(err.Error(), "/failed/"+fn.Name+"/Runtime.ExitError") {
		t.Fatalf("the killed invocation: %v", err)
	}

	recs := log.records("function invocation failed")
	if len(recs) != 1 || recs[0]["errorType"] != "Runtime.ExitError" || recs[0]["process"] == nil {
		t.Errorf("failure records %v", recs)
	}

	mustInvoke(t, r, fn.Name, map[string]any{})

	if err := r.Kill("nope"); err == nil {
		t.Error("Kill of an unknown function succeeded")
	}
}

// Each process has a temporary directory of its own, as each Lambda
// execution environment has its own /tmp, and it is removed with the
// process.
func TestEachProcessHasItsOwnTemporaryDirectory(t *testing.T) {
	fn := echoFunction("tmp", 5*time.Second)
	r, _ := startRunner(t, fn)

	dir := t.TempDir()
	outs, errs := make([]*echoResponse, 2), make([]error, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			outs[i], errs[i] = invoke(t, r, fn.Name, map[string]any{"action": "meet", "dir": dir, "parties": 2, "env": []string{"TMPDIR"}})
		})
	}
	wg.Wait()

	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}

	a, b := outs[0].Env["TMPDIR"], outs[1].Env["TMPDIR"]
	if a == "" || b == "" || a == b {
		t.Fatalf("two processes' TMPDIR: %q and %q; want two directories", a, b)
	}

	for _, d := range []string{a, b} {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			t.Fatalf("TMPDIR %s: %v", d, err)
		}
	}

	// A crashed process's directory goes with it.
	victim := outs[0]
	mustFail(t, r, fn.Name, map[string]any{"action": "exit"}, "Runtime.ExitError")

	gone := 0
	for deadline := time.Now().Add(10 * time.Second); gone == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, d := range []string{a, b} {
			if _, err := os.Stat(d); os.IsNotExist(err) {
				gone++
			}
		}
	}

	if gone != 1 {
		t.Errorf("%d of the two directories removed after one process exited (pid %d was one of them)", gone, victim.PID)
	}
}

// KillCaller takes the process that is making a call, not the one that
// has run its invocation longest: the caller's invocation fails, the
// older one (which Kill would have taken) succeeds.
func TestKillCallerTakesTheProcessMakingTheCall(t *testing.T) {
	fn := echoFunction("killcaller", 20*time.Second)
	r, _ := startRunner(t, fn)

	older := make(chan error, 1)
	go func() {
		_, err := invoke(t, r, fn.Name, map[string]any{"action": "sleep", "sleepMs": 3000})
		older <- err
	}()

	waitBusy(t, r, fn.Name, 1)

	killed := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		local, _ := req.Context().Value(http.LocalAddrContextKey).(net.Addr)
		killed <- r.KillCaller(fn.Name, req.RemoteAddr, local.String())
		<-req.Context().Done() // held until the caller is gone
	}))
	defer srv.Close()

	_, err := invoke(t, r, fn.Name, map[string]any{"action": "call", "url": srv.URL})
	if kerr := <-killed; kerr != nil {
		t.Fatalf("KillCaller: %v", kerr)
	}
	if err == nil || !strings.Contains(err.Error(), "/failed/"+fn.Name+"/Runtime.ExitError") {
		t.Fatalf("the caller's invocation: %v", err)
	}
	if err := <-older; err != nil {
		t.Fatalf("the older invocation was taken instead: %v", err)
	}

	if err := r.KillCaller(fn.Name, "127.0.0.1:1", "127.0.0.1:2"); err == nil {
		t.Error("KillCaller found a process for a connection nobody holds")
	}
}
