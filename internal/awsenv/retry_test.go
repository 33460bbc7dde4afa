package awsenv_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/cutover/cutover/internal/awsenv"
)

const throttled = "ProvisionedThroughputExceededException"

// throttlingDynamoDB speaks DynamoDB's JSON protocol: it refuses the first
// `throttle` requests (all of them when negative) the way a table over its
// throughput does, answers the rest with an empty success, and counts
// every request that reaches it.
func throttlingDynamoDB(t *testing.T, throttle int64) (*dynamodb.Client, *atomic.Int64) {
	t.Helper()
	return refusingDynamoDB(t, throttle, throttled)
}

// refusingDynamoDB is throttlingDynamoDB refusing with another error type.
func refusingDynamoDB(t *testing.T, refuse int64, errType string) (*dynamodb.Client, *atomic.Int64) {
	t.Helper()
	return refusingDynamoDBFor(t, refuse, errType, awsenv.DynamoDB)
}

// refusingDynamoDBFor is refusingDynamoDB with the client client builds.
func refusingDynamoDBFor(t *testing.T, refuse int64, errType string, client func(aws.Config) *dynamodb.Client) (*dynamodb.Client, *atomic.Int64) {
	t.Helper()
	var requests atomic.Int64
	db := dynamoAt(t, func(w http.ResponseWriter) {
		if n := requests.Add(1); refuse < 0 || n <= refuse {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"__type":"com.amazonaws.dynamodb.v20120810#`+errType+`","message":"refused (test)"}`)
			return
		}
		_, _ = io.WriteString(w, `{}`)
	}, client)
	return db, &requests
}

// dynamoAt returns the client client builds for a server that answers
// every request (its body read) with answer, as DynamoDB's JSON protocol.
func dynamoAt(t *testing.T, answer func(http.ResponseWriter), client func(aws.Config) *dynamodb.Client) *dynamodb.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		answer(w)
	}))
	t.Cleanup(srv.Close)
	// A custom endpoint, as the emulator's: the client does not insist on
	// AWS's response checksum header, which this server does not send.
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	cfg := aws.Config{
		Region:       "eu-west-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		BaseEndpoint: aws.String(srv.URL),
	}
	return client(cfg)
}

// quick keeps the configured retryer (its attempts and its retry quota)
// but waits a millisecond between attempts, so the test does not sleep
// through real backoff.
func quick(o *dynamodb.Options) {
	o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, time.Millisecond)
}

func put(ctx context.Context, db *dynamodb.Client) error {
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String("t"),
		Item:      map[string]ddb.AttributeValue{"PK": &ddb.AttributeValueMemberS{Value: "a"}},
	}, quick)
	return err
}

func TestDynamoDBRetriesAThrottledWriteAtMostMaxAttemptsTimes(t *testing.T) {
	db, requests := throttlingDynamoDB(t, -1)
	err := put(context.Background(), db)
	var maxed *retry.MaxAttemptsError
	if !errors.As(err, &maxed) {
		t.Fatalf("a write throttled for good: %v, want the SDK's max-attempts error", err)
	}
	if got := requests.Load(); got != awsenv.DynamoDBMaxAttempts {
		t.Fatalf("a write throttled for good took %d requests, want %d", got, awsenv.DynamoDBMaxAttempts)
	}
}

// An API function's client gives up sooner: a request makes several calls
// within API Gateway's 30 seconds.
func TestDynamoDBForAPIRetriesFewerTimes(t *testing.T) {
	db, requests := refusingDynamoDBFor(t, -1, throttled, awsenv.DynamoDBForAPI)
	if err := put(context.Background(), db); err == nil {
		t.Fatal("a write throttled for good succeeded")
	}
	if got := requests.Load(); got != awsenv.APIDynamoDBMaxAttempts {
		t.Fatalf("a write throttled for good took %d requests, want %d", got, awsenv.APIDynamoDBMaxAttempts)
	}
}

func TestDynamoDBRidesOutAFewThrottles(t *testing.T) {
	db, requests := throttlingDynamoDB(t, awsenv.DynamoDBMaxAttempts-1)
	if err := put(context.Background(), db); err != nil {
		t.Fatalf("a write throttled %d times: %v", awsenv.DynamoDBMaxAttempts-1, err)
	}
	if got := requests.Load(); got != awsenv.DynamoDBMaxAttempts {
		t.Fatalf("%d requests, want %d", got, awsenv.DynamoDBMaxAttempts)
	}
}

// The SDK's default retry quota (a client-wide token bucket of 500, 5 per
// throttled retry) runs dry after about a hundred throttled retries, and
// from then on every throttled call fails at once with "retry quota
// exceeded" instead of backing off. A Lambda writing a large final
// extract meets exactly that; the client must keep retrying each call.
func TestDynamoDBHasNoClientWideRetryQuota(t *testing.T) {
	db, requests := throttlingDynamoDB(t, -1)
	const calls = 40 // 40 × (MaxAttempts-1) throttled retries: well past the default quota
	for i := range calls {
		err := put(context.Background(), db)
		var quota ratelimit.QuotaExceededError
		if errors.As(err, &quota) {
			t.Fatalf("call %d: %v", i+1, err)
		}
		var maxed *retry.MaxAttemptsError
		if !errors.As(err, &maxed) {
			t.Fatalf("call %d: %v, want the SDK's max-attempts error", i+1, err)
		}
	}
	if got, want := requests.Load(), int64(calls*awsenv.DynamoDBMaxAttempts); got != want {
		t.Fatalf("%d requests, want %d", got, want)
	}
}

func TestDynamoDBBackoffIsCapped(t *testing.T) {
	db, _ := throttlingDynamoDB(t, 0)
	r := db.Options().Retryer
	throttled := &ddb.ProvisionedThroughputExceededException{Message: aws.String("throttled")}
	var longest time.Duration
	for range 500 {
		d, err := r.RetryDelay(awsenv.DynamoDBMaxAttempts-1, throttled)
		if err != nil {
			t.Fatal(err)
		}
		longest = max(longest, d)
	}
	if longest > awsenv.DynamoDBMaxBackoff {
		t.Fatalf("a retry waited %v, more than the cap %v", longest, awsenv.DynamoDBMaxBackoff)
	}
	if longest < awsenv.DynamoDBMaxBackoff/2 {
		t.Fatalf("the longest of 500 waits was %v: the backoff does not reach its cap %v", longest, awsenv.DynamoDBMaxBackoff)
	}
}

// A write racing a transaction on the same item is retried like a
// throttled one (the hand loop that retried it is gone).
func TestDynamoDBRetriesATransactionConflict(t *testing.T) {
	db, requests := refusingDynamoDB(t, 2, "TransactionConflictException")
	if err := put(context.Background(), db); err != nil {
		t.Fatalf("a write that met two transaction conflicts: %v", err)
	}
	if got := requests.Load(); got != 3 {
		t.Fatalf("%d requests, want 3", got)
	}
}

// A request the table refuses for good is not retried.
func TestDynamoDBDoesNotRetryAConditionFailure(t *testing.T) {
	db, requests := refusingDynamoDB(t, -1, "ConditionalCheckFailedException")
	var ccf *ddb.ConditionalCheckFailedException
	if err := put(context.Background(), db); !errors.As(err, &ccf) {
		t.Fatalf("a failed condition: %v", err)
	}
	if got := requests.Load(); got != 1 {
		t.Fatalf("%d requests, want 1", got)
	}
}

// brokenDynamoDB answers the first `broken` requests with a response cut
// off in its body (it promises more bytes than it sends), as a torn
// connection or a failing proxy does, and the rest with an empty success.
func brokenDynamoDB(t *testing.T, broken int64) (*dynamodb.Client, *atomic.Int64) {
	t.Helper()
	var requests atomic.Int64
	db := dynamoAt(t, func(w http.ResponseWriter) {
		if requests.Add(1) <= broken {
			w.Header().Set("Content-Length", "100")
			_, _ = io.WriteString(w, `{"Item":{"PK":`)
			return
		}
		_, _ = io.WriteString(w, `{}`)
	}, awsenv.DynamoDBForAPI)
	return db, &requests
}

// A read whose answer arrives cut off is read again: it changed nothing.
func TestDynamoDBReadsAgainWhenAnAnswerArrivesBroken(t *testing.T) {
	db, requests := brokenDynamoDB(t, 2)
	_, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String("t"),
		Key:       map[string]ddb.AttributeValue{"PK": &ddb.AttributeValueMemberS{Value: "a"}},
	}, quick)
	if err != nil {
		t.Fatalf("a read whose first two answers were cut off: %v", err)
	}
	if got := requests.Load(); got != 3 {
		t.Fatalf("%d requests, want 3", got)
	}
}

// A write whose answer arrives cut off is not sent again: it may have
// been applied.
func TestDynamoDBDoesNotResendAWriteWhoseAnswerBroke(t *testing.T) {
	db, requests := brokenDynamoDB(t, 1)
	var broken *smithy.DeserializationError
	if err := put(context.Background(), db); !errors.As(err, &broken) {
		t.Fatalf("a write whose answer was cut off: %v, want the deserialization error", err)
	}
	if got := requests.Load(); got != 1 {
		t.Fatalf("%d requests, want 1", got)
	}
}
