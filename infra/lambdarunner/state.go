package lambdarunner

import (
	"sort"
	"sync"
	"time"

	"github.com/cutover/cutover/infra/proc"
)

// invocation is one call of a function.
type invocation struct {
	id      string
	payload []byte

	// gen is the process generation that took it (0 while queued).
	gen int

	once   sync.Once
	result chan outcome // buffered: the caller may be gone

	mu    sync.Mutex
	timer *time.Timer
}

// outcome is how an invocation ended.
type outcome struct {
	payload      []byte
	failed       bool
	errorType    string
	errorMessage string
}

func newInvocation(id string, payload []byte) *invocation {
	return &invocation{id: id, payload: payload, result: make(chan outcome, 1)}
}

// finish delivers o unless the invocation already ended, and reports
// whether it did.
func (inv *invocation) finish(o outcome, before func()) bool {
	first := false

	inv.once.Do(func() {
		first = true

		inv.mu.Lock()
		if inv.timer != nil {
			inv.timer.Stop()
		}
		inv.mu.Unlock()

		before() // e.g. the failure's log line, written before the caller wakes
		inv.result <- o
	})

	return first
}

// fnState is a function's runtime state.
type fnState struct {
	spec Function

	// queue hands invocations to the process polling next.
	queue chan *invocation

	// ready is closed when a process first asks for an invocation;
	// firstInitFailure when a process first exits before asking.
	ready            chan struct{}
	firstInitFailure chan struct{}

	mu            sync.Mutex
	gen           int
	proc          *proc.Process
	alive         bool // the current generation's process has not exited
	polled        bool // the current generation asked for an invocation
	everReady     bool
	everFailed    bool
	inflight      map[string]*invocation
	initFailed    chan struct{} // closed (and replaced) on each init failure
	initError     string        // what the current generation sent to /init/error
	lastInitError string        // why the last process failed before asking for work
}

func newFnState(f Function) *fnState {
	return &fnState{
		spec:             f,
		queue:            make(chan *invocation),
		ready:            make(chan struct{}),
		firstInitFailure: make(chan struct{}),
		inflight:         map[string]*invocation{},
		initFailed:       make(chan struct{}),
	}
}

func (f *fnState) nextGeneration() int {
	f.mu.Lock()
	defer f.mu.Unlock()

	f.gen++
	// A generation is alive from the moment it is created until processGone:
	// its process may call the Runtime API before its start is recorded.
	f.alive = true
	f.polled = false
	f.proc = nil
	f.initError = ""

	return f.gen
}

func (f *fnState) setProcess(gen int, p *proc.Process) {
	f.mu.Lock()
	defer f.mu.Unlock()

	if gen == f.gen {
		f.proc = p
	}
}

// current reports whether gen is the live process generation.
func (f *fnState) current(gen int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()

	return gen == f.gen && f.alive
}

// polledNext records that generation gen asked for an invocation.
func (f *fnState) polledNext(gen int) {
	f.mu.Lock()
	defer f.mu.Unlock()

	if gen != f.gen {
		return
	}

	f.polled = true
	if !f.everReady {
		f.everReady = true
		close(f.ready)
	}
}

// take records that generation gen took inv. It reports false (and takes
// nothing) when gen's process is gone already.
func (f *fnState) take(gen int, inv *invocation) bool {
	f.mu.Lock()
	defer f.mu.Unlock()

	if gen != f.gen || !f.alive {
		return false
	}

	inv.gen = gen
	f.inflight[inv.id] = inv

	return true
}

// lookup returns the in-flight invocation id of generation gen.
func (f *fnState) lookup(gen int, id string) (*invocation, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()

	inv, ok := f.inflight[id]
	if !ok || inv.gen != gen {
		return nil, false
	}

	return inv, true
}

func (f *fnState) forget(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()

	delete(f.inflight, id)
}

// processGone records that generation gen's process has exited (or could not
// start). It returns the invocations that process had taken, sorted by id,
// and whether it had asked for work; if it had not, invocations waiting to
// be picked up are failed with reason.
func (f *fnState) processGone(gen int, reason string) ([]*invocation, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()

	if gen == f.gen {
		f.alive = false
		f.proc = nil
	}

	var taken []*invocation

	for id, inv := range f.inflight {
		if inv.gen == gen {
			taken = append(taken, inv)
			delete(f.inflight, id)
		}
	}

	sort.Slice(taken, func(i, j int) bool { return taken[i].id < taken[j].id })

	polled := f.polled
	if !polled {
		f.lastInitError = reason
		if f.initError != "" {
			f.lastInitError = f.initError + " (" + reason + ")"
		}

		close(f.initFailed)
		f.initFailed = make(chan struct{})

		if !f.everFailed && !f.everReady {
			f.everFailed = true
			close(f.firstInitFailure)
		}
	}

	return taken, polled
}

// initFailure returns the channel closed on the next init failure.
func (f *fnState) initFailure() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()

	return f.initFailed
}

// lastInitFailure says why the last process failed before asking for work.
func (f *fnState) lastInitFailure() string {
	f.mu.Lock()
	defer f.mu.Unlock()

	return f.lastInitError
}

// setInitError records the error generation gen reported to /init/error.
func (f *fnState) setInitError(gen int, msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()

	if gen == f.gen {
		f.initError = msg
	}
}

// killGeneration kills generation gen's process if it is still running.
func (f *fnState) killGeneration(gen int) {
	f.mu.Lock()
	p := f.proc
	ok := gen == f.gen && f.alive
	f.mu.Unlock()

	if ok && p != nil {
		go p.Kill()
	}
}
