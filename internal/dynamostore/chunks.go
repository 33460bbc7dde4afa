package dynamostore

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cutover/cutover/internal/cutover"
)

// Final chunks live beside their migration: PK MIG#id, SK CHUNK#nnnnnn.
const skChunk = "CHUNK#"

func chunkKey(id string, index int) map[string]ddb.AttributeValue {
	return map[string]ddb.AttributeValue{"PK": str("MIG#" + id), "SK": str(fmt.Sprintf("%s%06d", skChunk, index))}
}

func (s *Migrations) chunkItem(id string, c *cutover.Chunk) (map[string]ddb.AttributeValue, error) {
	item, err := attributevalue.MarshalMap(c)
	if err != nil {
		return nil, cutover.Wrap(cutover.EINTERNAL, err, "The chunk could not be encoded.")
	}
	for k, v := range chunkKey(id, c.Index) {
		item[k] = v
	}
	return item, nil
}

// PlanChunks implements migration.ChunkStore: each chunk is created unless
// it exists, so planning again (a retried step) keeps what was done.
//
// Errors: EUNAVAILABLE from DynamoDB.
func (s *Migrations) PlanChunks(ctx context.Context, id string, chunks []cutover.Chunk) error {
	for i := range chunks {
		item, err := s.chunkItem(id, &chunks[i])
		if err != nil {
			return err
		}
		_, err = s.API.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.Table, Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")})
		if err = mapErr(err, "chunk"); err != nil && cutover.ErrorCode(err) != cutover.ECONFLICT {
			return err
		}
	}
	return nil
}

// GetChunk implements migration.ChunkStore.
//
// Errors: ENOTFOUND; EUNAVAILABLE from DynamoDB.
func (s *Migrations) GetChunk(ctx context.Context, id string, index int) (*cutover.Chunk, error) {
	out, err := s.API.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Table, Key: chunkKey(id, index), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, mapErr(err, "chunk")
	}
	if out.Item == nil {
		return nil, cutover.Errorf(cutover.ENOTFOUND, "Migration %s has no chunk %d.", id, index)
	}
	var c cutover.Chunk
	if err := attributevalue.UnmarshalMap(out.Item, &c); err != nil {
		return nil, cutover.Wrap(cutover.EINTERNAL, err, "The stored chunk could not be read.")
	}
	return &c, nil
}

// SaveChunk implements migration.ChunkStore. A chunk that is done is
// final: saving over it fails.
//
// Errors: ECONFLICT when the stored chunk is done; EUNAVAILABLE.
func (s *Migrations) SaveChunk(ctx context.Context, id string, c *cutover.Chunk) error {
	item, err := s.chunkItem(id, c)
	if err != nil {
		return err
	}
	_, err = s.API.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.Table, Item: item,
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR #s <> :done"),
		ExpressionAttributeNames:  map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":done": str(string(cutover.ChunkDone))},
	})
	return mapErr(err, "chunk")
}

// ListChunks implements migration.ChunkStore: every chunk, in order.
//
// Errors: EUNAVAILABLE from DynamoDB.
func (s *Migrations) ListChunks(ctx context.Context, id string) ([]cutover.Chunk, error) {
	return queryPrefix[cutover.Chunk](ctx, s, id, skChunk, "chunks")
}
