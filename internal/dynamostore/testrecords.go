package dynamostore

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cutover/cutover/internal/cutover"
)

// The TEST items' browsing attributes: the round that wrote the item and
// the source row it came from (file, line, columns, values). They are
// written with the record, so browsing reads one item per record and
// never the uploaded file again; the item expires with the round's other
// TEST records.
const (
	roundAttribute  = "round"
	sourceAttribute = "source"
)

// addTestAttributes adds a TEST item's round and source row.
func addTestAttributes(item map[string]ddb.AttributeValue, t cutover.Target, r cutover.Record) {
	item[roundAttribute] = num(t.Round)
	if r.Source == nil {
		return
	}
	cols := make([]ddb.AttributeValue, len(r.Source.Columns))
	for i, c := range r.Source.Columns {
		cols[i] = str(c)
	}
	vals := make([]ddb.AttributeValue, len(r.Source.Values))
	for i, v := range r.Source.Values {
		vals[i] = str(v)
	}
	item[sourceAttribute] = &ddb.AttributeValueMemberM{Value: map[string]ddb.AttributeValue{
		"file": str(r.Source.File), "line": num(r.Source.Line),
		"columns": &ddb.AttributeValueMemberL{Value: cols}, "values": &ddb.AttributeValueMemberL{Value: vals},
	}}
}

// maxKeyBytes is DynamoDB's largest sort key (1 KB): a longer "after" key
// cannot be one of the table's.
const maxKeyBytes = 1024

// TestRecords implements migration.TestRecords: one Query of the
// migration's partition (the partition key is the migration id and
// nothing else, so no after key can leave it), at most limit items,
// eventually consistent (browsing reads what a finished round wrote).
//
// Errors: EINVALID when after is not a TEST sort key ("entity#id", at
// most 1 KB) or limit is not positive; EUNAVAILABLE from DynamoDB;
// EINTERNAL for an item that is not a record.
func (t *TestEnv) TestRecords(ctx context.Context, migrationID, after string, limit int) (cutover.TestRecordPage, error) {
	if limit <= 0 || migrationID == "" {
		return cutover.TestRecordPage{}, cutover.Errorf(cutover.EINVALID, "A page of TEST records needs a migration and a positive size.")
	}
	in := &dynamodb.QueryInput{
		TableName:                 &t.Table,
		KeyConditionExpression:    aws.String("PK = :p"),
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":p": str(migrationID)},
		Limit:                     aws.Int32(int32(min(limit, 1000))),
	}
	if after != "" {
		if len(after) > maxKeyBytes || !strings.Contains(after, "#") {
			return cutover.TestRecordPage{}, cutover.Errorf(cutover.EINVALID, "That is not a place in the TEST records.")
		}
		in.ExclusiveStartKey = map[string]ddb.AttributeValue{"PK": str(migrationID), "SK": str(after)}
	}
	out, err := t.API.Query(ctx, in)
	if err != nil {
		return cutover.TestRecordPage{}, mapErr(err, "TEST environment")
	}
	page := cutover.TestRecordPage{Records: make([]cutover.TestRecord, 0, len(out.Items))}
	for _, it := range out.Items {
		rec, err := testRecord(it)
		if err != nil {
			return cutover.TestRecordPage{}, err
		}
		page.Records = append(page.Records, rec)
	}
	if sk, ok := out.LastEvaluatedKey["SK"].(*ddb.AttributeValueMemberS); ok {
		page.After = sk.Value
	}
	return page, nil
}

// testRecord reads a TEST item back.
//
// Errors: EINTERNAL for an item without an id or entity.
func testRecord(it map[string]ddb.AttributeValue) (cutover.TestRecord, error) {
	id, iok := it["id"].(*ddb.AttributeValueMemberS)
	ent, eok := it["entity"].(*ddb.AttributeValueMemberS)
	if !iok || !eok {
		return cutover.TestRecord{}, cutover.Errorf(cutover.EINTERNAL, "The TEST environment holds an item without an entity or an id.")
	}
	rec := cutover.TestRecord{Key: text(it["SK"]), ID: id.Value, Entity: ent.Value, SourceID: text(it["sourceId"]), Fields: map[string]any{}}
	if n, ok := it[roundAttribute].(*ddb.AttributeValueMemberN); ok {
		rec.Round, _ = strconv.Atoi(n.Value)
	}
	if f, ok := it["fields"].(*ddb.AttributeValueMemberM); ok {
		for k, v := range f.Value {
			rec.Fields[k] = plain(v)
		}
	}
	if inv, ok := it["invalid"].(*ddb.AttributeValueMemberM); ok {
		rec.Invalid = make(map[string]cutover.InvalidValue, len(inv.Value))
		for k, v := range inv.Value {
			if m, ok := v.(*ddb.AttributeValueMemberM); ok {
				rec.Invalid[k] = cutover.InvalidValue{Value: text(m.Value["value"]), Reason: text(m.Value["reason"])}
			}
		}
	}
	if s, ok := it[sourceAttribute].(*ddb.AttributeValueMemberM); ok {
		src := &cutover.SourceRow{File: text(s.Value["file"])}
		if n, ok := s.Value["line"].(*ddb.AttributeValueMemberN); ok {
			src.Line, _ = strconv.Atoi(n.Value)
		}
		src.Columns = texts(s.Value["columns"])
		src.Values = texts(s.Value["values"])
		rec.Source = src
	}
	return rec, nil
}

// text is a string attribute's value, "" for anything else.
func text(v ddb.AttributeValue) string {
	if s, ok := v.(*ddb.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// texts is a list of strings' values.
func texts(v ddb.AttributeValue) []string {
	l, ok := v.(*ddb.AttributeValueMemberL)
	if !ok {
		return nil
	}
	out := make([]string, len(l.Value))
	for i, e := range l.Value {
		out[i] = text(e)
	}
	return out
}

// plain is a stored typed value as JSON would carry it: numbers keep
// their exact text (json.Number), never a float.
func plain(v ddb.AttributeValue) any {
	switch v := v.(type) {
	case *ddb.AttributeValueMemberS:
		return v.Value
	case *ddb.AttributeValueMemberN:
		return json.Number(v.Value)
	case *ddb.AttributeValueMemberBOOL:
		return v.Value
	case *ddb.AttributeValueMemberL:
		out := make([]any, len(v.Value))
		for i, e := range v.Value {
			out[i] = plain(e)
		}
		return out
	case *ddb.AttributeValueMemberM:
		out := make(map[string]any, len(v.Value))
		for k, e := range v.Value {
			out[k] = plain(e)
		}
		return out
	}
	return nil
}
