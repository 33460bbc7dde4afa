package cutover

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheckNameRefusesInvisibleCharacters(t *testing.T) {
	for _, bad := range []string{"", "  ", "a\u202Eb", "a\u2066b", "a\u200Bb", "a\uFEFFb", "a\x00b", "a\tb", "a\nb", "a\u0085b", "a\u2028b", "a\xffb", "a\uFFFDb", strings.Repeat("é", 6)} {
		if err := CheckName("name", bad, 10); ErrorCode(err) != EINVALID {
			t.Errorf("%+q: %v", bad, err)
		}
	}
	for _, ok := range []string{"Acme", "Müller & Söhne", "東京", "O'Brien (UK) Ltd.", "a b"} {
		if err := CheckName("name", ok, 40); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

func TestCheckContentType(t *testing.T) {
	for ct, ok := range map[string]bool{
		"text/csv": true, "text/csv; charset=utf-8": true, "application/vnd.ms-excel": true,
		"text/csv\r\nX: y": false, "text/csv\n": false, "text": false, "/csv": false, "text/c sv": false, "tëxt/csv": false,
	} {
		if err := CheckContentType(ct); (err == nil) != ok {
			t.Errorf("%q: %v", ct, err)
		}
	}
}

func TestClipKeepsRunesWhole(t *testing.T) {
	s := strings.Repeat("é", 10) // 20 bytes
	for max := 0; max <= 22; max++ {
		c := Clip(s, max)
		if len(c) > max || !utf8.ValidString(c) || (max >= 20 && c != s) {
			t.Errorf("Clip(%d) = %q (%d bytes)", max, c, len(c))
		}
	}
}

// A left-out value is kept whole up to the cap, and cut at a rune
// boundary, marked, and within the cap past it.
func TestKeepInvalidBoundsTheRawValue(t *testing.T) {
	if got := KeepInvalid("call me"); got != "call me" {
		t.Errorf("a short value was changed: %q", got)
	}
	long := strings.Repeat("é", MaxInvalidValueBytes) // two bytes each
	got := KeepInvalid(long)
	if len(got) > MaxInvalidValueBytes || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") || !strings.HasPrefix(long, strings.TrimSuffix(got, "…")) {
		t.Errorf("cut value: %d bytes, valid %v, suffix %q", len(got), utf8.ValidString(got), got[len(got)-3:])
	}
}
