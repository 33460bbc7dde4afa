package migration

// The services of this package, each with the ports it needs. A
// constructor refuses a nil port (EINTERNAL naming it) instead of leaving
// an operation to panic on it at run time: main turns the error into
// awsenv.Fatal, so a Lambda wired without what it needs fails at start.

// Customer is the customer's actions that read no rows: authorise the
// invite key, plan, sign and discard uploads, fill in the checklist,
// submit a round, mark the workbook reviewed and request sign-off. The
// actions that read the rows (completing an upload, the mapping, the final
// extract) are engine.Customer's.
type Customer struct {
	*Core
	uploads Uploads
	flow    Flow
}

// NewCustomer returns the customer's light actions.
//
// Errors: EINTERNAL when a port is nil.
func NewCustomer(core *Core, uploads Uploads, flow Flow) (*Customer, error) {
	const name = "the customer service"
	if err := NeedsCore(name, core, false); err != nil {
		return nil, err
	}
	if uploads == nil {
		return nil, errNilPort(name, "Uploads")
	}
	if flow == nil {
		return nil, errNilPort(name, "Flow")
	}
	return &Customer{Core: core, uploads: uploads, flow: flow}, nil
}

// Ops is the vendor staff's actions: create migrations and mail the
// invite (or re-issue it), list and inspect them with their execution,
// final chunks and mail, and retry what a migration is stuck on.
type Ops struct {
	*Core
	flow   Flow
	runs   Executions
	chunks ChunkStore
	events EventLog
}

// NewOps returns ops' actions; core must mail (NewMailingCore). events is
// where the detail reads the lifecycle events raised.
//
// Errors: EINTERNAL when a port is nil or core cannot mail.
func NewOps(core *Core, flow Flow, runs Executions, chunks ChunkStore, events EventLog) (*Ops, error) {
	const name = "the ops service"
	if err := NeedsCore(name, core, true); err != nil {
		return nil, err
	}
	switch {
	case flow == nil:
		return nil, errNilPort(name, "Flow")
	case runs == nil:
		return nil, errNilPort(name, "Executions")
	case chunks == nil:
		return nil, errNilPort(name, "ChunkStore")
	case events == nil:
		return nil, errNilPort(name, "EventLog")
	}
	return &Ops{Core: core, flow: flow, runs: runs, chunks: chunks, events: events}, nil
}

// Steps is the state machine's steps that wait or fail: Park (every
// callback step that waits for a person) and MarkFailed. Both mail.
type Steps struct {
	*Core
}

// NewSteps returns the waiting and failing steps; core must mail.
//
// Errors: EINTERNAL when core is nil or cannot mail.
func NewSteps(core *Core) (*Steps, error) {
	if err := NeedsCore("the steps service", core, true); err != nil {
		return nil, err
	}
	return &Steps{Core: core}, nil
}

// Completion is the Complete step: the migration goes live and locked, its
// TEST records are set to expire, and the people involved are told.
type Completion struct {
	*Core
	test TestExpiry
}

// NewCompletion returns the Complete step; core must mail.
//
// Errors: EINTERNAL when a port is nil or core cannot mail.
func NewCompletion(core *Core, test TestExpiry) (*Completion, error) {
	const name = "the Complete step"
	if err := NeedsCore(name, core, true); err != nil {
		return nil, err
	}
	if test == nil {
		return nil, errNilPort(name, "TestExpiry")
	}
	return &Completion{Core: core, test: test}, nil
}

// Reconciler keeps each migration's status true to its execution and
// re-sends mail that failed to send; core must mail.
type Reconciler struct {
	*Core
	watch ExecutionStatuses
}

// NewReconciler returns the reconciler.
//
// Errors: EINTERNAL when a port is nil or core cannot mail.
func NewReconciler(core *Core, watch ExecutionStatuses) (*Reconciler, error) {
	const name = "the reconciler"
	if err := NeedsCore(name, core, true); err != nil {
		return nil, err
	}
	if watch == nil {
		return nil, errNilPort(name, "ExecutionStatuses")
	}
	return &Reconciler{Core: core, watch: watch}, nil
}
