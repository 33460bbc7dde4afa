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
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/cutover/cutover/internal/cutover"
)

// Batch is one POST of records to a destination's import endpoint.
type Batch struct {
	// ID is the batch's idempotency key (IdempotencyKey): the same records
	// with the same values for the same target always make the same ID, so
	// a retried batch is recognisably the one already received.
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

// Encoded is one record of a batch as it travels: its id and its JSON,
// byte for byte what the batch's records array carries.
type Encoded struct {
	ID   string
	JSON json.RawMessage
}

// Encode is r as a batch carries it.
//
// Errors: EINTERNAL when r's fields hold a value JSON cannot encode (a bug
// in the converter that made r).
func Encode(r Record) (Encoded, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return Encoded{}, cutover.Wrap(cutover.EINTERNAL, err, "Record %s could not be encoded.", r.ID)
	}
	return Encoded{ID: r.ID, JSON: b}, nil
}

// IdempotencyKey is the key of a batch of recs for target t: a hash of
// the target and of each record's id and JSON, in id order. A retried
// batch (the same records with the same values, in any order) makes the
// same key; a batch of the same ids with other values (two final chunks
// holding one source id from different rows) makes another, so it is not
// mistaken for a retry with a changed body; another tenant's,
// migration's, environment's or test round's never match.
func IdempotencyKey(t cutover.Target, recs []Encoded) string {
	sorted := slices.Clone(recs)
	slices.SortFunc(sorted, func(a, b Encoded) int { return strings.Compare(a.ID, b.ID) })
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d\x00", t.Env, t.TenantID, t.MigrationID, t.Round)
	for _, r := range sorted {
		h.Write([]byte(r.ID))
		h.Write([]byte{0})
		h.Write(r.JSON)
		h.Write([]byte{0})
	}
	return "cut_" + hex.EncodeToString(h.Sum(nil)[:16])
}

// BatchKey is IdempotencyKey of recs, each encoded as a batch carries it.
//
// Errors: Encode's.
func BatchKey(t cutover.Target, recs []Record) (string, error) {
	enc := make([]Encoded, len(recs))
	for i, r := range recs {
		e, err := Encode(r)
		if err != nil {
			return "", err
		}
		enc[i] = e
	}
	return IdempotencyKey(t, enc), nil
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

// AddSum adds the set whose checksum is sum (String's hex) to c: the
// checksum of two disjoint sets is the sum of theirs, so sets counted
// apart (key ranges) add up to the whole's. "" is the empty set.
//
// Errors: EINVALID when sum is not 32 hex digits.
func (c *IDChecksum) AddSum(sum string) error {
	if sum == "" {
		return nil
	}
	b, err := hex.DecodeString(sum)
	if err != nil || len(b) != len(c) {
		return cutover.Errorf(cutover.EINVALID, "%q is not an id checksum.", sum)
	}
	for i := range c {
		c[i] ^= b[i]
	}
	return nil
}

// String is the checksum in hex, as Holding.IDChecksum carries it.
func (c IDChecksum) String() string { return hex.EncodeToString(c[:]) }
