package lambdarunner

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Kill kills one of the named function's processes with SIGKILL, the way
// Lambda loses an execution environment: the process that has been running
// its invocation longest (that invocation fails with Runtime.ExitError and
// a process takes the next one), or, when none is busy, the newest.
//
// It returns an error if the function is unknown or has no process.
func (r *Runner) Kill(name string) error {
	f, ok := r.function(name)
	if !ok {
		return fmt.Errorf("lambdarunner: no function %q", name)
	}

	p := f.victim()
	if p == nil {
		return fmt.Errorf("lambdarunner: function %q has no process", name)
	}

	p.Kill()

	return nil
}

// PeakRSS returns the highest high-water mark of resident memory among the
// named function's running processes, in bytes (Linux only: VmHWM).
//
// It returns an error if the function is unknown, has no process, or the
// figure cannot be read for any of them.
func (r *Runner) PeakRSS(name string) (int64, error) {
	f, ok := r.function(name)
	if !ok {
		return 0, fmt.Errorf("lambdarunner: no function %q", name)
	}

	procs := f.running()
	if len(procs) == 0 {
		return 0, fmt.Errorf("lambdarunner: function %q has no process", name)
	}

	var (
		peak    int64
		lastErr error
		read    bool
	)

	for _, p := range procs {
		hwm, err := vmHWM(p.Pid())
		if err != nil {
			lastErr = err // the process may have exited since

			continue
		}

		read = true
		peak = max(peak, hwm)
	}

	if !read {
		return 0, fmt.Errorf("lambdarunner: peak memory of function %q: %w", name, lastErr)
	}

	return peak, nil
}

// vmHWM reads a process's peak resident memory from /proc, in bytes.
func vmHWM(pid int) (int64, error) {
	file, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("lambdarunner: %w", err)
	}
	defer file.Close()

	sc := bufio.NewScanner(file)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("lambdarunner: VmHWM: %w", err)
			}

			return kb << 10, nil
		}
	}

	return 0, fmt.Errorf("lambdarunner: no VmHWM for process %d", pid)
}

// Concurrency says how the named function has run so far: how many
// processes it has now, and the most invocations it had in flight at once
// (each in a process of its own), as the runner itself counted them. Tests
// use the peak to prove that invocations really overlapped.
//
// It returns an error if the function is unknown.
func (r *Runner) Concurrency(name string) (processes, peak int, err error) {
	f, ok := r.function(name)
	if !ok {
		return 0, 0, fmt.Errorf("lambdarunner: no function %q", name)
	}

	processes, peak = f.counts()

	return processes, peak, nil
}
