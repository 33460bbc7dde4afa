// Package dynamostore adapts DynamoDB to the stores the domain packages
// declare: migrations with their audit trail and tenant locks, sign-off
// requests, and the TEST and LIVE record environments.
package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cutover/cutover/internal/cutover"
)

// Migrations stores migrations (PK MIG#id, SK META), their audit events
// (SK AUDIT#time#n) and tenant live locks (PK TENANT#id, SK LIVE) in one table.
type Migrations struct {
	API   MigrationsAPI
	Table string
}

const (
	skMeta   = "META"
	skAudit  = "AUDIT#"
	skLive   = "LIVE"
	gsiList  = "ByCreated"
	listPart = "MIGRATION"
	sortTime = "2006-01-02T15:04:05.000000000Z"
)

func migKey(id string) map[string]ddb.AttributeValue {
	return map[string]ddb.AttributeValue{"PK": str("MIG#" + id), "SK": str(skMeta)}
}

func str(s string) ddb.AttributeValue { return &ddb.AttributeValueMemberS{Value: s} }

func num(n int) ddb.AttributeValue { return &ddb.AttributeValueMemberN{Value: fmt.Sprint(n)} }

func (s *Migrations) migrationItem(m *cutover.Migration, version int) (map[string]ddb.AttributeValue, error) {
	cp := *m
	cp.Version = version
	item, err := attributevalue.MarshalMap(cp)
	if err != nil {
		return nil, cutover.Wrap(cutover.EINTERNAL, err, "The migration could not be encoded.")
	}
	item["PK"], item["SK"] = str("MIG#"+m.ID), str(skMeta)
	item["GSI1PK"], item["GSI1SK"] = str(listPart), str(m.CreatedAt.UTC().Format(sortTime)+"#"+m.ID)
	return item, nil
}

func (s *Migrations) auditPuts(id string, events []cutover.AuditEvent) ([]ddb.TransactWriteItem, error) {
	var out []ddb.TransactWriteItem
	for i, ev := range events {
		item, err := attributevalue.MarshalMap(ev)
		if err != nil {
			return nil, cutover.Wrap(cutover.EINTERNAL, err, "The audit event could not be encoded.")
		}
		item["PK"] = str("MIG#" + id)
		item["SK"] = str(fmt.Sprintf("%s%s#%s#%d", skAudit, ev.At.UTC().Format(sortTime), cutover.NewID(""), i))
		out = append(out, ddb.TransactWriteItem{Put: &ddb.Put{TableName: &s.Table, Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")}})
	}
	return out, nil
}

// CreateMigration implements migration.Store.
//
// Errors: ECONFLICT if the id exists; EUNAVAILABLE from DynamoDB.
func (s *Migrations) CreateMigration(ctx context.Context, m *cutover.Migration, ev cutover.AuditEvent) error {
	item, err := s.migrationItem(m, 0)
	if err != nil {
		return err
	}
	writes, err := s.auditPuts(m.ID, []cutover.AuditEvent{ev})
	if err != nil {
		return err
	}
	writes = append([]ddb.TransactWriteItem{{Put: &ddb.Put{TableName: &s.Table, Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")}}}, writes...)
	_, err = s.API.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes})
	return mapErr(err, "migration")
}

// GetMigration implements migration.Store.
//
// Errors: ENOTFOUND; EUNAVAILABLE from DynamoDB.
func (s *Migrations) GetMigration(ctx context.Context, id string) (*cutover.Migration, error) {
	out, err := s.API.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Table, Key: migKey(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, mapErr(err, "migration")
	}
	if out.Item == nil {
		return nil, cutover.Errorf(cutover.ENOTFOUND, "No migration %q.", id)
	}
	var m cutover.Migration
	if err := attributevalue.UnmarshalMap(out.Item, &m); err != nil {
		return nil, cutover.Wrap(cutover.EINTERNAL, err, "The stored migration could not be read.")
	}
	return &m, nil
}

// ListMigrations implements migration.Store.
//
// Errors: EUNAVAILABLE from DynamoDB.
func (s *Migrations) ListMigrations(ctx context.Context, limit int) ([]*cutover.Migration, error) {
	out, err := s.API.Query(ctx, &dynamodb.QueryInput{
		TableName: &s.Table, IndexName: aws.String(gsiList),
		KeyConditionExpression:    aws.String("GSI1PK = :p"),
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":p": str(listPart)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, mapErr(err, "migrations")
	}
	ms := make([]*cutover.Migration, 0, len(out.Items))
	for _, item := range out.Items {
		var m cutover.Migration
		if err := attributevalue.UnmarshalMap(item, &m); err != nil {
			return nil, cutover.Wrap(cutover.EINTERNAL, err, "A stored migration could not be read.")
		}
		ms = append(ms, &m)
	}
	return ms, nil
}

// SaveMigration implements migration.Store: an optimistic write on the
// version, with the audit events in the same transaction. A transaction
// holds at most 100 writes, so one save carries at most 99 events; callers
// summarise (see migration.MarkReview) rather than write one event per item.
//
// Errors: ECONFLICT when the stored version moved on; EUNAVAILABLE;
// EINTERNAL for more than 99 events, a caller's bug that no retry cures.
func (s *Migrations) SaveMigration(ctx context.Context, m *cutover.Migration, events ...cutover.AuditEvent) error {
	if len(events) > maxTransactItems-1 {
		return cutover.Errorf(cutover.EINTERNAL, "%d audit events cannot be saved with the migration: one save holds at most %d.", len(events), maxTransactItems-1)
	}
	item, err := s.migrationItem(m, m.Version+1)
	if err != nil {
		return err
	}
	writes := []ddb.TransactWriteItem{{Put: &ddb.Put{
		TableName: &s.Table, Item: item,
		ConditionExpression:       aws.String("version = :v"),
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":v": num(m.Version)},
	}}}
	audit, err := s.auditPuts(m.ID, events)
	if err != nil {
		return err
	}
	_, err = s.API.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: append(writes, audit...)})
	return mapErr(err, "migration")
}

// ListAudit implements migration.Store.
//
// Errors: EUNAVAILABLE from DynamoDB.
func (s *Migrations) ListAudit(ctx context.Context, id string) ([]cutover.AuditEvent, error) {
	return queryPrefix[cutover.AuditEvent](ctx, s, id, skAudit, "audit trail")
}

// queryPrefix reads every item of a migration whose sort key starts with
// prefix, in sort-key order.
func queryPrefix[T any](ctx context.Context, s *Migrations, id, prefix, what string) ([]T, error) {
	var out []T
	p := dynamodb.NewQueryPaginator(s.API, &dynamodb.QueryInput{
		TableName:              &s.Table,
		ConsistentRead:         aws.Bool(true), // a chunk that just finished reads as done
		KeyConditionExpression: aws.String("PK = :p AND begins_with(SK, :a)"),
		ExpressionAttributeValues: map[string]ddb.AttributeValue{
			":p": str("MIG#" + id), ":a": str(prefix),
		},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, mapErr(err, what)
		}
		var batch []T
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &batch); err != nil {
			return nil, cutover.Wrap(cutover.EINTERNAL, err, "The %s could not be read.", what)
		}
		out = append(out, batch...)
	}
	return out, nil
}

func lockKey(tenantID string) map[string]ddb.AttributeValue {
	return map[string]ddb.AttributeValue{"PK": str("TENANT#" + tenantID), "SK": str(skLive)}
}

// GetTenantLock implements migration.Store.
//
// Errors: EUNAVAILABLE from DynamoDB.
func (s *Migrations) GetTenantLock(ctx context.Context, tenantID string) (*cutover.TenantLock, error) {
	out, err := s.API.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Table, Key: lockKey(tenantID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, mapErr(err, "tenant lock")
	}
	if out.Item == nil {
		return nil, nil
	}
	var l cutover.TenantLock
	if err := attributevalue.UnmarshalMap(out.Item, &l); err != nil {
		return nil, cutover.Wrap(cutover.EINTERNAL, err, "The tenant lock could not be read.")
	}
	return &l, nil
}

// TakeTenantLock implements migration.Store: a put that only succeeds when
// no lock exists. The lock is never deleted.
//
// Errors: EUNAVAILABLE from DynamoDB.
func (s *Migrations) TakeTenantLock(ctx context.Context, lock cutover.TenantLock) (*cutover.TenantLock, error) {
	item, err := attributevalue.MarshalMap(lock)
	if err != nil {
		return nil, cutover.Wrap(cutover.EINTERNAL, err, "The tenant lock could not be encoded.")
	}
	for k, v := range lockKey(lock.TenantID) {
		item[k] = v
	}
	_, err = s.API.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.Table, Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")})
	if err == nil {
		return &lock, nil
	}
	if cutover.ErrorCode(mapErr(err, "")) != cutover.ECONFLICT {
		return nil, mapErr(err, "tenant lock")
	}
	holder, err := s.GetTenantLock(ctx, lock.TenantID)
	if err != nil {
		return nil, err
	}
	if holder == nil {
		return nil, cutover.Errorf(cutover.EUNAVAILABLE, "The tenant lock could not be read back; try again.")
	}
	return holder, nil
}

// mapErr turns a DynamoDB error into an application error.
func mapErr(err error, what string) error {
	if err == nil {
		return nil
	}
	var ccf *ddb.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return cutover.Wrap(cutover.ECONFLICT, err, "The %s changed meanwhile.", what)
	}
	var tc *ddb.TransactionCanceledException
	if errors.As(err, &tc) {
		for _, r := range tc.CancellationReasons {
			if aws.ToString(r.Code) == "ConditionalCheckFailed" {
				return cutover.Wrap(cutover.ECONFLICT, err, "The %s changed meanwhile.", what)
			}
		}
		return cutover.Wrap(cutover.EUNAVAILABLE, err, "The %s could not be saved; try again.", what)
	}
	var rnf *ddb.ResourceNotFoundException
	if errors.As(err, &rnf) {
		return cutover.Wrap(cutover.EINTERNAL, err, "Storage is misconfigured.")
	}
	return cutover.Wrap(cutover.EUNAVAILABLE, err, "Storage is unavailable; try again.")
}

// backoff sleeps before retry attempt n (from 0) with full jitter, or
// returns early when ctx ends.
func backoff(ctx context.Context, n int) error {
	d := time.Duration(25<<min(n, 8)) * time.Millisecond // up to 6.4 s
	t := time.NewTimer(time.Duration(jitter(int64(d))))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
