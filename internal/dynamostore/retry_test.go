package dynamostore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/dynamostore"
)

// The SDK client retries a throttled call itself (internal/awsenv sets
// how often). What reaches the store after that is final: these fakes
// answer as the client does once its retries are spent, and count the
// calls the store makes on top of them.

// fakeTestAPI is the TEST environment's slice of DynamoDB, from functions.
type fakeTestAPI struct {
	batchWrite func(in *dynamodb.BatchWriteItemInput) (*dynamodb.BatchWriteItemOutput, error)
	calls      int
}

func (f *fakeTestAPI) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return &dynamodb.QueryOutput{}, nil
}

func (f *fakeTestAPI) BatchWriteItem(_ context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	f.calls++
	return f.batchWrite(in)
}

// fakeLiveAPI is the LIVE environment's slice of DynamoDB, from a function.
type fakeLiveAPI struct {
	transact func(in *dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error)
	calls    int
}

func (f *fakeLiveAPI) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	f.calls++
	return f.transact(in)
}

func operationError(op string, err error) error {
	return &smithy.OperationError{ServiceID: "DynamoDB", OperationName: op, Err: err}
}

// spentRetries is the client's error once every attempt was throttled.
func spentRetries(op string) error {
	return operationError(op, &retry.MaxAttemptsError{Attempt: 6, Err: &ddb.ProvisionedThroughputExceededException{Message: aws.String("throttled")}})
}

// quotaExceeded is the client's error when its retry quota ran dry (the
// SDK's default token bucket; internal/awsenv turns it off, but a client
// built elsewhere may have it).
func quotaExceeded(op string) error {
	return operationError(op, errors.Join(
		&ddb.ProvisionedThroughputExceededException{Message: aws.String("throttled")},
		fmt.Errorf("failed to get rate limit token, %w", ratelimit.QuotaExceededError{Available: 0, Requested: 5})))
}

func wantUnavailable(t *testing.T, err error) {
	t.Helper()
	if code := cutover.ErrorCode(err); code != cutover.EUNAVAILABLE {
		t.Fatalf("error %v has code %q, want %q (the code the steps' Retry matches)", err, code, cutover.EUNAVAILABLE)
	}
}

func TestTestWriteIsNotRetriedOnTopOfTheClient(t *testing.T) {
	for name, refusal := range map[string]error{"max attempts": spentRetries("BatchWriteItem"), "retry quota": quotaExceeded("BatchWriteItem")} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			api := &fakeTestAPI{batchWrite: func(*dynamodb.BatchWriteItemInput) (*dynamodb.BatchWriteItemOutput, error) { return nil, refusal }}
			env := &dynamostore.TestEnv{API: api, Table: "test"}
			_, err := testSink(env, "m1").Write(context.Background(), contacts(10, "Ann"))
			wantUnavailable(t, err)
			if api.calls != 1 {
				t.Fatalf("the store called BatchWriteItem %d times after the client's retries were spent, want 1", api.calls)
			}
		})
	}
}

func TestLiveWriteIsNotRetriedOnTopOfTheClient(t *testing.T) {
	for name, refusal := range map[string]error{"max attempts": spentRetries("TransactWriteItems"), "retry quota": quotaExceeded("TransactWriteItems")} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			api := &fakeLiveAPI{transact: func(*dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error) {
				return nil, refusal
			}}
			live := &dynamostore.LiveEnv{API: api, Table: "live", Concurrency: 1}
			err := writeLive(live, contacts(10, "Ann"))
			wantUnavailable(t, err)
			if api.calls != 1 {
				t.Fatalf("the store called TransactWriteItems %d times after the client's retries were spent, want 1", api.calls)
			}
		})
	}
}

// Items DynamoDB leaves unprocessed are resent, at most MaxBatchAttempts
// calls in all.
func TestUnprocessedItemsAreResentABoundedNumberOfTimes(t *testing.T) {
	t.Parallel()
	api := &fakeTestAPI{batchWrite: func(in *dynamodb.BatchWriteItemInput) (*dynamodb.BatchWriteItemOutput, error) {
		return &dynamodb.BatchWriteItemOutput{UnprocessedItems: in.RequestItems}, nil
	}}
	env := &dynamostore.TestEnv{API: api, Table: "test"}
	_, err := testSink(env, "m1").Write(context.Background(), contacts(10, "Ann"))
	wantUnavailable(t, err)
	if api.calls != dynamostore.MaxBatchAttempts {
		t.Fatalf("%d calls for a batch left unprocessed every time, want %d", api.calls, dynamostore.MaxBatchAttempts)
	}
}

// The items of a transaction cancelled because they were throttled are
// resent, at most MaxBatchAttempts calls in all.
func TestCancelledItemsAreResentABoundedNumberOfTimes(t *testing.T) {
	t.Parallel()
	api := &fakeLiveAPI{transact: func(in *dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error) {
		reasons := make([]ddb.CancellationReason, len(in.TransactItems))
		for i := range reasons {
			reasons[i].Code = aws.String("ThrottlingError")
		}
		return nil, &ddb.TransactionCanceledException{Message: aws.String("throttled"), CancellationReasons: reasons}
	}}
	live := &dynamostore.LiveEnv{API: api, Table: "live", Concurrency: 1}
	wantUnavailable(t, writeLive(live, contacts(10, "Ann")))
	if api.calls != dynamostore.MaxBatchAttempts {
		t.Fatalf("%d calls for a transaction cancelled every time, want %d", api.calls, dynamostore.MaxBatchAttempts)
	}
}
