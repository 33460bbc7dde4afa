package dynamostore

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cutover/cutover/internal/cutover"
)

// DropClaims is the S3 drop's claim register (destination/s3drop.Claims):
// which drop object each record delivered to a target went into. It lives
// in the delivery ledger's table, in partitions of its own: PK
// "DROP/{env}/{tenant}/{migration}/{round}" (each part path-escaped),
// followed by "#NN", the record id's shard, when the target spreads over
// shards (Target.LiveShards, Target.TestShards: as the ledger's), SK the
// record id, attribute "object" the object's key. A record's claim is
// only ever created (attribute_not_exists), and the claims of one object
// are created in one transaction, all or none: so a record belongs to one
// object for good, and no object is left holding some of its records
// while another holds the rest.
type DropClaims struct {
	API   DropClaimsAPI
	Table string
	// TestRetention is how long a TEST claim is kept (its PurgeAt, the
	// table's TTL attribute), as long as the TEST deliveries it guards; 0
	// keeps it. A LIVE claim is always kept.
	TestRetention time.Duration
	// Now stamps PurgeAt; nil means time.Now.
	Now func() time.Time
}

// MaxDropClaim is how many records one Claim takes: a DynamoDB
// transaction holds at most 100 actions.
const MaxDropClaim = 100

const dropObject = "object"

// dropPartition is a target's claims partition: beside, never inside, the
// HTTPS ledger's ("DLV/...").
func dropPartition(t cutover.Target) string {
	return "DROP/" + url.PathEscape(t.Env) + "/" + url.PathEscape(t.TenantID) + "/" + url.PathEscape(t.MigrationID) + "/" + strconv.Itoa(t.Round)
}

// Owners implements s3drop.Claims: strongly consistent batched reads, 100
// keys a call, re-reading the keys DynamoDB left unprocessed with backoff.
//
// Errors: EUNAVAILABLE when storage is unreachable or keeps throttling;
// EINTERNAL when the table is missing.
func (c *DropClaims) Owners(ctx context.Context, t cutover.Target, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	base := dropPartition(t)
	for len(ids) > 0 {
		n := min(maxBatchGetKeys, len(ids))
		keys := make([]map[string]ddb.AttributeValue, n)
		for i, id := range ids[:n] {
			keys[i] = map[string]ddb.AttributeValue{"PK": str(shardedKey(base, t, id)), "SK": str(id)}
		}
		ids = ids[n:]
		pending := map[string]ddb.KeysAndAttributes{c.Table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
		for attempt := 0; len(pending[c.Table].Keys) > 0; attempt++ {
			if attempt >= maxBatchAttempts {
				return nil, cutover.Errorf(cutover.EUNAVAILABLE, "Storage kept throttling the drop's claims; try again.")
			}
			if attempt > 0 {
				if err := backoff(ctx, attempt); err != nil {
					return nil, cutover.Wrap(cutover.EUNAVAILABLE, err, "Reading the drop's claims was interrupted.")
				}
			}
			res, err := c.API.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				return nil, mapErr(err, "drop's claims")
			}
			for _, item := range res.Responses[c.Table] {
				out[attrS(item, "SK")] = attrS(item, dropObject)
			}
			pending = res.UnprocessedKeys
		}
	}
	return out, nil
}

// Claim implements s3drop.Claims: one transaction of conditional puts.
// When it is cancelled, the ids' owners are read back: those are the ids
// taken before (nothing of this call was written); when none is taken,
// the transaction lost a race with another and is tried again.
//
// Errors: EINVALID for more than MaxDropClaim ids or an empty object;
// EUNAVAILABLE when storage is unreachable or keeps conflicting; EINTERNAL
// when the table is missing.
func (c *DropClaims) Claim(ctx context.Context, t cutover.Target, object string, ids []string) (map[string]string, error) {
	if len(ids) > MaxDropClaim || object == "" {
		return nil, cutover.Errorf(cutover.EINVALID, "A drop object claims 1 to %d records, under a key; got %d.", MaxDropClaim, len(ids))
	}
	if len(ids) == 0 {
		return nil, nil
	}
	base := dropPartition(t)
	var purge ddb.AttributeValue
	if t.Env == cutover.EnvTest && c.TestRetention > 0 {
		now := time.Now
		if c.Now != nil {
			now = c.Now
		}
		purge = &ddb.AttributeValueMemberN{Value: strconv.FormatInt(now().Add(c.TestRetention).Unix(), 10)}
	}
	items := make([]ddb.TransactWriteItem, len(ids))
	for i, id := range ids {
		item := map[string]ddb.AttributeValue{"PK": str(shardedKey(base, t, id)), "SK": str(id), dropObject: str(object)}
		if purge != nil {
			item[ttlAttribute] = purge
		}
		items[i] = ddb.TransactWriteItem{Put: &ddb.Put{
			TableName: &c.Table, Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)"),
		}}
	}
	for attempt := 0; ; attempt++ {
		_, err := c.API.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return nil, nil
		}
		var tc *ddb.TransactionCanceledException
		var tip *ddb.TransactionInProgressException
		if !errors.As(err, &tc) && !errors.As(err, &tip) {
			return nil, mapErr(err, "drop's claims")
		}
		taken, rerr := c.Owners(ctx, t, ids)
		if rerr != nil {
			return nil, rerr
		}
		if len(taken) > 0 {
			return taken, nil
		}
		if attempt+1 >= maxBatchAttempts {
			return nil, cutover.Wrap(cutover.EUNAVAILABLE, err, "The drop's claims kept conflicting; try again.")
		}
		if err := backoff(ctx, attempt+1); err != nil {
			return nil, cutover.Wrap(cutover.EUNAVAILABLE, err, "Claiming records of the drop was interrupted.")
		}
	}
}
