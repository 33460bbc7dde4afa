package tabular

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cutover/cutover/internal/cutover"
	xenc "golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// legacyCodec is a legacy code page that detection weighs and Options may
// name. The order of legacyCodecs is the preference among candidates that
// decode a sample to exactly the same text (Spanish with only á é í ó ú
// reads the same in windows-1252 and windows-1250): the more common page
// wins, and since the text is identical nothing is lost either way.
type legacyCodec struct {
	name    string
	aliases []string
	codec   xenc.Encoding
}

var legacyCodecs = []legacyCodec{
	{"windows-1250", []string{"cp1250", "win-1250"}, charmap.Windows1250},
	{"windows-1251", []string{"cp1251", "win-1251"}, charmap.Windows1251},
	{"iso-8859-15", []string{"iso8859-15", "latin-9", "latin9"}, charmap.ISO8859_15},
	{"iso-8859-2", []string{"iso8859-2", "latin2", "latin-2"}, charmap.ISO8859_2},
	{"koi8-r", []string{"koi8r"}, charmap.KOI8R},
	{"koi8-u", []string{"koi8u"}, charmap.KOI8U},
	{"iso-8859-5", []string{"iso8859-5"}, charmap.ISO8859_5},
	{"windows-1253", []string{"cp1253"}, charmap.Windows1253},
	{"iso-8859-7", []string{"iso8859-7"}, charmap.ISO8859_7},
	{"windows-1254", []string{"cp1254"}, charmap.Windows1254},
	{"iso-8859-9", []string{"iso8859-9", "latin5"}, charmap.ISO8859_9},
	{"windows-1257", []string{"cp1257"}, charmap.Windows1257},
	{"iso-8859-13", []string{"iso8859-13"}, charmap.ISO8859_13},
	{"windows-1255", []string{"cp1255"}, charmap.Windows1255},
	{"windows-1256", []string{"cp1256"}, charmap.Windows1256},
	{"big5", []string{"big-5", "cp950"}, traditionalchinese.Big5},
	{"gb18030", []string{"gbk", "gb2312", "cp936"}, simplifiedchinese.GB18030},
	{"shift_jis", []string{"shift-jis", "sjis", "cp932", "windows-31j"}, japanese.ShiftJIS},
	{"euc-jp", []string{"eucjp"}, japanese.EUCJP},
	{"euc-kr", []string{"euckr", "cp949", "uhc"}, korean.EUCKR},
}

// SupportedEncodings lists the encoding names Options.Encoding accepts (each
// also under common aliases), for a person choosing one and for the API
// that validates a stored choice. It never fails.
func SupportedEncodings() []string {
	out := []string{"utf-8", "utf-16le", "utf-16be", "windows-1252"}
	for _, c := range legacyCodecs {
		out = append(out, c.name)
	}
	return out
}

// CanonicalEncoding returns the name Format reports for an encoding name
// or alias Options.Encoding accepts ("CP1252" gives "windows-1252"); ""
// stays "" (detect). It lets a stored choice be validated and shown the
// way the reader names it.
//
// Errors: EINVALID naming the supported encodings when s is unknown.
func CanonicalEncoding(s string) (string, error) {
	enc, set, err := parseEncoding(s)
	if err != nil || !set {
		return "", err
	}
	return enc.String(), nil
}

// EncodingGuess is one reading of a file's bytes that detection weighed.
type EncodingGuess struct {
	Encoding   string
	Confidence float64 // 0..1
}

// Alternatives are the next likeliest encodings of a guessed one, best
// first, in a fixed array so that Format stays comparable (chunk plans and
// tests compare formats); unused entries are zero. In JSON it is the list
// of the used entries.
type Alternatives [3]EncodingGuess

// List returns the used entries. It never fails.
func (a Alternatives) List() []EncodingGuess {
	var out []EncodingGuess
	for _, g := range a {
		if g.Encoding != "" {
			out = append(out, g)
		}
	}
	return out
}

// MarshalJSON writes the used entries as a list ([] when none).
func (a Alternatives) MarshalJSON() ([]byte, error) {
	l := a.List()
	if l == nil {
		l = []EncodingGuess{}
	}
	return json.Marshal(l)
}

// UnmarshalJSON reads a list written by MarshalJSON; entries past the
// third are dropped.
//
// Errors: those of encoding/json for anything but a list of guesses.
func (a *Alternatives) UnmarshalJSON(b []byte) error {
	var l []EncodingGuess
	if err := json.Unmarshal(b, &l); err != nil {
		return err
	}
	*a = Alternatives{}
	copy(a[:], l)
	return nil
}

// LowConfidence is the confidence under which Open does not pick an
// encoding by itself (unless Options.AllowUncertainEncoding is set).
const LowConfidence = 0.5

// guess is the outcome of weighing the legacy code pages on a sample.
type guess struct {
	enc          encoding
	confidence   float64
	alternatives []EncodingGuess
}

// detectLegacy weighs every legacy code page on a sample that is not valid
// UTF-8 (nor UTF-16) and returns the most plausible one. Plausibility is
// evidence a person would use: bytes a code page does not define or that
// decode to control characters (0x80-0x9F in ISO-8859-x), symbols inside
// words, words that mix scripts or switch from lower to upper case, how
// much of the text the letters of one language cover, and for Chinese,
// Japanese and Korean how many of the characters are the common ones.
// Readings that give the same text are one reading. Confidence is high only
// when the best reading is both plausible and clearly ahead of the next.
func detectLegacy(sample []byte, eof bool) guess {
	sample = nonASCIILines(sample, eof, 32<<10)
	type cand struct {
		enc   encoding
		score float64
		text  string
	}
	var cands []cand
	seen := map[string]bool{}
	for i, enc := range append([]encoding{encWindows1252}, legacyEncodings()...) {
		text := decodeSample(enc, sample)
		if seen[text] {
			continue
		}
		seen[text] = true
		cands = append(cands, cand{enc, plausibility(text) - float64(i)*1e-6, text})
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].score > cands[j].score })
	best := cands[0]
	conf := clamp01(best.score / 0.7)
	if len(cands) > 1 {
		// Readings that differ in a few characters (Spanish ñ in
		// windows-1252 is ń in windows-1250) are told apart by those
		// characters alone: the gap counts per differing character.
		gap := (best.score - cands[1].score) / max(differing(best.text, cands[1].text), 0.02)
		conf *= clamp01(gap / 0.2)
	}
	g := guess{enc: best.enc, confidence: round2(conf)}
	// What confidence the best reading lacks is shared among the next
	// ones by how close each comes to it.
	alts := cands[1:min(len(cands), 4)]
	var total float64
	weights := make([]float64, len(alts))
	for i, c := range alts {
		weights[i] = math.Exp((c.score - best.score) / 0.1)
		total += weights[i]
	}
	for i, c := range alts {
		share := 0.0
		if total > 0 {
			share = weights[i] / total
		}
		g.alternatives = append(g.alternatives, EncodingGuess{c.enc.String(), round2((1 - conf) * share)})
	}
	return g
}

// differing is the share of the non-ASCII characters of a that b reads
// differently: 1 when the readings do not align character for character.
func differing(a, b string) float64 {
	ra, rb := []rune(a), []rune(b)
	if len(ra) != len(rb) {
		return 1
	}
	var n, d float64
	for i := range ra {
		if ra[i] >= 0x80 || rb[i] >= 0x80 {
			n++
			if ra[i] != rb[i] {
				d++
			}
		}
	}
	if n == 0 {
		return 1
	}
	return d / n
}

func clamp01(f float64) float64 { return max(0, min(1, f)) }

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }

// nonASCIILines keeps the lines of b that hold a non-ASCII byte, up to
// limit bytes, cut at a line end unless b is the whole file, so that no
// multi-byte character is cut in two (no legacy code page uses a line
// feed inside a character).
func nonASCIILines(b []byte, eof bool, limit int) []byte {
	if !eof {
		if i := bytes.LastIndexByte(b, '\n'); i > 0 {
			b = b[:i+1]
		}
	}
	var out []byte
	for len(b) > 0 && len(out) < limit {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line = b[:i+1]
		}
		b = b[len(line):]
		if firstNonASCII(line) < len(line) {
			out = append(out, line...)
		}
	}
	return out
}

func decodeSample(enc encoding, b []byte) string {
	if enc == encWindows1252 {
		var sb strings.Builder
		for _, c := range b {
			switch {
			case c < 0x80:
				sb.WriteByte(c)
			case c < 0xA0:
				sb.WriteRune(win1252[c-0x80])
			default:
				sb.WriteRune(rune(c))
			}
		}
		return sb.String()
	}
	out, err := enc.codec().NewDecoder().Bytes(b)
	if err != nil {
		return strings.Repeat("\uFFFD", len(b))
	}
	return string(out)
}

// Language letter sets (lower case): a reading whose accented letters all
// belong to one language is far likelier than one that mixes Polish ń
// with Spanish á.
var alphabets = []string{
	"áéíóúñü", "àâæçéèêëîïôœùûüÿ", "äöüß", "áâãàçéêíóôõú", "àèéìíîòóùú",
	"áéíóúëïöüèà", "åäöæøéü", "ąćęłńóśźż", "áčďéěíňóřšťúůýž", "áäčďéíĺľňóôŕšťúýž",
	"áéíóöőúüű", "čćđšž", "ăâîșşțţ", "çğıöşüâîû", "āčēģīķļņšūž", "ąčęėįšųūž", "äõöüšž",
	"абвгдеёжзийклмнопрстуфхцчшщъыьэюя", "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя",
	"абвгдђежзијклљмнњопрстћуфхцчџшѕѓќъьюяйщ",
	"αβγδεζηθικλμνξοπρσςτυφχψωάέήίόύώϊϋΐΰ",
	"אבגדהוזחטיכלמנסעפצקרשתךםןףץ",
	"ءآأؤإئابةتثجحخدذرزسشصضطظعغفقكلمنهوىيپچژگ",
}

// Frequent characters: letters for Cyrillic, and for Chinese, Japanese and
// Korean the characters that fill most everyday text, names and addresses.
const (
	freqCyrillic = "оеаинтсрвлкмдпу"
	freqHant     = "的一是不了在人有我他這個們中來上大為和國地到以說時要就出會可也你對生能而子那得於著下自之年過發後作裡用道行所然家種事成方多經麼去法學如都同現當沒動面起看定天分還進好小部其些主樣理心本前開但因只從想實日市區路號臺台灣北南東西新山民里鄉鎮縣館園公司電話站街段巷弄樓第與及或等月點間資料名稱地址務處"
	freqHans     = "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心本前开但因只从想实日市区路号省县镇乡村街公司电话北京上海广州深圳东南西楼室与及或等月点间资料名称地址务处王李张刘陈杨黄赵吴周"
	freqJapanese = "日本人大年一中会社東京都府県市区町村丁目番号株式有限電話者事業生出上下前後子田山川名住所"
	freqKorean   = "이다는의에가을하고지기로서한사를도리자시어나대수정인일아해그주것으전부상제여있라장원보동구게면국소성우과들내만경문회관스생학개중신되무요김박최강조윤임오권황안송류홍울특별광역번호길읍군트"
)

// cjkProfile is a reading of Han, kana and Hangul as one language.
type cjkProfile struct {
	natural func(r rune) bool
	freq    string
}

// plausibility scores decoded text: about 1 for text a person would read
// as written, more for Chinese, Japanese or Korean text full of common
// characters, less (down to below 0) for undefined bytes, control
// characters and the marks of a wrong code page.
func plausibility(text string) float64 {
	var n, neutral, bad float64
	letters := map[rune]int{}
	var cjk []rune
	var prev rune
	prevWord := -1 // script of the word so far: -1 none
	runes := []rune(text)
	for i, r := range runes {
		if i > 0 {
			prev = runes[i-1]
		}
		next := rune(0)
		if i+1 < len(runes) {
			next = runes[i+1]
		}
		letter := unicode.IsLetter(r) || unicode.IsMark(r)
		if r < 0x80 {
			if letter {
				prevWord = mixScript(prevWord, 0, &bad)
			} else {
				prevWord = -1
			}
			continue
		}
		if !letter {
			prevWord = -1
		}
		n++
		switch {
		case r == utf8.RuneError, r < 0xA0, unicode.Is(unicode.Co, r):
			bad += 4
		case unicode.Is(unicode.Han, r), unicode.In(r, unicode.Hiragana, unicode.Katakana, unicode.Hangul):
			cjk = append(cjk, r)
			prevWord = -1
			// A two-byte reading of single-byte text glues an ideograph
			// to the Latin letters around it ("Ren閑", "Z黵ich").
			for _, c := range []rune{prev, next} {
				if c < 0x80 && unicode.IsLetter(c) {
					bad += 0.5
				}
			}
		case strings.ContainsRune("ªºµ", r):
			neutral++
		case unicode.IsLetter(r):
			s := scriptOf(r)
			if unicode.IsUpper(r) && unicode.IsLower(prev) {
				bad++
			}
			before := prevWord
			prevWord = mixScript(prevWord, s, &bad)
			if before != -1 && before != s {
				break
			}
			letters[unicode.ToLower(r)]++
		case strings.ContainsRune("¤¦¨´¸¯¬", r), r >= 0x2500 && r <= 0x25FF, r >= 0x2320 && r <= 0x2321:
			bad++
		case unicode.IsLetter(prev) && unicode.IsLetter(next) && !strings.ContainsRune("’·\u00AD", r):
			bad += 2 // a symbol inside a word
		default:
			neutral++
		}
	}
	if n == 0 {
		return 1
	}
	// A character of a script that is nearly absent from the text (one
	// Arabic semicolon among Latin words) is a misread byte.
	scripts := map[int]float64{}
	var total float64
	for _, r := range runes {
		if unicode.IsLetter(r) {
			scripts[scriptOf(r)]++
			total++
		}
	}
	for _, r := range runes {
		if s := scriptOf(r); r >= 0x80 && s > 0 && s < 5 && scripts[s] < 0.05*total {
			bad++
		}
	}
	best := 0.0
	for _, a := range alphabets {
		var c float64
		for r, k := range letters {
			if strings.ContainsRune(a, r) {
				c += float64(k)
			}
		}
		if strings.ContainsRune(a, 'о') {
			for r, k := range letters {
				if strings.ContainsRune(freqCyrillic, r) {
					c += 0.3 * float64(k)
				}
			}
		}
		best = max(best, c)
	}
	if len(cjk) > 0 {
		counts := map[rune]float64{}
		for _, r := range cjk {
			counts[r]++
		}
		for _, p := range cjkProfiles {
			var c float64
			for r, k := range counts {
				if p.natural(r) {
					c += 0.7 * (k - 1) // the rest of the occurrences
				}
				if strings.ContainsRune(p.freq, r) {
					c += 0.6 * (k - 1)
				}
				if p.natural(r) {
					c += 0.7
				}
				if strings.ContainsRune(p.freq, r) {
					c += 0.6
				}
			}
			best = max(best, c)
		}
	}
	return (best + neutral - bad) / n
}

var cjkProfiles = []cjkProfile{
	{func(r rune) bool {
		return unicode.Is(unicode.Han, r) && inCodeRange(traditionalchinese.Big5, r, 0xA4, 0xF9, 0x40)
	}, freqHant},
	{func(r rune) bool {
		return unicode.Is(unicode.Han, r) && inCodeRange(simplifiedchinese.GBK, r, 0xB0, 0xF7, 0xA1)
	}, freqHans},
	{func(r rune) bool {
		return unicode.In(r, unicode.Hiragana, unicode.Katakana) || unicode.Is(unicode.Han, r) && inCodeRange(japanese.EUCJP, r, 0xB0, 0xF4, 0xA1)
	}, freqJapanese + "ぁあいうえおかがきぎくぐけこごさざしじすせそただちっつてでとどなにぬねのはばひびふぶへべほまみむめもゃやゅゆょよらりるれろわをんアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワンー"},
	{func(r rune) bool {
		return unicode.Is(unicode.Hangul, r) && inCodeRange(korean.EUCKR, r, 0xB0, 0xC8, 0xA1)
	}, freqKorean},
}

// inCodeRange reports whether r encodes in e as two bytes whose lead is in
// [lo, hi] and whose trail is at least trail: the commonly used part of a
// national character set (GB2312 level 1 and 2, Big5's standard Han, JIS
// X 0208 kanji, KS X 1001 Hangul), whichever code page the text came from.
func inCodeRange(e xenc.Encoding, r rune, lo, hi, trail byte) bool {
	b, err := e.NewEncoder().Bytes([]byte(string(r)))
	return err == nil && len(b) == 2 && b[0] >= lo && b[0] <= hi && b[1] >= trail
}

// scriptOf sorts letters into Latin (0), Greek (1), Cyrillic (2), Hebrew
// (3), Arabic (4) and other (5); the punctuation of a script's block
// (the Arabic semicolon) counts as that script.
func scriptOf(r rune) int {
	switch {
	case r < 0x250 && unicode.IsLetter(r), unicode.Is(unicode.Latin, r):
		return 0
	case unicode.Is(unicode.Greek, r), r >= 0x370 && r <= 0x3FF:
		return 1
	case unicode.Is(unicode.Cyrillic, r):
		return 2
	case unicode.Is(unicode.Hebrew, r), r >= 0x590 && r <= 0x5FF:
		return 3
	case unicode.Is(unicode.Arabic, r), r >= 0x600 && r <= 0x6FF:
		return 4
	}
	return 5
}

// mixScript tracks the script of the current word and counts a letter of
// another script inside it as a mark of a wrong code page.
func mixScript(word, s int, bad *float64) int {
	if word != -1 && word != s {
		*bad += 2
	}
	return s
}

func uncertainError(name string, g guess) error {
	alts := make([]string, 0, len(g.alternatives))
	for _, a := range g.alternatives {
		alts = append(alts, a.Encoding)
	}
	return cutover.Errorf(cutover.EINVALID, "%s", fmt.Sprintf("%s is not UTF-8, and its encoding cannot be told for sure: most likely %s (confidence %.0f%%), or else %s. Choose the file's encoding (the --encoding option, or the file's format setting in the site) so that no text is garbled.",
		fileName(name), g.enc, g.confidence*100, strings.Join(alts, ", ")))
}
