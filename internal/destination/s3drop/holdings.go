package s3drop

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination"
	"golang.org/x/sync/errgroup"
)

// Holdings implements cutover.Destination: it reads the drop itself (see
// the package doc). Count is the number of record lines, so a record held
// twice counts twice (and its id drops out of the checksum).
//
// Errors: EINVALID for a target the layout cannot place, or when the
// folder holds an object or a line that is not a record of this target
// in cutover's layout (naming the object and the line, never its
// content); EUNAVAILABLE when S3 cannot be listed or read.
func (d *Destination) Holdings(ctx context.Context, t cutover.Target) (map[string]cutover.Holding, error) {
	h, _, err := d.scan(ctx, t)
	return h, err
}

// ManifestObject is one record object as the manifest lists it: its full
// key, its entity, how many lines and bytes it has, and the hex SHA-256 of
// those bytes (what a loader checks before it trusts the object).
type ManifestObject struct {
	Key    string `json:"key"`
	Entity string `json:"entity"`
	Lines  int64  `json:"lines"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`

	// etag is S3's ETag of the object as listed or read: it changes
	// when the object is rewritten, even at the same size.
	etag string
}

// readers is how many objects scan reads at once (each streams through a
// line buffer of its own, so memory stays bounded whatever the drop
// holds), and how many parts a seal checks at once.
const readers = 8

// eachOf runs do for 0 to n-1, at most readers at once, and returns the
// first error; after it, no more are started.
//
// Errors: do's first; EUNAVAILABLE when ctx ends first.
func eachOf(ctx context.Context, n int, do func(context.Context, int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(readers)
	for i := 0; i < n && gctx.Err() == nil; i++ {
		g.Go(func() error { return do(gctx, i) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return cutover.Wrap(cutover.EUNAVAILABLE, err, "Reading the S3 drop was interrupted.")
	}
	return nil
}

// scan lists t's folder and streams every record object (a few at once,
// each line by line): the holdings per entity, and each object's stat, in
// the listing's (key) order.
//
// Errors: as Holdings.
func (d *Destination) scan(ctx context.Context, t cutover.Target) (map[string]cutover.Holding, []ManifestObject, error) {
	if err := checkTarget(t); err != nil {
		return nil, nil, err
	}
	var tally holdingTally
	err := d.listRecords(ctx, d.folder(t), func(todo []ManifestObject) error {
		read, idSums, err := d.readAll(ctx, t, todo)
		if err == nil {
			tally.add(read, idSums)
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return tally.holdings(), tally.objects, nil
}

// listRecords lists folder and hands each page's record objects (Key,
// Entity, and Bytes and ETag as listed) to page, skipping the manifest
// and the names that start with "_".
//
// Errors: EINVALID for a key that is not a record object of the layout;
// EUNAVAILABLE when S3 cannot be listed; page's.
func (d *Destination) listRecords(ctx context.Context, folder string, page func([]ManifestObject) error) error {
	p := s3.NewListObjectsV2Paginator(d.api, &s3.ListObjectsV2Input{Bucket: &d.cfg.Bucket, Prefix: &folder})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return cutover.Wrap(cutover.EUNAVAILABLE, err, "The S3 drop could not be listed; try again.")
		}
		var todo []ManifestObject
		for _, o := range out.Contents {
			key := aws.ToString(o.Key)
			rel := strings.TrimPrefix(key, folder)
			if rel == manifestName || strings.HasPrefix(rel, "_") {
				continue // the manifest, staged copies, the vendor's own marks
			}
			entity, ok := entityOf(rel)
			if !ok {
				return notARecord(key)
			}
			todo = append(todo, ManifestObject{Key: key, Entity: entity, Bytes: aws.ToInt64(o.Size), etag: aws.ToString(o.ETag)})
		}
		if err := page(todo); err != nil {
			return err
		}
	}
	return nil
}

// notARecord is the error of a key in a target's folder that is not a
// record object of the layout.
func notARecord(key string) error {
	return cutover.Errorf(cutover.EINVALID, "The S3 drop holds %s, which is not a record object of cutover's layout.", key)
}

// holdingTally adds up objects as read: their lines and id checksums per
// entity, and their stats in the order added.
type holdingTally struct {
	counts  map[string]int64
	sums    map[string]*destination.IDChecksum
	objects []ManifestObject
}

// add adds the objects read, each with the checksum of its ids.
func (h *holdingTally) add(read []ManifestObject, idSums []destination.IDChecksum) {
	if h.counts == nil {
		h.counts, h.sums = map[string]int64{}, map[string]*destination.IDChecksum{}
	}
	for i, st := range read {
		if h.sums[st.Entity] == nil {
			h.sums[st.Entity] = &destination.IDChecksum{}
		}
		for j := range idSums[i] {
			h.sums[st.Entity][j] ^= idSums[i][j]
		}
		h.counts[st.Entity] += st.Lines
		h.objects = append(h.objects, st)
	}
}

// holdings is what the objects added hold, per entity of any lines.
func (h *holdingTally) holdings() map[string]cutover.Holding {
	out := make(map[string]cutover.Holding, len(h.counts))
	for e, n := range h.counts {
		if n > 0 {
			out[e] = cutover.Holding{Count: n, IDChecksum: h.sums[e].String()}
		}
	}
	return out
}

// readAll reads objs, at most readers at once: each one's stat and the
// checksum of its ids, in objs's order.
//
// Errors: the first of readObject's; EUNAVAILABLE when ctx ends first.
func (d *Destination) readAll(ctx context.Context, t cutover.Target, objs []ManifestObject) ([]ManifestObject, []destination.IDChecksum, error) {
	out := make([]ManifestObject, len(objs))
	sums := make([]destination.IDChecksum, len(objs))
	err := eachOf(ctx, len(objs), func(ctx context.Context, i int) error {
		st, err := d.readObject(ctx, t, objs[i].Key, objs[i].Entity, &sums[i])
		out[i] = st
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return out, sums, nil
}

// lineHead is what scan reads of a line: whose record it is.
type lineHead struct {
	TenantID    string `json:"tenantId"`
	MigrationID string `json:"migrationId"`
	Environment string `json:"environment"`
	Round       *int   `json:"round"`
	ID          string `json:"id"`
	Entity      string `json:"entity"`
}

// readObject streams one record object line by line, adding each id to
// sum, and measures its bytes and their SHA-256.
//
// Errors: EINVALID for a line that is not a record of t and entity;
// EUNAVAILABLE when S3 cannot be read.
func (d *Destination) readObject(ctx context.Context, t cutover.Target, key, entity string, sum *destination.IDChecksum) (ManifestObject, error) {
	st := ManifestObject{Key: key, Entity: entity}
	out, err := d.api.GetObject(ctx, &s3.GetObjectInput{Bucket: &d.cfg.Bucket, Key: &key})
	if err != nil {
		return st, cutover.Wrap(cutover.EUNAVAILABLE, err, "The S3 drop object %s could not be read; try again.", key)
	}
	rc := out.Body
	defer rc.Close()
	st.etag = aws.ToString(out.ETag)
	h := sha256.New()
	cr := &countingReader{r: io.TeeReader(rc, h)}
	sc := bufio.NewScanner(cr)
	sc.Buffer(make([]byte, 64<<10), MaxLineBytes+1)
	for n := 1; sc.Scan(); n++ {
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var l lineHead
		if err := json.Unmarshal(b, &l); err != nil || l.ID == "" || l.Round == nil {
			return st, cutover.Errorf(cutover.EINVALID, "Line %d of the S3 drop object %s is not a record.", n, key)
		}
		if l.TenantID != t.TenantID || l.MigrationID != t.MigrationID || l.Environment != t.Env || *l.Round != t.Round || l.Entity != entity {
			return st, cutover.Errorf(cutover.EINVALID, "Line %d of the S3 drop object %s is a record of another tenant, migration, environment, round or entity.", n, key)
		}
		sum.Add(l.ID)
		st.Lines++
	}
	if err := sc.Err(); err != nil {
		if err == bufio.ErrTooLong {
			return st, cutover.Errorf(cutover.EINVALID, "The S3 drop object %s has a line longer than %d bytes.", key, MaxLineBytes)
		}
		return st, cutover.Wrap(cutover.EUNAVAILABLE, err, "The S3 drop object %s could not be read; try again.", key)
	}
	st.Bytes, st.SHA256 = cr.n, hex.EncodeToString(h.Sum(nil))
	return st, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
