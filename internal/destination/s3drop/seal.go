package s3drop

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"

	"github.com/cutover/cutover/internal/cutover"
)

// Manifest is manifest.json: what a sealed drop holds (see the package
// doc). A vendor's loader reads it first, then its object lists, and
// loads exactly their objects.
type Manifest struct {
	Format      string                     `json:"format"`
	TenantID    string                     `json:"tenantId"`
	MigrationID string                     `json:"migrationId"`
	Environment string                     `json:"environment"`
	Round       int                        `json:"round"`
	Entities    map[string]cutover.Holding `json:"entities"`
	ObjectLists []ObjectList               `json:"objectLists"`
}

// ObjectList is one of a manifest's lists of record objects: its key,
// how many objects it lists and how many bytes they hold, and the hex
// SHA-256 of the list's own bytes, so the manifest pins what each list
// says. Every record object of the drop is in exactly one list.
type ObjectList struct {
	Key     string `json:"key"`
	Objects int    `json:"objects"`
	Bytes   int64  `json:"bytes"`
	SHA256  string `json:"sha256"`
}

// objectListBody is an object list's JSON: the objects in key order.
type objectListBody struct {
	Format  string           `json:"format"`
	Objects []ManifestObject `json:"objects"`
}

// Seal implements cutover.Sealer: it checks the drop still holds
// delivered, writes its object lists, and creates manifest.json with
// If-None-Match, naming the lists. With parts 0 it reads the drop again
// (every object, streamed) and lists every object in one list; after a
// read-back in parts it goes part by part (sealParts): no record object
// is read again, and no step holds more than a few parts' objects. A
// manifest written before with the same entities is the no-op of a
// retried step.
//
// Errors: EINVALID as Holdings; EINTERNAL when the drop no longer holds
// delivered (it changed after the read-back), or a part of the read-back
// kept nothing; ECONFLICT when t was sealed before with other holdings;
// EUNAVAILABLE when S3 cannot be read or written.
func (d *Destination) Seal(ctx context.Context, t cutover.Target, delivered map[string]cutover.Holding, parts int) error {
	if err := checkTarget(t); err != nil {
		return err
	}
	want := nonEmpty(delivered)
	key := d.folder(t) + manifestName
	if done, err := d.sealedAs(ctx, key, want); done || err != nil {
		return err
	}
	var (
		lists []ObjectList
		err   error
	)
	if parts > 0 {
		lists, err = d.sealParts(ctx, t, parts, want)
	} else {
		var (
			got     map[string]cutover.Holding
			objects []ManifestObject
		)
		if got, objects, err = d.scan(ctx, t); err == nil && !sameHoldings(got, want) {
			err = changedSince(t)
		} else if err == nil {
			lists, err = d.writeList(ctx, d.folder(t), objects)
		}
	}
	if err != nil {
		return err
	}
	if lists == nil {
		lists = []ObjectList{}
	}
	body, err := json.MarshalIndent(Manifest{
		Format: manifestFormat, TenantID: t.TenantID, MigrationID: t.MigrationID, Environment: t.Env, Round: t.Round,
		Entities: want, ObjectLists: lists,
	}, "", "  ")
	if err != nil {
		return cutover.Wrap(cutover.EINTERNAL, err, "The S3 drop's manifest could not be encoded.")
	}
	created, err := d.create(ctx, key, "application/json", append(body, '\n'))
	if err != nil || created {
		return err
	}
	// Another seal won the race: it stands if it says the same.
	_, err = d.sealedAs(ctx, key, want)
	return err
}

// writeList writes objects (sorted by key here) as an object list of
// folder and returns it, or nothing for no objects (an empty list is not
// written). A list's name
// is its content's hash (_manifest/objects-<sha256>.json), created with
// If-None-Match: a retried or concurrent seal writes the same list under
// the same name, and a list that differs can never replace one a
// manifest names.
//
// Errors: EINTERNAL when the list cannot be encoded; EUNAVAILABLE when
// S3 cannot be written.
func (d *Destination) writeList(ctx context.Context, folder string, objects []ManifestObject) ([]ObjectList, error) {
	if len(objects) == 0 {
		return nil, nil
	}
	sort.Slice(objects, func(i, j int) bool { return objects[i].Key < objects[j].Key })
	body, err := json.Marshal(objectListBody{Format: objectListFormat, Objects: objects})
	if err != nil {
		return nil, cutover.Wrap(cutover.EINTERNAL, err, "An object list of the S3 drop's manifest could not be encoded.")
	}
	body = append(body, '\n')
	sum := sha256.Sum256(body)
	l := ObjectList{Key: folder + manifestListFolder + "objects-" + hex.EncodeToString(sum[:]) + ".json", Objects: len(objects), SHA256: hex.EncodeToString(sum[:])}
	for _, o := range objects {
		l.Bytes += o.Bytes
	}
	if _, err := d.create(ctx, l.Key, "application/json", body); err != nil {
		return nil, err
	}
	return []ObjectList{l}, nil
}

// changedSince is the refusal to seal t's drop when it does not hold
// what was delivered and read back.
func changedSince(t cutover.Target) error {
	return cutover.Errorf(cutover.EINTERNAL, "The S3 drop of this %s delivery no longer holds what was delivered and read back; it is left unsealed.", t.Env)
}

// sealedAs reports whether t's manifest exists; it is an error when it
// lists other holdings than want.
//
// Errors: ECONFLICT for other holdings; EINVALID for a manifest that is
// not one; EUNAVAILABLE from S3.
func (d *Destination) sealedAs(ctx context.Context, key string, want map[string]cutover.Holding) (bool, error) {
	body, found, err := d.read(ctx, key)
	if err != nil || !found {
		return false, err
	}
	var m Manifest
	if err := json.Unmarshal(body, &m); err != nil || (m.Format != manifestFormat && m.Format != manifestFormatV1) {
		return true, cutover.Errorf(cutover.EINVALID, "The S3 drop's %s is not a manifest cutover wrote.", key)
	}
	if !sameHoldings(nonEmpty(m.Entities), want) {
		return true, cutover.Errorf(cutover.ECONFLICT, "The S3 drop was sealed before with other records (%s).", key)
	}
	return true, nil
}

// nonEmpty is h without the entities of no records.
func nonEmpty(h map[string]cutover.Holding) map[string]cutover.Holding {
	out := make(map[string]cutover.Holding, len(h))
	for e, v := range h {
		if v.Count != 0 {
			out[e] = v
		}
	}
	return out
}

func sameHoldings(a, b map[string]cutover.Holding) bool {
	if len(a) != len(b) {
		return false
	}
	for e, v := range a {
		if b[e] != v {
			return false
		}
	}
	return true
}
