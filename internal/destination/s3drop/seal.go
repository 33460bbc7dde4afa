package s3drop

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/cutover/cutover/internal/cutover"
)

// Manifest is manifest.json: what a sealed drop holds (see the package
// doc). A vendor's loader reads it first and loads exactly its objects.
type Manifest struct {
	Format      string                     `json:"format"`
	TenantID    string                     `json:"tenantId"`
	MigrationID string                     `json:"migrationId"`
	Environment string                     `json:"environment"`
	Round       int                        `json:"round"`
	Entities    map[string]cutover.Holding `json:"entities"`
	Objects     []ManifestObject           `json:"objects"`
}

// Seal implements cutover.Sealer: it checks the drop still holds
// delivered, and creates manifest.json with If-None-Match, listing exactly
// the record objects the drop holds. With parts 0 it reads the drop again
// for that (every object, streamed); after a read-back in parts it adds up
// what the parts kept and lists the entity folders to see that they hold
// exactly the objects the parts read, as read (readParts), reading no
// object again. A manifest
// written before with the same entities is the no-op of a retried step.
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
		got     map[string]cutover.Holding
		objects []ManifestObject
		err     error
	)
	if parts > 0 {
		got, objects, err = d.readParts(ctx, t, parts)
	} else {
		got, objects, err = d.scan(ctx, t)
	}
	if err != nil {
		return err
	}
	if !sameHoldings(got, want) {
		return cutover.Errorf(cutover.EINTERNAL, "The S3 drop of this %s delivery no longer holds what was delivered and read back; it is left unsealed.", t.Env)
	}
	sort.Slice(objects, func(i, j int) bool { return objects[i].Key < objects[j].Key })
	if objects == nil {
		objects = []ManifestObject{}
	}
	body, err := json.MarshalIndent(Manifest{
		Format: manifestFormat, TenantID: t.TenantID, MigrationID: t.MigrationID, Environment: t.Env, Round: t.Round,
		Entities: want, Objects: objects,
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
	if err := json.Unmarshal(body, &m); err != nil || m.Format != manifestFormat {
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
