package mapspec

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cutover/cutover/internal/tabular"
	"github.com/nyaruka/phonenumbers"
)

// ---- dates ----------------------------------------------------------------

type dateKind uint8

const (
	dkLayout dateKind = iota
	dkISO
	dkExcel
	dkUnix
)

type dtok struct {
	kind byte // Y y M N D h m s A, or L for a literal
	lit  string
}

type dateFormat struct {
	name    string
	kind    dateKind
	toks    []dtok
	hasTime bool
}

// dateParts is a parsed date and time, before zone handling.
type dateParts struct {
	y, mo, d, h, mi, s, nano int
	hasOff                   bool
	off                      int // seconds east of UTC
	inst                     time.Time
	isInst                   bool // inst is an instant (Excel, Unix) rather than parts
}

func compileDateFormat(f string) (*dateFormat, error) {
	switch strings.ToUpper(f) {
	case "ISO":
		return &dateFormat{name: "ISO", kind: dkISO}, nil
	case "EXCEL":
		return &dateFormat{name: "EXCEL", kind: dkExcel}, nil
	case "UNIX":
		return &dateFormat{name: "UNIX", kind: dkUnix}, nil
	}
	df := &dateFormat{name: f}
	var y, m, d bool
	for i := 0; i < len(f); {
		run := 1
		for i+run < len(f) && f[i+run] == f[i] {
			run++
		}
		c := f[i]
		var k byte
		switch {
		case c == 'Y' && run == 4:
			k, y = 'Y', true
		case c == 'Y' && run == 2:
			k, y = 'y', true
		case c == 'M' && (run == 3 || run == 4):
			k, m = 'N', true
		case c == 'M' && run <= 2:
			k, m = 'M', true
		case c == 'D' && run <= 2:
			k, d = 'D', true
		case (c == 'h' || c == 'H') && run <= 2:
			k, df.hasTime = 'h', true
		case c == 'm' && run <= 2:
			k = 'm'
		case c == 's' && run <= 2:
			k = 's'
		case c == 'A' && run == 1:
			k = 'A'
		case c == 'Y' || c == 'M' || c == 'D':
			return nil, fmt.Errorf("date format %q: %q is not a token (use YYYY, YY, MM, M, MMM, MMMM, DD, D, hh, mm, ss, A)", f, f[i:i+run])
		}
		if k != 0 {
			df.toks = append(df.toks, dtok{kind: k})
			i += run
			continue
		}
		// A literal: one character (a multi-byte rune stays whole).
		_, sz := utf8.DecodeRuneInString(f[i:])
		if n := len(df.toks); n > 0 && df.toks[n-1].kind == 'L' {
			df.toks[n-1].lit += f[i : i+sz]
		} else {
			df.toks = append(df.toks, dtok{kind: 'L', lit: f[i : i+sz]})
		}
		i += sz
	}
	if !y || !m || !d {
		return nil, fmt.Errorf("date format %q needs a year, a month and a day (or use ISO, EXCEL or UNIX)", f)
	}
	return df, nil
}

// monthWords are month names and their usual abbreviations in English,
// French, German, Spanish, Italian, Dutch and Portuguese. An abbreviation
// two languages use for different months ("jui") is not listed.
var monthWords = func() map[string]int {
	m := map[string]int{}
	for mo, names := range [12][]string{
		{"january", "jan", "janvier", "janv", "januar", "jänner", "jän", "enero", "ene", "gennaio", "gen", "januari", "janeiro"},
		{"february", "feb", "février", "fevrier", "févr", "fevr", "fév", "fev", "februar", "febrero", "febbraio", "februari", "fevereiro"},
		{"march", "mar", "mars", "märz", "mär", "marzo", "maart", "mrt", "março", "marco"},
		{"april", "apr", "avril", "avr", "abril", "abr", "aprile"},
		{"may", "mai", "mayo", "maggio", "mag", "mei", "maio"},
		{"june", "jun", "juin", "juni", "junio", "giugno", "giu", "junho"},
		{"july", "jul", "juillet", "juil", "juli", "julio", "luglio", "lug", "julho"},
		{"august", "aug", "août", "aout", "agosto", "ago", "augustus"},
		{"september", "sep", "sept", "septembre", "septiembre", "setiembre", "settembre", "set", "setembro"},
		{"october", "oct", "octobre", "oktober", "okt", "octubre", "ottobre", "ott", "outubro", "out"},
		{"november", "nov", "novembre", "noviembre", "novembro"},
		{"december", "dec", "décembre", "decembre", "déc", "dezember", "dez", "diciembre", "dic", "dicembre", "dezembro"},
	} {
		for _, n := range names {
			m[n] = mo + 1
		}
	}
	return m
}()

// monthNumber returns the month a word names (1-12), or 0.
func monthNumber(w string) int {
	return monthWords[strings.ToLower(w)]
}

func digits(s string, i, min, max int) (int, int, bool) {
	n, j := 0, i
	for j < len(s) && j-i < max && s[j] >= '0' && s[j] <= '9' {
		n = n*10 + int(s[j]-'0')
		j++
	}
	if j-i < min {
		return 0, i, false
	}
	return n, j, true
}

func (df *dateFormat) parse(s string) (dateParts, bool) {
	switch df.kind {
	case dkISO:
		return parseISO(s)
	case dkExcel:
		return parseExcel(s)
	case dkUnix:
		return parseUnix(s)
	}
	var p dateParts
	p.h, p.mi, p.s = 0, 0, 0
	pm, am := false, false
	i := 0
	var ok bool
	for _, t := range df.toks {
		switch t.kind {
		case 'Y':
			if p.y, i, ok = digits(s, i, 4, 4); !ok {
				return p, false
			}
		case 'y':
			if p.y, i, ok = digits(s, i, 2, 2); !ok {
				return p, false
			}
			if p.y < 70 {
				p.y += 2000
			} else {
				p.y += 1900
			}
		case 'M':
			if p.mo, i, ok = digits(s, i, 1, 2); !ok {
				return p, false
			}
		case 'D':
			if p.d, i, ok = digits(s, i, 1, 2); !ok {
				return p, false
			}
		case 'h':
			if p.h, i, ok = digits(s, i, 1, 2); !ok {
				return p, false
			}
		case 'm':
			if p.mi, i, ok = digits(s, i, 2, 2); !ok {
				return p, false
			}
		case 's':
			if p.s, i, ok = digits(s, i, 2, 2); !ok {
				return p, false
			}
		case 'N':
			j := i
			for j < len(s) {
				r, sz := utf8.DecodeRuneInString(s[j:])
				if !unicode.IsLetter(r) {
					break
				}
				j += sz
			}
			if p.mo = monthNumber(s[i:j]); p.mo == 0 {
				return p, false
			}
			i = j
			if i < len(s) && s[i] == '.' { // "janv.", "Okt."
				i++
			}
		case 'A':
			if i+2 > len(s) {
				return p, false
			}
			switch strings.ToLower(s[i : i+2]) {
			case "am":
				am = true
			case "pm":
				pm = true
			default:
				return p, false
			}
			i += 2
		case 'L':
			if t.lit == " " {
				if i >= len(s) || s[i] != ' ' {
					return p, false
				}
				for i < len(s) && s[i] == ' ' {
					i++
				}
				continue
			}
			if !strings.HasPrefix(s[i:], t.lit) && !strings.EqualFold(s[i:min(len(s), i+len(t.lit))], t.lit) {
				return p, false
			}
			i += len(t.lit)
		}
	}
	if am || pm {
		if p.h < 1 || p.h > 12 {
			return p, false
		}
		if pm && p.h != 12 {
			p.h += 12
		} else if am && p.h == 12 {
			p.h = 0
		}
	}
	if i < len(s) {
		if df.hasTime {
			return p, false
		}
		// A date layout also accepts a trailing time: " 14:33", "T14:33:05".
		if !parseTimeSuffix(s[i:], &p) {
			return p, false
		}
	}
	return p, validParts(p)
}

// parseTimeSuffix reads [ T]hh:mm[:ss[.frac]][ AM|PM].
func parseTimeSuffix(s string, p *dateParts) bool {
	if s == "" || (s[0] != ' ' && s[0] != 'T') {
		return false
	}
	i := 1
	for i < len(s) && s[i] == ' ' {
		i++
	}
	var ok bool
	if p.h, i, ok = digits(s, i, 1, 2); !ok || i >= len(s) || s[i] != ':' {
		return false
	}
	if p.mi, i, ok = digits(s, i+1, 2, 2); !ok {
		return false
	}
	if i < len(s) && s[i] == ':' {
		if p.s, i, ok = digits(s, i+1, 2, 2); !ok {
			return false
		}
		if i < len(s) && s[i] == '.' {
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			i = j
		}
	}
	rest := strings.TrimSpace(s[i:])
	switch strings.ToLower(rest) {
	case "":
	case "am", "pm":
		if p.h < 1 || p.h > 12 {
			return false
		}
		if rest[0]|0x20 == 'p' && p.h != 12 {
			p.h += 12
		} else if rest[0]|0x20 == 'a' && p.h == 12 {
			p.h = 0
		}
	default:
		return false
	}
	return true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func validParts(p dateParts) bool {
	return p.y >= 1000 && p.y <= 9999 && p.mo >= 1 && p.mo <= 12 && p.d >= 1 && p.d <= daysIn(p.y, p.mo) &&
		p.h >= 0 && p.h < 24 && p.mi >= 0 && p.mi < 60 && p.s >= 0 && p.s < 60
}

func parseISO(s string) (dateParts, bool) {
	var p dateParts
	var ok bool
	i := 0
	if p.y, i, ok = digits(s, 0, 4, 4); !ok || i >= len(s) || s[i] != '-' {
		return p, false
	}
	if p.mo, i, ok = digits(s, i+1, 2, 2); !ok || i >= len(s) || s[i] != '-' {
		return p, false
	}
	if p.d, i, ok = digits(s, i+1, 2, 2); !ok {
		return p, false
	}
	if i < len(s) {
		if s[i] != 'T' && s[i] != ' ' {
			return p, false
		}
		if p.h, i, ok = digits(s, i+1, 2, 2); !ok || i >= len(s) || s[i] != ':' {
			return p, false
		}
		if p.mi, i, ok = digits(s, i+1, 2, 2); !ok {
			return p, false
		}
		if i < len(s) && s[i] == ':' {
			if p.s, i, ok = digits(s, i+1, 2, 2); !ok {
				return p, false
			}
			if i < len(s) && (s[i] == '.' || s[i] == ',') {
				j := i + 1
				for j < len(s) && s[j] >= '0' && s[j] <= '9' {
					j++
				}
				if j == i+1 {
					return p, false
				}
				frac := s[i+1 : min(j, i+10)]
				n, _ := strconv.Atoi(frac)
				for k := len(frac); k < 9; k++ {
					n *= 10
				}
				p.nano = n
				i = j
			}
		}
		if i+1 < len(s) && s[i] == ' ' { // "2023-01-05 10:00:00 UTC", "... +0100"
			i++
		}
		if rest := s[i:]; rest == "UTC" || rest == "GMT" || rest == "utc" || rest == "gmt" {
			p.hasOff = true
			i = len(s)
		}
		if i < len(s) {
			switch s[i] {
			case 'Z', 'z':
				p.hasOff = true
				i++
			case '+', '-':
				sign := 1
				if s[i] == '-' {
					sign = -1
				}
				var oh, om int
				if oh, i, ok = digits(s, i+1, 2, 2); !ok {
					return p, false
				}
				if i < len(s) && s[i] == ':' {
					i++
				}
				if i < len(s) {
					if om, i, ok = digits(s, i, 2, 2); !ok {
						return p, false
					}
				}
				if oh > 14 || om > 59 {
					return p, false
				}
				p.hasOff, p.off = true, sign*(oh*3600+om*60)
			}
		}
		if i != len(s) {
			return p, false
		}
	}
	return p, validParts(p)
}

func parseExcel(s string) (dateParts, bool) {
	var p dateParts
	if s == "" || s[0] < '0' || s[0] > '9' {
		return p, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return p, false
	}
	t, ok := tabular.ExcelSerialTime(f, false) // a CSV keeps no date system: Excel's default
	if !ok {
		return p, false
	}
	p.y, p.mo, p.d = t.Year(), int(t.Month()), t.Day()
	p.h, p.mi, p.s = t.Hour(), t.Minute(), t.Second()
	return p, true
}

func parseUnix(s string) (dateParts, bool) {
	var p dateParts
	if len(s) < 9 || len(s) > 13 {
		return p, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return p, false
	}
	var t time.Time
	if len(s) >= 12 {
		t = time.UnixMilli(n).UTC()
	} else {
		t = time.Unix(n, 0).UTC()
	}
	p.inst, p.isInst, p.hasOff = t, true, true
	p.y, p.mo, p.d = t.Year(), int(t.Month()), t.Day()
	return p, true
}

type dateConv struct {
	formats   []*dateFormat
	names     string
	explicit  bool // the step names its formats: inference leaves them alone
	auto      bool // no format was named: read any known one
	prefer    byte // 'D' or 'M': which reading wins when formats disagree (auto only)
	loc       *time.Location
	datetime  bool // output RFC 3339 UTC, else YYYY-MM-DD
	notFuture bool
}

// render formats parsed parts as the canonical output.
func (dc *dateConv) render(p dateParts) string {
	if !dc.datetime {
		var b [10]byte
		return string(appendDate(b[:0], p.y, p.mo, p.d))
	}
	var t time.Time
	switch {
	case p.isInst:
		t = p.inst
	case p.hasOff:
		t = time.Date(p.y, time.Month(p.mo), p.d, p.h, p.mi, p.s, p.nano, time.FixedZone("", p.off))
	default:
		t = time.Date(p.y, time.Month(p.mo), p.d, p.h, p.mi, p.s, p.nano, dc.loc)
	}
	var b [40]byte
	return string(t.UTC().AppendFormat(b[:0], time.RFC3339))
}

func appendDate(b []byte, y, m, d int) []byte {
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	b = append(b, byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
	return b
}

func (dc *dateConv) convert(w *work, s string) (string, string) {
	s = strings.TrimSpace(s)
	if emptyDate(s) { // "", and Outlook's "0/0/00" for no date
		return "", ""
	}
	var out, outFmt string
	for _, f := range dc.formats {
		p, ok := f.parse(s)
		if !ok {
			continue
		}
		r := dc.render(p)
		if out == "" {
			out, outFmt = r, f.name
			continue
		}
		if r != out {
			if dc.auto {
				// No format was named and none inferred: read it the
				// market's way, and say so.
				if f.order() == dc.prefer {
					out, outFmt = r, f.name
				}
				w.warn(s, fmt.Sprintf("%q could be read either way; read as %s (%s)", s, out, outFmt))
				break
			}
			return "", fmt.Sprintf("%q is ambiguous: %s as %s or %s as %s; keep only one of these formats", s, out, outFmt, r, f.name)
		}
	}
	if out == "" {
		if dc.auto {
			return "", fmt.Sprintf("%q is not a date in any format the engine knows", s)
		}
		return "", fmt.Sprintf("%q does not match any accepted date format (%s)", s, dc.names)
	}

	if dc.notFuture {
		future := false
		if dc.datetime {
			future = out > w.nowRFC
		} else {
			future = out > w.today
		}
		if future {
			w.warn(s, fmt.Sprintf("%s is in the future", out))
		}
	}
	return out, ""
}

// ---- numbers and money ----------------------------------------------------

type currencyInfo struct {
	minor   int
	symbols []string
}

var currencies = map[string]currencyInfo{
	"GBP": {2, []string{"£"}},
	"EUR": {2, []string{"€"}},
	"USD": {2, []string{"US$", "$"}},
	"AUD": {2, []string{"A$", "AU$"}},
	"CAD": {2, []string{"C$", "CA$"}},
	"NZD": {2, []string{"NZ$"}},
	"CHF": {2, nil},
	"SEK": {2, nil},
	"NOK": {2, nil},
	"DKK": {2, nil},
	"PLN": {2, []string{"zł"}},
	"ZAR": {2, nil},
	"INR": {2, []string{"₹"}},
	"JPY": {0, []string{"¥"}},
}

func currencyList() string {
	return "AUD, CAD, CHF, DKK, EUR, GBP, INR, JPY, NOK, NZD, PLN, SEK, USD, ZAR"
}

type numConv struct {
	decimal, thousands byte // thousands 0: none
	money              bool
	currency           string
	minor              int
}

// currencySymbol is one symbol and the currency it means.
type currencySymbol struct{ symbol, code string }

// currencySymbols are every currency's symbols, longest first, so "A$" is
// tried before "$" and the answer never depends on map order.
var currencySymbols = func() []currencySymbol {
	var out []currencySymbol
	for code, ci := range currencies {
		for _, sym := range ci.symbols {
			out = append(out, currencySymbol{sym, code})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i].symbol) != len(out[j].symbol) {
			return len(out[i].symbol) > len(out[j].symbol)
		}
		return out[i].symbol+out[i].code < out[j].symbol+out[j].code
	})
	return out
}()

// stripCurrency removes one currency symbol or code at either end and says
// which currency it was ("" for none).
func stripCurrency(s string) (string, string) {
	for _, cs := range currencySymbols {
		if strings.HasPrefix(s, cs.symbol) {
			return strings.TrimSpace(s[len(cs.symbol):]), cs.code
		}
		if strings.HasSuffix(s, cs.symbol) {
			return strings.TrimSpace(s[:len(s)-len(cs.symbol)]), cs.code
		}
	}
	if len(s) > 3 {
		head, tail := strings.ToUpper(s[:3]), strings.ToUpper(s[len(s)-3:])
		if _, ok := currencies[head]; ok && (s[3] == ' ' || s[3] == '-' || (s[3] >= '0' && s[3] <= '9')) {
			return strings.TrimSpace(s[3:]), head
		}
		if _, ok := currencies[tail]; ok && (s[len(s)-4] == ' ' || (s[len(s)-4] >= '0' && s[len(s)-4] <= '9')) {
			return strings.TrimSpace(s[:len(s)-3]), tail
		}
	}
	return s, ""
}

// parse reads a number and returns its canonical decimal form: an optional
// "-", digits without leading zeros, and "." plus the fraction if any (for
// money, exactly the currency's minor digits).
func (nc *numConv) parse(raw string) (string, string) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", ""
	}
	if strings.ContainsRune(s, '\u00a0') || strings.ContainsRune(s, '\u202f') {
		s = strings.NewReplacer("\u00a0", " ", "\u202f", " ").Replace(s)
	}
	neg := false
	if len(s) > 2 && s[0] == '(' && s[len(s)-1] == ')' {
		neg, s = true, strings.TrimSpace(s[1:len(s)-1])
	}
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = neg || s[0] == '-'
		s = strings.TrimSpace(s[1:])
	}
	var cur string
	s, cur = stripCurrency(s)
	if s != "" && (s[0] == '-' || s[0] == '+') { // "£-5"
		neg = neg || s[0] == '-'
		s = s[1:]
	}
	if cur != "" && nc.money && cur != nc.currency {
		return "", fmt.Sprintf("%q is in %s, but the field is in %s", raw, cur, nc.currency)
	}
	if s == "" {
		return "", fmt.Sprintf("%q is not a number", raw)
	}
	// Integer part with optional thousands groups, then the fraction.
	var intb [32]byte
	ib := intb[:0]
	i, group, sawSep := 0, 0, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			ib = append(ib, c)
			group++
		case nc.thousands != 0 && c == nc.thousands && i > 0:
			if sawSep && group != 3 || !sawSep && (group == 0 || group > 3) {
				return "", fmt.Sprintf("%q is not a number (misplaced %q)", raw, string(c))
			}
			sawSep, group = true, 0
		default:
			goto frac
		}
	}
frac:
	if sawSep && group != 3 {
		return "", fmt.Sprintf("%q is not a number (misplaced %q)", raw, string(nc.thousands))
	}
	fracPart := ""
	if i < len(s) {
		if s[i] != nc.decimal {
			return "", fmt.Sprintf("%q is not a number", raw)
		}
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j != len(s) || (j == i+1 && len(ib) == 0) {
			return "", fmt.Sprintf("%q is not a number", raw)
		}
		fracPart = s[i+1 : j]
	}
	if len(ib) == 0 && fracPart == "" {
		return "", fmt.Sprintf("%q is not a number", raw)
	}
	for len(ib) > 1 && ib[0] == '0' {
		ib = ib[1:]
	}
	if len(ib) == 0 {
		ib = append(ib, '0')
	}
	if len(ib) > 15 {
		return "", fmt.Sprintf("%q is too large", raw)
	}
	if nc.money {
		trimmed := strings.TrimRight(fracPart, "0")
		if len(trimmed) > nc.minor {
			return "", fmt.Sprintf("%q has more than %d decimal places", raw, nc.minor)
		}
		fracPart = (trimmed + "000")[:nc.minor]
	} else {
		fracPart = strings.TrimRight(fracPart, "0")
	}
	var out [48]byte
	o := out[:0]
	if neg && (strings.Trim(string(ib), "0") != "" || strings.Trim(fracPart, "0") != "") {
		o = append(o, '-')
	}
	o = append(o, ib...)
	if fracPart != "" {
		o = append(o, '.')
		o = append(o, fracPart...)
	}
	if string(o) == s && !neg { // already canonical: no new string
		return s, ""
	}
	return string(o), ""
}

// minorUnits turns a canonical money decimal ("-12.50") into minor units.
func minorUnits(s string) (int64, bool) {
	var n int64
	neg := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' && i == 0:
			neg = true
		case c == '.':
		case c >= '0' && c <= '9':
			n = n*10 + int64(c-'0')
		default:
			return 0, false
		}
	}
	if neg {
		n = -n
	}
	return n, true
}

// ---- email ------------------------------------------------------------------

var domainTypos = map[string]string{
	"gmial.com": "gmail.com", "gmai.com": "gmail.com", "gmal.com": "gmail.com", "gnail.com": "gmail.com",
	"gmail.co": "gmail.com", "gmail.con": "gmail.com", "gmail.cm": "gmail.com", "gmaill.com": "gmail.com",
	"gmail.co.uk": "gmail.com", "hotmial.com": "hotmail.com", "hotmal.com": "hotmail.com", "hotmail.con": "hotmail.com",
	"hotmai.com": "hotmail.com", "hotmail.co": "hotmail.co.uk", "hotmail.co.k": "hotmail.co.uk", "yahooo.com": "yahoo.com",
	"yaho.com": "yahoo.com", "yahoo.con": "yahoo.com", "yahoo.co": "yahoo.co.uk", "outlok.com": "outlook.com",
	"outloo.com": "outlook.com", "outlook.con": "outlook.com", "iclould.com": "icloud.com", "icoud.com": "icloud.com",
	"icloud.co": "icloud.com", "btinternet.co": "btinternet.com", "btinternt.com": "btinternet.com", "btinterent.com": "btinternet.com",
	"live.co": "live.co.uk", "aol.con": "aol.com", "sky.con": "sky.com",
}

func isLocalChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte(".!#$%&'*+/=?^_`{|}~-", c) >= 0 || c >= 0x80
}

// normEmail lower-cases, trims and validates an address.
func normEmail(w *work, raw string) (string, string) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", ""
	}
	if len(s) > 7 && strings.EqualFold(s[:7], "mailto:") {
		s = s[7:]
	}
	if len(s) > 2 && s[0] == '<' && s[len(s)-1] == '>' {
		s = s[1 : len(s)-1]
	}
	s = strings.ToLower(s)
	at := strings.IndexByte(s, '@')
	if at <= 0 || at != strings.LastIndexByte(s, '@') || len(s) > 254 || at > 64 {
		return "", fmt.Sprintf("%q is not a valid email address", raw)
	}
	local, domain := s[:at], s[at+1:]
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return "", fmt.Sprintf("%q is not a valid email address", raw)
	}
	for i := 0; i < len(local); i++ {
		if !isLocalChar(local[i]) {
			return "", fmt.Sprintf("%q is not a valid email address", raw)
		}
	}
	labels, start, last := 0, 0, 0
	for i := 0; i <= len(domain); i++ {
		if i == len(domain) || domain[i] == '.' {
			l := domain[start:i]
			last = start
			if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
				return "", fmt.Sprintf("%q is not a valid email address", raw)
			}
			labels++
			start = i + 1
			continue
		}
		c := domain[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c >= 0x80) {
			return "", fmt.Sprintf("%q is not a valid email address", raw)
		}
	}
	tld := domain[last:]
	if labels < 2 || len(tld) < 2 || strings.Trim(tld, "0123456789") == "" {
		return "", fmt.Sprintf("%q is not a valid email address", raw)
	}
	if fix, ok := domainTypos[domain]; ok {
		w.warn(raw, fmt.Sprintf("%q: the domain looks like a typo of %s", s, fix))
	}
	return s, ""
}

// ---- phones -----------------------------------------------------------------

type phoneConv struct {
	region string // "" infers it: the row's region (see work.region)
}

func (pc *phoneConv) convert(w *work, raw string) (string, string) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", ""
	}
	intl := s[0] == '+' || strings.HasPrefix(s, "00")
	region := pc.region
	if region == "" {
		region = w.region
	}
	if region == "" && !intl {
		return "", fmt.Sprintf("%q has no country code, and nothing says which country this file is from: set the migration's market or a \"region\"", raw)
	}
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	if intl {
		// "+44 (0)20 ..." writes the national trunk prefix beside the country
		// code, as many UK and European exports do; dialled, it is left out.
		s = strings.Replace(s, "(0)", "", 1)
	}
	num, err := phonenumbers.Parse(s, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		if intl {
			return "", fmt.Sprintf("%q is not a valid phone number", raw)
		}
		return "", fmt.Sprintf("%q is not a valid phone number (default region %s)", raw, region)
	}
	if !intl && region != w.market {
		// A national number in the migration's own market is how people
		// write them there: nothing to review.
		w.warn(raw, fmt.Sprintf("%q has no country code; read as a %s number", raw, region))
	}
	if ext := num.GetExtension(); ext != "" {
		w.warn(raw, fmt.Sprintf("%q has the extension %s, which an E.164 number cannot hold: it is left out, so note it by hand", raw, ext))
	}
	return phonenumbers.Format(num, phonenumbers.E164), ""
}

// ---- booleans ---------------------------------------------------------------

var defaultTrue = []string{"true", "yes", "y", "1", "t", "on", "x", "subscribed", "opted in", "opt-in", "opt in"}
var defaultFalse = []string{"false", "no", "n", "0", "f", "off", "unsubscribed", "opted out", "opt-out", "opt out"}

type boolConv struct {
	words  map[string]bool
	invert bool
	hint   string
}

func (bc *boolConv) convert(raw string) (string, string) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", ""
	}
	v, ok := bc.words[s]
	if !ok {
		v, ok = bc.words[strings.ToLower(s)]
	}
	if !ok {
		return "", fmt.Sprintf("%q is not a recognised yes/no value (%s)", raw, bc.hint)
	}
	if v != bc.invert {
		return "true", ""
	}
	return "false", ""
}
