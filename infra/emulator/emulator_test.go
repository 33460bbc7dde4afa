package emulator_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/cutover/cutover/infra/emulator"
	"github.com/cutover/cutover/infra/provision"
)

// Builds of one kumo at once, as parallel tests of one package start
// their stacks, all succeed, and leave a kumo that runs and no temporary
// file behind.
func TestBuildsAtOnceIntoOnePathAllSucceed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "kumo")
	errs := make(chan error, 8) // fewer rarely meet: the race is in the last milliseconds of a build
	for range cap(errs) {
		go func() { errs <- emulator.Build(ctx, filepath.Join("..", ".."), bin) }()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 1 {
		t.Errorf("the build directory holds %v (%v); want kumo alone", entries, err)
	}
	srv, err := emulator.Start(ctx, emulator.Options{Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	_ = srv.Close()
}

// TestTwoKumosRunStepFunctionsSideBySide starts two kumos on free ports
// (neither on 4566) and checks that each one's Step Functions invokes its
// own function: what the Step Functions patch is for.
func TestTwoKumosRunStepFunctionsSideBySide(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	bin := filepath.Join(t.TempDir(), "kumo")
	if err := emulator.Build(ctx, filepath.Join("..", ".."), bin); err != nil {
		t.Fatal(err)
	}

	type instance struct {
		srv   *emulator.Server
		calls atomic.Int32
	}

	var kumos [2]*instance

	for i := range kumos {
		srv, err := emulator.Start(ctx, emulator.Options{Binary: bin})
		if err != nil {
			t.Fatal(err)
		}

		t.Cleanup(func() { _ = srv.Close() })

		if srv.Port == 4566 {
			t.Skip("a free port happened to be 4566; the test proves nothing there")
		}

		kumos[i] = &instance{srv: srv}
	}

	for i, k := range kumos {
		fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			k.calls.Add(1)
			_, _ = fmt.Fprintf(w, `{"instance":%d}`, i)
		}))
		t.Cleanup(fn.Close)

		if _, err := provision.NewLambdaClient(k.srv.Endpoint, emulator.Region, nil).CreateFunction(ctx, provision.FunctionSpec{
			Name: "same-name", Runtime: "provided.al2023", Handler: "bootstrap", InvokeEndpoint: fn.URL,
		}); err != nil {
			t.Fatal(err)
		}
	}

	for i, k := range kumos {
		sc := sfn.NewFromConfig(aws.Config{
			Region: emulator.Region, BaseEndpoint: aws.String(k.srv.Endpoint),
			Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		})

		sm, err := sc.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
			Name:    aws.String("sm"),
			RoleArn: aws.String("arn:aws:iam::000000000000:role/test"),
			Definition: aws.String(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
				"Parameters":{"FunctionName":"same-name","Payload":{}},"OutputPath":"$.Payload","End":true}}}`),
		})
		if err != nil {
			t.Fatal(err)
		}

		ex, err := sc.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn})
		if err != nil {
			t.Fatal(err)
		}

		for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
			d, err := sc.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: ex.ExecutionArn})
			if err != nil {
				t.Fatal(err)
			}

			if d.Status == sfntypes.ExecutionStatusRunning {
				if time.Now().After(deadline) {
					t.Fatal("execution still running")
				}

				continue
			}

			if want := fmt.Sprintf(`{"instance":%d}`, i); d.Status != sfntypes.ExecutionStatusSucceeded || aws.ToString(d.Output) != want {
				t.Fatalf("kumo %d: %s output %s cause %s", i, d.Status, aws.ToString(d.Output), aws.ToString(d.Cause))
			}

			break
		}
	}

	if kumos[0].calls.Load() != 1 || kumos[1].calls.Load() != 1 {
		t.Errorf("calls: %d, %d; want one each", kumos[0].calls.Load(), kumos[1].calls.Load())
	}

	// Close stops kumo: the port no longer answers.
	endpoint := kumos[0].srv.Endpoint
	if err := kumos[0].srv.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}

	if resp, err := http.Get(endpoint + "/health"); err == nil {
		_ = resp.Body.Close()
		t.Error("kumo still answers after Close")
	}
}

func TestStartRefusesABusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}

	defer func() { _ = ln.Close() }()

	port := ln.Addr().(*net.TCPAddr).Port

	_, err = emulator.Start(context.Background(), emulator.Options{Binary: "/nonexistent/kumo", Port: port})
	if err == nil || !strings.Contains(err.Error(), "not free") {
		t.Fatalf("Start on a busy port: %v", err)
	}
}

// Lifting kumo's execution cap keeps a definition's own TimeoutSeconds: an
// execution that outlives it still ends with States.Timeout.
func TestDefinitionTimeoutSecondsStillApplies(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	bin := filepath.Join(t.TempDir(), "kumo")
	if err := emulator.Build(ctx, filepath.Join("..", ".."), bin); err != nil {
		t.Fatal(err)
	}

	srv, err := emulator.Start(ctx, emulator.Options{Binary: bin})
	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { _ = srv.Close() })

	sc := sfn.NewFromConfig(aws.Config{
		Region: emulator.Region, BaseEndpoint: aws.String(srv.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	})

	sm, err := sc.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name:       aws.String("bounded"),
		RoleArn:    aws.String("arn:aws:iam::000000000000:role/test"),
		Definition: aws.String(`{"TimeoutSeconds":2,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"End":true}}}`),
	})
	if err != nil {
		t.Fatal(err)
	}

	ex, err := sc.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn})
	if err != nil {
		t.Fatal(err)
	}

	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		d, err := sc.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: ex.ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}

		if d.Status == sfntypes.ExecutionStatusRunning {
			if time.Now().After(deadline) {
				t.Fatal("the execution outlived its TimeoutSeconds")
			}

			continue
		}

		if aws.ToString(d.Error) != "States.Timeout" {
			t.Fatalf("execution %s (%s: %s); want States.Timeout", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
		}

		break
	}
}
