// Package awsenv reads a function's configuration from its environment and
// builds the AWS clients, honouring AWS_ENDPOINT_URL (the emulator,
// LocalStack).
package awsenv

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/logging"
)

// Setup installs the JSON logger at LOG_LEVEL and builds the AWS config
// from the environment Lambda gives every function: AWS_REGION and the
// execution role's credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN), plus AWS_ENDPOINT_URL where the stack runs on an
// emulator. That is exactly what the SDK's default chain (config.
// LoadDefaultConfig) resolves to inside Lambda, but the chain also links
// the SSO, SSO-OIDC, STS and sign-in clients and the shared-config
// parser, whose package initialisation every cold start would pay for
// (about a fifth of a light function's init; BENCHMARKS.md).
//
// Errors: when the region or the credentials are missing.
func Setup(ctx context.Context) (aws.Config, error) {
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(os.Getenv("LOG_LEVEL")))
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level})))
	return configFromEnv(os.Getenv)
}

// configFromEnv builds the config from the environment getenv reads.
func configFromEnv(getenv func(string) string) (aws.Config, error) {
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	if region == "" {
		return aws.Config{}, fmt.Errorf("load AWS config: AWS_REGION is not set")
	}
	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		return aws.Config{}, fmt.Errorf("load AWS config: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set (Lambda sets them from the execution role)")
	}
	cfg := aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN"))),
		Logger:      sdkLogger{},
	}
	if ep := getenv("AWS_ENDPOINT_URL"); ep != "" {
		cfg.BaseEndpoint = aws.String(ep)
	}
	return cfg, nil
}

// sdkLogger sends the SDK's own log lines through slog, so every line a
// function writes is structured JSON.
type sdkLogger struct{}

func (sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	level := slog.LevelWarn
	if c == logging.Debug {
		level = slog.LevelDebug
	}
	slog.Log(context.Background(), level, "aws sdk", "detail", fmt.Sprintf(format, v...))
}

// DynamoDBMaxAttempts and DynamoDBMaxBackoff bound the SDK's retries of
// one DynamoDB call made by a state machine step. The SDK backs a
// throttled call off 1 s, 2 s, 4 s, ... (full jitter), capped at
// DynamoDBMaxBackoff: six attempts wait at most 1+2+4+4+4 = 15 s, half
// that on average. A step that is still throttled after that fails with
// EUNAVAILABLE, and the state machine's Retry waits longer before the
// whole step runs again (it is idempotent); a longer wait inside the
// Lambda would only spend its time.
//
// APIDynamoDBMaxAttempts bounds an API function's calls instead: one
// request makes several calls in a row (authorise, read, conditional
// save) inside API Gateway's 30-second limit, and a person waiting is
// better told "try again" (503) within seconds than left to a gateway
// timeout. Three attempts wait at most 1+2 = 3 s per call.
const (
	DynamoDBMaxAttempts    = 6
	APIDynamoDBMaxAttempts = 3
	DynamoDBMaxBackoff     = 4 * time.Second
)

// DynamoDB returns a DynamoDB client. Its retryer (dynamoRetryer) is the
// only retry of a whole call: the store's own loops only resend what a
// call that succeeded left undone (BatchWriteItem's UnprocessedItems,
// the items of a cancelled transaction); a read whose answer arrived
// broken is retried too (rereadBrokenAnswers). With a custom endpoint (the
// local emulator, LocalStack) it does not insist on the X-Amz-Crc32
// response header, an AWS integrity check that DynamoDB-compatible
// emulators omit.
func DynamoDB(cfg aws.Config) *dynamodb.Client { return dynamoClient(cfg, DynamoDBMaxAttempts) }

// DynamoDBForAPI is DynamoDB for the functions behind the HTTP API, whose
// calls retry at most APIDynamoDBMaxAttempts times.
func DynamoDBForAPI(cfg aws.Config) *dynamodb.Client {
	return dynamoClient(cfg, APIDynamoDBMaxAttempts)
}

func dynamoClient(cfg aws.Config, attempts int) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.Retryer = dynamoRetryer(attempts)
		o.APIOptions = append(o.APIOptions, addRereadBrokenAnswers)
		o.DisableValidateResponseChecksum = os.Getenv("AWS_ENDPOINT_URL") != ""
	})
}

// dynamoRetryer is the SDK's standard retryer with our bounds, without
// its client-wide retry quota (ratelimit.None): the default token bucket
// runs dry after about a hundred throttled retries in one process, and
// then every throttled call fails at once with "retry quota exceeded"
// instead of backing off, exactly when a final migration's writers are
// being throttled. The bounds above limit each call instead. A
// TransactionConflictException (a write racing a transaction on the same
// item) is retried too: the SDK does not count it as transient, but the
// next attempt normally goes through.
func dynamoRetryer(attempts int) aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = attempts
		o.MaxBackoff = DynamoDBMaxBackoff
		o.BaseDelay = 25 * time.Millisecond // DynamoDB's own default, for errors other than throttling
		o.RateLimiter = ratelimit.None
		o.Retryables = append(o.Retryables, retry.RetryableErrorCode{
			Codes: map[string]struct{}{"TransactionConflictException": {}},
		})
	})
}

// Env returns the named variables' values.
//
// Errors: names every variable that is unset or empty.
func Env(names ...string) (map[string]string, error) {
	out := make(map[string]string, len(names))
	var missing []string
	for _, n := range names {
		v := os.Getenv(n)
		if v == "" {
			missing = append(missing, n)
		}
		out[n] = v
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing environment: %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// Seconds reads a positive whole number of seconds from a variable.
//
// Errors: names the variable when it is unset, not a number, or not positive.
func Seconds(name string) (int, error) {
	return positive(name, "seconds")
}

// Int reads a positive whole number from a variable.
//
// Errors: names the variable when it is unset, not a number, or not positive.
func Int(name string) (int, error) {
	return positive(name, "")
}

// Percent reads a whole percentage, 0 to 100, from a variable (a
// tolerated share of failures, where 0 is a real setting: none).
//
// Errors: names the variable when it is unset, not a whole number, or
// outside 0 to 100.
func Percent(name string) (int, error) {
	n, err := strconv.Atoi(os.Getenv(name))
	if err != nil || n < 0 || n > 100 {
		return 0, fmt.Errorf("%s must be a whole percentage from 0 to 100", name)
	}
	return n, nil
}

func positive(name, unit string) (int, error) {
	n, err := strconv.Atoi(os.Getenv(name))
	if err != nil || n <= 0 {
		if unit != "" {
			return 0, fmt.Errorf("%s must be a positive number of %s", name, unit)
		}
		return 0, fmt.Errorf("%s must be a positive number", name)
	}
	return n, nil
}

// Fatal logs a start-up failure and exits: a function that cannot configure
// itself must not take invocations.
func Fatal(msg string, err error) {
	slog.Error(msg, "error", err.Error())
	os.Exit(1)
}

// MemoryBytes is the function's memory, from AWS_LAMBDA_FUNCTION_MEMORY_SIZE
// (megabytes), which Lambda sets for every function and the local runner
// (infra/lambdarunner) sets from template.yaml's MemorySize. Limits on what
// one input may hold in memory derive from it (tabular.XLSXLimitsForMemory),
// so that raising a function's MemorySize raises them and no limit can sit
// above the memory it guards. It is 0, unknown, when the variable is unset
// or not a positive number (outside Lambda); callers then keep their
// defaults.
func MemoryBytes() int64 {
	mb, err := strconv.ParseInt(os.Getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), 10, 64)
	if err != nil || mb <= 0 || mb > 1<<20 {
		return 0
	}
	return mb << 20
}
