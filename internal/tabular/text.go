package tabular

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/cutover/cutover/internal/cutover"
	xenc "golang.org/x/text/encoding"
	"golang.org/x/text/transform"
)

type encoding int

const (
	encUTF8 encoding = iota
	encUTF16LE
	encUTF16BE
	encWindows1252
	encLegacy // the first of legacyCodecs; the rest follow in order
)

func (e encoding) String() string {
	if e >= encLegacy {
		return legacyCodecs[e-encLegacy].name
	}
	return [...]string{"utf-8", "utf-16le", "utf-16be", "windows-1252"}[e]
}

// codec is the x/text codec of a legacy encoding.
func (e encoding) codec() xenc.Encoding { return legacyCodecs[e-encLegacy].codec }

func legacyEncodings() []encoding {
	out := make([]encoding, len(legacyCodecs))
	for i := range legacyCodecs {
		out[i] = encLegacy + encoding(i)
	}
	return out
}

// parseEncoding maps an Options.Encoding to an encoding; set is false for
// "" (detect).
func parseEncoding(s string) (enc encoding, set bool, err error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return encUTF8, false, nil
	case "utf-8", "utf8":
		return encUTF8, true, nil
	case "utf-16le", "utf16le", "utf-16", "unicode":
		// Excel's "Unicode Text" is UTF-16LE; plain "utf-16" means the
		// same on every machine that writes these files.
		return encUTF16LE, true, nil
	case "utf-16be", "utf16be":
		return encUTF16BE, true, nil
	case "windows-1252", "cp1252", "win-1252", "latin1", "latin-1", "iso-8859-1", "iso8859-1", "ansi":
		// WHATWG decodes ISO-8859-1 labels as Windows-1252 too: files that
		// claim Latin-1 were almost always written by Windows.
		return encWindows1252, true, nil
	}
	k := strings.ToLower(strings.TrimSpace(s))
	for i, c := range legacyCodecs {
		if k == c.name || slices.Contains(c.aliases, k) {
			return encLegacy + encoding(i), true, nil
		}
	}
	return 0, false, cutover.Errorf(cutover.EINVALID, "Unknown encoding %q: use one of %s.", s, strings.Join(SupportedEncodings(), ", "))
}

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// detectEncoding decides the encoding from the first bytes. A BOM is
// decisive. Without one, UTF-16 shows as a NUL in every other byte (text in
// these exports is mostly ASCII), and anything that is not valid UTF-8 is
// taken as Windows-1252, which is what Excel writes for "CSV (Comma
// delimited)". A prefix that is pure ASCII is undecided: both readings agree
// on it, so the textReader decides at the first non-ASCII byte instead of
// guessing from 64 KiB of a gigabyte file.
//
// Text that is not UTF-8 is weighed against every legacy code page
// (detectLegacy), and g says how sure that choice is; g is nil when the
// encoding is certain (a BOM, UTF-16, valid UTF-8) or undecided.
func detectEncoding(prefix []byte, eof bool) (enc encoding, bom int, undecided bool, g *guess) {
	switch {
	case bytes.HasPrefix(prefix, bomUTF8):
		return encUTF8, 3, false, nil
	case bytes.HasPrefix(prefix, bomUTF16LE):
		return encUTF16LE, 2, false, nil
	case bytes.HasPrefix(prefix, bomUTF16BE):
		return encUTF16BE, 2, false, nil
	}
	sample := prefix[:min(len(prefix), 4096)&^1]
	if pairs := len(sample) / 2; pairs >= 2 {
		var even, odd int
		for i := 0; i < len(sample); i += 2 {
			if sample[i] == 0 {
				even++
			}
			if sample[i+1] == 0 {
				odd++
			}
		}
		switch {
		case odd*10 >= pairs*3 && even*20 <= pairs:
			return encUTF16LE, 0, false, nil
		case even*10 >= pairs*3 && odd*20 <= pairs:
			return encUTF16BE, 0, false, nil
		}
	}
	i := firstNonASCII(prefix)
	if i == len(prefix) {
		return encUTF8, 0, true, nil
	}
	body := prefix
	if !eof {
		body = body[:len(body)-incompleteTail(body)]
	}
	if utf8.Valid(body) {
		return encUTF8, 0, false, nil
	}
	lg := detectLegacy(prefix, eof)
	return lg.enc, 0, false, &lg
}

func firstNonASCII(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if b[i]|b[i+1]|b[i+2]|b[i+3]|b[i+4]|b[i+5]|b[i+6]|b[i+7] >= 0x80 {
			break
		}
	}
	for ; i < len(b); i++ {
		if b[i] >= 0x80 {
			return i
		}
	}
	return len(b)
}

// incompleteTail is the length of a UTF-8 sequence cut off at the end of b,
// which the next read completes.
func incompleteTail(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-3; i-- {
		c := b[i]
		if c < 0x80 {
			return 0
		}
		if c >= 0xC0 {
			need := 2
			if c >= 0xF0 {
				need = 4
			} else if c >= 0xE0 {
				need = 3
			}
			if len(b)-i < need {
				return len(b) - i
			}
			return 0
		}
	}
	return 0
}

// win1252 maps 0x80-0x9F; the rest of the upper half is Latin-1, which is
// the same code point. It is one small table, so the package needs no
// dependency for it; it agrees with golang.org/x/text's charmap for every
// byte but the five unassigned ones, which map to C1 controls as WHATWG
// decodes them rather than to U+FFFD, so the original byte stays
// recoverable.
var win1252 = [32]rune{
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
}

// textReader turns the raw bytes of a text export into valid UTF-8,
// refusing bytes that are invalid in the encoding with their offset: a
// replacement character would silently corrupt a customer's record.
type textReader struct {
	src   io.Reader
	name  string
	enc   encoding
	ascii bool  // undecided between UTF-8 and Windows-1252: all ASCII so far
	raw   int64 // bytes read from src
	pend  []byte
	pbuf  []byte
	eof   bool
	// guess is how sure detection was of a legacy code page (nil when
	// the encoding is certain or was given); strict refuses an uncertain
	// one decided after the sniffed prefix, as Open refuses one in it.
	guess  *guess
	strict bool
	dec    transform.Transformer
}

// minRead is the smallest p that Read accepts: room for the longest UTF-8
// sequence, so that every decoder can always make progress.
const minRead = 16

func (r *textReader) Read(p []byte) (int, error) {
	if len(p) < minRead {
		panic("tabular: textReader.Read needs at least 16 bytes")
	}
	if r.enc == encUTF8 {
		return r.readUTF8(p)
	}
	if len(r.pend) < 4 && !r.eof {
		if err := r.more(len(p)); err != nil {
			return 0, err
		}
	}
	if len(r.pend) == 0 && r.eof {
		return 0, io.EOF
	}
	switch {
	case r.enc == encWindows1252:
		return r.decode1252(p), nil
	case r.enc >= encLegacy:
		return r.decodeLegacy(p)
	}
	return r.decodeUTF16(p)
}

// more reads raw bytes for the transcoding decoders, keeping what is
// pending.
func (r *textReader) more(room int) error {
	want := max(room/2, 64)
	if cap(r.pbuf) < len(r.pend)+want {
		r.pbuf = make([]byte, 0, len(r.pend)+want)
	}
	n := copy(r.pbuf[:cap(r.pbuf)], r.pend)
	m, err := r.src.Read(r.pbuf[n : n+want])
	r.raw += int64(m)
	r.pend = r.pbuf[:n+m]
	if err == io.EOF {
		r.eof = true
	} else if err != nil {
		return readError(r.name, err)
	}
	return nil
}

func (r *textReader) readUTF8(p []byte) (int, error) {
	n := copy(p, r.pend)
	r.pend = r.pend[:0]
	if !r.eof {
		m, err := r.src.Read(p[n:])
		r.raw += int64(m)
		n += m
		if err == io.EOF {
			r.eof = true
		} else if err != nil {
			return 0, readError(r.name, err)
		}
	}
	if n == 0 && r.eof {
		return 0, io.EOF
	}
	base := r.raw - int64(n) // offset of p[0]
	if r.ascii {
		i := firstNonASCII(p[:n])
		if i == n {
			return n, nil
		}
		rest := p[i:n]
		body := rest
		if !r.eof {
			body = rest[:len(rest)-incompleteTail(rest)]
		}
		if len(body) == 0 {
			r.pend = append(r.pend, rest...)
			return i, nil
		}
		r.ascii = false
		if !utf8.Valid(body) {
			// The first non-ASCII bytes come after the sniffed prefix:
			// weigh the code pages on what this read holds.
			g := detectLegacy(rest, r.eof)
			if r.strict && g.confidence < LowConfidence {
				return 0, uncertainError(r.name, g)
			}
			r.enc, r.guess = g.enc, &g
			r.pend = append(r.pbuf[:0], rest...)
			r.pbuf = r.pend
			return i, nil
		}
	}
	hold := 0
	if !r.eof {
		hold = incompleteTail(p[:n])
	}
	if !utf8.Valid(p[:n-hold]) {
		return 0, r.invalid(base + int64(firstInvalid(p[:n-hold])))
	}
	r.pend = append(r.pend, p[n-hold:n]...)
	return n - hold, nil
}

func firstInvalid(b []byte) int {
	for i := 0; i < len(b); {
		c, size := utf8.DecodeRune(b[i:])
		if c == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}

func (r *textReader) invalid(off int64) error {
	switch r.enc {
	case encUTF8:
		return cutover.Errorf(cutover.EINVALID, "%s is not valid UTF-8 at byte %d. If Excel saved it as \"CSV (Comma delimited)\", read it with the windows-1252 encoding.", fileName(r.name), off)
	case encUTF16LE, encUTF16BE:
		return cutover.Errorf(cutover.EINVALID, "%s is not valid %s at byte %d: a character is cut off or an unpaired surrogate.", fileName(r.name), strings.ToUpper(r.enc.String()), off)
	default:
		return cutover.Errorf(cutover.EINVALID, "%s is not valid %s near byte %d: a byte sequence is not a character of that encoding. Check the file's encoding, or export it again as UTF-8.", fileName(r.name), r.enc.String(), off)
	}
}

func (r *textReader) decode1252(p []byte) int {
	j, i := 0, 0
	src := r.pend
	for ; i < len(src) && j+3 <= len(p); i++ {
		c := src[i]
		switch {
		case c < 0x80:
			p[j] = c
			j++
		case c < 0xA0:
			j += utf8.EncodeRune(p[j:], win1252[c-0x80])
		default:
			p[j] = 0xC0 | c>>6
			p[j+1] = 0x80 | c&0x3F
			j += 2
		}
	}
	r.pend = src[i:]
	return j
}

func (r *textReader) decodeUTF16(p []byte) (int, error) {
	src := r.pend
	base := r.raw - int64(len(src))
	le := r.enc == encUTF16LE
	unit := func(i int) rune {
		if le {
			return rune(src[i]) | rune(src[i+1])<<8
		}
		return rune(src[i])<<8 | rune(src[i+1])
	}
	j, i := 0, 0
	for i+1 < len(src) && j+4 <= len(p) {
		u := unit(i)
		switch {
		case u < 0x80:
			p[j] = byte(u)
			j++
			i += 2
		case utf16.IsSurrogate(u):
			if u >= 0xDC00 {
				return 0, r.invalid(base + int64(i))
			}
			if i+3 >= len(src) {
				if r.eof {
					return 0, r.invalid(base + int64(i))
				}
				goto done
			}
			c := utf16.DecodeRune(u, unit(i+2))
			if c == utf8.RuneError {
				return 0, r.invalid(base + int64(i))
			}
			j += utf8.EncodeRune(p[j:], c)
			i += 4
		default:
			j += utf8.EncodeRune(p[j:], u)
			i += 2
		}
	}
done:
	r.pend = src[i:]
	if r.eof && len(r.pend) == 1 {
		if j > 0 {
			return j, nil
		}
		return 0, r.invalid(base + int64(i))
	}
	return j, nil
}

// decodeLegacy decodes a legacy code page with its x/text decoder. The
// decoders turn an invalid sequence into U+FFFD; that is refused with its
// place rather than written into a customer's record.
func (r *textReader) decodeLegacy(p []byte) (int, error) {
	if r.dec == nil {
		r.dec = r.enc.codec().NewDecoder()
	}
	base := r.raw - int64(len(r.pend))
	nDst, nSrc, err := r.dec.Transform(p, r.pend, r.eof)
	if i := bytes.IndexRune(p[:nDst], utf8.RuneError); i >= 0 {
		return 0, r.invalid(base + int64(min(i, nSrc)))
	}
	r.pend = r.pend[nSrc:]
	if err != nil && err != transform.ErrShortSrc && err != transform.ErrShortDst {
		return 0, r.invalid(base + int64(nSrc))
	}
	if r.eof && nDst == 0 && len(r.pend) > 0 {
		return 0, r.invalid(base + int64(nSrc))
	}
	return nDst, nil
}

// format completes f with what the reader knows of the encoding so far.
func (r *textReader) format(f Format) Format {
	f.Encoding = r.enc.String()
	f.EncodingConfidence = 1
	if g := r.guess; g != nil {
		f.EncodingConfidence = g.confidence
		copy(f.EncodingAlternatives[:], g.alternatives)
	}
	return f
}
