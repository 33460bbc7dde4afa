package proc

import (
	"bytes"
	"io"
	"sync"
)

// maxLine bounds how much of an unterminated line is buffered before it is
// written out anyway.
const maxLine = 64 << 10

// writeMu serialises every LineWriter's writes, so lines from different
// processes sharing one destination never interleave.
var writeMu sync.Mutex

// LineWriter returns a writer that copies complete lines to w, each one
// prefixed with prefix and a space. Close writes out a final unterminated
// line. Write errors of w are ignored: process output must never block or
// fail the process.
func LineWriter(w io.Writer, prefix string) io.WriteCloser {
	return &lineWriter{w: w, prefix: []byte(prefix + " ")}
}

type lineWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix []byte
	buf    []byte
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()

	l.buf = append(l.buf, p...)

	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			if len(l.buf) >= maxLine {
				l.emit(l.buf)
				l.buf = l.buf[:0]
			}

			return len(p), nil
		}

		l.emit(l.buf[:i])
		l.buf = l.buf[i+1:]
	}
}

// Close writes out any buffered partial line. It always returns nil.
func (l *lineWriter) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()

	if len(l.buf) > 0 {
		l.emit(l.buf)
		l.buf = nil
	}

	return nil
}

func (l *lineWriter) emit(line []byte) {
	out := make([]byte, 0, len(l.prefix)+len(line)+1)
	out = append(out, l.prefix...)
	out = append(out, line...)
	out = append(out, '\n')

	writeMu.Lock()
	_, _ = l.w.Write(out)
	writeMu.Unlock()
}

// Serialized returns a writer that writes to w under the same lock as every
// LineWriter, for a log (such as a slog handler's) that shares w with
// process output. Its Write returns what w's Write returns.
func Serialized(w io.Writer) io.Writer {
	return serialized{w: w}
}

type serialized struct{ w io.Writer }

func (s serialized) Write(p []byte) (int, error) {
	writeMu.Lock()
	defer writeMu.Unlock()

	return s.w.Write(p)
}
