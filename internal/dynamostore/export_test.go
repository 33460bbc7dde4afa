package dynamostore

import (
	"time"

	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cutover/cutover/internal/cutover"
)

// RecordItem is the stored item of a record, for the benchmark's bare loader.
func RecordItem(partition, migrationID string, r cutover.Record) map[string]ddb.AttributeValue {
	return recordItem(partition, migrationID, r, time.Now())
}

// MaxBatchAttempts is the bound of the loop that resends unprocessed
// items and the items of a cancelled transaction.
const MaxBatchAttempts = maxBatchAttempts
