// Package awsenv reads a function's configuration from its environment and
// builds the AWS clients, honouring AWS_ENDPOINT_URL (the emulator,
// LocalStack) through the SDK's own configuration.
package awsenv

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/logging"
)

// Setup installs the JSON logger at LOG_LEVEL and loads the AWS config.
//
// Errors: when the AWS configuration cannot be loaded.
func Setup(ctx context.Context) (aws.Config, error) {
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(os.Getenv("LOG_LEVEL")))
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level})))
	cfg, err := config.LoadDefaultConfig(ctx, config.WithLogger(sdkLogger{}))
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
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

// DynamoDB returns a DynamoDB client. With a custom endpoint (the local
// emulator, LocalStack) it does not insist on the X-Amz-Crc32 response
// header, an AWS integrity check that DynamoDB-compatible emulators omit.
func DynamoDB(cfg aws.Config) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.DisableValidateResponseChecksum = os.Getenv("AWS_ENDPOINT_URL") != ""
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
