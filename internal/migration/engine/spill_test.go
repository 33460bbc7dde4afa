package engine

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pass"
	"github.com/cutover/cutover/internal/pipeline"
)

// A chunk's spilled records, kept in a local file and stored ordered by
// partition with an index, reach each merge partition whole and in the
// order they were spilled, chunk by chunk, as if every chunk had kept one
// buffer a partition, and the local file is gone; a chunk that spilled
// nothing gives every partition nothing; a spill stored before indexes
// existed (an object a partition) is read as before; a chunk that stored
// no index did not run, and a damaged index is refused.
func TestSpilledRecordsReachEachPartitionInOrder(t *testing.T) {
	ctx := context.Background()
	files := objects{}
	s := &base{files: files}
	sp := spill{prefix: "artifacts/m/test/1/shuffle/", chunks: 3, parts: 7}
	// want is what one buffer a partition would hold, chunk by chunk.
	want := make([][][]byte, sp.parts)
	for p := range want {
		want[p] = make([][]byte, sp.chunks)
	}
	for c := range sp.chunks {
		spiller, err := newSpiller(sp, c)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 400 * c { // chunk 0 spills nothing
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
		spiller.close()
		if _, err := os.Stat(spiller.file.Name()); !os.IsNotExist(err) {
			t.Fatalf("the chunk's local file is left: %v", err)
		}
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
	files[sp.indexKey(2)] = files[sp.indexKey(2)][:8*3]
	if _, err := s.mergeInput(ctx, sp, 5, chunks); cutover.ErrorCode(err) == "" {
		t.Fatal("a chunk's index cut short: no error")
	}
	files[sp.indexKey(2)] = string(make([]byte, 8*(sp.parts+1)))
	files[sp.indexKey(2)] = files[sp.indexKey(2)][:8] + "\xff\xff\xff\xff\xff\xff\xff\x7f" + files[sp.indexKey(2)][16:]
	if got, err := s.mergeInput(ctx, sp, 0, chunks); err == nil {
		t.Fatalf("an index past its spill: %d chunks read, no error", len(got))
	}
	files[sp.indexKey(2)] = "\x09" + string(make([]byte, 8*sp.parts+7)) // 9, then 0: ends before it begins
	if _, err := s.mergeInput(ctx, sp, 0, chunks); cutover.ErrorCode(err) != cutover.EINVALID {
		t.Fatalf("an index whose range ends before it begins: %v; want EINVALID", err)
	}
}
