// Command echofn is the lambdarunner tests' function: it echoes its input,
// or fails in the way the input asks for.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// request says what the invocation should do.
type request struct {
	Action    string          `json:"action"` // echo (default), error, panic, exit, sleep, meet, call
	Message   string          `json:"message"`
	SleepMS   int             `json:"sleepMs"`
	Value     json.RawMessage `json:"value"`
	EnvNames  []string        `json:"env"`
	SizeBytes int             `json:"sizeBytes"`
	// Dir and Parties are the meeting point of "meet": the invocation
	// leaves a file in Dir and waits until Parties files are there, so it
	// ends only if that many invocations were running at once.
	Dir     string `json:"dir"`
	Parties int    `json:"parties"`
	// URL is what "call" GETs before it answers.
	URL string `json:"url"`
	// RawPath is set when the invocation is an HTTP API (payload 2.0)
	// event; a path ending in /fail asks for a function error.
	RawPath string `json:"rawPath"`
}

type response struct {
	PID         int               `json:"pid"`
	Value       json.RawMessage   `json:"value,omitempty"`
	Env         map[string]string `json:"env,omitempty"`
	FunctionARN string            `json:"functionArn"`
	RequestID   string            `json:"requestId"`
	DeadlineMS  int64             `json:"deadlineMs"`
	Padding     string            `json:"padding,omitempty"`
}

// TransientError is a named error type, reported as errorType
// "TransientError".
type TransientError struct{ msg string }

func (e TransientError) Error() string { return e.msg }

func handle(ctx context.Context, req request) (response, error) {
	lc, _ := lambdacontext.FromContext(ctx)
	deadline, _ := ctx.Deadline()

	resp := response{
		PID: os.Getpid(), Value: req.Value, FunctionARN: lc.InvokedFunctionArn,
		RequestID: lc.AwsRequestID, DeadlineMS: deadline.UnixMilli(),
	}

	if strings.HasSuffix(req.RawPath, "/fail") {
		req.Action, req.Message = "error", "failed through the HTTP API"
	}

	switch req.Action {
	case "error":
		return resp, TransientError{msg: req.Message}
	case "panic":
		panic(req.Message)
	case "exit":
		os.Exit(3)
	case "meet":
		if err := meet(ctx, req.Dir, req.Parties); err != nil {
			return resp, err
		}
	case "call":
		if err := call(ctx, req.URL); err != nil {
			return resp, err
		}
	case "sleep":
		select {
		case <-time.After(time.Duration(req.SleepMS) * time.Millisecond):
		case <-ctx.Done():
			// Keep running past the deadline, like a handler that ignores
			// its context: the runner must still time the invocation out.
			time.Sleep(time.Duration(req.SleepMS) * time.Millisecond)
		}
	}

	if len(req.EnvNames) > 0 {
		resp.Env = map[string]string{}
		for _, k := range req.EnvNames {
			resp.Env[k] = os.Getenv(k)
		}
	}

	if req.SizeBytes > 0 {
		b := make([]byte, req.SizeBytes)
		for i := range b {
			b[i] = 'x'
		}

		resp.Padding = string(b)
	}

	return resp, nil
}

// meet leaves this invocation's mark in dir and waits until parties marks
// are there, or fails when the invocation's deadline comes first.
func meet(ctx context.Context, dir string, parties int) error {
	if err := os.WriteFile(filepath.Join(dir, lambdacontext.FunctionName+"-"+strconv.Itoa(os.Getpid())), nil, 0o644); err != nil {
		return err
	}

	for {
		marks, err := os.ReadDir(dir)
		if err != nil {
			return err
		}

		if len(marks) >= parties {
			return nil
		}

		select {
		case <-ctx.Done():
			return fmt.Errorf("met %d of %d parties before the deadline", len(marks), parties)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// call GETs url and discards the answer.
func call(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}

	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}

	return res.Body.Close()
}

func main() {
	if os.Getenv("ECHOFN_FAIL_INIT") != "" {
		fmt.Fprintln(os.Stderr, "echofn: refusing to start")
		os.Exit(2)
	}

	lambda.Start(handle)
}
