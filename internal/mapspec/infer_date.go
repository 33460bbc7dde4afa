package mapspec

import (
	"strings"
)

// Date columns are read the way a person reads them: look at every value
// (or a large sample), and let the values that can only be read one way
// decide for the rest ("13/02/2024" can only be day-first, so the column
// is). When nothing decides (every value is 12 or less in both places),
// the column is ambiguous: the market's convention breaks the tie, and the
// ambiguity is reported, with examples, for the customer to confirm.

// autoDateFormats are the layouts inference chooses among when a mapping
// names none: ISO, the numeric orders with their usual separators and
// two- or four-digit years, and month names. A layout also reads a
// trailing time, so "YYYY/MM/DD" reads Zoho's "2023/01/05 14:30:00" and
// "M/D/YY" HubSpot's "1/5/23 9:05".
var autoDateFormats = []string{
	"ISO", "YYYY/MM/DD", "YYYY.MM.DD",
	"D/M/YYYY", "M/D/YYYY", "D/M/YY", "M/D/YY",
	"D.M.YYYY", "M.D.YYYY", "D.M.YY",
	"D-M-YYYY", "M-D-YYYY",
	"D MMM YYYY", "D MMMM YYYY", "MMM D, YYYY", "MMMM D, YYYY", "MMM D YYYY", "D. MMMM YYYY", "D de MMMM de YYYY", "D-MMM-YYYY", "D-MMM-YY",
}

var compiledAutoDates = func() []*dateFormat {
	out := make([]*dateFormat, len(autoDateFormats))
	for i, f := range autoDateFormats {
		df, err := compileDateFormat(f)
		if err != nil {
			panic("mapspec: auto date format " + f + ": " + err.Error())
		}
		out[i] = df
	}
	return out
}()

// monthFirstMarkets write dates month first.
var monthFirstMarkets = map[string]bool{"US": true, "PH": true, "PR": true, "GU": true, "AS": true, "VI": true, "MP": true, "UM": true, "FM": true, "MH": true, "PW": true, "BZ": true}

// MonthFirst reports whether the market writes numeric dates month first
// (the United States and a few others); the rest of the world writes the
// day first.
func MonthFirst(market string) bool { return monthFirstMarkets[market] }

// emptyDate reports whether v is a placeholder for no date, as Outlook
// writes it ("0/0/00", "0/0/0000", "00.00.0000").
func emptyDate(v string) bool {
	if v == "" {
		return true
	}
	zero := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '0':
			zero = true
		case c == '/' || c == '.' || c == '-' || c == ' ' || c == ':':
		default:
			return false
		}
	}
	return zero
}

// order says which of day and month a format writes first: 'D', 'M', or
// 0 when it cannot be confused (ISO, year first, a month name).
func (df *dateFormat) order() byte {
	for _, t := range df.toks {
		switch t.kind {
		case 'D':
			return 'D'
		case 'M':
			return 'M'
		case 'N', 'Y', 'y':
			if t.kind == 'N' {
				return 0
			}
		}
	}
	return 0
}

// inferDate chooses, among cands, the format that reads the most of
// values; a tie between formats that read some value differently is
// ambiguous, broken by the market's convention.
func inferDate(column string, values []string, cands []*dateFormat, market string) DateGuess {
	g := DateGuess{Column: column}
	type score struct {
		df   *dateFormat
		read int
	}
	scores := make([]score, len(cands))
	for i, df := range cands {
		scores[i].df = df
	}
	var seen []string
	for _, raw := range values {
		v := strings.TrimSpace(raw)
		if emptyDate(v) {
			continue
		}
		g.Values++
		if len(seen) < 200 {
			seen = append(seen, v)
		}
		for i := range scores {
			if _, ok := scores[i].df.parse(v); ok {
				scores[i].read++
			}
		}
	}
	best := -1
	for i, s := range scores {
		if s.read == 0 {
			continue
		}
		if best < 0 || s.read > scores[best].read {
			best = i
		}
	}
	if best < 0 {
		return g
	}
	// Formats reading as many values that read some of them differently
	// make the column ambiguous.
	var rival *dateFormat
	for i, s := range scores {
		if i == best || s.read != scores[best].read {
			continue
		}
		var ex []string
		for _, v := range seen {
			a, okA := scores[best].df.parse(v)
			b, okB := s.df.parse(v)
			if okA && okB && (a.y != b.y || a.mo != b.mo || a.d != b.d) {
				if len(ex) < 3 {
					ex = append(ex, v)
				}
			}
		}
		if len(ex) > 0 {
			rival, g.Examples = s.df, ex
			break
		}
	}
	chosen := scores[best].df
	if rival != nil {
		g.Ambiguous = true
		// The market's convention breaks the tie, visibly.
		if want := byte('D'); MonthFirst(market) {
			want = 'M'
			if rival.order() == want && chosen.order() != want {
				chosen, rival = rival, chosen
			}
		} else if rival.order() == want && chosen.order() != want {
			chosen, rival = rival, chosen
		}
		g.Other = rival.name
	}
	g.Format, g.Read = chosen.name, scores[best].read
	g.Confidence = float64(g.Read) / float64(g.Values)
	if g.Ambiguous {
		g.Confidence /= 2
	}
	return g
}

// InferDates infers the date format of every column of a sample whose
// values are mostly dates. market ("" for none) breaks ties.
func InferDates(header []string, rows [][]string, market string) []DateGuess {
	var out []DateGuess
	for c, h := range header {
		vals := columnValues(rows, c)
		g := inferDate(h, vals, compiledAutoDates, market)
		if g.Values == 0 || g.Format == "" || 10*g.Read < 8*g.Values {
			continue
		}
		out = append(out, g)
	}
	return out
}

func columnValues(rows [][]string, c int) []string {
	vals := make([]string, 0, len(rows))
	for _, r := range rows {
		if c < len(r) {
			vals = append(vals, r[c])
		}
	}
	return vals
}
