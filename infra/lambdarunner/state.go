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

	// gen is the process generation that took it (0 while queued), and
	// taken when it did.
	gen   int
	taken time.Time

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

// process is one process of a function: Lambda's execution environment.
// Its generation, unique within the function, is in its Runtime API path,
// so a replaced process's late calls are told it is stale.
type process struct {
	gen       int
	proc      *proc.Process // nil until started
	polled    bool          // it asked for an invocation
	initError string        // what it sent to /init/error
}

// fnState is a function's runtime state: its processes, at most max of
// them, and the invocations they run.
type fnState struct {
	spec Function
	max  int

	// queue hands invocations to whichever process polls next.
	queue chan *invocation

	// ready is closed when a process first asks for an invocation;
	// firstInitFailure when a process first exits before asking.
	ready            chan struct{}
	firstInitFailure chan struct{}

	mu            sync.Mutex
	gen           int
	procs         map[int]*process // every process not yet gone, by generation
	waiting       int              // invocations queued and not yet taken
	peak          int              // the most invocations ever in flight at once
	everReady     bool
	everFailed    bool
	inflight      map[string]*invocation // taken and not ended: one per busy process
	initFailed    chan struct{}          // closed (and replaced) on each init failure
	lastInitError string                 // why the last process failed before asking for work
}

func newFnState(f Function, maxProcs int) *fnState {
	return &fnState{
		spec:             f,
		max:              maxProcs,
		queue:            make(chan *invocation),
		ready:            make(chan struct{}),
		firstInitFailure: make(chan struct{}),
		procs:            map[int]*process{},
		inflight:         map[string]*invocation{},
		initFailed:       make(chan struct{}),
	}
}

// newProcess registers a new process generation. A process exists from the
// moment it is registered until processGone: it may call the Runtime API
// before its start is recorded.
func (f *fnState) newProcess() int {
	f.mu.Lock()
	defer f.mu.Unlock()

	return f.newProcessLocked()
}

func (f *fnState) newProcessLocked() int {
	f.gen++
	f.procs[f.gen] = &process{gen: f.gen}

	return f.gen
}

// queued records an invocation about to be queued and reports the
// generation of a process to start for it, or 0: one is started when every
// process is busy or already promised to a queued invocation and fewer than
// max exist, as Lambda starts an execution environment when none is free.
func (f *fnState) queued() int {
	f.mu.Lock()
	defer f.mu.Unlock()

	f.waiting++

	if len(f.inflight)+f.waiting > len(f.procs) && len(f.procs) < f.max {
		return f.newProcessLocked()
	}

	return 0
}

// unqueued records that a queued invocation was not taken (it failed or
// its caller left).
func (f *fnState) unqueued() {
	f.mu.Lock()
	defer f.mu.Unlock()

	f.waiting--
}

func (f *fnState) setProcess(gen int, p *proc.Process) {
	f.mu.Lock()
	defer f.mu.Unlock()

	if ps, ok := f.procs[gen]; ok {
		ps.proc = p
	}
}

// current reports whether gen is a live process generation.
func (f *fnState) current(gen int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()

	_, ok := f.procs[gen]

	return ok
}

// polledNext records that generation gen asked for an invocation.
func (f *fnState) polledNext(gen int) {
	f.mu.Lock()
	defer f.mu.Unlock()

	ps, ok := f.procs[gen]
	if !ok {
		return
	}

	ps.polled = true
	if !f.everReady {
		f.everReady = true
		close(f.ready)
	}
}

// take records that generation gen took inv off the queue. It reports
// false (and takes nothing) when gen's process is gone already.
func (f *fnState) take(gen int, inv *invocation) bool {
	f.mu.Lock()
	defer f.mu.Unlock()

	f.waiting--

	if _, ok := f.procs[gen]; !ok {
		return false
	}

	inv.gen, inv.taken = gen, time.Now()
	f.inflight[inv.id] = inv
	f.peak = max(f.peak, len(f.inflight))

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

	ps, ok := f.procs[gen]
	if !ok {
		return nil, true
	}

	delete(f.procs, gen)

	var taken []*invocation

	for id, inv := range f.inflight {
		if inv.gen == gen {
			taken = append(taken, inv)
			delete(f.inflight, id)
		}
	}

	sort.Slice(taken, func(i, j int) bool { return taken[i].id < taken[j].id })

	if !ps.polled {
		f.lastInitError = reason
		if ps.initError != "" {
			f.lastInitError = ps.initError + " (" + reason + ")"
		}

		close(f.initFailed)
		f.initFailed = make(chan struct{})

		if !f.everFailed && !f.everReady {
			f.everFailed = true
			close(f.firstInitFailure)
		}
	}

	return taken, ps.polled
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

	if ps, ok := f.procs[gen]; ok {
		ps.initError = msg
	}
}

// killGeneration kills generation gen's process if it is still running.
func (f *fnState) killGeneration(gen int) {
	f.mu.Lock()
	var p *proc.Process
	if ps, ok := f.procs[gen]; ok {
		p = ps.proc
	}
	f.mu.Unlock()

	if p != nil {
		go p.Kill()
	}
}

// victim is the process Kill takes: the one that has been running its
// invocation longest, or, when none is busy, the newest; nil when there
// is no running process.
func (f *fnState) victim() *proc.Process {
	f.mu.Lock()
	defer f.mu.Unlock()

	var oldest *invocation

	for _, inv := range f.inflight {
		if ps := f.procs[inv.gen]; ps != nil && ps.proc != nil && (oldest == nil || inv.taken.Before(oldest.taken)) {
			oldest = inv
		}
	}

	if oldest != nil {
		return f.procs[oldest.gen].proc
	}

	var newest *process

	for _, ps := range f.procs {
		if ps.proc != nil && (newest == nil || ps.gen > newest.gen) {
			newest = ps
		}
	}

	if newest == nil {
		return nil
	}

	return newest.proc
}

// running returns the started processes.
func (f *fnState) running() []*proc.Process {
	f.mu.Lock()
	defer f.mu.Unlock()

	var out []*proc.Process

	for _, ps := range f.procs {
		if ps.proc != nil {
			out = append(out, ps.proc)
		}
	}

	return out
}

// counts returns how many processes the function has and the most
// invocations it ever had in flight at once.
func (f *fnState) counts() (procs, peak int) {
	f.mu.Lock()
	defer f.mu.Unlock()

	return len(f.procs), f.peak
}
