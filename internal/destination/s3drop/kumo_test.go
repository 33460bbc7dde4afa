package s3drop_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cutover/cutover/infra/emulator"
	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination"
	"github.com/cutover/cutover/internal/destination/s3drop"
	"github.com/cutover/cutover/internal/dynamostore"
)

var _ s3drop.Claims = (*dynamostore.DropClaims)(nil)

type clients struct {
	s3 *s3.Client
	db *dynamodb.Client
}

// kumo starts the local emulator once for the package's tests.
var kumo = sync.OnceValues(func() (clients, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		return clients{}, err
	}
	bin := filepath.Join(root, ".build", "kumo")
	if err := emulator.Build(ctx, root, bin); err != nil {
		return clients{}, err
	}
	srv, err := emulator.Start(context.Background(), emulator.Options{Binary: bin})
	if err != nil {
		return clients{}, err
	}
	stopKumo = func() { _ = srv.Close() }
	creds := credentials.NewStaticCredentialsProvider("test", "test", "")
	return clients{
		s3: s3.New(s3.Options{
			Region: emulator.Region, BaseEndpoint: aws.String(srv.Endpoint), Credentials: creds, UsePathStyle: true,
		}),
		db: dynamodb.New(dynamodb.Options{
			Region: emulator.Region, BaseEndpoint: aws.String(srv.Endpoint), Credentials: creds, DisableValidateResponseChecksum: true,
		}),
	}, nil
})

var stopKumo = func() {}

func TestMain(m *testing.M) {
	code := m.Run()
	stopKumo()
	os.Exit(code)
}

var seq atomic.Int64

// env is one drop on the emulator: a fresh bucket and claims table.
type env struct {
	c      clients
	bucket string
	claims *dynamostore.DropClaims
}

func newEnv(t testing.TB) *env {
	t.Helper()
	c, err := kumo()
	if err != nil {
		t.Fatalf("start the emulator: %v", err)
	}
	ctx := context.Background()
	n := seq.Add(1)
	bucket := fmt.Sprintf("vendor-drop-%d-%d", time.Now().UnixNano()%1e9, n)
	if _, err := c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	table := fmt.Sprintf("ledger-%d-%d", time.Now().UnixNano(), n)
	_, err = c.db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: &table, BillingMode: ddb.BillingModePayPerRequest,
		AttributeDefinitions: []ddb.AttributeDefinition{
			{AttributeName: aws.String("PK"), AttributeType: ddb.ScalarAttributeTypeS},
			{AttributeName: aws.String("SK"), AttributeType: ddb.ScalarAttributeTypeS},
		},
		KeySchema: []ddb.KeySchemaElement{
			{AttributeName: aws.String("PK"), KeyType: ddb.KeyTypeHash},
			{AttributeName: aws.String("SK"), KeyType: ddb.KeyTypeRange},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &env{c: c, bucket: bucket, claims: &dynamostore.DropClaims{API: c.db, Table: table}}
}

// convert is a small converter: a record with a "refuse" field is
// refused, the rest carried as they are.
func convert(r cutover.Record) (destination.Record, error) {
	if why := r.Fields["refuse"]; why != "" {
		return destination.Record{}, cutover.Errorf(cutover.EINVALID, "Record %s: %s", r.ID, why)
	}
	f := make(map[string]any, len(r.Fields))
	for k, v := range r.Fields {
		f[k] = v
	}
	return destination.Record{ID: r.ID, Entity: r.Entity, SourceID: r.SourceID, Fields: f}, nil
}

func (e *env) drop(t testing.TB, api s3drop.API, prefix string, maxRecords int) *s3drop.Destination {
	t.Helper()
	if api == nil {
		api = e.c.s3
	}
	d, err := s3drop.New(api, s3drop.Config{Bucket: e.bucket, Prefix: prefix, Claims: e.claims, MaxRecords: maxRecords}, convert)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func records(entity string, from, to int) []cutover.Record {
	var out []cutover.Record
	for i := from; i < to; i++ {
		out = append(out, cutover.Record{
			ID: fmt.Sprintf("%s-%04d", entity, i), Entity: entity, SourceID: fmt.Sprint(i),
			Fields: map[string]string{"name": fmt.Sprintf("Name %d", i)},
		})
	}
	return out
}

func outcomes(t *testing.T, res []cutover.DeliveryResult, recs []cutover.Record) map[string]int {
	t.Helper()
	if len(res) != len(recs) {
		t.Fatalf("%d results for %d records", len(res), len(recs))
	}
	got := map[string]bool{}
	n := map[string]int{}
	for _, r := range res {
		if got[r.ID] {
			t.Fatalf("two results for %s", r.ID)
		}
		got[r.ID] = true
		n[r.Outcome]++
	}
	for _, r := range recs {
		if !got[r.ID] {
			t.Fatalf("no result for %s", r.ID)
		}
	}
	return n
}

// bucketView is the bucket as a plain reader sees it: every key, and per
// record object its lines.
type bucketView struct {
	keys    []string
	objects map[string][]byte // record objects (not "_" names, not manifests)
}

func (e *env) view(t *testing.T) bucketView {
	t.Helper()
	ctx := context.Background()
	v := bucketView{objects: map[string][]byte{}}
	p := s3.NewListObjectsV2Paginator(e.c.s3, &s3.ListObjectsV2Input{Bucket: &e.bucket})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			k := aws.ToString(o.Key)
			v.keys = append(v.keys, k)
			if strings.Contains(k, "/_") || strings.HasSuffix(k, "/manifest.json") {
				continue // cutover's own (staged copies, the read-back's parts), the manifest
			}
			v.objects[k] = e.get(t, k)
		}
	}
	sort.Strings(v.keys)
	return v
}

func (e *env) get(t *testing.T, key string) []byte {
	t.Helper()
	out, err := e.c.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &e.bucket, Key: &key})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (e *env) put(t *testing.T, key string, body []byte) {
	t.Helper()
	if _, err := e.c.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &e.bucket, Key: &key, Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
}

// line is a line as a plain reader decodes it.
type line struct {
	TenantID    string         `json:"tenantId"`
	MigrationID string         `json:"migrationId"`
	Environment string         `json:"environment"`
	Round       int            `json:"round"`
	ID          string         `json:"id"`
	Entity      string         `json:"entity"`
	Fields      map[string]any `json:"fields"`
}

func lines(t *testing.T, body []byte) []line {
	t.Helper()
	var out []line
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("a line that is not JSON: %v", err)
		}
		out = append(out, l)
	}
	return out
}

// timesHeld is how many lines of the whole bucket carry each id.
func (v bucketView) timesHeld(t *testing.T) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, b := range v.objects {
		for _, l := range lines(t, b) {
			n[l.ID]++
		}
	}
	return n
}

// counted is the holdings a plain reader computes from the objects under
// folder: lines per entity and the checksum of their ids.
func (v bucketView) counted(t *testing.T, folder string) map[string]cutover.Holding {
	t.Helper()
	counts := map[string]int64{}
	sums := map[string]*destination.IDChecksum{}
	for k, b := range v.objects {
		if !strings.HasPrefix(k, folder) {
			continue
		}
		for _, l := range lines(t, b) {
			if sums[l.Entity] == nil {
				sums[l.Entity] = &destination.IDChecksum{}
			}
			sums[l.Entity].Add(l.ID)
			counts[l.Entity]++
		}
	}
	out := map[string]cutover.Holding{}
	for e, c := range counts {
		out[e] = cutover.Holding{Count: c, IDChecksum: sums[e].String()}
	}
	return out
}

func checksum(recs []cutover.Record) cutover.Holding {
	var c destination.IDChecksum
	for _, r := range recs {
		c.Add(r.ID)
	}
	return cutover.Holding{Count: int64(len(recs)), IDChecksum: c.String()}
}

// checkManifest checks folder's manifest (a LIVE drop's of tenant acme)
// against v, the bucket as a plain reader sees it: it holds delivered,
// as a plain reader counts it, and its object lists (each pinned by its
// SHA-256, its count and its bytes, each in key order) describe every
// record object under folder, each once, and nothing else. It returns
// how many objects they list, and the most one list holds.
func (e *env) checkManifest(t *testing.T, v bucketView, folder string, delivered map[string]cutover.Holding) (objects, most int) {
	t.Helper()
	var m struct {
		Format      string                     `json:"format"`
		TenantID    string                     `json:"tenantId"`
		Environment string                     `json:"environment"`
		Entities    map[string]cutover.Holding `json:"entities"`
		ObjectLists []struct {
			Key     string `json:"key"`
			Objects int    `json:"objects"`
			Bytes   int    `json:"bytes"`
			SHA256  string `json:"sha256"`
		} `json:"objectLists"`
	}
	if err := json.Unmarshal(e.get(t, folder+"manifest.json"), &m); err != nil {
		t.Fatal(err)
	}
	if m.Format != "cutover-s3drop/2" || m.TenantID != "acme" || m.Environment != "live" || m.ObjectLists == nil {
		t.Errorf("manifest header %+v", m)
	}
	if want := v.counted(t, folder); !reflect.DeepEqual(m.Entities, want) || !reflect.DeepEqual(m.Entities, delivered) {
		t.Errorf("manifest entities %v; a plain reader counts %v; delivered %v", m.Entities, want, delivered)
	}
	listed := map[string]bool{}
	for _, l := range m.ObjectLists {
		if !strings.HasPrefix(l.Key, folder+"_") {
			t.Errorf("the manifest names the object list %s, not a \"_\" name of its folder", l.Key)
			continue
		}
		raw := e.get(t, l.Key)
		var list struct {
			Objects []struct {
				Key    string `json:"key"`
				Entity string `json:"entity"`
				Lines  int    `json:"lines"`
				Bytes  int    `json:"bytes"`
				SHA256 string `json:"sha256"`
			} `json:"objects"`
		}
		if err := json.Unmarshal(raw, &list); err != nil {
			t.Fatal(err)
		}
		sum, bytes := sha256.Sum256(raw), 0
		for i, o := range list.Objects {
			if listed[o.Key] || (i > 0 && o.Key < list.Objects[i-1].Key) {
				t.Errorf("the manifest lists %s twice or out of key order", o.Key)
			}
			listed[o.Key] = true
			bytes += o.Bytes
			body, ok := v.objects[o.Key]
			if !ok {
				t.Errorf("the manifest lists %s, which the bucket does not hold", o.Key)
				continue
			}
			sum := sha256.Sum256(body)
			if o.SHA256 != hex.EncodeToString(sum[:]) || o.Lines != len(lines(t, body)) || o.Bytes != len(body) || !strings.Contains(o.Key, "/"+o.Entity+"/") {
				t.Errorf("manifest entry %+v does not describe the object", o)
			}
		}
		most = max(most, len(list.Objects))
		if l.SHA256 != hex.EncodeToString(sum[:]) || l.Objects != len(list.Objects) || l.Bytes != bytes || len(list.Objects) == 0 {
			t.Errorf("the manifest's entry %+v does not describe its list (%d objects, %d bytes)", l, len(list.Objects), bytes)
		}
	}
	for k := range v.objects {
		if strings.HasPrefix(k, folder) && !listed[k] {
			t.Errorf("the manifest misses %s", k)
		}
	}
	return len(listed), most
}
