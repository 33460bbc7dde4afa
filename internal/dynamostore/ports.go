package dynamostore

// The slices of the AWS SDK this adapter consumes, in one place: narrow
// interfaces, so its tests run on small fakes (ports_test.go checks the
// other direction: that the adapter implements its consumers' ports).

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// MigrationsAPI is the slice of DynamoDB the migrations store uses.
type MigrationsAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// TestAPI is the slice of DynamoDB the TEST environment uses.
type TestAPI interface {
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// LiveAPI is the slice of DynamoDB the LIVE environment uses:
// TransactWriteItems, with nothing in it but conditional Puts. IAM checks
// each action of a transaction as its own call, so the function needs
// dynamodb:PutItem on LIVE and nothing else; no code path here can update
// or delete a live record.
type LiveAPI interface {
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// LiveReader is the slice of DynamoDB the built-in destination reads
// LIVE back with (Destination.Holdings): a Query, which reads and changes
// nothing. It is apart from LiveAPI so that the writer stays create-only.
type LiveReader interface {
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// SignOffsAPI is the slice of DynamoDB the sign-off store uses.
type SignOffsAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// LedgerAPI is the slice of DynamoDB the delivery ledger uses: conditional
// puts (first writer wins) and batched reads.
type LedgerAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

// DropClaimsAPI is the slice of DynamoDB the S3 drop's claims use:
// transactions of conditional puts (all of an object's records claimed or
// none) and batched reads. IAM checks a transaction's puts as
// dynamodb:PutItem.
type DropClaimsAPI interface {
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}
