package mapspec

import (
	"strings"

	"github.com/cutover/cutover/internal/schema"
)

// Inference is what the engine read from a sample of a file's rows, and
// how sure it is: the phone region and each date field's format. The
// workbook and inspect show it, so no guess is silent.
type Inference struct {
	Market string      `json:"market,omitempty"` // the migration's market, the last fallback
	Region RegionGuess `json:"region"`
	Dates  []DateGuess `json:"dates,omitempty"` // one per date column the mapping reads
}

// InferSample is how many rows Infer needs to decide; the pipeline reads
// this many before mapping.
const InferSample = 4096

// Infer reads a sample of the file's rows (the first InferSample are
// plenty) and tunes the mapper to them: the file's phone region, and each
// date field's format where the mapping does not name one outright. market
// is the migration's market (ISO 3166-1 alpha-2, "" for none): the phone
// region when the file says nothing, and the tie-break for date columns
// that read both ways. Call it before Clone and Map; it returns what it
// inferred. It never fails: a sample that says nothing leaves the
// defaults.
func (m *Mapper) Infer(rows [][]string, market string) *Inference {
	return m.InferFrom(rows, market, nil)
}

// InferFrom is Infer with what an earlier pass inferred for the same
// mapping entry (frozen, nil for none): its phone region and each date
// column's format are used as they are, a date column it had no value of
// in its sample keeps the defaults, as it did there, and only a date
// column whose values it could not settle is inferred from rows. The final migration maps its extract
// chunk by chunk, and a chunk's rows alone could read otherwise (all its
// dates month-first, say) than the signed-off test did: freezing the
// test's inference makes every chunk read its values exactly as the
// customer and the coordinator saw them.
func (m *Mapper) InferFrom(rows [][]string, market string, frozen *Inference) *Inference {
	market = strings.ToUpper(strings.TrimSpace(market))
	var phoneCols []int
	for _, cf := range m.fields {
		if cf.fd.ItemType() == schema.Phone {
			phoneCols = append(phoneCols, cf.cols...)
		}
	}
	var inf *Inference
	if frozen != nil {
		inf = &Inference{Market: market, Region: frozen.Region}
	} else {
		inf = &Inference{Market: market, Region: InferRegion(m.header, rows, phoneCols, market)}
	}
	m.market, m.fileRegion = market, inf.Region.Region
	m.w.market = market
	fields := append([]compiledField(nil), m.fields...) // clones made earlier keep theirs
	for i := range fields {
		cf := &fields[i]
		if cf.date == nil || cf.date.explicit || len(cf.cols) != 1 {
			continue
		}
		var dc *dateConv
		var g DateGuess
		if fg, ok := frozen.date(cf.label); ok {
			dc, g = applyDateGuess(cf.date, fg, market), fg
		} else if frozen != nil && !frozen.sawDates(cf.label) {
			continue // the earlier pass had no value of it to read: it kept the defaults, and so does this one
		} else {
			dc, g = tuneDates(cf.date, cf.label, columnValues(rows, cf.cols[0]), market)
		}
		if g.Values == 0 {
			continue
		}
		inf.Dates = append(inf.Dates, g)
		steps := append([]stepFn(nil), cf.steps...)
		steps[len(steps)-1] = each(dc.convert)
		cf.steps, cf.date = steps, dc
	}
	m.fields = fields
	m.inferred = inf
	return inf
}

// Inferred returns what Infer found, or nil before it ran.
func (m *Mapper) Inferred() *Inference { return m.inferred }

// tuneDates chooses a date column's format. Formats the spec lists are
// preferred ("presets list the formats their vendor really writes") and
// inference picks among them; when they read too few of the values, the
// best known format is added. An ambiguous column is read the market's
// way and reported as ambiguous (in the workbook and inspect), with
// examples, for the customer to confirm.
func tuneDates(dc *dateConv, column string, vals []string, market string) (*dateConv, DateGuess) {
	out := *dc
	out.auto, out.prefer = false, 'D'
	if MonthFirst(market) {
		out.prefer = 'M'
	}
	var g DateGuess
	if !dc.auto {
		g = inferDate(column, vals, dc.formats, market)
	}
	if dc.auto || g.Values > 0 && 10*g.Read < 9*g.Values {
		if ag := inferDate(column, vals, compiledAutoDates, market); ag.Read > g.Read {
			g = ag
		}
	}
	if g.Format == "" {
		if dc.auto {
			out.auto = true // nothing read: keep reading any format
		}
		return &out, g
	}
	return applyDateGuess(dc, g, market), g
}

// sawDates reports whether the inference has a guess for column at all:
// an inference lists only the date columns with values in its sample.
func (inf *Inference) sawDates(column string) bool {
	if inf == nil {
		return false
	}
	for _, g := range inf.Dates {
		if g.Column == column {
			return true
		}
	}
	return false
}

// date returns the guess inf holds for a date column that settled on a
// format; inf may be nil.
func (inf *Inference) date(column string) (DateGuess, bool) {
	if inf == nil {
		return DateGuess{}, false
	}
	for _, g := range inf.Dates {
		if g.Column == column && g.Format != "" {
			if _, err := compileDateFormat(g.Format); err == nil {
				return g, true
			}
		}
	}
	return DateGuess{}, false
}

// applyDateGuess is dc reading g's format first (g.Format must compile),
// with the formats that cannot be confused with it still read, and
// market's order for the values both orders read.
func applyDateGuess(dc *dateConv, g DateGuess, market string) *dateConv {
	out := *dc
	out.auto, out.prefer = false, 'D'
	if MonthFirst(market) {
		out.prefer = 'M'
	}
	chosen, _ := compileDateFormat(g.Format)
	formats := []*dateFormat{chosen}
	for _, f := range dc.formats {
		if f.name != chosen.name && f.order() == 0 && !dc.auto {
			formats = append(formats, f) // ISO and other unconfusable formats still read
		}
	}
	if dc.auto && chosen.kind != dkISO {
		iso, _ := compileDateFormat("ISO")
		formats = append(formats, iso) // a stray ISO value in an inferred column still reads
	}
	out.formats = formats
	out.names = g.Format
	return &out
}

// rowRegion is the phone region of one row: its country column's when it
// names a country, else the file's.
func (m *Mapper) rowRegion(fields []string) string {
	for _, c := range m.countryCols {
		if c < len(fields) {
			if r := CountryRegion(fields[c]); r != "" {
				return r
			}
		}
	}
	return m.fileRegion
}
