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

// The lifecycle events' outbox lives beside its migration, as the mail's
// does: PK MIG#id, SK EVENT#type#round…. A pending event is also in the
// ByCreated index under EVENTDUE, sorted by when it is due, so the sweep
// finds due events across migrations with one query; a published or
// given-up event drops out of the (sparse) index.
const (
	skEvent      = "EVENT#"
	eventDuePart = "EVENTDUE"
)

func eventKey(ev cutover.LifecycleEvent) map[string]ddb.AttributeValue {
	return map[string]ddb.AttributeValue{"PK": str("MIG#" + ev.MigrationID), "SK": str(skEvent + strings.TrimPrefix(ev.ID, ev.MigrationID+"#"))}
}

func eventItem(ev cutover.LifecycleEvent) (map[string]ddb.AttributeValue, error) {
	item, err := attributevalue.MarshalMap(ev)
	if err != nil {
		return nil, cutover.Wrap(cutover.EINTERNAL, err, "The lifecycle event could not be encoded.")
	}
	for k, v := range eventKey(ev) {
		item[k] = v
	}
	if ev.Status == cutover.EventPending {
		item["GSI1PK"], item["GSI1SK"] = str(eventDuePart), str(ev.NextAt.UTC().Format(sortTime)+"#"+ev.ID)
	}
	return item, nil
}

// AddEvent implements lifecycle.Log: a put that only succeeds when no
// event with that id exists; otherwise the stored one is returned.
//
// Errors: EUNAVAILABLE from DynamoDB.
func (s *Migrations) AddEvent(ctx context.Context, ev cutover.LifecycleEvent) (cutover.LifecycleEvent, error) {
	item, err := eventItem(ev)
	if err != nil {
		return cutover.LifecycleEvent{}, err
	}
	_, err = s.API.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.Table, Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")})
	if err == nil {
		return ev, nil
	}
	if cutover.ErrorCode(mapErr(err, "")) != cutover.ECONFLICT {
		return cutover.LifecycleEvent{}, mapErr(err, "lifecycle event")
	}
	out, err := s.API.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Table, Key: eventKey(ev), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return cutover.LifecycleEvent{}, mapErr(err, "lifecycle event")
	}
	if out.Item == nil {
		return cutover.LifecycleEvent{}, cutover.Errorf(cutover.EUNAVAILABLE, "The lifecycle event could not be read back; try again.")
	}
	var stored cutover.LifecycleEvent
	if err := attributevalue.UnmarshalMap(out.Item, &stored); err != nil {
		return cutover.LifecycleEvent{}, cutover.Wrap(cutover.EINTERNAL, err, "The stored lifecycle event could not be read.")
	}
	return stored, nil
}

// UpdateEvent implements lifecycle.Log: the write succeeds only while the
// stored event is pending after prevAttempts attempts.
//
// Errors: ECONFLICT when another publisher claimed or finished it first;
// EUNAVAILABLE from DynamoDB.
func (s *Migrations) UpdateEvent(ctx context.Context, ev cutover.LifecycleEvent, prevAttempts int) error {
	item, err := eventItem(ev)
	if err != nil {
		return err
	}
	_, err = s.API.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.Table, Item: item,
		ConditionExpression:       aws.String("attempts = :a AND #s = :p"),
		ExpressionAttributeNames:  map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":a": num(prevAttempts), ":p": str(cutover.EventPending)},
	})
	return mapErr(err, "lifecycle event")
}

// ListEvents implements lifecycle.Log and migration.EventLog: a
// migration's events, in the order they happened.
//
// Errors: EUNAVAILABLE from DynamoDB.
func (s *Migrations) ListEvents(ctx context.Context, migrationID string) ([]cutover.LifecycleEvent, error) {
	evs, err := queryPrefix[cutover.LifecycleEvent](ctx, s, migrationID, skEvent, "lifecycle events")
	if err != nil {
		return nil, err
	}
	// The sort key orders by type; people read by time.
	slices.SortStableFunc(evs, func(a, b cutover.LifecycleEvent) int { return a.OccurredAt.Compare(b.OccurredAt) })
	return evs, nil
}

// DueEvents implements lifecycle.Log: pending events due by now, across
// migrations, from the ByCreated index.
//
// Errors: EUNAVAILABLE from DynamoDB.
func (s *Migrations) DueEvents(ctx context.Context, now time.Time, limit int) ([]cutover.LifecycleEvent, error) {
	out, err := s.API.Query(ctx, &dynamodb.QueryInput{
		TableName: &s.Table, IndexName: aws.String(gsiList),
		KeyConditionExpression: aws.String("GSI1PK = :p AND GSI1SK <= :now"),
		ExpressionAttributeValues: map[string]ddb.AttributeValue{
			":p": str(eventDuePart), ":now": str(now.UTC().Format(sortTime) + "#~"),
		},
		Limit: aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, mapErr(err, "lifecycle events")
	}
	var evs []cutover.LifecycleEvent
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &evs); err != nil {
		return nil, cutover.Wrap(cutover.EINTERNAL, err, "The lifecycle events could not be read.")
	}
	return evs, nil
}
