package s3drop_test

import (
	"context"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination"
	"github.com/cutover/cutover/internal/destination/s3drop"
)

// countingReads is S3 counting the reads of record objects (not the
// manifest, not the "_" names that are cutover's own).
type countingReads struct {
	s3drop.API
	n atomic.Int64
}

func (a *countingReads) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	if k := aws.ToString(in.Key); !strings.Contains(k, "/_") && !strings.HasSuffix(k, "/manifest.json") {
		a.n.Add(1)
	}
	return a.API.GetObject(ctx, in, opts...)
}

// inParts is what the n parts of t's read-back hold, added up; bad lists
// the parts that failed EINVALID (any other error fails the test).
func inParts(t *testing.T, d *s3drop.Destination, tg cutover.Target, n int) (held map[string]cutover.Holding, bad []int) {
	t.Helper()
	counts := map[string]int64{}
	sums := map[string]*destination.IDChecksum{}
	for i := range n {
		h, ok, err := d.HoldingsOfPart(context.Background(), tg, i, n)
		if cutover.ErrorCode(err) == cutover.EINVALID {
			bad = append(bad, i)
			continue
		}
		if err != nil || !ok {
			t.Fatalf("part %d of %d: %v %v", i, n, ok, err)
		}
		for e, x := range h {
			if sums[e] == nil {
				sums[e] = &destination.IDChecksum{}
			}
			if err := sums[e].AddSum(x.IDChecksum); err != nil {
				t.Fatal(err)
			}
			counts[e] += x.Count
		}
	}
	held = map[string]cutover.Holding{}
	for e, c := range counts {
		held[e] = cutover.Holding{Count: c, IDChecksum: sums[e].String()}
	}
	return held, bad
}

// A drop read back in parts holds, added up, what it holds read whole, in
// any number of parts, each object read by exactly one part (one that is
// not cutover's too, and a name on a part's boundary); the seal after
// such a read-back lists exactly the objects the parts read, reading none
// of them again, and refuses a drop that changed since, or parts that
// were never read.
func TestTheDropReadBackInPartsAddsUpToTheWhole(t *testing.T) {
	e := newEnv(t)
	api := &countingReads{API: e.c.s3}
	d := e.drop(t, api, "drops", 3)
	ctx := context.Background()
	recs := append(records("contact", 0, 200), records("company", 0, 40)...)
	if _, err := d.Deliverer(live).Deliver(ctx, recs); err != nil {
		t.Fatal(err)
	}
	folder := "drops/acme/live/m1/round-0/"
	delivered := map[string]cutover.Holding{"contact": checksum(recs[:200]), "company": checksum(recs[200:])}
	whole, err := d.Holdings(ctx, live)
	if err != nil || !reflect.DeepEqual(whole, delivered) {
		t.Fatalf("Holdings %v (%v), delivered %v", whole, err, delivered)
	}
	for _, n := range []int{1, 2, 7, 64} {
		if held, bad := inParts(t, d, live, n); len(bad) > 0 || !reflect.DeepEqual(held, delivered) {
			t.Errorf("%d parts hold %v (parts %v refused), delivered %v", n, held, bad, delivered)
		}
	}
	for _, i := range []int{-1, 7} {
		if _, _, err := d.HoldingsOfPart(ctx, live, i, 7); cutover.ErrorCode(err) != cutover.EINVALID {
			t.Errorf("part %d of 7: %v, want EINVALID", i, err)
		}
	}

	// Sealed after the 64 parts: no record object read again.
	wrong := map[string]cutover.Holding{"contact": checksum(recs[:199]), "company": delivered["company"]}
	if err := d.Seal(ctx, live, wrong, 64); cutover.ErrorCode(err) != cutover.EINTERNAL {
		t.Fatalf("sealing other holdings than the parts read: %v, want EINTERNAL", err)
	}
	for _, k := range e.view(t).keys {
		if strings.Contains(k, "/_manifest/") {
			t.Errorf("a seal refused wrote %s", k)
		}
	}
	if err := d.Seal(ctx, live, delivered, 5); cutover.ErrorCode(err) != cutover.EINTERNAL {
		t.Fatalf("sealing after parts never read: %v, want EINTERNAL", err)
	}
	before := api.n.Load()
	if err := d.Seal(ctx, live, delivered, 64); err != nil {
		t.Fatal(err)
	}
	if got := api.n.Load() - before; got != 0 {
		t.Errorf("the seal read %d record objects again", got)
	}
	// Each part's objects are a list of their own: the seal holds a few
	// parts at a time, never the drop (a part of 64 holds about 81/64).
	if n, most := e.checkManifest(t, e.view(t), folder, delivered); n != 67+14 || most > 8 {
		t.Errorf("%d objects listed, at most %d a list; want 81 (3 records an object), in lists of a part each", n, most)
	}

	// A seal that stopped after its object lists, before the manifest:
	// sealed again, it writes the same manifest over the same lists.
	first, keys := e.get(t, folder+"manifest.json"), e.view(t).keys
	if _, err := e.c.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &e.bucket, Key: aws.String(folder + "manifest.json")}); err != nil {
		t.Fatal(err)
	}
	if err := d.Seal(ctx, live, delivered, 64); err != nil {
		t.Fatal(err)
	}
	if again := e.get(t, folder+"manifest.json"); string(again) != string(first) || !reflect.DeepEqual(e.view(t).keys, keys) {
		t.Errorf("sealed again, the manifest or the bucket's keys differ:\n%s\n%s", first, again)
	}

	// A drop that changed after its parts were read is not sealed.
	if _, err := d.Deliverer(test1).Deliver(ctx, recs); err != nil {
		t.Fatal(err)
	}
	tf := "drops/acme/test/m1/round-1/"
	if _, bad := inParts(t, d, test1, 4); len(bad) > 0 {
		t.Fatalf("parts %v refused", bad)
	}
	body := e.get(t, e.firstObject(t, tf+"company/"))
	e.put(t, tf+"company/copy.jsonl", body)
	if err := d.Seal(ctx, test1, delivered, 4); cutover.ErrorCode(err) != cutover.EINTERNAL || !strings.Contains(cutover.ErrorMessage(err), "changed after it was read back") {
		t.Errorf("sealing a drop an object was added to: %v, want EINTERNAL", err)
	}
	// The copy is read by one part: its records count twice.
	held, bad := inParts(t, d, test1, 4)
	if c := held["company"].Count; len(bad) > 0 || c != 40+int64(len(lines(t, body))) {
		t.Errorf("a copied object: parts hold %d companies (parts %v refused)", c, bad)
	}
	// Rewritten at the same size after the read (another tenant's line).
	e.put(t, tf+"company/copy.jsonl", []byte(strings.Replace(string(body), `"acme"`, `"acmf"`, 1)))
	if err := d.Seal(ctx, test1, held, 4); cutover.ErrorCode(err) != cutover.EINTERNAL || !strings.Contains(cutover.ErrorMessage(err), "changed after it was read back") {
		t.Errorf("sealing a drop whose object was rewritten at its size: %v, want EINTERNAL", err)
	}
	// Rewritten with a line more after the read: its size differs.
	e.put(t, tf+"company/copy.jsonl", append(append([]byte{}, body...), body[:strings.IndexByte(string(body), '\n')+1]...))
	if err := d.Seal(ctx, test1, held, 4); cutover.ErrorCode(err) != cutover.EINTERNAL {
		t.Errorf("sealing a drop whose object was rewritten: %v, want EINTERNAL", err)
	}
	// Deleted after the read: the drop holds fewer objects than were read.
	if _, err := e.c.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &e.bucket, Key: aws.String(tf + "company/copy.jsonl")}); err != nil {
		t.Fatal(err)
	}
	if err := d.Seal(ctx, test1, held, 4); cutover.ErrorCode(err) != cutover.EINTERNAL {
		t.Errorf("sealing a drop whose object was deleted: %v, want EINTERNAL", err)
	}
	for _, k := range e.view(t).keys {
		if strings.HasPrefix(k, tf) && strings.HasSuffix(k, "manifest.json") {
			t.Errorf("a changed drop was sealed: %s", k)
		}
	}

	// What is not a record is refused by exactly one part: beside the
	// entity folders, inside one, and on the boundary of two parts.
	for _, stray := range []string{"notes.txt", "company/notes.txt", "contact/cut_80000000", "contact/x/y.jsonl", "caf%C3%A9%zz/a.jsonl"} {
		e.put(t, tf+stray, []byte("hello\n"))
		if _, bad := inParts(t, d, test1, 2); len(bad) != 1 {
			t.Errorf("%s: refused by parts %v, want by one", stray, bad)
		}
		if _, err := e.c.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &e.bucket, Key: aws.String(tf + stray)}); err != nil {
			t.Fatal(err)
		}
	}
	// One put beside the entity folders after the parts read is refused
	// by the seal, which lists them again.
	held, bad = inParts(t, d, test1, 2)
	if len(bad) > 0 {
		t.Fatalf("parts %v refused", bad)
	}
	e.put(t, tf+"notes.txt", []byte("hello\n"))
	if err := d.Seal(ctx, test1, held, 2); cutover.ErrorCode(err) != cutover.EINVALID {
		t.Errorf("sealing a drop a stray file was put beside its folders after the read-back: %v, want EINVALID", err)
	}
}

// firstObject is the first key under prefix.
func (e *env) firstObject(t *testing.T, prefix string) string {
	t.Helper()
	out, err := e.c.s3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &e.bucket, Prefix: &prefix, MaxKeys: aws.Int32(1)})
	if err != nil || len(out.Contents) == 0 {
		t.Fatalf("nothing under %s: %v", prefix, err)
	}
	return aws.ToString(out.Contents[0].Key)
}

// BenchmarkDropReadBack reads back a drop of 400 objects (4,000 records,
// 10 an object) whole, as the finish step did, and a part of 8 at a time,
// as each key range of the comparison now does: the step's time against
// the whole's (in make bench; not in make test).
func BenchmarkDropReadBack(b *testing.B) {
	e := newEnv(b)
	d := e.drop(b, nil, "bench", 10)
	ctx := context.Background()
	recs := records("contact", 0, 4000)
	if _, err := d.Deliverer(live).Deliver(ctx, recs); err != nil {
		b.Fatal(err)
	}
	b.Run("whole", func(b *testing.B) {
		for b.Loop() {
			if h, err := d.Holdings(ctx, live); err != nil || h["contact"].Count != 4000 {
				b.Fatal(h, err)
			}
		}
	})
	b.Run("part-of-8", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, ok, err := d.HoldingsOfPart(ctx, live, i%8, 8); err != nil || !ok {
				b.Fatal(ok, err)
			}
			i++
		}
	})
}
