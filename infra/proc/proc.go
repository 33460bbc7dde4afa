// Package proc runs the local stack's child processes (the emulator and the
// function binaries). Each child gets its own process group, so stopping it
// also stops anything it started, and on Linux it is killed if the process
// that started it dies, so a crashed test or a killed `make up` leaves no
// orphans behind.
package proc

import (
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"
)

// Process is a started child process.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Start starts cmd in a new process group. cmd must not have been started.
// It returns the error exec.Cmd.Start returns.
func Start(cmd *exec.Cmd) (*Process, error) {
	cmd.SysProcAttr = sysProcAttr()
	// A grandchild holding the output pipes must not block Wait forever.
	cmd.WaitDelay = 2 * time.Second

	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("proc: start %s: %w", cmd.Path, err)
	}

	p := &Process{cmd: cmd, done: make(chan struct{})}

	go func() {
		p.err = cmd.Wait()
		// Whatever the process left running in its group goes with it.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)

		close(p.done)
	}()

	return p, nil
}

// Pid is the process id (and process group id).
func (p *Process) Pid() int {
	return p.cmd.Process.Pid
}

// Done is closed once the process has exited.
func (p *Process) Done() <-chan struct{} {
	return p.done
}

// Err is the exit error (nil for a clean exit). Call it after Done is closed.
func (p *Process) Err() error {
	return p.err
}

// Kill sends SIGKILL to the process group and waits for the process to exit.
// It never fails: a process that is already gone is simply waited for.
func (p *Process) Kill() {
	_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
	<-p.done
}

// Stop sends SIGTERM to the process group, waits up to grace for the process
// to exit, then kills the group. It returns nil when the process exited
// after SIGTERM (whatever its status) and an error when it had to be killed.
func (p *Process) Stop(grace time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}

	if err := syscall.Kill(-p.Pid(), syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		p.Kill()

		return fmt.Errorf("proc: SIGTERM %d: %w", p.Pid(), err)
	}

	t := time.NewTimer(grace)
	defer t.Stop()

	select {
	case <-p.done:
		return nil
	case <-t.C:
		p.Kill()

		return fmt.Errorf("proc: %s did not exit within %s of SIGTERM and was killed", p.cmd.Path, grace)
	}
}
