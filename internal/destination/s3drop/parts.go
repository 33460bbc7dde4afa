package s3drop

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination"
)

// Reading the drop back in parts (cutover.PartHolder). A drop of 100M
// records is a million objects of at most MaxRecords lines; one step
// cannot read them all within Lambda's 15 minutes, nor could Seal read
// them all again. An object is named after its batch id, "cut_" and 32
// hex digits of a hash, so the names of an entity's objects spread
// evenly, and part i of n is the names after partBound(i, n) up to
// partBound(i+1, n) (the first part from the start, the last to the
// end): every name of the folder falls in exactly one part, whatever it
// is, so an object that is not cutover's is still read, and refused, by
// one part. Each part keeps what it read in the folder
// (_readback/of-{n}/part-{i}.json, a name no record can have), and Seal,
// told the read-back read n parts, goes part by part (sealParts): it lists
// the part's names in the entity folders again to see that they are still
// exactly the objects the part read, with the sizes and ETags read, and
// writes the part's objects as one of the manifest's object lists.

// readBackFolder holds what each part of a read-back read.
const readBackFolder = "_readback/"

// partRead is what one part of a read-back read: the holdings per entity
// and every object's stat, with the ETag of what was read, in key order.
type partRead struct {
	Holdings map[string]cutover.Holding `json:"holdings"`
	Objects  []partObject               `json:"objects"`
}

// partObject is an object as a part read it.
type partObject struct {
	ManifestObject
	ETag string `json:"etag"`
}

// partBound is the name at which part i of n begins among an entity's
// object names: "cut_" and the first 8 hex digits of i/n of the batch
// ids' range. Part i holds the names above partBound(i, n) up to and
// including partBound(i+1, n).
func partBound(i, n int) string {
	return fmt.Sprintf("cut_%08x", uint64(i)<<32/uint64(n))
}

// partKey is where part i of n of t's read-back keeps what it read.
func (d *Destination) partKey(t cutover.Target, i, n int) string {
	return fmt.Sprintf("%s%sof-%d/part-%d.json", d.folder(t), readBackFolder, n, i)
}

// HoldingsOfPart implements cutover.PartHolder: it lists and reads part i
// of n of t's objects (see above), each as Holdings reads it, and keeps
// what it read for Seal. Run again, it reads and keeps the same.
//
// Errors: EINVALID for i outside [0, n), or as Holdings (an object or a
// line that is not a record of t, in this part); EUNAVAILABLE when S3
// cannot be listed, read or written.
func (d *Destination) HoldingsOfPart(ctx context.Context, t cutover.Target, i, n int) (map[string]cutover.Holding, bool, error) {
	if err := checkTarget(t); err != nil {
		return nil, false, err
	}
	if n <= 0 || i < 0 || i >= n {
		return nil, false, cutover.Errorf(cutover.EINVALID, "The S3 drop is read back in parts 0 to %d, not part %d.", n-1, i)
	}
	folder := d.folder(t)
	dirs, err := d.entityFolders(ctx, folder, i == 0)
	if err != nil {
		return nil, false, err
	}
	var todo []ManifestObject
	for _, dir := range dirs {
		objs, err := d.listPart(ctx, folder, dir, i, n)
		if err != nil {
			return nil, false, err
		}
		todo = append(todo, objs...)
	}
	read, idSums, err := d.readAll(ctx, t, todo)
	if err != nil {
		return nil, false, err
	}
	var tally holdingTally
	tally.add(read, idSums)
	got := partRead{Holdings: tally.holdings(), Objects: make([]partObject, len(tally.objects))}
	for j, o := range tally.objects {
		got.Objects[j] = partObject{ManifestObject: o, ETag: o.etag}
	}
	body, err := json.Marshal(got)
	if err != nil {
		return nil, false, cutover.Wrap(cutover.EINTERNAL, err, "What a part of the S3 drop's read-back read could not be encoded.")
	}
	if err := d.put(ctx, d.partKey(t, i, n), "application/json", body); err != nil {
		return nil, false, err
	}
	return got.Holdings, true, nil
}

// entityFolders lists folder one level deep: the entity folders (as
// "{segment}/"), in key order, not those whose names start with "_" nor
// those no entity has. With files set it refuses the latter, and an
// object directly in the folder other than the manifest and the "_"
// names (part 0 does, so that exactly one part refuses them).
//
// Errors: EINVALID for a folder or an object outside the layout;
// EUNAVAILABLE when S3 cannot be listed.
func (d *Destination) entityFolders(ctx context.Context, folder string, files bool) ([]string, error) {
	var dirs []string
	p := s3.NewListObjectsV2Paginator(d.api, &s3.ListObjectsV2Input{Bucket: &d.cfg.Bucket, Prefix: &folder, Delimiter: aws.String("/")})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, cutover.Wrap(cutover.EUNAVAILABLE, err, "The S3 drop could not be listed; try again.")
		}
		for _, cp := range out.CommonPrefixes {
			rel := strings.TrimPrefix(aws.ToString(cp.Prefix), folder)
			if strings.HasPrefix(rel, "_") {
				continue // staged copies, the read-back's parts, the vendor's own marks
			}
			if _, ok := unsegment(strings.TrimSuffix(rel, "/")); !ok {
				if files {
					return nil, notARecord(aws.ToString(cp.Prefix))
				}
				continue
			}
			dirs = append(dirs, rel)
		}
		for _, o := range out.Contents {
			key := aws.ToString(o.Key)
			if rel := strings.TrimPrefix(key, folder); files && rel != manifestName && !strings.HasPrefix(rel, "_") {
				return nil, notARecord(key)
			}
		}
	}
	return dirs, nil
}

// listPart lists the objects of the entity folder dir (under folder) in
// part i of n, each with its entity.
//
// Errors: EINVALID for a key that is not a record object of the layout;
// EUNAVAILABLE when S3 cannot be listed.
func (d *Destination) listPart(ctx context.Context, folder, dir string, i, n int) ([]ManifestObject, error) {
	prefix := folder + dir
	in := &s3.ListObjectsV2Input{Bucket: &d.cfg.Bucket, Prefix: &prefix}
	if i > 0 {
		in.StartAfter = aws.String(prefix + partBound(i, n))
	}
	var out []ManifestObject
	p := s3.NewListObjectsV2Paginator(d.api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, cutover.Wrap(cutover.EUNAVAILABLE, err, "The S3 drop could not be listed; try again.")
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if i+1 < n && strings.TrimPrefix(key, prefix) > partBound(i+1, n) {
				return out, nil
			}
			entity, ok := entityOf(strings.TrimPrefix(key, folder))
			if !ok {
				return nil, notARecord(key)
			}
			out = append(out, ManifestObject{Key: key, Entity: entity, Bytes: aws.ToInt64(o.Size), etag: aws.ToString(o.ETag)})
		}
	}
	return out, nil
}

// sealParts checks, part by part, that t's entity folders hold exactly
// the objects the n parts of its read-back read, with the sizes and ETags
// read (an object added, removed or rewritten since, even at the same
// size, is not sealed), and that the parts' holdings add up to want;
// then it writes each part's objects as an object list of their own.
// Every name of a folder is in exactly one part, so checking each part's
// names checks the whole; at most readers parts are in memory at once,
// whatever the drop holds. Nothing is written unless every part checked.
//
// Errors: EINTERNAL for a part that kept nothing (the read-back did not
// read it) or what does not decode, for a folder that no longer holds
// what the parts read, and for holdings other than want; EINVALID as
// Holdings; EUNAVAILABLE from S3.
func (d *Destination) sealParts(ctx context.Context, t cutover.Target, n int, want map[string]cutover.Holding) ([]ObjectList, error) {
	folder := d.folder(t)
	dirs, err := d.entityFolders(ctx, folder, true)
	if err != nil {
		return nil, err
	}
	held := make([]map[string]cutover.Holding, n)
	err = eachOf(ctx, n, func(ctx context.Context, i int) (err error) {
		held[i], err = d.checkPart(ctx, t, folder, dirs, i, n)
		return err
	})
	if err != nil {
		return nil, err
	}
	counts := map[string]int64{}
	sums := map[string]*destination.IDChecksum{}
	for i, h := range held {
		for e, x := range h {
			if sums[e] == nil {
				sums[e] = &destination.IDChecksum{}
			}
			if err := sums[e].AddSum(x.IDChecksum); err != nil {
				return nil, cutover.Wrap(cutover.EINTERNAL, err, "Part %d of %d of the S3 drop's read-back (%s) has a malformed checksum.", i, n, d.partKey(t, i, n))
			}
			counts[e] += x.Count
		}
	}
	got := make(map[string]cutover.Holding, len(counts))
	for e, c := range counts {
		if c > 0 {
			got[e] = cutover.Holding{Count: c, IDChecksum: sums[e].String()}
		}
	}
	if !sameHoldings(got, want) {
		return nil, changedSince(t)
	}
	lists := make([][]ObjectList, n)
	err = eachOf(ctx, n, func(ctx context.Context, i int) error {
		got, err := d.kept(ctx, t, i, n)
		if err != nil {
			return err
		}
		objects := make([]ManifestObject, len(got.Objects))
		for j, o := range got.Objects {
			objects[j] = o.ManifestObject
		}
		lists[i], err = d.writeList(ctx, folder, objects)
		return err
	})
	if err != nil {
		return nil, err
	}
	var out []ObjectList
	for _, l := range lists {
		out = append(out, l...)
	}
	return out, nil
}

// checkPart reads what part i of n of t's read-back kept and lists the
// part's names in the entity folders dirs (under folder) again: they must
// be exactly the objects the part read, as read. It returns the part's
// holdings.
//
// Errors: as sealParts.
func (d *Destination) checkPart(ctx context.Context, t cutover.Target, folder string, dirs []string, i, n int) (map[string]cutover.Holding, error) {
	got, err := d.kept(ctx, t, i, n)
	if err != nil {
		return nil, err
	}
	read := make(map[string]partObject, len(got.Objects))
	for _, o := range got.Objects {
		read[o.Key] = o
	}
	listed := 0
	for _, dir := range dirs {
		objs, err := d.listPart(ctx, folder, dir, i, n)
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			if r, ok := read[o.Key]; !ok || r.Bytes != o.Bytes || r.ETag != o.etag {
				return nil, cutover.Errorf(cutover.EINTERNAL, "The S3 drop of this %s delivery changed after it was read back (%s); it is left unsealed.", t.Env, o.Key)
			}
		}
		listed += len(objs)
	}
	if listed != len(got.Objects) {
		return nil, cutover.Errorf(cutover.EINTERNAL, "The S3 drop of this %s delivery holds %d record objects in part %d of %d; its read-back read %d. It is left unsealed.", t.Env, listed, i, n, len(got.Objects))
	}
	return got.Holdings, nil
}

// kept is what part i of n of t's read-back kept.
//
// Errors: as readPart, saying which part.
func (d *Destination) kept(ctx context.Context, t cutover.Target, i, n int) (partRead, error) {
	key := d.partKey(t, i, n)
	got, err := d.readPart(ctx, key)
	if err != nil {
		return got, cutover.Wrap(cutover.ErrorCode(err), err, "Part %d of %d of the S3 drop's read-back (%s): %s It is left unsealed.", i, n, key, cutover.ErrorMessage(err))
	}
	return got, nil
}

// readPart decodes what a part of a read-back kept at key, streamed
// (its size grows with the part's objects).
//
// Errors: EINTERNAL when there is nothing at key or it does not decode;
// EUNAVAILABLE from S3.
func (d *Destination) readPart(ctx context.Context, key string) (partRead, error) {
	var got partRead
	rc, err := d.open(ctx, key)
	if err != nil {
		gone, merr := d.missing(ctx, key, err)
		if gone {
			return got, cutover.Errorf(cutover.EINTERNAL, "It kept nothing; the read-back did not read it.")
		}
		return got, merr
	}
	defer rc.Close()
	if err := json.NewDecoder(rc).Decode(&got); err != nil {
		return got, cutover.Wrap(cutover.EINTERNAL, err, "What it kept could not be read.")
	}
	return got, nil
}
