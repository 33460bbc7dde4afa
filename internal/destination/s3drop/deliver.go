package s3drop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"sync"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination"
)

// Line is one line of a record object: the record beside its target, so
// every line says whose it is.
type Line struct {
	TenantID    string `json:"tenantId"`
	MigrationID string `json:"migrationId"`
	Environment string `json:"environment"`
	Round       int    `json:"round"`
	destination.Record
}

// deliverer delivers records to one target.
type deliverer struct {
	d *Destination
	t cutover.Target

	mu        sync.Mutex
	published map[string]bool // objects seen in the drop, by relative key
}

// encoded is a record ready to write: its id and its line (with "\n").
type encoded struct {
	id   string
	line []byte
}

// Deliver implements cutover.Deliverer (see the package doc for how each
// record lands in one object). Records the converter refuses, or whose
// line alone exceeds the object limit, are reported Rejected and not
// written.
//
// Errors: EINVALID for a target that names no tenant, migration or known
// environment; ECONFLICT when the target's drop is sealed (its manifest
// written) and a record would be added to it; EUNAVAILABLE when S3 or the
// claim register cannot be used (delivering again is safe); EINTERNAL
// when recs holds one id twice, the converter changes a record's id or
// entity, or a claimed object's staged copy is missing.
func (dl *deliverer) Deliver(ctx context.Context, recs []cutover.Record) ([]cutover.DeliveryResult, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	if err := checkTarget(dl.t); err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(recs))
	for _, r := range recs {
		if seen[r.ID] {
			return nil, cutover.Errorf(cutover.EINTERNAL, "Record %s is in one delivery twice.", r.ID)
		}
		seen[r.ID] = true
	}
	results := make([]cutover.DeliveryResult, 0, len(recs))
	byEntity := map[string][]encoded{}
	var ids []string
	for _, r := range recs {
		line, reason, err := dl.encode(r)
		if err != nil {
			return nil, err
		}
		if reason != "" {
			results = append(results, cutover.DeliveryResult{ID: r.ID, Outcome: cutover.Rejected, Reason: reason})
			continue
		}
		byEntity[r.Entity] = append(byEntity[r.Entity], encoded{id: r.ID, line: line})
		ids = append(ids, r.ID)
	}
	owners, err := dl.d.cfg.Claims.Owners(ctx, dl.t, ids)
	if err != nil {
		return nil, err
	}
	done, err := dl.existing(ctx, owners)
	if err != nil {
		return nil, err
	}
	results = append(results, done...)
	entities := make([]string, 0, len(byEntity))
	for e := range byEntity {
		entities = append(entities, e)
	}
	sort.Strings(entities)
	for _, e := range entities {
		var fresh []encoded
		for _, r := range byEntity[e] {
			if _, ok := owners[r.id]; !ok {
				fresh = append(fresh, r)
			}
		}
		for _, batch := range dl.split(fresh) {
			res, err := dl.deliverBatch(ctx, e, batch)
			if err != nil {
				return nil, err
			}
			results = append(results, res...)
		}
	}
	return results, nil
}

// encode is r's line; reason, when not empty, is why r is rejected.
//
// Errors: the converter's other than EINVALID; EINTERNAL when it changed
// the record's id or entity, or the record cannot be encoded.
func (dl *deliverer) encode(r cutover.Record) ([]byte, string, error) {
	if r.Entity == "" {
		return nil, "The record has no entity, so it has no place in the drop.", nil
	}
	rec, err := dl.d.convert(r)
	if err != nil {
		if cutover.ErrorCode(err) != cutover.EINVALID {
			return nil, "", err
		}
		return nil, cutover.ErrorMessage(err), nil
	}
	if rec.ID != r.ID || rec.Entity != r.Entity {
		return nil, "", cutover.Errorf(cutover.EINTERNAL, "The converter changed record %s's id or entity.", r.ID)
	}
	b, err := json.Marshal(Line{TenantID: dl.t.TenantID, MigrationID: dl.t.MigrationID, Environment: dl.t.Env, Round: dl.t.Round, Record: rec})
	if err != nil {
		return nil, "", cutover.Wrap(cutover.EINTERNAL, err, "Record %s could not be encoded.", r.ID)
	}
	b = append(b, '\n')
	if len(b) > dl.d.cfg.MaxBytes {
		return nil, fmt.Sprintf("The record is %d bytes as JSON, more than the %d bytes of one drop object.", len(b), dl.d.cfg.MaxBytes), nil
	}
	return b, "", nil
}

// existing answers the records claimed before: exists, once the object
// each is claimed for is in the drop.
//
// Errors: those of publishClaimed.
func (dl *deliverer) existing(ctx context.Context, owners map[string]string) ([]cutover.DeliveryResult, error) {
	objects := map[string]bool{}
	for _, o := range owners {
		objects[o] = true
	}
	names := make([]string, 0, len(objects))
	for o := range objects {
		names = append(names, o)
	}
	sort.Strings(names)
	for _, o := range names {
		if err := dl.publishClaimed(ctx, o); err != nil {
			return nil, err
		}
	}
	out := make([]cutover.DeliveryResult, 0, len(owners))
	for id := range owners {
		out = append(out, cutover.DeliveryResult{ID: id, Outcome: cutover.Existed})
	}
	return out, nil
}

// split cuts recs into batches of at most MaxRecords records and MaxBytes
// bytes (every record fits alone: encode rejected the others).
func (dl *deliverer) split(recs []encoded) [][]encoded {
	var out [][]encoded
	start, size := 0, 0
	for i, r := range recs {
		if i > start && (i-start >= dl.d.cfg.MaxRecords || size+len(r.line) > dl.d.cfg.MaxBytes) {
			out = append(out, recs[start:i])
			start, size = i, 0
		}
		size += len(r.line)
	}
	if start < len(recs) {
		out = append(out, recs[start:])
	}
	return out
}

// deliverBatch writes one batch of an entity's unclaimed records: staged
// copy, claim, object. Records claimed meanwhile by another object are
// answered exists and the rest tried again as a batch of their own.
//
// Errors: ECONFLICT when the drop is sealed; those of S3 and the claims.
func (dl *deliverer) deliverBatch(ctx context.Context, entity string, batch []encoded) ([]cutover.DeliveryResult, error) {
	var results []cutover.DeliveryResult
	for len(batch) > 0 {
		ids := make([]string, len(batch))
		enc := make([]destination.Encoded, len(batch))
		var body bytes.Buffer
		for i, r := range batch {
			ids[i] = r.id
			enc[i] = destination.Encoded{ID: r.id, JSON: r.line}
			body.Write(r.line)
		}
		// The key covers the lines, not only the ids (as the HTTPS
		// destination's idempotency key does): the same batch again is
		// the same object; the same ids with other values are another
		// object, which the claims then answer "exists".
		rel := objectName(entity, destination.IdempotencyKey(dl.t, enc))
		if err := dl.refuseSealed(ctx); err != nil {
			return nil, err
		}
		staged, err := dl.stage(ctx, rel, body.Bytes())
		if err != nil {
			return nil, err
		}
		taken, err := dl.d.cfg.Claims.Claim(ctx, dl.t, rel, ids)
		if err != nil {
			return nil, err
		}
		if len(taken) == 0 {
			if _, err := dl.d.create(ctx, dl.d.folder(dl.t)+rel, jsonLinesMIMEType, staged); err != nil {
				return nil, err
			}
			dl.markPublished(rel)
			for _, id := range ids {
				results = append(results, cutover.DeliveryResult{ID: id, Outcome: cutover.Created})
			}
			return results, nil
		}
		done, err := dl.existing(ctx, taken)
		if err != nil {
			return nil, err
		}
		results = append(results, done...)
		rest := batch[:0:0]
		for _, r := range batch {
			if _, ok := taken[r.id]; !ok {
				rest = append(rest, r)
			}
		}
		batch = rest
	}
	return results, nil
}

// stage writes the staged copy of the object rel and returns the bytes
// the copy holds: body, or what an earlier try staged under the same key
// (the same records), so that the object, whoever creates it from here,
// is the staged copy byte for byte.
//
// Errors: EUNAVAILABLE from S3.
func (dl *deliverer) stage(ctx context.Context, rel string, body []byte) ([]byte, error) {
	key := dl.d.folder(dl.t) + stagingFolder + rel
	created, err := dl.d.create(ctx, key, jsonLinesMIMEType, body)
	if err != nil || created {
		return body, err
	}
	before, found, err := dl.d.read(ctx, key)
	if err != nil {
		return nil, err
	}
	if !found { // gone meanwhile (a lifecycle rule): ours is as good
		return body, nil
	}
	return before, nil
}

func (dl *deliverer) markPublished(rel string) {
	dl.mu.Lock()
	dl.published[rel] = true
	dl.mu.Unlock()
}

// publishClaimed makes sure the object rel, which records are claimed
// for, is in the drop: when its writer died between the claim and the
// object, it is created from its staged copy.
//
// Errors: ECONFLICT when it must be created and the drop is sealed;
// EINTERNAL when its staged copy is missing; EUNAVAILABLE from S3.
func (dl *deliverer) publishClaimed(ctx context.Context, rel string) error {
	dl.mu.Lock()
	ok := dl.published[rel]
	dl.mu.Unlock()
	if ok {
		return nil
	}
	folder := dl.d.folder(dl.t)
	exists, err := dl.d.exists(ctx, folder+rel)
	if err != nil {
		return err
	}
	if !exists {
		body, found, err := dl.d.read(ctx, folder+stagingFolder+rel)
		if err != nil {
			return err
		}
		if !found {
			return cutover.Errorf(cutover.EINTERNAL, "Records are claimed for the drop object %s, but neither it nor its staged copy is in the bucket.", folder+rel)
		}
		if err := dl.refuseSealed(ctx); err != nil {
			return err
		}
		created, err := dl.d.create(ctx, folder+rel, jsonLinesMIMEType, body)
		if err != nil {
			return err
		}
		if created {
			slog.InfoContext(ctx, "s3drop: created a claimed object from its staged copy (its writer stopped before it)", "bucket", dl.d.cfg.Bucket, "key", folder+rel)
		}
	}
	dl.markPublished(rel)
	return nil
}

// refuseSealed refuses to add to a sealed drop: its manifest would no
// longer list every object.
//
// Errors: ECONFLICT when the target's manifest exists; EUNAVAILABLE from S3.
func (dl *deliverer) refuseSealed(ctx context.Context) error {
	sealed, err := dl.d.exists(ctx, dl.d.folder(dl.t)+manifestName)
	if err != nil {
		return err
	}
	if sealed {
		return cutover.Errorf(cutover.ECONFLICT, "The S3 drop of this %s delivery is sealed (its manifest is written); nothing more can be added to it.", dl.t.Env)
	}
	return nil
}
