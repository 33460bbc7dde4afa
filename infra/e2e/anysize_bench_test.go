package e2e

import (
	"bytes"
	"database/sql"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/cutover/cutover/infra/receiver"
	"github.com/cutover/cutover/infra/stack"
	"github.com/cutover/cutover/internal/benchdata"
	"github.com/cutover/cutover/internal/cutover"
)

// BenchmarkAnySize runs a generated contacts export (ROWS rows, default
// 500,000) through the whole journey on its own local stack, as a customer
// would, at scale: the full extract is the test extract, mapped with the
// mapping the service proposes for it (e-mail dedupe on), reviewed,
// signed off, and then the final extract (the same rows) goes live. The
// snapshots are compared in key ranges of COMPARE_BYTES (default 16 MiB),
// so that even this size runs several; CHUNK_BYTES, when set, cuts the
// extracts into chunks of that size instead of 32 MiB. In the same run, first, a bare
// loader writes the same rows into the same emulator's LIVE table with
// BatchWriteItem (benchBare). It prints the test migration's and the final
// migration's wall time against the bare loader's, each function's peak
// memory, and checks every row is accounted for and that TEST and LIVE
// hold exactly the migrated records (counted with the SDK).
//
// kumo keeps every DynamoDB item and S3 object in memory (BENCHMARKS.md),
// which bounds ROWS on our 24 GiB machines. DESTINATION=receiver sends
// TEST and LIVE to the reference receiver (the product being joined, a
// SQLite database on disk) instead of the stack's tables, as
// `DESTINATION=receiver make up` does, and counts what it holds there;
// the bare loader then loads a round of 250,000 rows at a time into a
// scratch table, deleted between rounds outside the clock.
//
// EXTRACT=agency runs an estate agency's export instead
// (benchdata.WriteAgency: contacts, and tenancies naming their tenants
// inline, ROWS records in all), mapped with the estate-agency preset the
// service proposes for it: the people named inline are linked and derived
// across chunks (the id shuffle), and TEST and LIVE must hold exactly the
// migrated and derived records.
//
//	DESTINATION=receiver ROWS=1000000 go test ./infra/e2e -run '^$' -bench AnySize -benchtime 1x -timeout 90m
func BenchmarkAnySize(b *testing.B) {
	rows, compare, chunk := 500_000, 16<<20, 0
	for name, v := range map[string]*int{"ROWS": &rows, "COMPARE_BYTES": &compare, "CHUNK_BYTES": &chunk} {
		if s := os.Getenv(name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 2000 {
				b.Fatalf("%s=%q: want a number of at least 2000", name, s)
			}
			*v = n
		}
	}
	var full bytes.Buffer
	extract := []benchFile{{"contacts.csv", &full}}
	switch e := os.Getenv("EXTRACT"); e {
	case "", "contacts":
		if err := benchdata.WriteContacts(&full, rows, 7); err != nil {
			b.Fatal(err)
		}
	case "agency":
		var tenancies bytes.Buffer
		if err := benchdata.WriteAgency(&full, &tenancies, rows, 7); err != nil {
			b.Fatal(err)
		}
		extract = append(extract, benchFile{"tenancies.csv", &tenancies})
	default:
		b.Fatalf("EXTRACT=%q: want contacts or agency", e)
	}
	size := 0
	for _, f := range extract {
		size += f.body.Len()
	}
	reports, err := os.Create(filepath.Join(b.TempDir(), "reports.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	defer reports.Close()
	opts := stack.Options{Parameters: map[string]string{"FinalCompareBytes": strconv.Itoa(compare)}, Reports: reports}
	if chunk > 0 {
		opts.Parameters["FinalChunkBytes"] = strconv.Itoa(chunk) // the test migration's chunks too
	}
	var product *receiver.Server
	switch d := os.Getenv("DESTINATION"); d {
	case "", "builtin":
	case "receiver":
		product, opts.Secrets = anySizeReceiver(b, opts.Parameters)
	default:
		b.Fatalf("DESTINATION=%q: want builtin or receiver", d)
	}
	ms := ownStack(b, "anysize", 5*time.Minute, opts)
	for b.Loop() {
		var bareSecs float64
		for _, f := range extract {
			if product == nil {
				bareSecs += benchBareOn(b, ms, f.body.Bytes(), 4)
			} else {
				// TEST and LIVE are the receiver's: kumo holds the bare
				// loader's rows alone, a round of them at a time.
				bareSecs += bareLoad(b, ms, f.body.Bytes(), 4, "anysize-bare", 250_000)
			}
		}
		a := api{t: b, base: ms.APIURL, wait: time.Hour}
		box := mailbox{t: b, endpoint: ms.Endpoint}
		ops := ms.MintOpsToken("bench@vendor.test", time.Hour)
		run := fmt.Sprintf("anysize-%d", time.Now().UnixNano())
		id, key := a.create(ops, run, "Any Size", "anysize.test", run)

		for _, f := range extract {
			a.upload(id, key, f.name, "test", f.body.Bytes())
		}
		var proposal struct {
			Mapping struct {
				Files []struct{ Dedupe []string }
			}
		}
		a.must(http.StatusOK, "GET", "/migrations/"+id+"/proposal", key, nil).decode(b, &proposal)
		if len(proposal.Mapping.Files) != len(extract) {
			b.Fatalf("the proposal maps %d files; want the %d uploaded", len(proposal.Mapping.Files), len(extract))
		}
		submitted := time.Now()
		a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
		tested := a.waitStatus(id, key, "awaiting_review", 1)
		testSecs := time.Since(submitted).Seconds()
		tc := tested.Migration.Test
		db := dynamodb.NewFromConfig(stackConfig(b, ms), func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
		held := func(env, table, partition string) int {
			if product == nil {
				return countItems(b, db, ms.Names[table], partition)
			}
			return receiverHolds(b, product, tested.Migration.TenantID, id, env)
		}
		inTest := held(cutover.EnvTest, "TestRecordsTable", id)
		if tc == nil || tc.Read != rows || tc.Read != tc.Migrated+tc.Merged+tc.Rejected+tc.Skipped || inTest != tc.Migrated+tc.Derived {
			b.Fatalf("the test migration counts %+v of %d rows; TEST holds %d records", tc, rows, inTest)
		}

		a.reviewAll(id, key, 1)
		a.waitStatus(id, key, "awaiting_signoff", 1)
		a.must(http.StatusOK, "POST", "/signoff", box.signOffLink(run+"@anysize.test", 1), map[string]any{"decision": "approve"})
		a.waitStatus(id, key, "awaiting_final", 1)
		var finalIDs []string
		for _, f := range extract {
			finalIDs = append(finalIDs, a.upload(id, key, strings.TrimSuffix(f.name, ".csv")+"-final.csv", "final", f.body.Bytes()))
		}
		// The customer submits the final extract ahead of its go-live
		// time, as one would days before: its pre-flight (a dry run of the
		// extract) runs then, not in the go-live window the final is
		// measured over. A dry run is the test migration's work without
		// the writes, so the test's time and a margin leave room for it.
		finalSubmitted := time.Now()
		goLive := finalSubmitted.Add(time.Duration(testSecs*float64(time.Second)) + 30*time.Second).UTC().Truncate(time.Second).Add(time.Second)
		a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/final", key, map[string]any{"goLiveAt": goLive.Format(time.RFC3339), "fileIds": finalIDs})
		checked := submittedPreflight(b, a, id, key, goLive)
		v := a.waitStatus(id, key, "live", 1)
		finalSecs := time.Since(goLive).Seconds()
		fc := v.Migration.Final
		var detail struct {
			Migration struct {
				FinalPlan struct{ Chunks int } `json:"finalPlan"`
			} `json:"migration"`
			Chunks []benchChunk `json:"chunks"`
		}
		a.must(http.StatusOK, "GET", "/ops/migrations/"+id, ops, nil).decode(b, &detail)
		first, last := time.Time{}, time.Time{}
		for _, c := range detail.Chunks {
			s, _ := time.Parse(time.RFC3339Nano, c.StartedAt)
			f, _ := time.Parse(time.RFC3339Nano, c.FinishedAt)
			if first.IsZero() || s.Before(first) {
				first = s
			}
			if f.After(last) {
				last = f
			}
		}
		live := held(cutover.EnvLive, "LiveRecordsTable", v.Migration.TenantID)
		if fc == nil || fc.Read != rows || fc.Read != fc.Migrated+fc.Merged+fc.Rejected+fc.Skipped || live != fc.Migrated+fc.Derived || fc.Migrated != tc.Migrated || fc.Derived != tc.Derived {
			b.Fatalf("the final counts %+v of %d rows; LIVE holds %d records; the test migrated %d", fc, rows, live, tc.Migrated)
		}
		b.ReportMetric(testSecs, "test-s")
		b.ReportMetric(finalSecs, "final-s")
		b.ReportMetric(bareSecs, "bare-s")
		b.ReportMetric(bareSecs/finalSecs, "final-ratio")
		b.ReportMetric(bareSecs/testSecs, "test-ratio")
		b.Logf("%d rows (%d MB), mapping proposed with dedupe %v: test migration %.1f s (submit to review: %+v; TEST holds %d), final %.1f s (go-live to live, %d chunks, chunks ran %.1f s; %+v; LIVE holds %d); bare BatchWriteItem loader %.1f s; ratios (bare/cutover) test %.2f, final %.2f (goal 0.8)",
			rows, size>>20, proposal.Mapping.Files[0].Dedupe, testSecs, *tc, inTest, finalSecs, len(detail.Chunks), last.Sub(first).Seconds(), *fc, live, bareSecs, bareSecs/testSecs, bareSecs/finalSecs)
		// One line: a benchmark's log keeps its first ten.
		var peaks []string
		for _, logical := range slices.Sorted(maps.Keys(ms.Names)) {
			if !strings.HasSuffix(logical, "Function") {
				continue
			}
			if rss, err := ms.PeakRSS(logical); err != nil {
				peaks = append(peaks, fmt.Sprintf("%s: %v", logical, err))
			} else {
				peaks = append(peaks, fmt.Sprintf("%s %d MB", strings.TrimSuffix(logical, "Function"), rss>>20))
			}
		}
		b.Logf("peak RSS of each function's processes: %s", strings.Join(peaks, ", "))
		b.Logf("from the test's submission to the final's (the test migration, review, sign-off, the final's uploads): %s", busiest(b, reports.Name(), submitted, finalSubmitted, 10))
		b.Logf("the final extract's pre-flight at submission (%.1f s before go-live): %s", goLive.Sub(checked).Seconds(), busiest(b, reports.Name(), finalSubmitted, goLive, 6))
		b.Logf("the final's busiest steps: %s", busiest(b, reports.Name(), goLive, time.Now(), 10))
	}
}

// benchFile is one file of a generated extract.
type benchFile struct {
	name string
	body *bytes.Buffer
}

// anySizeReceiver starts the reference receiver (the product being joined,
// a SQLite database on disk) for BenchmarkAnySize with DESTINATION=receiver
// and sets the parameters that make it TEST's and LIVE's https
// destination, as `DESTINATION=receiver make up` does. It returns the
// secrets the stack provisions.
func anySizeReceiver(b *testing.B, params map[string]string) (*receiver.Server, map[string]string) {
	secret, err := receiver.NewSecret()
	if err != nil {
		b.Fatal(err)
	}
	product, err := receiver.Start("127.0.0.1:0", filepath.Join(b.TempDir(), "receiver.db"), secret, receiver.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = product.Close() })
	maps.Copy(params, map[string]string{
		"TestDestination": "https", "TestDestinationUrl": product.URL, "TestDestinationSecretName": "anysize-staging",
		"LiveDestination": "https", "LiveDestinationUrl": product.URL, "LiveDestinationSecretName": "anysize-production",
	})
	return product, map[string]string{"anysize-staging": secret, "anysize-production": secret}
}

// receiverHolds counts the records the receiver holds for a migration of
// a tenant in env, reading its database directly.
func receiverHolds(b *testing.B, product *receiver.Server, tenant, migration, env string) int {
	db, err := sql.Open("sqlite", "file:"+product.DB+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM records WHERE tenant_id = ? AND migration_id = ? AND environment = ?`, tenant, migration, env).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}

// submittedPreflight waits for the pre-flight the final extract's
// submission runs and returns when it was checked; the benchmark fails
// when that was not before goLive (the go-live window would then hold
// it too), when it held go-live (the final would never go live), or when
// the migration failed.
func submittedPreflight(b *testing.B, a api, id, key string, goLive time.Time) time.Time {
	b.Helper()
	for {
		var v struct {
			Migration struct {
				Status    string `json:"status"`
				Failure   any    `json:"failure"`
				Preflight *struct {
					Phase     string    `json:"phase"`
					Held      bool      `json:"held"`
					CheckedAt time.Time `json:"checkedAt"`
				} `json:"preflight"`
			} `json:"migration"`
		}
		a.must(http.StatusOK, "GET", "/migrations/"+id, key, nil).decode(b, &v)
		if v.Migration.Status == "failed" {
			b.Fatalf("the migration failed before go-live: %+v", v.Migration.Failure)
		}
		if p := v.Migration.Preflight; p != nil && p.Phase == cutover.PreflightAtSubmit && !p.CheckedAt.IsZero() {
			if p.Held {
				b.Fatalf("the final extract's pre-flight at submission held go-live: %+v", p)
			}
			if !p.CheckedAt.Before(goLive) {
				b.Fatalf("the final extract's pre-flight at submission ended %s, after go-live at %s", p.CheckedAt, goLive)
			}
			return p.CheckedAt
		}
		if time.Now().After(goLive) {
			b.Fatalf("the final extract's pre-flight at submission had not ended at go-live (%s)", goLive)
		}
		time.Sleep(time.Second)
	}
}
