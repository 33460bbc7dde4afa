package migration

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
)

// ports stands for every port in a wiring test: its methods are never
// called, only its presence is checked.
type ports struct {
	Store
	Mailer
	Outbox
	Uploads
	Flow
	Executions
	ExecutionStatuses
	ChunkStore
	TestExpiry
	EventLog
}

// Every constructor refuses a nil port, naming it, so a Lambda wired
// without what it needs fails at start instead of panicking on a request.
func TestConstructorsRefuseNilPorts(t *testing.T) {
	p := ports{}
	mailing, err := NewMailingCore(p, p, p, Config{})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := NewCore(p, Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, port string
		build      func() error
	}{
		{"NewCore", "Store", func() error { _, err := NewCore(nil, Config{}); return err }},
		{"NewMailingCore", "Store", func() error { _, err := NewMailingCore(nil, p, p, Config{}); return err }},
		{"NewMailingCore", "Mailer", func() error { _, err := NewMailingCore(p, nil, p, Config{}); return err }},
		{"NewMailingCore", "Outbox", func() error { _, err := NewMailingCore(p, p, nil, Config{}); return err }},
		{"NewCustomer", "Core", func() error { _, err := NewCustomer(nil, p, p); return err }},
		{"NewCustomer", "Uploads", func() error { _, err := NewCustomer(plain, nil, p); return err }},
		{"NewCustomer", "Flow", func() error { _, err := NewCustomer(plain, p, nil); return err }},
		{"NewOps", "NewMailingCore", func() error { _, err := NewOps(plain, p, p, p, p); return err }},
		{"NewOps", "Flow", func() error { _, err := NewOps(mailing, nil, p, p, p); return err }},
		{"NewOps", "Executions", func() error { _, err := NewOps(mailing, p, nil, p, p); return err }},
		{"NewOps", "ChunkStore", func() error { _, err := NewOps(mailing, p, p, nil, p); return err }},
		{"NewOps", "EventLog", func() error { _, err := NewOps(mailing, p, p, p, nil); return err }},
		{"AnnounceWith", "Announcer", func() error { return plain.AnnounceWith(nil) }},
		{"NewSteps", "Core", func() error { _, err := NewSteps(nil); return err }},
		{"NewSteps", "NewMailingCore", func() error { _, err := NewSteps(plain); return err }},
		{"NewCompletion", "NewMailingCore", func() error { _, err := NewCompletion(plain, p); return err }},
		{"NewCompletion", "TestExpiry", func() error { _, err := NewCompletion(mailing, nil); return err }},
		{"NewReconciler", "NewMailingCore", func() error { _, err := NewReconciler(plain, p); return err }},
		{"NewReconciler", "ExecutionStatuses", func() error { _, err := NewReconciler(mailing, nil); return err }},
	} {
		err := tc.build()
		if cutover.ErrorCode(err) != cutover.EINTERNAL || !strings.Contains(cutover.ErrorMessage(err), tc.port) {
			t.Errorf("%s without %s: %v", tc.name, tc.port, err)
		}
	}
	for name, build := range map[string]func() error{
		"NewCustomer":   func() error { _, err := NewCustomer(plain, p, p); return err },
		"NewOps":        func() error { _, err := NewOps(mailing, p, p, p, p); return err },
		"NewSteps":      func() error { _, err := NewSteps(mailing); return err },
		"NewCompletion": func() error { _, err := NewCompletion(mailing, p); return err },
		"NewReconciler": func() error { _, err := NewReconciler(mailing, p); return err },
	} {
		if err := build(); err != nil {
			t.Errorf("%s with every port: %v", name, err)
		}
	}
}
