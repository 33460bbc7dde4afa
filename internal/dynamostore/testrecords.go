package dynamostore

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

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

// TestRecords implements migration.TestRecords: a page of the
// migration's records in key order (entity#id) across its keys (the
// shard keys and its own: TestPartition), eventually consistent (browsing
// reads what a finished round wrote). Each key is queried for the sort
// keys above after, at most limit items, and the page is their merge, cut where no key can
// hold an unread item below it: at the limit-th key, or at the last key
// read of a key that has more (a Query stops at 1 MB too). A key names
// no other migration's partition, so no after key can leave it.
//
// Errors: EINVALID when after is not a TEST sort key ("entity#id", at
// most 1 KB) or limit is not positive; EUNAVAILABLE from DynamoDB;
// EINTERNAL for an item that is not a record.
func (t *TestEnv) TestRecords(ctx context.Context, migrationID, after string, limit int) (cutover.TestRecordPage, error) {
	if limit <= 0 || migrationID == "" {
		return cutover.TestRecordPage{}, cutover.Errorf(cutover.EINVALID, "A page of TEST records needs a migration and a positive size.")
	}
	if after != "" && (len(after) > maxKeyBytes || !strings.Contains(after, "#")) {
		return cutover.TestRecordPage{}, cutover.Errorf(cutover.EINVALID, "That is not a place in the TEST records.")
	}
	n := min(limit, 1000)
	keys := testPartitions(migrationID, "")
	items := make([][]map[string]ddb.AttributeValue, len(keys))
	more := make([]bool, len(keys))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(holdingsReaders)
	for i, pk := range keys {
		g.Go(func() error {
			in := &dynamodb.QueryInput{
				TableName:                 &t.Table,
				KeyConditionExpression:    aws.String("PK = :p"),
				ExpressionAttributeValues: map[string]ddb.AttributeValue{":p": str(pk)},
				Limit:                     aws.Int32(int32(n)),
			}
			if after != "" { // a key condition, not a start key: after need not be one of this key's items
				in.KeyConditionExpression = aws.String("PK = :p AND SK > :a")
				in.ExpressionAttributeValues[":a"] = str(after)
			}
			out, err := t.API.Query(gctx, in)
			if err != nil {
				return mapErr(err, "TEST environment")
			}
			items[i], more[i] = out.Items, len(out.LastEvaluatedKey) > 0
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return cutover.TestRecordPage{}, err
	}
	var all []map[string]ddb.AttributeValue
	cut := "" // the last key the page may hold; "" for no bound
	for i, its := range items {
		all = append(all, its...)
		if more[i] && len(its) > 0 {
			if last := text(its[len(its)-1]["SK"]); cut == "" || last < cut {
				cut = last
			}
		}
	}
	slices.SortFunc(all, func(a, b map[string]ddb.AttributeValue) int { return strings.Compare(text(a["SK"]), text(b["SK"])) })
	if len(all) > n {
		if last := text(all[n-1]["SK"]); cut == "" || last < cut {
			cut = last
		}
	}
	page := cutover.TestRecordPage{Records: make([]cutover.TestRecord, 0, min(len(all), n))}
	for _, it := range all {
		if cut != "" && text(it["SK"]) > cut {
			break
		}
		rec, err := testRecord(it)
		if err != nil {
			return cutover.TestRecordPage{}, err
		}
		page.Records = append(page.Records, rec)
	}
	page.After = cut
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
