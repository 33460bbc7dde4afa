package e2e

import (
	"bufio"
	"context"
	"encoding/json"
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
// agreed.
func TestS3DropJourneyDeliversEachRecordOnce(t *testing.T) {
	t.Parallel()
	ds := ownStack(t, "drop", 10*time.Minute, stack.Options{Parameters: map[string]string{
		"TestDestination": "s3", "TestDestinationBucket": dropBucket, "TestDestinationPrefix": "staging/{tenantId}/",
		"LiveDestination": "s3", "LiveDestinationBucket": dropBucket, "LiveDestinationPrefix": "live/{tenantId}/",
	}})
	s3c := s3.NewFromConfig(stackConfig(t, ds), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(dropBucket)}); err != nil {
		t.Fatal(err)
	}

	const tenant = "dropco"
	j := newJourney(t, ds, tenant)
	j.submit(contacts(tenant, 1, 6, 3))
	j.approve()
	exactlyOnce(t, "the staging drop", dropped(t, s3c, "staging/"+tenant+"/"), recordIDs(tenant, span(1, 6, 3)...))

	j.final(contacts(tenant, 1, 9))
	j.a.waitStatus(j.id, j.key, "live", 1)
	exactlyOnce(t, "the production drop", dropped(t, s3c, "live/"+tenant+"/"), recordIDs(tenant, span(1, 9)...))
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
			if strings.Contains(key, "manifest") {
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
