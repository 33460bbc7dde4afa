package dynamostore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/dynamostore"
)

// benchRecords are contacts shaped like a mapped HubSpot export's.
func benchRecords(tenant string, n int) []cutover.Record {
	recs := make([]cutover.Record, n)
	for i := range recs {
		src := fmt.Sprintf("%07d", i)
		recs[i] = cutover.Record{
			ID: cutover.RecordID(tenant, "contact", src), Entity: "contact", SourceID: src, SourceRow: i + 2,
			Fields: map[string]string{
				"first_name": "Ann", "last_name": "Smith", "emails": src + "@example.com", "phones": "+442071234567",
				"company": "Acme Lettings", "created_at": "2024-03-01", "tags": "buyer;vip", "notes": "Called twice, wants a garden",
			},
		}
	}
	return recs
}

// BenchmarkLiveWriter writes records to LIVE on the emulator the way a
// final chunk does (batches of 800: transactions of 100 conditional Puts,
// several in flight), beside a bare BatchWriteItem loop of the same items
// (25 a call, 4 in flight). Compare the two ns/op.
func BenchmarkLiveWriter(b *testing.B) {
	const n = 20000
	for _, workers := range []int{2, 4, 8} {
		b.Run(fmt.Sprintf("transactions-%d", workers), func(b *testing.B) {
			db, table := recordsTable(b)
			live := &dynamostore.LiveEnv{API: db, Table: table, Concurrency: workers}
			for i := 0; b.Loop(); i++ {
				recs := benchRecords(fmt.Sprintf("t%d", i), n)
				w := liveSink(live, fmt.Sprintf("t%d", i), "m")
				for lo := 0; lo < n; lo += 800 {
					if _, err := w.Write(context.Background(), recs[lo:min(lo+800, n)]); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
	b.Run("bare-batchwrite-4", func(b *testing.B) {
		db, table := recordsTable(b)
		for i := 0; b.Loop(); i++ {
			recs := benchRecords(fmt.Sprintf("t%d", i), n)
			ch := make(chan []ddb.WriteRequest)
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for reqs := range ch {
						for len(reqs) > 0 {
							out, err := db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddb.WriteRequest{table: reqs}})
							if err != nil {
								b.Error(err)
								return
							}
							reqs = out.UnprocessedItems[table]
						}
					}
				}()
			}
			for lo := 0; lo < n; lo += 25 {
				var reqs []ddb.WriteRequest
				for _, r := range recs[lo:min(lo+25, n)] {
					reqs = append(reqs, ddb.WriteRequest{PutRequest: &ddb.PutRequest{Item: dynamostore.RecordItem(fmt.Sprintf("t%d", i), "m", r)}})
				}
				ch <- reqs
			}
			close(ch)
			wg.Wait()
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
	})
}
