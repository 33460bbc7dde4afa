package lambdarunner

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/cutover/cutover/infra/proc"
)

// Kill kills the named function's current process with SIGKILL, the way
// Lambda loses an execution environment: an invocation it was running
// fails (Runtime.ExitError) and a new process takes the next one.
//
// It returns an error if the function is unknown or has no process.
func (r *Runner) Kill(name string) error {
	p, err := r.process(name)
	if err != nil {
		return err
	}
	p.Kill()
	return nil
}

// process is the named function's current process.
func (r *Runner) process(name string) (*proc.Process, error) {
	f, ok := r.function(name)
	if !ok {
		return nil, fmt.Errorf("lambdarunner: no function %q", name)
	}
	f.mu.Lock()
	p := f.proc
	f.mu.Unlock()
	if p == nil {
		return nil, fmt.Errorf("lambdarunner: function %q has no process", name)
	}
	return p, nil
}

// PeakRSS returns the high-water mark of the resident memory of the named
// function's current process, in bytes (Linux only: VmHWM).
//
// It returns an error if the function is unknown, has no process, or the
// figure cannot be read.
func (r *Runner) PeakRSS(name string) (int64, error) {
	p, err := r.process(name)
	if err != nil {
		return 0, err
	}
	file, err := os.Open(fmt.Sprintf("/proc/%d/status", p.Pid()))
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
	return 0, fmt.Errorf("lambdarunner: no VmHWM for function %q", name)
}
