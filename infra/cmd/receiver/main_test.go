package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination"
)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestRunRefusesABadSetup(t *testing.T) {
	db := filepath.Join(t.TempDir(), "r.db")
	for name, c := range map[string]struct {
		args []string
		env  map[string]string
		want string
	}{
		"no secret":        {[]string{"-db", db}, nil, "RECEIVER_SECRET"},
		"a bad secret":     {[]string{"-db", db, "-secret", "hunter2"}, nil, "whsec_"},
		"a bad env secret": {[]string{"-db", db}, map[string]string{"RECEIVER_SECRET": "whsec_!!"}, "whsec_"},
		"slow, no delay":   {[]string{"-db", db, "-secret", secret, "-slow", "2"}, nil, "delay"},
		"an unknown flag":  {[]string{"-nope"}, nil, "nope"},
	} {
		err := run(context.Background(), c.args, env(c.env), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming %q", name, err, c.want)
		}
		if strings.Contains(name, "secret") && err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error shows the secret: %v", name, err)
		}
	}
}

// The command listens, says where, takes a signed batch with the faults its
// flags set, and stops when its context ends.
func TestRunServesTheContract(t *testing.T) {
	db := filepath.Join(t.TempDir(), "sub", "r.db")
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-db", db, "-reject", "r2", "-reject-reason", "not here"},
			env(map[string]string{"RECEIVER_SECRET": secret}), w, io.Discard)
		w.Close()
	}()
	sc := bufio.NewScanner(out)
	var printed []string
	for sc.Scan() {
		printed = append(printed, sc.Text())
		if strings.Contains(sc.Text(), "database") {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	text := strings.Join(printed, "\n")
	base := ""
	for _, f := range strings.Fields(text) {
		if strings.HasPrefix(f, "http://127.0.0.1:") {
			base = strings.TrimSuffix(f, "/")
			break
		}
	}
	if base == "" || !strings.Contains(text, db) || !strings.Contains(text, "/admin/faults") {
		t.Fatalf("printed:\n%s", text)
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("database: %v", err)
	}

	key, _ := destination.Key(secret)
	tg := cutover.Target{Env: cutover.EnvTest, TenantID: "acme", MigrationID: "m1", Round: 1}
	b := destination.Batch{
		TenantID: "acme", MigrationID: "m1", Environment: cutover.EnvTest, Round: 1,
		Records: []destination.Record{{ID: "r1", Entity: "contact", Fields: map[string]any{}}, {ID: "r2", Entity: "contact", Fields: map[string]any{}}},
	}
	var err error
	if b.ID, err = destination.BatchKey(tg, b.Records); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(b)
	req, _ := http.NewRequest(http.MethodPost, base+"/tenants/acme/records", bytes.NewReader(body))
	destination.SetHeaders(req.Header, key, "msg_1", time.Now(), body)
	req.Header.Set(destination.HeaderIdempotencyKey, b.ID)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var br destination.BatchResult
	_ = json.NewDecoder(res.Body).Decode(&br)
	res.Body.Close()
	want := []cutover.DeliveryResult{{ID: "r1", Outcome: cutover.Created}, {ID: "r2", Outcome: cutover.Rejected, Reason: "not here"}}
	if res.StatusCode != 200 || len(br.Results) != 2 || br.Results[0] != want[0] || br.Results[1] != want[1] {
		t.Fatalf("%d %+v, want %+v", res.StatusCode, br.Results, want)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after its context ended: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop when its context ended")
	}
}
