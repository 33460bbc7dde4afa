package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"

	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pipeline"
	"github.com/cutover/cutover/internal/shuffle"
	"github.com/cutover/cutover/internal/tabular"
)

// shuffled maps the files with the run's global operations resolved
// through spill files in a temp directory (internal/shuffle), so memory
// stays flat in the rows: the files are mapped twice, once to emit the
// keys and once to write with their resolution (once, unless people are
// named inline, when no row repeats a source id and no record has
// references). Its output is byte for byte the in-memory path's
// (TestShuffleEqualsInMemory, TestAFirstRunThatWritesWritesAsInMemory).
func (r *mapRun) shuffled(ctx context.Context, paths []string, o tabular.Options, records bool, spillDir, source string, stdout io.Writer) error {
	if os.Getenv("GOMEMLIMIT") == "" {
		// The live heap is a few chunks of rows and one partition; without
		// a limit the collector lets garbage grow to as much again before
		// it runs. A soft limit keeps the peak near what is live (GOMEMLIMIT
		// overrides it; it is soft, so a larger partition still runs).
		debug.SetMemoryLimit(shuffleMemoryLimit)
		if os.Getenv("GOGC") == "" {
			// And the limit alone decides when it runs: a live heap
			// well under it (a pass that does not merge holds a few
			// chunks of rows) is not collected every time it doubles,
			// which cost 13-19% of such a pass's CPU.
			debug.SetGCPercent(-1)
		}
	}
	// Ctrl-C stops the run through its context, so the spill files (about
	// the size of the records) are removed rather than left behind.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp(spillDir, "cutover-spill-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	store := shuffle.NewDir(dir)
	defer store.Close()
	merging := r.spec.HoldsRecords(r.sch)
	size := inputBytes(paths)
	keyParts := keyPartitions(size)
	sh := shuffle.New(ctx, store, shuffle.Options{Spec: r.spec, Schema: r.sch, Merging: merging, Tenant: r.tenant, PartitionRecords: r.partRecords, KeyPartitions: keyParts})

	rep := &mapReport{Spec: source, SpecHash: r.spec.Hash(), Tenant: r.tenant, Orphans: []mapspec.Orphan{}}
	if rep.spilled, err = newOrphanSpill(dir); err != nil {
		return err
	}
	defer rep.spilled.close()
	sinks := newJSONLSinks(r.outDir, records)
	sinks.written = shuffle.NewDistinct(ctx, store, "written", keyParts)
	defer sinks.close()
	write := func(ctx context.Context, recs []*mapspec.Record) error {
		// The records come in the in-memory order, with their references
		// resolved: a cleared one is an orphan, listed as the in-memory
		// path's mapspec.Resolver lists it.
		for _, rec := range recs {
			for _, ref := range rec.Refs {
				if ref.ID == "" {
					if err := rep.spilled.add(mapspec.Orphan{Entity: rec.Entity, SourceID: rec.SourceID, Line: rec.Line, Field: ref.Field, Target: ref.Entity, Missing: ref.SourceID}); err != nil {
						return err
					}
				}
			}
		}
		_, err := sinks.Write(ctx, recs)
		return err
	}

	// Run 1: the keys, and (unless people are named inline) the rest of
	// run 2's work as if no row repeated a source id (shuffle.Streaming):
	// the records written as they come, or spilled to be merged, and the
	// rejects and review files. Unless a row did repeat one, or a record
	// has references to resolve, there is no run 2. A table that fails
	// stops the run; run 2 then maps the tables up to it again, so the
	// failure leaves the rejects and review files the in-memory path
	// leaves, and says the same.
	first, streams := sh.Keys(), sh.Streams()
	if streams {
		if first, err = sh.Streaming(write, int(size/minRowBytes)); err != nil {
			return err
		}
	}
	upTo, err1 := -1, error(nil)
	if err := r.eachTable(paths, o, func(i int, tb table) error {
		upTo = i
		fr, err := r.table(ctx, tb, pipeline.Outputs{Global: first}, !streams)
		if err1 = err; err == nil && streams {
			sh.EndTable()
			rep.Files = append(rep.Files, fr)
		}
		return err
	}); err != nil && err1 == nil {
		return err // the files could not be opened
	}
	if err := sh.Resolve(); err != nil {
		return err
	}
	if sh.SecondRun() {
		if streams {
			// Run 1 wrote what run 2 writes again: start over.
			if err := sinks.discard(); err != nil {
				return err
			}
			sinks.written = shuffle.NewDistinct(ctx, store, "rewritten", keyParts)
			rep.Files = nil
		}
		// Run 2: the rows again, with the duplicates known. A pass that
		// does not merge writes its records as they come.
		second := sh.Records(write)
		if err := r.eachTable(paths, o, func(i int, tb table) error {
			if i > upTo {
				return err1
			}
			fr, err := r.table(ctx, tb, pipeline.Outputs{Global: second}, false)
			if err != nil {
				return err
			}
			sh.EndTable()
			rep.Files = append(rep.Files, fr)
			return nil
		}); err != nil {
			return err
		}
	}
	if err1 != nil {
		return err1 // run 2 did not fail where run 1 did: still a failure
	}
	var out shuffle.Output
	var files []*os.File
	var bufs []*bufio.Writer
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	if merging {
		for _, name := range []string{"merges.json", "possible-duplicates.json"} {
			f, err := os.Create(filepath.Join(r.outDir, name))
			if err != nil {
				return err
			}
			files = append(files, f)
			bufs = append(bufs, bufio.NewWriterSize(f, 1<<16))
		}
		out.Merges, out.PossibleDuplicates = bufs[0], bufs[1]
	}
	res, err := sh.Finish(out)
	if err != nil {
		return err
	}
	for i, b := range bufs {
		if err := b.Flush(); err != nil {
			return err
		}
		if err := files[i].Close(); err != nil {
			return err
		}
	}
	files = nil
	// The second run counted every kept row migrated; the merge found
	// which merged into an earlier record.
	for i, f := range rep.Files {
		f.Counts.Migrated -= res.MergedByTable[i]
		f.Counts.Merged += res.MergedByTable[i]
	}
	rep.Merges, rep.Conflict, rep.PossibleDuplicates = res.Merges, res.Conflicts, res.PossibleDuplicateRecords
	return r.finish(sinks, rep, res.Linked, stdout)
}

// inputBytes is the size of the files at paths; a file that cannot be
// read counts nothing here (it fails when it is opened).
func inputBytes(paths []string) int64 {
	var size int64
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil {
			size += st.Size()
		}
	}
	return size
}

// keyPartitions is how many partitions the shuffle spreads ids over for
// files of size bytes: one per keyPartitionBytes of them, at least 16
// and at most 256 (shuffle.Options' default, which holds about 40,000
// ids a partition at 10M rows). Each partition is a few spill files, and
// creating hundreds of them cost a small extract about a quarter of its CPU
// (BENCHMARKS.md).
func keyPartitions(size int64) int {
	return int(min(max((size+keyPartitionBytes-1)/keyPartitionBytes, 16), 256))
}

// minRowBytes is the size of a row the first run's merge partitions are
// sized for (shuffle.Streaming): most exports' rows are larger, so the
// partitions hold fewer records than planned; a file of rows under half
// of it spills too many to a partition, and is mapped again.
const minRowBytes = 64

// keyPartitionBytes is how much of the files one id partition is for:
// about 40,000 rows of a typical export.
const keyPartitionBytes = 4 << 20

// shuffleMemoryLimit is the soft memory limit of a shuffled map.
const shuffleMemoryLimit = 64 << 20

// eachTable opens the files' tables, gives each to fn in order, and
// closes them.
func (r *mapRun) eachTable(paths []string, o tabular.Options, fn func(int, table) error) error {
	tables, closeAll, err := openAll(paths, o)
	if err != nil {
		return err
	}
	defer closeAll()
	for i, tb := range tables {
		if err := fn(i, tb); err != nil {
			return err
		}
	}
	return nil
}
