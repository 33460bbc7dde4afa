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

// A test migration's chunks live beside their migration too, apart from
// the final migration's and per round: PK MIG#id, SK TESTCHUNK#rrrrrr#nnnnnn.
// (The final's prefix, CHUNK#, is not a prefix of this one, so listing
// the final's chunks never meets a test chunk.)
const skTestChunk = "TESTCHUNK#"

func testChunkPrefix(round int) string { return fmt.Sprintf("%s%06d#", skTestChunk, round) }

func testChunkKey(id string, round, index int) map[string]ddb.AttributeValue {
	return map[string]ddb.AttributeValue{"PK": str("MIG#" + id), "SK": str(fmt.Sprintf("%s%06d", testChunkPrefix(round), index))}
}

func (s *Migrations) testChunkItem(id string, round int, c *cutover.Chunk) (map[string]ddb.AttributeValue, error) {
	item, err := attributevalue.MarshalMap(c)
	if err != nil {
		return nil, cutover.Wrap(cutover.EINTERNAL, err, "The chunk could not be encoded.")
	}
	for k, v := range testChunkKey(id, round, c.Index) {
		item[k] = v
	}
	return item, nil
}

// ReplanTestChunks implements engine.TestChunks: each chunk is stored over
// the one of its index, whatever that one's status (the round's TEST was
// reset, so every chunk runs again).
//
// Errors: EUNAVAILABLE from DynamoDB.
func (s *Migrations) ReplanTestChunks(ctx context.Context, id string, round int, chunks []cutover.Chunk) error {
	for i := range chunks {
		item, err := s.testChunkItem(id, round, &chunks[i])
		if err != nil {
			return err
		}
		if _, err := s.API.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.Table, Item: item}); err != nil {
			return mapErr(err, "chunk")
		}
	}
	return nil
}

// GetTestChunk implements engine.TestChunks.
//
// Errors: ENOTFOUND; EUNAVAILABLE from DynamoDB.
func (s *Migrations) GetTestChunk(ctx context.Context, id string, round, index int) (*cutover.Chunk, error) {
	out, err := s.API.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Table, Key: testChunkKey(id, round, index), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, mapErr(err, "chunk")
	}
	if out.Item == nil {
		return nil, cutover.Errorf(cutover.ENOTFOUND, "Round %d of migration %s has no test chunk %d.", round, id, index)
	}
	var c cutover.Chunk
	if err := attributevalue.UnmarshalMap(out.Item, &c); err != nil {
		return nil, cutover.Wrap(cutover.EINTERNAL, err, "The stored chunk could not be read.")
	}
	return &c, nil
}

// SaveTestChunk implements engine.TestChunks. A chunk that is done is
// final until the round is planned again: saving over it fails.
//
// Errors: ECONFLICT when the stored chunk is done; EUNAVAILABLE.
func (s *Migrations) SaveTestChunk(ctx context.Context, id string, round int, c *cutover.Chunk) error {
	item, err := s.testChunkItem(id, round, c)
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

// ListTestChunks implements engine.TestChunks: the round's chunks, in
// order.
//
// Errors: EUNAVAILABLE from DynamoDB.
func (s *Migrations) ListTestChunks(ctx context.Context, id string, round int) ([]cutover.Chunk, error) {
	return queryPrefix[cutover.Chunk](ctx, s, id, testChunkPrefix(round), "chunks")
}
