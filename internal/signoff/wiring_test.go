package signoff

import (
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

// ports stands for every port in a wiring test; its methods are never
// called.
type ports struct {
	Store
	Migrations
	Resumer
	Mailer
	Artifacts
	Downloads
}

// Both constructors refuse a missing port, naming it, so a Lambda wired
// without what it needs fails at start.
func TestConstructorsRefuseMissingPorts(t *testing.T) {
	p, key := ports{}, Links{Key: []byte("k")}
	for _, tc := range []struct {
		what  string
		build func() error
	}{
		{"signing key", func() error { _, err := NewRequester(Links{}, p, p, p, "https://site", time.Hour); return err }},
		{"Store", func() error { _, err := NewRequester(key, nil, p, p, "https://site", time.Hour); return err }},
		{"Migrations", func() error { _, err := NewRequester(key, p, nil, p, "https://site", time.Hour); return err }},
		{"Mailer", func() error { _, err := NewRequester(key, p, p, nil, "https://site", time.Hour); return err }},
		{"lifetime", func() error { _, err := NewRequester(key, p, p, p, "https://site", 0); return err }},
		{"signing key", func() error { _, err := NewDesk(Links{}, p, p, p, p, p); return err }},
		{"Store", func() error { _, err := NewDesk(key, nil, p, p, p, p); return err }},
		{"Resumer", func() error { _, err := NewDesk(key, p, p, nil, p, p); return err }},
		{"Artifacts", func() error { _, err := NewDesk(key, p, p, p, nil, p); return err }},
		{"Downloads", func() error { _, err := NewDesk(key, p, p, p, p, nil); return err }},
	} {
		if err := tc.build(); cutover.ErrorCode(err) != cutover.EINTERNAL || !strings.Contains(cutover.ErrorMessage(err), tc.what) {
			t.Errorf("without %s: %v", tc.what, err)
		}
	}
	if _, err := NewRequester(key, p, p, p, "https://site", time.Hour); err != nil {
		t.Errorf("requester with every port: %v", err)
	}
	if _, err := NewDesk(key, p, p, p, p, p); err != nil {
		t.Errorf("desk with every port: %v", err)
	}
}
