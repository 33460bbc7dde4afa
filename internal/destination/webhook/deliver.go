package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination"
)

// deliverer delivers records to one target.
type deliverer struct {
	d *Destination
	t cutover.Target
}

// encoded is a record ready to send: its id and its JSON.
type encoded = destination.Encoded

// Deliver implements cutover.Deliverer. Records the ledger holds are not
// sent: their stored results are returned. The rest are converted, split
// into batches of at most MaxRecords records and MaxBytes bytes, sent one
// batch at a time, and each answered batch is recorded in the ledger
// before the next is sent, so a delivery cut short anywhere re-sends at
// most the one batch whose answer was lost (under the same idempotency
// key, which the destination recognises). A record the converter refuses,
// or too large for any batch, is reported Rejected and not sent.
//
// Errors: EINVALID for a target that names no tenant, migration or known
// environment, or when the destination refuses a batch (a 4xx other than
// 429) or answers outside the contract; EUNAVAILABLE when it cannot be
// reached after the retries or the ledger cannot be used; EINTERNAL when
// recs holds one id twice (a bug upstream: the records' ids are
// deterministic and unique) or a record cannot be encoded.
func (dl *deliverer) Deliver(ctx context.Context, recs []cutover.Record) ([]cutover.DeliveryResult, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	if err := checkTarget(dl.t); err != nil {
		return nil, err
	}
	ids := make([]string, len(recs))
	seen := make(map[string]bool, len(recs))
	for i, r := range recs {
		if seen[r.ID] {
			return nil, cutover.Errorf(cutover.EINTERNAL, "Record %s is in one delivery twice.", r.ID)
		}
		seen[r.ID], ids[i] = true, r.ID
	}
	done, err := dl.d.ledger.Delivered(ctx, dl.t, ids)
	if err != nil {
		return nil, err
	}
	results := make([]cutover.DeliveryResult, 0, len(recs))
	overhead := dl.envelopeBytes()
	var pending []encoded
	for _, r := range recs {
		if res, ok := done[r.ID]; ok {
			results = append(results, res)
			continue
		}
		rec, err := dl.d.convert(r)
		if err != nil {
			if cutover.ErrorCode(err) != cutover.EINVALID {
				return nil, err
			}
			results = append(results, cutover.DeliveryResult{ID: r.ID, Outcome: cutover.Rejected, Reason: cutover.ErrorMessage(err)})
			continue
		}
		if rec.ID != r.ID {
			return nil, cutover.Errorf(cutover.EINTERNAL, "The converter changed record %s's id.", r.ID)
		}
		e, err := destination.Encode(rec)
		if err != nil {
			return nil, err
		}
		if overhead+len(e.JSON) > dl.d.cfg.MaxBytes {
			results = append(results, cutover.DeliveryResult{ID: r.ID, Outcome: cutover.Rejected, Reason: fmt.Sprintf(
				"The record is %d bytes as JSON, more than the %d bytes the destination takes in one batch.", len(e.JSON), dl.d.cfg.MaxBytes)})
			continue
		}
		pending = append(pending, e)
	}
	for _, batch := range dl.split(pending, overhead) {
		res, err := dl.send(ctx, batch)
		if err != nil {
			return nil, err
		}
		if err := dl.d.ledger.Record(ctx, dl.t, res); err != nil {
			return nil, err
		}
		results = append(results, res...)
	}
	return results, nil
}

// envelopeBytes is the size of a batch's JSON without its records: the
// batch id (a hash of the records) has a fixed length, so it is the same
// for every batch of t.
func (dl *deliverer) envelopeBytes() int {
	b, _ := json.Marshal(dl.batch(nil))
	return len(b)
}

// batch is the batch of recs (already encoded) for the target, keyed by
// the very bytes it carries.
func (dl *deliverer) batch(recs []encoded) destination.Batch {
	return destination.Batch{
		ID: destination.IdempotencyKey(dl.t, recs), TenantID: dl.t.TenantID, MigrationID: dl.t.MigrationID,
		Environment: dl.t.Env, Round: dl.t.Round, Records: []destination.Record{},
	}
}

// split cuts recs into batches: at most MaxRecords records each, and at
// most MaxBytes bytes of JSON (the envelope, the records and the commas
// between them). Every record fits alone (Deliver rejected the others).
func (dl *deliverer) split(recs []encoded, overhead int) [][]encoded {
	var out [][]encoded
	start, size := 0, overhead
	for i, r := range recs {
		add := len(r.JSON)
		if i > start {
			add++ // the comma
		}
		if i > start && (i-start >= dl.d.cfg.MaxRecords || size+add > dl.d.cfg.MaxBytes) {
			out = append(out, recs[start:i])
			start, size, add = i, overhead, len(r.JSON)
		}
		size += add
	}
	if start < len(recs) {
		out = append(out, recs[start:])
	}
	return out
}

// send POSTs one batch and checks its answer.
//
// Errors: those of do; EINVALID when the answer is not one result per
// record sent.
func (dl *deliverer) send(ctx context.Context, recs []encoded) ([]cutover.DeliveryResult, error) {
	b := dl.batch(recs)
	raw := make([]json.RawMessage, len(recs))
	for i, r := range recs {
		raw[i] = r.JSON
	}
	// The body is the Batch with its records as encoded (and measured).
	body, err := json.Marshal(struct {
		destination.Batch
		Records []json.RawMessage `json:"records"`
	}{b, raw})
	if err != nil {
		return nil, cutover.Wrap(cutover.EINTERNAL, err, "A batch could not be encoded.")
	}
	if len(body) > dl.d.cfg.MaxBytes {
		return nil, cutover.Errorf(cutover.EINTERNAL, "A batch of %d bytes was made for a limit of %d.", len(body), dl.d.cfg.MaxBytes)
	}
	answer, err := dl.d.do(ctx, request{
		method: "POST", url: dl.d.base + "/tenants/" + url.PathEscape(dl.t.TenantID) + "/records",
		msgID: b.ID, idempotencyKey: b.ID, body: body,
	})
	if err != nil {
		return nil, err
	}
	var res destination.BatchResult
	if err := json.Unmarshal(answer, &res); err != nil {
		return nil, contractError("its answer to a batch is not the JSON of a batch result")
	}
	return res.Results, checkResults(recs, res.Results)
}

// checkResults checks an answer against the batch: one result per record
// sent, no other id, each a known outcome. A rejection without a reason
// gets one, since people read it in the rejects file.
//
// Errors: EINVALID naming the first break of the contract.
func checkResults(sent []encoded, results []cutover.DeliveryResult) error {
	want := make(map[string]bool, len(sent))
	for _, r := range sent {
		want[r.ID] = true
	}
	got := make(map[string]bool, len(results))
	for i, r := range results {
		switch {
		case !want[r.ID]:
			return contractError("it answered for record %q, which the batch did not hold", r.ID)
		case got[r.ID]:
			return contractError("it answered twice for record %q", r.ID)
		}
		got[r.ID] = true
		switch r.Outcome {
		case cutover.Created, cutover.Existed:
			results[i].Reason = ""
		case cutover.Rejected:
			if r.Reason == "" {
				results[i].Reason = "The destination rejected the record without saying why."
			}
		default:
			return contractError("record %q has status %q, not %q, %q or %q", r.ID, r.Outcome, cutover.Created, cutover.Existed, cutover.Rejected)
		}
	}
	if len(got) != len(want) {
		for _, r := range sent {
			if !got[r.ID] {
				return contractError("it answered for %d of the batch's %d records (none for %q)", len(got), len(want), r.ID)
			}
		}
	}
	return nil
}
