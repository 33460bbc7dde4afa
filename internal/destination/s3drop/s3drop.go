// Package s3drop is the S3 drop destination (issue 14), for vendors with
// bulk loaders: JSON Lines per entity under a prefix in the vendor's
// bucket, written exactly once under deterministic object keys, and a
// manifest with counts and checksums written last (cutover.Sealer), so a
// loader starts only from a complete drop.
//
// # Layout
//
// Every key of a target sits in its folder,
//
//	{prefix}{environment}/{migrationId}/round-{round}/
//
// where {prefix} is Config.Prefix with "{tenantId}" replaced by the tenant
// (default "{tenantId}/"; a prefix without the placeholder gets the tenant
// as its first folder), environment is "test" or "live", and LIVE is round
// 0: tenants, migrations, environments and test rounds never share a key.
// In the folder:
//
//	{entity}/{batchId}.jsonl          the records, one JSON object a line
//	manifest.json                     written last, once (Seal)
//	_manifest/objects-{sha256}.json   the manifest's object lists (Seal)
//	_staging/{entity}/{batchId}.jsonl cutover's own copies (see below)
//	_readback/of-{n}/part-{i}.json    what part i of a read-back read (parts.go)
//
// Names that start with "_" are never records (an entity's folder cannot:
// the escape below turns a leading "_" into %5F): _staging/ is cutover's,
// and a vendor may keep its own marks there too. cutover never deletes: a
// new test round is a new folder, and clearing old ones is the vendor's.
//
// Tenant, migration and entity names are key segments escaped so that
// none can climb out of its folder or into another's: bytes outside
// [A-Za-z0-9_-] (and a leading "_") become %XX, so "/", "..", "." and
// unicode cannot make a path.
//
// # Line format
//
// Each line is a destination.Record (id, entity, sourceId, typed fields)
// beside its target: {"tenantId", "migrationId", "environment", "round",
// "id", "entity", "sourceId", "fields"}.
//
// # Manifest format
//
// manifest.json: {"format": "cutover-s3drop/2", "tenantId", "migrationId",
// "environment", "round", "entities": {entity: {"count", "idChecksum"}},
// "objectLists": [{"key", "objects", "bytes", "sha256"}]}, idChecksum
// destination.IDChecksum of the entity's ids. Each object list (at key,
// named by its own hex SHA-256, which sha256 repeats; "objects" and
// "bytes" its objects' count and bytes) is {"format":
// "cutover-s3drop-objects/1", "objects": [{"key", "entity", "lines",
// "bytes", "sha256"}]}, in key order, sha256 the hex SHA-256 of the
// object's bytes. The lists name every record object the folder holds,
// each in exactly one list, and nothing else. The manifest is written
// with If-None-Match, after the read-back agreed and after its lists,
// and once it exists nothing more is delivered to the target.
//
// Until 2026-12-05 ("cutover-s3drop/1") manifest.json listed the objects
// itself: at 100M records, a million objects, that one document (and the
// step writing it) grew with the drop. Now a drop read back in parts has
// a list per part that holds objects, so no step holds more than a few
// parts' objects, and a loader can fetch the lists one at a time. Lists
// are written only once every part checked, before the manifest; a list
// no manifest names (a seal stopped between them) is not part of the
// drop.
//
// # Exactly once
//
// Deterministic keys alone are not enough: a retried chunk may batch its
// records differently (a record the first try wrote beside others, the
// retry writes beside new ones), and the final migration's chunks run at
// once and may each deliver the same derived record. Content-addressed
// keys would put such a record in two objects. The HTTPS destination's
// ledger (webhook.Ledger) records answers after the fact and leans on the
// receiver to recognise a record sent twice; a bucket recognises nothing,
// so here the claim comes before the write, and for all of an object's
// records at once (claims one by one would leave an object half claimed
// when two overlapping batches race, its records stranded). So each
// record is claimed for the one object it goes into, in a claim register
// (Claims; production uses dynamostore.DropClaims, conditional puts in
// one DynamoDB transaction per object: all its records or none). A
// delivery:
//
//  1. asks which records are claimed already; those are answered exists,
//     once their object is in the drop;
//  2. writes the rest, per entity and in batches, first as a staged copy
//     (_staging/), then claims the batch for its object (batchId is
//     destination.IdempotencyKey of its lines, ids and values, so a retry
//     of the same batch names the same object), then creates the object with If-None-Match
//     (two writers of one object: S3 keeps the first, the other gets 412);
//  3. when some records of a batch were claimed meanwhile, claims nothing,
//     answers those exists and tries again without them (a new batchId).
//
// A record is therefore in at most one object, whatever the batching and
// the concurrency; an object whose writer died after its claim is created
// from its staged copy by the next delivery that meets one of its records
// (the staged copy is why the register holds only ids and keys, not
// personal data). A staged copy whose claim lost stays behind, unused;
// once the manifest is written, _staging/ may be deleted. Created means
// this delivery's claim won; exists means an earlier or concurrent one's
// did.
//
// Holdings reads the drop itself: it lists the folder and streams each
// object's lines (a few objects at once, each line by line, so memory is
// bounded by the lines in flight, not by the drop). It counts lines, not
// distinct ids, so a record held twice (an object copied or a line added
// behind cutover's back) raises the count and changes the id checksum:
// the read-back fails rather than hiding it. HoldingsOfPart reads one
// part of the objects the same way, for a read-back that takes a step
// per part (parts.go).
package s3drop

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination"
)

var (
	_ cutover.Destination = (*Destination)(nil)
	_ cutover.Sealer      = (*Destination)(nil)
	_ cutover.PartHolder  = (*Destination)(nil)
)

// API is the slice of the S3 client the drop uses; *s3.Client has it.
type API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// Claims is the drop's claim register: which object (its key relative to
// the target's folder) each record delivered to a target went into.
// internal/dynamostore's DropClaims implements it.
type Claims interface {
	// Owners returns the object each of ids is claimed for, by id; an id
	// never claimed is absent.
	//
	// Errors: EUNAVAILABLE when the register cannot be read.
	Owners(ctx context.Context, t cutover.Target, ids []string) (map[string]string, error)
	// Claim claims every one of ids (at most MaxRecords) for object, all
	// or none. It returns nil when it claimed them all; otherwise it
	// claimed none and returns the owners of the ids claimed before (by
	// this object too, when an earlier try claimed it).
	//
	// Errors: EUNAVAILABLE when the register cannot be written.
	Claim(ctx context.Context, t cutover.Target, object string, ids []string) (map[string]string, error)
}

// Limits of one object. MaxRecords is bound by Claims (one DynamoDB
// transaction); MaxLineBytes bounds what Holdings reads as one line.
const (
	MaxRecords         = 100
	DefaultMaxBytes    = 8 << 20
	MaxLineBytes       = 16 << 20
	minObjectBytes     = 1024
	manifestName       = "manifest.json"
	stagingFolder      = "_staging/"
	manifestFormat     = "cutover-s3drop/2"
	manifestFormatV1   = "cutover-s3drop/1" // objects listed in manifest.json itself, until 2026-12-05
	objectListFormat   = "cutover-s3drop-objects/1"
	manifestListFolder = "_manifest/"
	objectSuffix       = ".jsonl"
	jsonLinesMIMEType  = "application/x-ndjson"
)

// Config is where a drop writes.
type Config struct {
	// Bucket is the vendor's bucket.
	Bucket string
	// Prefix is the key prefix; "{tenantId}" in it is replaced by the
	// target's tenant (routing per tenant). Empty means "{tenantId}/"; a
	// prefix without "{tenantId}" gets the tenant as its first folder.
	Prefix string
	// Claims is the claim register (required): it is what keeps a record
	// in one object whatever the batching (see the package doc).
	Claims Claims
	// MaxRecords bounds the records of one object (0 means MaxRecords,
	// the most allowed); MaxBytes its bytes (0 means DefaultMaxBytes, at
	// most MaxLineBytes). A record whose line alone exceeds MaxBytes is
	// rejected unwritten.
	MaxRecords int
	MaxBytes   int
}

// Convert turns a record as the pipeline made it into the record the
// vendor receives (production wires destination.Typed over the schema).
//
// Errors: EINVALID for a record that cannot be expressed in the contract
// (reported Rejected with the message, nothing written).
type Convert func(cutover.Record) (destination.Record, error)

// Destination is an S3 drop.
type Destination struct {
	api     API
	cfg     Config
	prefix  string // Prefix, ending in "/", "{tenantId}" in it
	convert Convert
}

// New returns the drop cfg describes, converting records with convert.
//
// Errors: EINVALID for a configuration that cannot work (no bucket, no
// claim register, no converter, a prefix that starts with "/" or holds an
// empty, "." or ".." folder, limits out of range).
func New(api API, cfg Config, convert Convert) (*Destination, error) {
	if api == nil || cfg.Bucket == "" || convert == nil || cfg.Claims == nil {
		return nil, cutover.Errorf(cutover.EINVALID, "The S3 drop needs a bucket, a claim register and a record converter.")
	}
	prefix := cfg.Prefix
	if prefix == "" {
		prefix = tenantPlaceholder + "/"
	}
	if !strings.Contains(prefix, tenantPlaceholder) {
		prefix = strings.TrimSuffix(prefix, "/") + "/" + tenantPlaceholder
		prefix = strings.TrimPrefix(prefix, "/")
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	switch {
	case cfg.MaxRecords < 0 || cfg.MaxRecords > MaxRecords:
		return nil, cutover.Errorf(cutover.EINVALID, "An S3 drop object holds 1 to %d records, not %d.", MaxRecords, cfg.MaxRecords)
	case cfg.MaxBytes != 0 && (cfg.MaxBytes < minObjectBytes || cfg.MaxBytes > MaxLineBytes):
		return nil, cutover.Errorf(cutover.EINVALID, "An S3 drop object is allowed %d to %d bytes, not %d.", minObjectBytes, MaxLineBytes, cfg.MaxBytes)
	}
	if cfg.MaxRecords == 0 {
		cfg.MaxRecords = MaxRecords
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	return &Destination{api: api, cfg: cfg, prefix: prefix, convert: convert}, nil
}

// Deliverer implements cutover.Destination. A target that names no
// tenant, migration or known environment is refused when delivered to.
func (d *Destination) Deliverer(t cutover.Target) cutover.Deliverer {
	return &deliverer{d: d, t: t, published: map[string]bool{}}
}
