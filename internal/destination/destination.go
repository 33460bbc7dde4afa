// Package destination is the wire contract between cutover and the product
// a business is joining (issue 14): the JSON a batch of records travels in,
// the result the destination answers with, the counts it reports for
// read-back, the Standard Webhooks signature every request carries, the
// idempotency key of a batch, and the checksum of record ids both sides
// compute. The HTTPS adapter (destination/webhook) and the reference
// receiver (infra/receiver) both build on it, so they cannot drift apart;
// openapi.yaml beside it writes the same contract down for vendors.
package destination

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/cutover/cutover/internal/cutover"
)

// Batch is one POST of records to a destination's import endpoint.
type Batch struct {
	// ID is the batch's idempotency key (IdempotencyKey): the same records
	// of the same target always make the same ID, so a retried batch is
	// recognisably the one already received.
	ID          string `json:"batchId"`
	TenantID    string `json:"tenantId"`
	MigrationID string `json:"migrationId"`
	Environment string `json:"environment"` // cutover.EnvTest or cutover.EnvLive
	// Round is the test round (TEST records are the round's own; see
	// cutover.Target); 0 in LIVE.
	Round   int      `json:"round"`
	Records []Record `json:"records"`
}

// Record is one record as a destination receives it: typed fields (lists
// as arrays, money as an amount and a currency, numbers as numbers, dates
// as ISO 8601 strings), references as the ids of the records they name.
type Record struct {
	ID       string         `json:"id"`
	Entity   string         `json:"entity"`
	SourceID string         `json:"sourceId,omitempty"`
	Fields   map[string]any `json:"fields"`
}

// BatchResult is a destination's answer to a batch: one result per record.
type BatchResult struct {
	Results []cutover.DeliveryResult `json:"results"`
}

// Counts is a destination's answer to a read-back: per entity, what it
// holds of one migration in one environment.
type Counts struct {
	Entities map[string]cutover.Holding `json:"entities"`
}

// IdempotencyKey is the key of a batch of ids for target t: a hash of the
// target and the sorted ids, so the same records make the same key in any
// order, and another tenant's, migration's, environment's or test round's
// never do.
func IdempotencyKey(t cutover.Target, ids []string) string {
	sorted := append([]string(nil), ids...)
	sort.Strings(sorted)
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d\x00", t.Env, t.TenantID, t.MigrationID, t.Round)
	h.Write([]byte(strings.Join(sorted, "\x00")))
	return "cut_" + hex.EncodeToString(h.Sum(nil)[:16])
}

// IDChecksum is an order-independent checksum of a set of record ids: the
// XOR of the first 16 bytes of each id's SHA-256. Both sides add every id
// they hold once; equal sets give equal sums whatever the order, and a
// missing or extra id changes the sum. The zero value is the empty set.
type IDChecksum [16]byte

// Add adds one id to the set.
func (c *IDChecksum) Add(id string) {
	s := sha256.Sum256([]byte(id))
	for i := range c {
		c[i] ^= s[i]
	}
}

// String is the checksum in hex, as Holding.IDChecksum carries it.
func (c IDChecksum) String() string { return hex.EncodeToString(c[:]) }
