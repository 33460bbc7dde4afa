package mapspec

// The number and money conversions (ops "number" and "money"): decimal
// and thousands separators, currency symbols and codes, minor units.

import (
	"fmt"
	"sort"
	"strings"
)

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
