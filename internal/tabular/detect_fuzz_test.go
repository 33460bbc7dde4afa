package tabular

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDetectEncoding feeds arbitrary bytes to the encoding detector and to
// Open. Whatever the bytes: detection is deterministic, its confidences are
// in 0..1 and name distinct encodings; a table Open returns without being
// allowed an uncertain guess was decided with confidence; every field is
// valid UTF-8; header names are unique whatever their case.
func FuzzDetectEncoding(f *testing.F) {
	for _, fx := range legacyFixtures {
		raw, err := fx.codec.NewEncoder().Bytes([]byte(fx.text))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw, false)
		f.Add(raw[:len(raw)/3], true)
	}
	f.Add([]byte("name,name,Name (2)\n\xC4\xE5,x,y\n"), true)
	f.Add([]byte("a\n\x82\xA0\x82\xA2\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, allow bool) {
		g1, g2 := detectLegacy(data, true), detectLegacy(data, true)
		if g1.enc != g2.enc || g1.confidence != g2.confidence {
			t.Fatalf("not deterministic: %+v %+v", g1, g2)
		}
		if !(g1.confidence >= 0 && g1.confidence <= 1) {
			t.Fatalf("confidence %v", g1.confidence)
		}
		seen := map[string]bool{g1.enc.String(): true}
		for _, a := range g1.alternatives {
			if seen[a.Encoding] || !(a.Confidence >= 0 && a.Confidence <= 1) {
				t.Fatalf("alternatives %+v of %s", g1.alternatives, g1.enc)
			}
			seen[a.Encoding] = true
		}
		tables, err := Open(bytes.NewReader(data), "fuzz.csv", Options{AllowUncertainEncoding: allow, MaxFieldBytes: 256, MaxRecordBytes: 1024})
		if err != nil {
			checkInvalid(t, err)
			return
		}
		for _, tb := range tables {
			names := map[string]bool{}
			for _, h := range tb.Header() {
				if names[strings.ToLower(h)] {
					t.Fatalf("header %q repeats %q", tb.Header(), h)
				}
				names[strings.ToLower(h)] = true
			}
			for {
				row, err := tb.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					checkInvalid(t, err)
					break
				}
				for _, v := range row.Fields {
					if !utf8.ValidString(v) {
						t.Fatalf("invalid UTF-8 %q", v)
					}
				}
			}
			f := tb.Format()
			if !allow && f.EncodingConfidence < LowConfidence {
				t.Fatalf("uncertain %s (%.2f) read without being allowed", f.Encoding, f.EncodingConfidence)
			}
			_ = tb.Close()
		}
	})
}
