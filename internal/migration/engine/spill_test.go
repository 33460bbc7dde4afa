package engine

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pass"
	"github.com/cutover/cutover/internal/pipeline"
)

// A chunk's spilled records, stored in runs of a few kilobytes, reach
// each merge partition whole and in the order they were spilled, chunk
// by chunk, as if every chunk had kept one buffer a partition; a spill
// stored before runs existed (an object a partition) is read as before;
// a chunk that stored no index did not run.
func TestSpilledRunsGiveEachPartitionItsRecordsInOrder(t *testing.T) {
	ctx := context.Background()
	files := objects{}
	s := &base{files: files}
	sp := spill{prefix: "artifacts/m/test/1/shuffle/", chunks: 3, parts: 7}
	// want is what one buffer a partition would hold, chunk by chunk.
	want := make([][][]byte, sp.parts)
	for p := range want {
		want[p] = make([][]byte, sp.chunks)
	}
	runs := 0
	for c := range sp.chunks {
		spiller := s.newSpiller(ctx, sp, c, 2048)
		for i := range 400 {
			rec := &mapspec.Record{ID: fmt.Sprintf("id-%d-%d", c, i), Entity: "contact", SourceID: fmt.Sprint(i), Line: i + 2, File: "contacts.csv"}
			key := fmt.Sprintf("person%d@example.test", i%53) // keys meet across chunks
			if i%11 == 0 {
				key = "" // merges with nothing: by its id
			}
			var seen *pipeline.Sighting
			if i%3 == 0 {
				seen = &pipeline.Sighting{Header: []string{"Email"}, Row: []string{key + strings.Repeat("x", i)}}
			}
			if err := spiller.add(rec, key, seen); err != nil {
				t.Fatal(err)
			}
			p := pass.SpillPartition(rec, key, sp.parts)
			want[p][c] = pass.AppendSpilled(want[p][c], rec, key, seen)
		}
		if err := s.putSpill(ctx, spiller); err != nil {
			t.Fatal(err)
		}
		runs += len(spiller.runs)
	}
	if runs < 3*10 {
		t.Fatalf("the chunks stored %d runs of 2 KiB; want many", runs)
	}
	chunks := []cutover.Chunk{{Index: 0, Status: cutover.ChunkDone}, {Index: 1, Status: cutover.ChunkDone}, {Index: 2, Status: cutover.ChunkDone}}
	check := func(what string) {
		t.Helper()
		for p := range sp.parts {
			got, err := s.mergeInput(ctx, sp, p, chunks)
			if err != nil {
				t.Fatalf("%s: partition %d: %v", what, p, err)
			}
			for c := range sp.chunks {
				if !bytes.Equal(got[c], want[p][c]) {
					t.Fatalf("%s: partition %d, chunk %d: %d bytes, want %d as spilled", what, p, c, len(got[c]), len(want[p][c]))
				}
			}
		}
	}
	check("in runs")

	// Chunk 1 spilled before runs existed: an object a partition.
	for key := range files {
		if strings.Contains(key, "/merge/c-000001/") {
			delete(files, key)
		}
	}
	for p := range sp.parts {
		files[sp.key(p, 1)] = string(want[p][1])
	}
	check("one chunk spilled an object a partition")

	delete(files, sp.key(4, 1))
	if _, err := s.mergeInput(ctx, sp, 4, chunks); cutover.ErrorCode(err) != cutover.ENOTFOUND {
		t.Fatalf("a chunk that stored neither index nor object: %v; want ENOTFOUND", err)
	}
	files[sp.indexKey(2)] = `{"parts":3,"runs":[]}`
	if _, err := s.mergeInput(ctx, sp, 0, chunks); cutover.ErrorCode(err) != cutover.EINVALID {
		t.Fatalf("an index of another plan: %v; want EINVALID", err)
	}
}
