package mapspec

// Money written the way agencies and their tenants write it: "£1,250.00 pcm",
// "£295.00 pw", "1.250,00 € / Monat", "EUR 950 per month". The plain "money"
// conversion reads one separator convention and no period, so every such
// rent was a rejected row. Two ops read them instead:
//
//   - "amount" is a money conversion: it reads the amount in either
//     thousands convention (1,250.00 and 1.250,00, also 1 250,00 and
//     1'250.00), a currency symbol or code at either end, and an optional
//     period after it, which it drops; with "per" it converts the amount to
//     that period (a normalised monthly rent from a weekly one).
//   - "period" reads only the period ("£295 pw" or a bare "pw") and yields
//     the canonical word (weekly, fortnightly, four_weekly, monthly,
//     quarterly, annually) for an enum field such as a tenancy's frequency.

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/cutover/cutover/internal/schema"
)

const (
	opAmount = "amount"
	opPeriod = "period"
)

// Canonical periods and how many of each make a year.
var periodsPerYear = map[string]int64{
	"weekly": 52, "fortnightly": 26, "four_weekly": 13, "monthly": 12, "quarterly": 4, "annually": 1,
}

// periodWords maps the ways exports write a period (lower case, with the
// dots and slashes kept) to the canonical period. English agency
// abbreviations first, then the words of the other languages customers
// export in.
var periodWords = map[string]string{
	// weekly
	"pw": "weekly", "p/w": "weekly", "p.w.": "weekly", "p.w": "weekly", "per week": "weekly", "a week": "weekly",
	"weekly": "weekly", "week": "weekly", "/week": "weekly", "/wk": "weekly", "wk": "weekly", "pwk": "weekly",
	"par semaine": "weekly", "hebdomadaire": "weekly", "pro woche": "weekly", "wöchentlich": "weekly",
	"por semana": "weekly", "semanal": "weekly", "per weekt": "weekly", "wekelijks": "weekly", "settimanale": "weekly",
	// fortnightly
	"p2w": "fortnightly", "per fortnight": "fortnightly", "fortnightly": "fortnightly", "2-weekly": "fortnightly",
	"two weekly": "fortnightly", "every 2 weeks": "fortnightly",
	// four-weekly
	"p4w": "four_weekly", "per 4 weeks": "four_weekly", "four weekly": "four_weekly", "four-weekly": "four_weekly",
	"4-weekly": "four_weekly", "4 weekly": "four_weekly", "every 4 weeks": "four_weekly",
	// monthly
	"pcm": "monthly", "p.c.m.": "monthly", "p.c.m": "monthly", "p/m": "monthly", "pm": "monthly", "p.m.": "monthly",
	"per month": "monthly", "per calendar month": "monthly", "a month": "monthly", "monthly": "monthly",
	"month": "monthly", "/month": "monthly", "/mo": "monthly", "mo": "monthly", "/m": "monthly",
	"par mois": "monthly", "/mois": "monthly", "mensuel": "monthly", "mois": "monthly",
	"pro monat": "monthly", "/monat": "monthly", "monatlich": "monthly", "mtl.": "monthly", "monat": "monthly",
	"al mes": "monthly", "/mes": "monthly", "mensual": "monthly", "mes": "monthly",
	"per maand": "monthly", "/maand": "monthly", "maandelijks": "monthly", "p/mnd": "monthly",
	"al mese": "monthly", "/mese": "monthly", "mensile": "monthly", "por mês": "monthly", "mensal": "monthly",
	// quarterly
	"pq": "quarterly", "p/q": "quarterly", "per quarter": "quarterly", "quarterly": "quarterly", "quarter": "quarterly",
	"trimestriel": "quarterly", "vierteljährlich": "quarterly", "trimestral": "quarterly",
	// annually
	"pa": "annually", "p/a": "annually", "p.a.": "annually", "p.a": "annually", "per annum": "annually",
	"per year": "annually", "a year": "annually", "annually": "annually", "yearly": "annually", "annual": "annually",
	"year": "annually", "/year": "annually", "/yr": "annually", "yr": "annually", "pro jahr": "annually",
	"jährlich": "annually", "/jahr": "annually", "par an": "annually", "annuel": "annually", "/an": "annually",
	"al año": "annually", "anual": "annually", "per jaar": "annually", "jaarlijks": "annually", "annuo": "annually",
}

// periodSuffixes are the period words, longest first, so "per calendar
// month" wins over "month" and the answer never depends on map order.
var periodSuffixes = func() []string {
	out := make([]string, 0, len(periodWords))
	for w := range periodWords {
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i]) != len(out[j]) {
			return len(out[i]) > len(out[j])
		}
		return out[i] < out[j]
	})
	return out
}()

// normPeriodValue turns a period as written ("PCM", "per  month", "/Month")
// into its canonical word, or "".
func normPeriodValue(s string) string {
	s = strings.Join(strings.Fields(strings.ToLower(s)), " ")
	if p, ok := periodWords[s]; ok {
		return p
	}
	if _, ok := periodsPerYear[s]; ok {
		return s
	}
	return ""
}

// splitPeriod splits "£1,250.00 pcm" into "£1,250.00" and "monthly". A
// value without a period comes back whole, with "". A period word must be
// set apart from the amount by a space or a slash, or follow a digit or
// currency sign directly ("1250pcm"), so the letters of a currency code are
// never read as one.
func splitPeriod(s string) (string, string) {
	for _, w := range periodSuffixes {
		if len(w) >= len(s) || !strings.EqualFold(s[len(s)-len(w):], w) {
			continue
		}
		rest := s[:len(s)-len(w)]
		before := rest[len(rest)-1]
		isLetter := before >= 'a' && before <= 'z' || before >= 'A' && before <= 'Z'
		if isLetter && w[0] != '/' {
			continue
		}
		rest = strings.TrimRight(rest, " \t/")
		if rest == "" {
			continue
		}
		return rest, periodWords[w]
	}
	return s, ""
}

// amountConv reads an amount of money with an optional period.
type amountConv struct {
	currency string
	minor    int
	per      string // convert to this period; "" keeps the amount as written
}

func amountStep(p string, st Step, fd *schema.Field, defs Defaults) (stepFn, error) {
	if fd.ItemType() != schema.Money {
		return nil, invalid(p+".op", "%q cannot feed field %q of type %s", st.Op, fd.Name, describeType(fd))
	}
	ac := &amountConv{}
	var err error
	if ac.currency, ac.minor, err = stepCurrency(p, st, defs); err != nil {
		return nil, err
	}
	if st.Per != "" {
		if _, ok := periodsPerYear[st.Per]; !ok {
			return nil, invalid(p+".per", "%q is not a period (weekly, fortnightly, four_weekly, monthly, quarterly, annually)", st.Per)
		}
		ac.per = st.Per
	}
	return each(ac.convert), nil
}

func periodStep(p string, st Step, fd *schema.Field) (stepFn, error) {
	if fd.ItemType() != schema.Enum {
		return nil, invalid(p+".op", "%q feeds an enum field, not field %q of type %s", st.Op, fd.Name, describeType(fd))
	}
	return each(func(_ *work, s string) (string, string) {
		if c := normPeriodValue(s); c != "" {
			return c, ""
		}
		_, per := splitPeriod(strings.TrimSpace(s))
		return per, "" // no period written: the field stays empty (a later mapping may fill it)
	}), nil
}

// convert returns the amount as a canonical decimal with exactly the
// currency's minor digits. With ac.per set it is converted to that period,
// and is empty when the value names no period.
func (ac *amountConv) convert(_ *work, raw string) (string, string) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", ""
	}
	s = strings.NewReplacer("\u00a0", " ", "\u202f", " ", "\u2009", " ").Replace(s)
	// The period may be written twice when the rent and its frequency
	// column are joined ("£295 pw" and "pw"); it must be the same one.
	period := ""
	for {
		rest, p := splitPeriod(s)
		if p == "" {
			break
		}
		if period != "" && p != period {
			return "", fmt.Sprintf("%q names two periods, %s and %s", raw, p, period)
		}
		s, period = rest, p
	}
	minor, reason := ac.parseMinor(raw, s)
	if reason != "" {
		return "", reason
	}
	if ac.per != "" {
		if period == "" {
			// Nothing says how often it is paid: a per-period amount
			// would be a guess, so it stays empty (the amount itself is
			// kept by the field that reads it as written).
			return "", ""
		}
		num, den := periodsPerYear[period], periodsPerYear[ac.per]
		if minor > math.MaxInt64/num || minor < -math.MaxInt64/num {
			return "", fmt.Sprintf("%q is too large", raw)
		}
		minor = divRound(minor*num, den)
	}
	return formatMinor(minor, ac.minor), ""
}

// divRound divides, rounding half away from zero.
func divRound(n, d int64) int64 {
	if n < 0 {
		return -((-n + d/2) / d)
	}
	return (n + d/2) / d
}

// parseMinor reads s (the amount without its period) into minor units.
func (ac *amountConv) parseMinor(raw, s string) (int64, string) {
	neg := false
	if len(s) > 2 && s[0] == '(' && s[len(s)-1] == ')' {
		neg, s = true, strings.TrimSpace(s[1:len(s)-1])
	}
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = strings.TrimSpace(s[1:])
	}
	s, cur := stripCurrency(s)
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = neg || s[0] == '-'
		s = strings.TrimSpace(s[1:])
	}
	if cur != "" && cur != ac.currency {
		return 0, fmt.Sprintf("%q is in %s, but the field is in %s", raw, cur, ac.currency)
	}
	intDigits, frac, ok := splitDecimal(s)
	if !ok {
		return 0, fmt.Sprintf("%q is not an amount of money", raw)
	}
	frac = strings.TrimRight(frac, "0")
	if len(frac) > ac.minor {
		return 0, fmt.Sprintf("%q has more than %d decimal places", raw, ac.minor)
	}
	intDigits = strings.TrimLeft(intDigits, "0")
	if len(intDigits) > 15 {
		return 0, fmt.Sprintf("%q is too large", raw)
	}
	var n int64
	for _, c := range intDigits + (frac + "000")[:ac.minor] {
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, ""
}

// splitDecimal reads digits grouped by thousands in either convention and
// returns the integer digits and the fraction. When both "." and "," occur
// the later one is the decimal mark; one mark that occurs several times
// groups thousands; a single mark followed by exactly three digits groups
// thousands too (no supported currency has three minor digits), otherwise
// it is the decimal mark. Spaces and apostrophes only group thousands.
func splitDecimal(s string) (string, string, bool) {
	if s == "" {
		return "", "", false
	}
	lastDot, lastComma := strings.LastIndexByte(s, '.'), strings.LastIndexByte(s, ',')
	dec := -1
	switch {
	case lastDot >= 0 && lastComma >= 0:
		dec = max(lastDot, lastComma)
	case lastDot >= 0 || lastComma >= 0:
		i := max(lastDot, lastComma)
		if strings.Count(s, s[i:i+1]) == 1 && len(s)-i-1 != 3 {
			dec = i
		}
	}
	intPart, frac := s, ""
	if dec >= 0 {
		intPart, frac = s[:dec], s[dec+1:]
		for i := 0; i < len(frac); i++ {
			if frac[i] < '0' || frac[i] > '9' {
				return "", "", false
			}
		}
		if frac == "" {
			return "", "", false
		}
	}
	// The integer part: digits in groups of three after the first, with one
	// kind of separator.
	var digits strings.Builder
	var sep byte
	group, groups := 0, 0
	for i := 0; i < len(intPart); i++ {
		c := intPart[i]
		switch {
		case c >= '0' && c <= '9':
			digits.WriteByte(c)
			group++
		case c == '.' || c == ',' || c == ' ' || c == '\'':
			if sep != 0 && c != sep || group == 0 || groups == 0 && group > 3 || groups > 0 && group != 3 {
				return "", "", false
			}
			sep, group = c, 0
			groups++
		default:
			return "", "", false
		}
	}
	if groups > 0 && group != 3 {
		return "", "", false
	}
	if digits.Len() == 0 && frac == "" {
		return "", "", false
	}
	return digits.String(), frac, true
}
