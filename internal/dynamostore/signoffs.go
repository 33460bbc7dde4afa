package dynamostore

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cutover/cutover/internal/cutover"
)

// SignOffs stores sign-off requests under the hash of their link.
type SignOffs struct {
	API   SignOffsAPI
	Table string
}

func linkKey(hash string) map[string]ddb.AttributeValue {
	return map[string]ddb.AttributeValue{"LinkHash": str(hash)}
}

// PutRequest implements signoff.Store.
//
// Errors: ECONFLICT if the hash exists; EUNAVAILABLE from DynamoDB.
func (s *SignOffs) PutRequest(ctx context.Context, r cutover.SignOffRequest) error {
	item, err := attributevalue.MarshalMap(r)
	if err != nil {
		return cutover.Wrap(cutover.EINTERNAL, err, "The sign-off request could not be encoded.")
	}
	_, err = s.API.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.Table, Item: item, ConditionExpression: aws.String("attribute_not_exists(LinkHash)")})
	return mapErr(err, "sign-off request")
}

// GetRequest implements signoff.Store.
//
// Errors: ENOTFOUND; EUNAVAILABLE from DynamoDB.
func (s *SignOffs) GetRequest(ctx context.Context, hash string) (*cutover.SignOffRequest, error) {
	out, err := s.API.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Table, Key: linkKey(hash), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, mapErr(err, "sign-off request")
	}
	if out.Item == nil {
		return nil, cutover.Errorf(cutover.ENOTFOUND, "No such sign-off request.")
	}
	var r cutover.SignOffRequest
	if err := attributevalue.UnmarshalMap(out.Item, &r); err != nil {
		return nil, cutover.Wrap(cutover.EINTERNAL, err, "The sign-off request could not be read.")
	}
	return &r, nil
}

// Decide implements signoff.Store with a write conditional on the request
// still being pending: of two racing decisions exactly one succeeds.
//
// Errors: ECONFLICT when the request is no longer pending; EUNAVAILABLE.
func (s *SignOffs) Decide(ctx context.Context, hash, state, by, comment string, at time.Time) error {
	_, err := s.API.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           &s.Table,
		Key:                 linkKey(hash),
		UpdateExpression:    aws.String("SET #s = :s, decidedBy = :by, decidedAt = :at, #c = :c"),
		ConditionExpression: aws.String("#s = :pending"),
		ExpressionAttributeNames: map[string]string{
			"#s": "state", "#c": "comment",
		},
		ExpressionAttributeValues: map[string]ddb.AttributeValue{
			":s": str(state), ":by": str(by), ":at": str(at.UTC().Format(time.RFC3339Nano)), ":c": str(comment), ":pending": str(cutover.SignOffPending),
		},
	})
	return mapErr(err, "sign-off request")
}

// MarkDelivered implements signoff.Store.
//
// Errors: EUNAVAILABLE from DynamoDB.
func (s *SignOffs) MarkDelivered(ctx context.Context, hash string) error {
	_, err := s.API.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.Table,
		Key:                       linkKey(hash),
		UpdateExpression:          aws.String("SET delivered = :t"),
		ConditionExpression:       aws.String("attribute_exists(LinkHash)"),
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":t": &ddb.AttributeValueMemberBOOL{Value: true}},
	})
	return mapErr(err, "sign-off request")
}
