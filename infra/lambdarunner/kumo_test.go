package lambdarunner

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apitypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/cutover/cutover/infra/emulator"
	"github.com/cutover/cutover/infra/provision"
)

// startKumo builds kumo and runs it on a free port for the test.
func startKumo(t *testing.T, log io.Writer) *emulator.Server {
	t.Helper()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	bin := filepath.Join(t.TempDir(), "kumo")
	if err := emulator.Build(ctx, filepath.Join("..", ".."), bin); err != nil {
		t.Fatal(err)
	}

	srv, err := emulator.Start(ctx, emulator.Options{Binary: bin, Log: log, FunctionConcurrency: DefaultConcurrency})
	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { _ = srv.Close() })

	return srv
}

func awsConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(endpoint),
	}
}

// TestKumoSeesFunctionErrorsAsFailures runs the echo function behind kumo
// (on a port other than 4566) and checks the three ways kumo calls it: a
// Step Functions Task whose Catch on States.ALL must fire when the function
// errors, the Lambda Invoke API, and an HTTP API route, which must answer 5xx.
func TestKumoSeesFunctionErrorsAsFailures(t *testing.T) {
	log := &logBuffer{}
	kumo := startKumo(t, log)

	fn := echoFunction("viakumo", 5*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	r, err := Start(ctx, Options{Functions: []Function{fn}, Endpoint: kumo.Endpoint, Log: log})
	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { _ = r.Close() })

	arn, err := provision.NewLambdaClient(kumo.Endpoint, "us-east-1", nil).CreateFunction(ctx, provision.FunctionSpec{
		Name: fn.Name, Runtime: "provided.al2023", Handler: "bootstrap", Timeout: 5, MemorySize: 256,
		InvokeEndpoint: r.InvokeEndpoint(fn.Name),
	})
	if err != nil {
		t.Fatal(err)
	}

	if arn != fn.ARN {
		t.Fatalf("kumo ARN %s, want %s", arn, fn.ARN)
	}

	cfg := awsConfig(kumo.Endpoint)

	t.Run("step functions catch", func(t *testing.T) {
		stepFunctionsCatch(ctx, t, cfg, fn.ARN)
	})

	t.Run("lambda invoke", func(t *testing.T) {
		lc := lambda.NewFromConfig(cfg)

		out, err := lc.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(fn.Name), Payload: []byte(`{"value":7}`)})
		if err != nil || out.FunctionError != nil || !strings.Contains(string(out.Payload), `"value":7`) {
			t.Fatalf("success: %v %+v", err, out)
		}

		_, err = lc.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(fn.Name), Payload: []byte(`{"action":"error","message":"x"}`)})
		if err == nil || !strings.Contains(err.Error(), "TransientError") {
			t.Fatalf("a function error must fail Invoke, got %v", err)
		}
	})

	t.Run("http api", func(t *testing.T) {
		httpAPI5xx(ctx, t, cfg, kumo, fn.ARN)
	})
}

func stepFunctionsCatch(ctx context.Context, t *testing.T, cfg aws.Config, fnARN string) {
	def := fmt.Sprintf(`{
  "StartAt": "Call",
  "States": {
    "Call": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": {"FunctionName": %q, "Payload": {"action.$": "$.action", "message": "step failed"}},
      "ResultSelector": {"pid.$": "$.Payload.pid"},
      "ResultPath": "$.result",
      "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}],
      "Next": "Done"
    },
    "Caught": {"Type": "Pass", "Result": "caught", "ResultPath": "$.branch", "End": true},
    "Done": {"Type": "Pass", "Result": "done", "ResultPath": "$.branch", "End": true}
  }
}`, fnARN)

	sc := sfn.NewFromConfig(cfg)

	sm, err := sc.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String("catch-test"), Definition: aws.String(def),
		RoleArn: aws.String("arn:aws:iam::000000000000:role/test"),
	})
	if err != nil {
		t.Fatal(err)
	}

	run := func(action string) map[string]any {
		t.Helper()

		ex, err := sc.StartExecution(ctx, &sfn.StartExecutionInput{
			StateMachineArn: sm.StateMachineArn, Input: aws.String(`{"action":"` + action + `"}`),
		})
		if err != nil {
			t.Fatal(err)
		}

		for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
			d, err := sc.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: ex.ExecutionArn})
			if err != nil {
				t.Fatal(err)
			}

			if d.Status != sfntypes.ExecutionStatusRunning {
				if d.Status != sfntypes.ExecutionStatusSucceeded {
					t.Fatalf("%s: execution %s: %s %s", action, d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
				}

				var out map[string]any
				if err := json.Unmarshal([]byte(aws.ToString(d.Output)), &out); err != nil {
					t.Fatal(err)
				}

				return out
			}

			if time.Now().After(deadline) {
				t.Fatalf("%s: execution still running", action)
			}
		}
	}

	if out := run("echo"); out["branch"] != "done" {
		t.Errorf("success path went to %v: %v", out["branch"], out)
	}

	out := run("error")
	if out["branch"] != "caught" {
		t.Fatalf("function error did not reach the Catch: %v", out)
	}

	e, _ := out["error"].(map[string]any)
	if e["Error"] != "States.TaskFailed" || !strings.Contains(fmt.Sprint(e["Cause"]), "TransientError") {
		t.Errorf("catch output %v", e)
	}
}

func httpAPI5xx(ctx context.Context, t *testing.T, cfg aws.Config, kumo *emulator.Server, fnARN string) {
	ac := apigatewayv2.NewFromConfig(cfg)

	api, err := ac.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("t"), ProtocolType: apitypes.ProtocolTypeHttp})
	if err != nil {
		t.Fatal(err)
	}

	integ, err := ac.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{
		ApiId: api.ApiId, IntegrationType: apitypes.IntegrationTypeAwsProxy,
		IntegrationUri: aws.String(fnARN), PayloadFormatVersion: aws.String("2.0"),
	})
	if err != nil {
		t.Fatal(err)
	}

	for _, key := range []string{"POST /ok", "POST /fail"} {
		if _, err := ac.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{
			ApiId: api.ApiId, RouteKey: aws.String(key), Target: aws.String("integrations/" + aws.ToString(integ.IntegrationId)),
		}); err != nil {
			t.Fatal(err)
		}
	}

	if _, err := ac.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("$default"), AutoDeploy: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}

	// kumo routes execute-api by Host; dial kumo directly.
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, strings.TrimPrefix(kumo.Endpoint, "http://"))
		},
	}}
	base := fmt.Sprintf("http://%s.execute-api.localhost:%d", aws.ToString(api.ApiId), kumo.Port)

	call := func(path string) (int, string) {
		resp, err := client.Post(base+path, "application/json", strings.NewReader(`{"value":1}`))
		if err != nil {
			t.Fatal(err)
		}

		defer func() { _ = resp.Body.Close() }()

		b, _ := io.ReadAll(resp.Body)

		return resp.StatusCode, string(b)
	}

	// The echo function's reply has no statusCode: payload 2.0 passes it
	// through as a 200 JSON body. The $default stage needs no path prefix.
	if status, body := call("/ok"); status != http.StatusOK || !strings.Contains(body, `"pid"`) {
		t.Errorf("success: %d %s", status, body)
	}

	// A function error is a 500 to the HTTP client, as on API Gateway.
	if status, body := call("/fail"); status != http.StatusInternalServerError {
		t.Errorf("function error: %d %s", status, body)
	}
}

// TestKumoMapRunsInvocationsOfOneFunctionAtOnce runs a Step Functions Map
// on kumo whose three iterations invoke one function, each ending only once
// all three are running (they meet in a directory): it succeeds only if
// kumo and the runner let three invocations of the function overlap, and
// the runner counts three in flight at once.
func TestKumoMapRunsInvocationsOfOneFunctionAtOnce(t *testing.T) {
	log := &logBuffer{}
	kumo := startKumo(t, log)

	fn := echoFunction("mapoverlap", 10*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	r, err := Start(ctx, Options{Functions: []Function{fn}, Endpoint: kumo.Endpoint, Log: log})
	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { _ = r.Close() })

	if _, err := provision.NewLambdaClient(kumo.Endpoint, "us-east-1", nil).CreateFunction(ctx, provision.FunctionSpec{
		Name: fn.Name, Runtime: "provided.al2023", Handler: "bootstrap", Timeout: 10, MemorySize: 256,
		InvokeEndpoint: r.InvokeEndpoint(fn.Name),
	}); err != nil {
		t.Fatal(err)
	}

	def := fmt.Sprintf(`{
  "StartAt": "Each",
  "States": {
    "Each": {
      "Type": "Map",
      "ItemsPath": "$.items",
      "MaxConcurrency": 3,
      "ItemProcessor": {
        "StartAt": "Call",
        "States": {
          "Call": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": %q, "Payload": {"action": "meet", "dir.$": "$.dir", "parties": 3}},
            "ResultSelector": {"pid.$": "$.Payload.pid"},
            "End": true
          }
        }
      },
      "End": true
    }
  }
}`, fn.ARN)

	sc := sfn.NewFromConfig(awsConfig(kumo.Endpoint))

	sm, err := sc.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String("map-overlap"), Definition: aws.String(def),
		RoleArn: aws.String("arn:aws:iam::000000000000:role/test"),
	})
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	input, _ := json.Marshal(map[string]any{"items": []map[string]string{{"dir": dir}, {"dir": dir}, {"dir": dir}}})

	ex, err := sc.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(string(input))})
	if err != nil {
		t.Fatal(err)
	}

	var d *sfn.DescribeExecutionOutput

	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if d, err = sc.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: ex.ExecutionArn}); err != nil {
			t.Fatal(err)
		}

		if d.Status != sfntypes.ExecutionStatusRunning {
			break
		}

		if time.Now().After(deadline) {
			t.Fatal("execution still running")
		}
	}

	if d.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %s %s\n%s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause), log.String())
	}

	var out []struct{ PID int }
	if err := json.Unmarshal([]byte(aws.ToString(d.Output)), &out); err != nil {
		t.Fatal(err)
	}

	pids := map[int]bool{}
	for _, o := range out {
		pids[o.PID] = true
	}

	if _, peak, _ := r.Concurrency(fn.Name); len(pids) != 3 || peak != 3 {
		t.Errorf("the Map's three iterations ran in %d processes, %d at once; want 3 and 3", len(pids), peak)
	}
}
