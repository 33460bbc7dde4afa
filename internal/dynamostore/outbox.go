package dynamostore

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cutover/cutover/internal/cutover"
)

// The outbox lives beside its migration: PK MIG#id, SK MAIL#purpose#round….
// A pending mail is also in the ByCreated index under MAILDUE, sorted by
// when it is due, so the sweep finds due mail across migrations with one
// query; a sent or failed mail drops out of the index (the sparse index
// holds only items with GSI1PK).
const (
	skMail      = "MAIL#"
	mailDuePart = "MAILDUE"
)

func mailKey(m cutover.Mail) map[string]ddb.AttributeValue {
	return map[string]ddb.AttributeValue{"PK": str("MIG#" + m.MigrationID), "SK": str(skMail + strings.TrimPrefix(m.ID, m.MigrationID+"#"))}
}

func (s *Migrations) mailItem(m cutover.Mail) (map[string]ddb.AttributeValue, error) {
	item, err := attributevalue.MarshalMap(m)
	if err != nil {
		return nil, cutover.Wrap(cutover.EINTERNAL, err, "The mail could not be encoded.")
	}
	for k, v := range mailKey(m) {
		item[k] = v
	}
	if m.Status == cutover.MailPending {
		item["GSI1PK"], item["GSI1SK"] = str(mailDuePart), str(m.NextAt.UTC().Format(sortTime)+"#"+m.ID)
	}
	return item, nil
}

// AddMail implements migration.Outbox: a put that only succeeds when no
// mail with that id exists; otherwise the stored one is returned.
//
// Errors: EUNAVAILABLE from DynamoDB.
func (s *Migrations) AddMail(ctx context.Context, m cutover.Mail) (cutover.Mail, bool, error) {
	item, err := s.mailItem(m)
	if err != nil {
		return cutover.Mail{}, false, err
	}
	_, err = s.API.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.Table, Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")})
	if err == nil {
		return m, true, nil
	}
	if cutover.ErrorCode(mapErr(err, "")) != cutover.ECONFLICT {
		return cutover.Mail{}, false, mapErr(err, "mail")
	}
	out, err := s.API.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Table, Key: mailKey(m), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return cutover.Mail{}, false, mapErr(err, "mail")
	}
	if out.Item == nil {
		return cutover.Mail{}, false, cutover.Errorf(cutover.EUNAVAILABLE, "The mail could not be read back; try again.")
	}
	var stored cutover.Mail
	if err := attributevalue.UnmarshalMap(out.Item, &stored); err != nil {
		return cutover.Mail{}, false, cutover.Wrap(cutover.EINTERNAL, err, "The stored mail could not be read.")
	}
	return stored, false, nil
}

// UpdateMail implements migration.Outbox: the write succeeds only while the
// stored mail is pending after prevAttempts attempts.
//
// Errors: ECONFLICT when another sender claimed or finished it first;
// EUNAVAILABLE from DynamoDB.
func (s *Migrations) UpdateMail(ctx context.Context, m cutover.Mail, prevAttempts int) error {
	item, err := s.mailItem(m)
	if err != nil {
		return err
	}
	_, err = s.API.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.Table, Item: item,
		ConditionExpression:       aws.String("attempts = :a AND #s = :p"),
		ExpressionAttributeNames:  map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":a": num(prevAttempts), ":p": str(cutover.MailPending)},
	})
	return mapErr(err, "mail")
}

// ListMail implements migration.Outbox.
//
// Errors: EUNAVAILABLE from DynamoDB.
func (s *Migrations) ListMail(ctx context.Context, migrationID string) ([]cutover.Mail, error) {
	mails, err := queryPrefix[cutover.Mail](ctx, s, migrationID, skMail, "mail")
	if err != nil {
		return nil, err
	}
	// Oldest first: the sort key orders by purpose, people read by time.
	slices.SortStableFunc(mails, func(a, b cutover.Mail) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return mails, nil
}

// DueMail implements migration.Outbox: pending mail due by now, across
// migrations, from the ByCreated index.
//
// Errors: EUNAVAILABLE from DynamoDB.
func (s *Migrations) DueMail(ctx context.Context, now time.Time, limit int) ([]cutover.Mail, error) {
	out, err := s.API.Query(ctx, &dynamodb.QueryInput{
		TableName: &s.Table, IndexName: aws.String(gsiList),
		KeyConditionExpression: aws.String("GSI1PK = :p AND GSI1SK <= :now"),
		ExpressionAttributeValues: map[string]ddb.AttributeValue{
			":p": str(mailDuePart), ":now": str(now.UTC().Format(sortTime) + "#~"),
		},
		Limit: aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, mapErr(err, "outbox")
	}
	var mails []cutover.Mail
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &mails); err != nil {
		return nil, cutover.Wrap(cutover.EINTERNAL, err, "The outbox could not be read.")
	}
	return mails, nil
}
