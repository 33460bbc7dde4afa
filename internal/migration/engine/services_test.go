package engine

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
)

// Every constructor refuses a nil port, naming it (see the light package's
// TestConstructorsRefuseNilPorts).
func TestEngineConstructorsRefuseNilPorts(t *testing.T) {
	store := newMemStore()
	mailing, err := migration.NewMailingCore(store, nowhere{}, newMemOutbox(), migration.Config{})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := migration.NewCore(store, migration.Config{})
	if err != nil {
		t.Fatal(err)
	}
	files, live, chunks, up, dl, flow := objects{}, &sinkDestination{}, &memChunks{}, uploadsFake{}, signedLinks{}, fakeFlow{}
	tchunks := newMemTestChunks()
	for _, tc := range []struct {
		name, port string
		build      func() error
	}{
		{"NewMapper", "Core", func() error { _, err := NewMapper(nil, files); return err }},
		{"NewMapper", "Files", func() error { _, err := NewMapper(plain, nil); return err }},
		{"NewTestRun", "Files", func() error { _, err := NewTestRun(plain, nil, discardTest{}, live, tchunks, TestConfig{}); return err }},
		{"NewTestRun", "TestEnv", func() error { _, err := NewTestRun(plain, files, nil, live, tchunks, TestConfig{}); return err }},
		{"NewTestRun", "Destination", func() error {
			_, err := NewTestRun(plain, files, discardTest{}, nil, tchunks, TestConfig{})
			return err
		}},
		{"NewTestRun", "TestChunks", func() error { _, err := NewTestRun(plain, files, discardTest{}, live, nil, TestConfig{}); return err }},
		{"NewFinal", "NewMailingCore", func() error { _, err := NewFinal(plain, files, live, chunks, FinalConfig{}); return err }},
		{"NewFinal", "Files", func() error { _, err := NewFinal(mailing, nil, live, chunks, FinalConfig{}); return err }},
		{"NewFinal", "Destination", func() error { _, err := NewFinal(mailing, files, nil, chunks, FinalConfig{}); return err }},
		{"NewFinal", "ChunkStore", func() error { _, err := NewFinal(mailing, files, live, nil, FinalConfig{}); return err }},
		{"NewCustomer", "NewMailingCore", func() error { _, err := NewCustomer(plain, up, files, dl, flow); return err }},
		{"NewCustomer", "Uploads", func() error { _, err := NewCustomer(mailing, nil, files, dl, flow); return err }},
		{"NewCustomer", "Files", func() error { _, err := NewCustomer(mailing, up, nil, dl, flow); return err }},
		{"NewCustomer", "Downloads", func() error { _, err := NewCustomer(mailing, up, files, nil, flow); return err }},
		{"NewCustomer", "Flow", func() error { _, err := NewCustomer(mailing, up, files, dl, nil); return err }},
	} {
		err := tc.build()
		if cutover.ErrorCode(err) != cutover.EINTERNAL || !strings.Contains(cutover.ErrorMessage(err), tc.port) {
			t.Errorf("%s without %s: %v", tc.name, tc.port, err)
		}
	}
	for name, build := range map[string]func() error{
		"NewMapper": func() error { _, err := NewMapper(plain, files); return err },
		"NewTestRun": func() error {
			_, err := NewTestRun(plain, files, discardTest{}, live, tchunks, TestConfig{})
			return err
		},
		"NewFinal":    func() error { _, err := NewFinal(mailing, files, live, chunks, FinalConfig{}); return err },
		"NewCustomer": func() error { _, err := NewCustomer(mailing, up, files, dl, flow); return err },
	} {
		if err := build(); err != nil {
			t.Errorf("%s with every port: %v", name, err)
		}
	}
}
