package dynamostore_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination/s3drop"
	"github.com/cutover/cutover/internal/dynamostore"
)

var _ s3drop.Claims = (*dynamostore.DropClaims)(nil)

// The claims hold alike whether a target spreads them over its shard
// keys (a final or test round planned now) or keeps one key (planned
// before the registers were sharded).
func TestDropClaimsAreAllOrNothingAndFirstWins(t *testing.T) {
	for _, sharded := range []bool{true, false} {
		t.Run(fmt.Sprintf("sharded %v", sharded), func(t *testing.T) { dropClaimsAllOrNothing(t, sharded) })
	}
}

func dropClaimsAllOrNothing(t *testing.T, sharded bool) {
	db, table := recordsTable(t)
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	c := &dynamostore.DropClaims{API: db, Table: table, TestRetention: 48 * time.Hour, Now: func() time.Time { return now }}
	ctx := context.Background()
	live := cutover.Target{Env: cutover.EnvLive, TenantID: "acme", MigrationID: "m1"}
	test := cutover.Target{Env: cutover.EnvTest, TenantID: "acme", MigrationID: "m1", Round: 1}
	if sharded {
		live.LiveShards, test.TestShards = cutover.LiveShards, cutover.TestShards
	}

	if taken, err := c.Claim(ctx, live, "contact/o1.jsonl", []string{"a", "b", "c"}); err != nil || len(taken) != 0 {
		t.Fatalf("first claim: %v %v", taken, err)
	}
	// An overlapping claim takes nothing, and says who holds what.
	taken, err := c.Claim(ctx, live, "contact/o2.jsonl", []string{"b", "d"})
	if err != nil {
		t.Fatal(err)
	}
	if len(taken) != 1 || taken["b"] != "contact/o1.jsonl" {
		t.Errorf("overlapping claim: taken %v, want b by o1", taken)
	}
	owners, err := c.Owners(ctx, live, []string{"a", "b", "c", "d", "e"})
	if err != nil {
		t.Fatal(err)
	}
	if len(owners) != 3 || owners["a"] != "contact/o1.jsonl" || owners["c"] != "contact/o1.jsonl" {
		t.Errorf("owners %v: d must not be claimed by a claim that failed", owners)
	}
	// The same claim again (a retry) takes nothing and names the object.
	taken, err = c.Claim(ctx, live, "contact/o1.jsonl", []string{"a", "b", "c"})
	if err != nil || len(taken) != 3 {
		t.Errorf("the same claim again: %v %v", taken, err)
	}
	// Each target is its own register: TEST round 1 claims the same ids.
	if taken, err := c.Claim(ctx, test, "contact/t1.jsonl", []string{"a", "b"}); err != nil || len(taken) != 0 {
		t.Errorf("TEST claim of LIVE's ids: %v %v", taken, err)
	}
	round2 := test
	round2.Round = 2
	if o, err := c.Owners(ctx, round2, []string{"a"}); err != nil || len(o) != 0 {
		t.Errorf("round 2 owns %v (%v)", o, err)
	}
	// 250 ids read back across BatchGetItem's 100-key pages.
	var ids []string
	for i := range 250 {
		ids = append(ids, fmt.Sprintf("r-%03d", i))
	}
	for i := 0; i < len(ids); i += 100 {
		if _, err := c.Claim(ctx, live, fmt.Sprintf("x/%d.jsonl", i), ids[i:min(i+100, len(ids))]); err != nil {
			t.Fatal(err)
		}
	}
	if o, err := c.Owners(ctx, live, ids); err != nil || len(o) != 250 || o["r-249"] != "x/200.jsonl" {
		t.Errorf("%d owners of 250 (%v)", len(o), err)
	}
	if _, err := c.Claim(ctx, live, "x/too-many.jsonl", append(ids, "one-more")[:101]); cutover.ErrorCode(err) != cutover.EINVALID {
		t.Errorf("101 ids: %v, want EINVALID", err)
	}
	// Where they are, read apart from the register: LIVE's 253 claims
	// under its one key, or spread over its shard keys.
	keys := map[string]int{}
	for _, it := range partitionItems(t, db, table, "DROP/live/acme/m1/0") {
		keys[it["PK"].(*ddb.AttributeValueMemberS).Value]++
	}
	if n := len(keys); sharded && (n < 32 || keys["DROP/live/acme/m1/0"] != 0) || !sharded && keys["DROP/live/acme/m1/0"] != 253 {
		t.Errorf("LIVE's claims under %d keys (%d under the target's own); want them spread over its shards, or all under it", n, keys["DROP/live/acme/m1/0"])
	}
	// TEST claims expire with the TEST deliveries; LIVE claims are kept.
	purge := map[string]string{}
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: &table})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			pk, _, _ := strings.Cut(it["PK"].(*ddb.AttributeValueMemberS).Value, "#") // the target's base key
			if v, ok := it["PurgeAt"].(*ddb.AttributeValueMemberN); ok {
				purge[pk] = v.Value
			} else if _, seen := purge[pk]; !seen {
				purge[pk] = ""
			}
		}
	}
	if got := purge["DROP/test/acme/m1/1"]; got != strconv.FormatInt(now.Add(48*time.Hour).Unix(), 10) {
		t.Errorf("TEST claim PurgeAt %q", got)
	}
	if got, ok := purge["DROP/live/acme/m1/0"]; !ok || got != "" {
		t.Errorf("LIVE claim PurgeAt %q (present %v), want none", got, ok)
	}
}
