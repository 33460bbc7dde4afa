package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/cutover/cutover/internal/mapspec"
)

// orphanSpill keeps a shuffled run's orphaned references in a spill file,
// one JSON line each, in the order they are found, so the report lists
// them without the run holding them: they can be as many as the records.
type orphanSpill struct {
	f *os.File
	w *bufio.Writer
	n int
}

func newOrphanSpill(dir string) (*orphanSpill, error) {
	f, err := os.CreateTemp(dir, "orphans-*.jsonl")
	if err != nil {
		return nil, err
	}
	return &orphanSpill{f: f, w: bufio.NewWriterSize(f, 1<<16)}, nil
}

// add appends o.
//
// Errors: the file's.
func (s *orphanSpill) add(o mapspec.Orphan) error {
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	s.n++
	_, err = s.w.Write(append(b, '\n'))
	return err
}

// close removes the spill file.
func (s *orphanSpill) close() {
	s.f.Close()
	os.Remove(s.f.Name())
}

// orphanCount is how many orphaned references rep lists.
func (rep *mapReport) orphanCount() int {
	if rep.spilled != nil {
		return rep.spilled.n
	}
	return len(rep.Orphans)
}

// writeReport writes rep to path as writeJSON writes it; the orphans of a
// shuffled run are streamed from their spill file into the last field's
// place, indented as json.MarshalIndent indents them.
//
// Errors: the files'.
func writeReport(path string, rep *mapReport) error {
	if rep.spilled == nil || rep.spilled.n == 0 {
		return writeJSON(path, rep)
	}
	head, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	const empty = "[]\n}"
	if !bytes.HasSuffix(head, []byte(empty)) {
		return fmt.Errorf("the report does not end with its orphans: %q", head[max(0, len(head)-40):])
	}
	s := rep.spilled
	if err := s.w.Flush(); err != nil {
		return err
	}
	if _, err := s.f.Seek(0, 0); err != nil {
		return err
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	defer out.Close()
	w := bufio.NewWriterSize(out, 1<<16)
	w.Write(head[:len(head)-len(empty)])
	w.WriteString("[\n")
	sc := bufio.NewScanner(s.f)
	sc.Buffer(make([]byte, 1<<16), 1<<26)
	var buf bytes.Buffer
	for i := 0; sc.Scan(); i++ {
		if i > 0 {
			w.WriteString(",\n")
		}
		buf.Reset()
		if err := json.Indent(&buf, sc.Bytes(), "    ", "  "); err != nil {
			return err
		}
		w.WriteString("    ")
		w.Write(buf.Bytes())
	}
	if err := sc.Err(); err != nil {
		return err
	}
	w.WriteString("\n  ]\n}\n")
	if err := w.Flush(); err != nil {
		return err
	}
	return out.Close()
}
