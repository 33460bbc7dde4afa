package mapspec

// The date conversion (op "date"): date formats compiled from their
// layouts (or ISO, EXCEL, UNIX), parsing, and the canonical output.

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cutover/cutover/internal/tabular"
)

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
