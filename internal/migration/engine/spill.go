package engine

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/delta"
)

// DefaultSnapshotRunBytes is how much of the pre-flight's dry-run records
// it holds, encoded, before storing them as a sorted run, when the
// deployment does not say.
const DefaultSnapshotRunBytes = 64 << 20

// spilledSnapshot is the pre-flight's snapshot of the whole final extract,
// held a run at a time: once the records held pass runBytes, they are
// stored sorted under prefix (run-000000.jsonl, …) and dropped, so the
// pre-flight holds about runBytes of them whatever the extract's size
// (before, about 1 KB a record: a few million rows filled a 2 GB Lambda).
// The comparison with the test snapshot merges the runs and the records
// still held (delta.Compare); of a record id in several, the earliest run
// wins, as the in-memory snapshot keeps the first record added.
type spilledSnapshot struct {
	mu       sync.Mutex // the sink may be written from several goroutines
	b        *base
	prefix   string
	runBytes int64
	cur      *delta.Snapshot
	runs     []string // the stored runs' keys, in the order they were written
}

func newSpilledSnapshot(b *base, prefix string, runBytes int64) *spilledSnapshot {
	return &spilledSnapshot{b: b, prefix: prefix, runBytes: runBytes, cur: delta.NewSnapshot()}
}

// add adds an entry, storing the records held as a run once they pass
// the limit.
//
// Errors: as putSnapshot.
func (s *spilledSnapshot) add(ctx context.Context, e delta.Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur.Add(e)
	if s.cur.Bytes() < s.runBytes {
		return nil
	}
	key := fmt.Sprintf("%srun-%06d.jsonl", s.prefix, len(s.runs))
	if err := s.b.putSnapshot(ctx, key, s.cur); err != nil {
		return err
	}
	s.runs, s.cur = append(s.runs, key), delta.NewSnapshot()
	return nil
}

// compare compares before with every record of the snapshot (delta.Compare
// writing its CSV to out): the stored runs, read back in the order they
// were written, then the records still held.
//
// Errors: as delta.Compare; as Files.Open for a run.
func (s *spilledSnapshot) compare(ctx context.Context, before io.Reader, out io.Writer) (*delta.Report, error) {
	var readers []io.Reader
	for _, key := range s.runs {
		rc, err := s.b.files.Open(ctx, key)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		readers = append(readers, rc)
	}
	held, hw := io.Pipe()
	go func() { _, err := s.cur.WriteTo(hw); hw.CloseWithError(err) }()
	defer held.Close() // stops the writer when Compare returns early
	return delta.Compare(before, append(readers, held), out)
}

// spillSink writes nothing (the pre-flight's sink) and keeps every record
// in a spilled snapshot.
type spillSink struct {
	snap *spilledSnapshot
}

func (s spillSink) Write(ctx context.Context, recs []cutover.Record) ([]cutover.Refusal, error) {
	for _, r := range recs {
		if err := s.snap.add(ctx, delta.FromRecord(r)); err != nil {
			return nil, err
		}
	}
	return nil, nil
}
