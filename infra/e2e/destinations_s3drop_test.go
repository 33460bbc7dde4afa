package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cutover/cutover/infra/stack"
)

// dropBucket is the vendor's bucket of the S3-drop stack.
const dropBucket = "vendor-drop"

// The same journey with TEST and LIVE as S3 drops in the vendor's bucket
// on the emulator's S3: the test round's records arrive as JSON Lines
// under the staging prefix, the final migration's under the production
// one, each record once, and a manifest is written when the read-back
// agreed. The comparison's key ranges are a byte of snapshot each, so
// that there are enough of them for each to read back its part of the
// drop (as at 100M records, where one step cannot read the whole): the
// parts' reads are there beside the records.
func TestS3DropJourneyDeliversEachRecordOnce(t *testing.T) {
	t.Parallel()
	ds := ownStack(t, "drop", 10*time.Minute, stack.Options{Parameters: map[string]string{
		"TestDestination": "s3", "TestDestinationBucket": dropBucket, "TestDestinationPrefix": "staging/{tenantId}/",
		"LiveDestination": "s3", "LiveDestinationBucket": dropBucket, "LiveDestinationPrefix": "live/{tenantId}/",
		"FinalCompareBytes": "1",
	}})
	s3c := s3.NewFromConfig(stackConfig(t, ds), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(dropBucket)}); err != nil {
		t.Fatal(err)
	}

	const tenant = "dropco"
	j := newJourney(t, ds, tenant)
	j.submit(contacts(tenant, 1, 16, 3))
	j.approve()
	exactlyOnce(t, "the staging drop", dropped(t, s3c, "staging/"+tenant+"/"), recordIDs(tenant, span(1, 16, 3)...))
	readInParts(t, s3c, "staging/"+tenant+"/")

	j.final(contacts(tenant, 1, 19))
	j.a.waitStatus(j.id, j.key, "live", 1)
	exactlyOnce(t, "the production drop", dropped(t, s3c, "live/"+tenant+"/"), recordIDs(tenant, span(1, 19)...))
	readInParts(t, s3c, "live/"+tenant+"/")
}

// readInParts fails unless the drop under prefix was read back in parts
// (s3drop's _readback/of-{n}/part-{i}.json), at least 8, each once.
func readInParts(t *testing.T, s3c *s3.Client, prefix string) {
	t.Helper()
	out, err := s3c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(dropBucket), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	parts := map[string]int{}
	for _, o := range out.Contents {
		if _, rest, ok := strings.Cut(aws.ToString(o.Key), "/_readback/"); ok {
			n, _, _ := strings.Cut(rest, "/")
			parts[n]++
		}
	}
	for n, c := range parts {
		if want := strings.TrimPrefix(n, "of-"); want == strconv.Itoa(c) && c >= 8 && len(parts) == 1 {
			return
		}
	}
	t.Fatalf("under %s the read-back's parts are %v; want one read-back of at least 8 parts, each kept", prefix, parts)
}

// dropped reads every JSON Lines object under prefix (but the folders
// whose names start with "_", which are not records) and counts the
// records by id; it fails unless a manifest was written, after them.
func dropped(t *testing.T, s3c *s3.Client, prefix string) map[string]int {
	t.Helper()
	ctx := context.Background()
	out := map[string]int{}
	var manifest, lastData time.Time
	p := s3.NewListObjectsV2Paginator(s3c, &s3.ListObjectsV2Input{Bucket: aws.String(dropBucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if strings.HasSuffix(key, "/manifest.json") {
				manifest = aws.ToTime(o.LastModified)
				continue
			}
			if strings.Contains(key, "/_") {
				continue // cutover's staged copies (_staging/): not records, as the README tells vendors
			}
			if lm := aws.ToTime(o.LastModified); lm.After(lastData) {
				lastData = lm
			}
			obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(dropBucket), Key: o.Key})
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(obj.Body)
			sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
			for sc.Scan() {
				var rec struct{ ID string }
				if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
					t.Fatalf("%s: a line that is not a JSON record: %v", key, err)
				}
				out[rec.ID]++
			}
			obj.Body.Close()
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if manifest.IsZero() || manifest.Before(lastData) {
		t.Fatalf("under %s: manifest written %v, last records %v; want a manifest written last", prefix, manifest, lastData)
	}
	return out
}
