package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strconv"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination"
)

// Holdings implements cutover.Destination: a signed GET of
// {BaseURL}/tenants/{tenantId}/migrations/{migrationId}/counts?environment=…,
// retried like a batch, answered with destination.Counts.
//
// Errors: EINVALID for a target that names no tenant, migration or known
// environment, when the destination refuses the request (a 4xx other than
// 429), or answers outside the contract (no entities, a negative count, a
// checksum that is not 32 hex digits); EUNAVAILABLE when it cannot be
// reached after the retries.
func (d *Destination) Holdings(ctx context.Context, t cutover.Target) (map[string]cutover.Holding, error) {
	if err := checkTarget(t); err != nil {
		return nil, err
	}
	answer, err := d.do(ctx, request{
		method: "GET",
		url: d.base + "/tenants/" + url.PathEscape(t.TenantID) + "/migrations/" + url.PathEscape(t.MigrationID) +
			"/counts?environment=" + url.QueryEscape(t.Env) + "&round=" + strconv.Itoa(t.Round),
		msgID: "msg_" + rand.Text(), // one message, however often it is retried
	})
	if err != nil {
		return nil, err
	}
	var c destination.Counts
	if err := json.Unmarshal(answer, &c); err != nil {
		return nil, contractError("its counts are not the JSON of counts")
	}
	if c.Entities == nil {
		return nil, contractError("its counts have no entities")
	}
	for entity, h := range c.Entities {
		if h.Count < 0 {
			return nil, contractError("it holds %d records of %q", h.Count, entity)
		}
		if b, err := hex.DecodeString(h.IDChecksum); err != nil || len(b) != len(destination.IDChecksum{}) {
			return nil, contractError("the id checksum of %q is not %d hex digits", entity, 2*len(destination.IDChecksum{}))
		}
	}
	return c.Entities, nil
}
