package dynamostore_test

import (
	"context"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/dynamostore"
)

// A test migration's chunks are kept per round, apart from the final
// migration's, on the real emulator: listing one never meets the other; a
// done chunk stays done until the round is planned again, which runs it
// again.
func TestTestChunksAreApartFromTheFinalsAndPerRound(t *testing.T) {
	ctx := context.Background()
	db, table := migrationsTable(t)
	s := &dynamostore.Migrations{API: db, Table: table}
	const id = "m-1"
	if err := s.PlanChunks(ctx, id, []cutover.Chunk{{Index: 0, FileName: "final.csv", Status: cutover.ChunkPending}}); err != nil {
		t.Fatal(err)
	}
	for round, n := range map[int]int{1: 3, 2: 2} {
		var cs []cutover.Chunk
		for i := range n {
			cs = append(cs, cutover.Chunk{Index: i, FileName: "test.csv", Status: cutover.ChunkPending})
		}
		if err := s.ReplanTestChunks(ctx, id, round, cs); err != nil {
			t.Fatal(err)
		}
	}
	final, err := s.ListChunks(ctx, id)
	if err != nil || len(final) != 1 || final[0].FileName != "final.csv" {
		t.Fatalf("the final's chunks: %+v, %v", final, err)
	}
	for round, n := range map[int]int{1: 3, 2: 2} {
		got, err := s.ListTestChunks(ctx, id, round)
		if err != nil || len(got) != n || got[n-1].Index != n-1 || got[0].FileName != "test.csv" {
			t.Fatalf("round %d's test chunks: %+v, %v", round, got, err)
		}
	}
	done := &cutover.Chunk{Index: 1, FileName: "test.csv", Status: cutover.ChunkDone, Counts: cutover.Counts{Read: 7, Migrated: 7}}
	if err := s.SaveTestChunk(ctx, id, 1, done); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveTestChunk(ctx, id, 1, &cutover.Chunk{Index: 1, Status: cutover.ChunkRunning}); cutover.ErrorCode(err) != cutover.ECONFLICT {
		t.Fatalf("saving over a done chunk: %v", err)
	}
	if c, err := s.GetTestChunk(ctx, id, 1, 1); err != nil || c.Status != cutover.ChunkDone || c.Counts.Read != 7 {
		t.Fatalf("chunk 1 of round 1: %+v, %v", c, err)
	}
	if _, err := s.GetTestChunk(ctx, id, 2, 2); cutover.ErrorCode(err) != cutover.ENOTFOUND {
		t.Fatalf("round 2 has no chunk 2: %v", err)
	}
	if err := s.ReplanTestChunks(ctx, id, 1, []cutover.Chunk{{Index: 1, FileName: "test.csv", Status: cutover.ChunkPending}}); err != nil {
		t.Fatal(err)
	}
	if c, err := s.GetTestChunk(ctx, id, 1, 1); err != nil || c.Status != cutover.ChunkPending {
		t.Fatalf("chunk 1 of round 1 planned again: %+v, %v", c, err)
	}
}
