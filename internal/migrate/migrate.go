// Package migrate runs a migration pass: it streams every file of an
// extract through the mapping, writes the records to a sink (the TEST or the
// LIVE environment), keeps every rejected row with its reasons in a rejects
// file, and accounts for every row. It has no AWS types.
package migrate

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapping"
)

// Opener opens an uploaded file by its storage key.
type Opener interface {
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

// Putter stores a generated artifact.
type Putter interface {
	Put(ctx context.Context, key, contentType string, body []byte) error
}

// Sink receives mapped records in batches. Writing the same record twice
// must converge to one record.
type Sink interface {
	Write(ctx context.Context, recs []cutover.Record) error
}

// Pass describes one migration pass.
type Pass struct {
	TenantID      string
	Spec          mapping.Spec
	Files         []cutover.File
	RejectsPrefix string // artifacts key prefix; one rejects CSV per file with rejects
	BatchSize     int    // records per Sink.Write; 0 means 25
}

// Run executes the pass and returns the counts, which always balance.
//
// Errors: EINVALID when a file cannot be read as CSV or does not match its
// mapping (the message names the file and line); whatever the Opener, Sink
// or Putter return (EUNAVAILABLE for transient failures); EINTERNAL when the
// counts do not balance, which would be a bug.
func Run(ctx context.Context, p Pass, open Opener, sink Sink, put Putter) (cutover.Counts, error) {
	if p.BatchSize <= 0 {
		p.BatchSize = 25
	}
	var total cutover.Counts
	total.RejectsKey = p.RejectsPrefix
	for _, f := range p.Files {
		fs, ok := p.Spec.ForFile(f.ID)
		if !ok {
			return total, cutover.Errorf(cutover.EINVALID, "The mapping has no entry for file %q.", f.Name)
		}
		c, err := runFile(ctx, p, f, fs, open, sink, put)
		if err != nil {
			return total, err
		}
		total = total.Add(c)
	}
	if !total.Balanced() {
		return total, cutover.Errorf(cutover.EINTERNAL, "Row accounting does not balance: read %d, migrated %d, rejected %d, skipped %d.",
			total.Read, total.Migrated, total.Rejected, total.Skipped)
	}
	return total, nil
}

func runFile(ctx context.Context, p Pass, f cutover.File, fs mapping.FileSpec, open Opener, sink Sink, put Putter) (cutover.Counts, error) {
	var c cutover.Counts
	rc, err := open.Open(ctx, f.Key)
	if err != nil {
		return c, err
	}
	defer rc.Close()
	r, err := mapping.NewReader(rc)
	if err != nil {
		return c, prefixed(f.Name, err)
	}
	m, err := fs.Compile(p.TenantID, r.Header())
	if err != nil {
		return c, err
	}
	rej := newRejects(r.Header())
	batch := make([]cutover.Record, 0, p.BatchSize)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := sink.Write(ctx, batch); err != nil {
			return err
		}
		c.Migrated += len(batch)
		batch = batch[:0]
		return nil
	}
	for {
		row, line, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return c, prefixed(f.Name, err)
		}
		c.Read++
		out := m.Map(line, row)
		switch {
		case out.SkipRule != "":
			c.Skipped++
		case len(out.Reasons) > 0:
			c.Rejected++
			rej.add(line, row, out.Reasons)
		default:
			batch = append(batch, out.Record)
			if len(batch) == p.BatchSize {
				if err := flush(); err != nil {
					return c, err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return c, err
	}
	if c.Rejected > 0 {
		key := p.RejectsPrefix + "rejects-" + f.ID + ".csv"
		if err := put.Put(ctx, key, "text/csv; charset=utf-8", rej.bytes()); err != nil {
			return c, err
		}
	}
	return c, nil
}

func prefixed(file string, err error) error {
	var e *cutover.Error
	if errors.As(err, &e) {
		return &cutover.Error{Code: e.Code, Message: file + ": " + e.Message, Err: e.Err}
	}
	return err
}

// rejects builds a rejects CSV: the original columns, then the line and the
// reasons. Every cell is made safe from formula injection.
type rejects struct {
	buf bytes.Buffer
	w   *csv.Writer
}

func newRejects(header []string) *rejects {
	r := &rejects{}
	r.buf.Write([]byte{0xEF, 0xBB, 0xBF}) // Excel opens UTF-8 with a BOM cleanly
	r.w = csv.NewWriter(&r.buf)
	r.write(append(append([]string(nil), header...), "cutover_line", "cutover_reasons"))
	return r
}

func (r *rejects) add(line int, row []string, reasons []string) {
	r.write(append(append([]string(nil), row...), strconv.Itoa(line), strings.Join(reasons, "; ")))
}

func (r *rejects) write(cells []string) {
	for i, c := range cells {
		cells[i] = SafeCell(c)
	}
	_ = r.w.Write(cells) // writes to a bytes.Buffer cannot fail
}

func (r *rejects) bytes() []byte {
	r.w.Flush()
	return r.buf.Bytes()
}

// SafeCell neutralises a value that a spreadsheet would run as a formula by
// prefixing a single quote; the value is otherwise kept as it was.
func SafeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// RejectsPrefix is where a pass's rejects files go.
func RejectsPrefix(migrationID, phase string, round int) string {
	return fmt.Sprintf("artifacts/%s/round-%d/%s/", migrationID, round, phase)
}
