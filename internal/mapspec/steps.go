package mapspec

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/cutover/cutover/internal/schema"
)

// stepFn transforms the working values of one field. A non-empty reason
// rejects the row.
type stepFn func(w *work, vals []string) ([]string, string)

// eachFn is a step applied to every value on its own.
//
// In a list field that is not strict, an item that fails is left out on
// its own (noted in w.badItems), so one bad phone of three keeps the
// other two.
func each(f func(w *work, s string) (string, string)) stepFn {
	return func(w *work, vals []string) ([]string, string) {
		for i, v := range vals {
			if v == "" {
				continue
			}
			out, reason := f(w, v)
			if reason != "" {
				if !w.perItem {
					return vals, reason
				}
				w.badItems = append(w.badItems, InvalidValue{Value: v, Reason: reason})
				out = ""
			}
			vals[i] = out
		}
		return vals, ""
	}
}

func allEmpty(vals []string) bool {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// compileSteps compiles a mapping's steps, inserting the field's default
// before the final conversion and appending the conversion its type needs
// when the steps do not end with it.
func compileSteps(p string, m FieldMapping, fd *schema.Field, defs Defaults) ([]stepFn, error) {
	steps := append([]Step(nil), m.Steps...)
	conv := conversionFor(fd.ItemType())
	hasConv := conv != "" && len(steps) > 0 && (steps[len(steps)-1].Op == conv || conv == "money" && steps[len(steps)-1].Op == opAmount)
	var tail []Step
	if hasConv {
		tail = []Step{steps[len(steps)-1]}
		steps = steps[:len(steps)-1]
	} else if conv != "" {
		tail = []Step{{Op: conv}}
	}
	var out []stepFn
	for i, st := range steps {
		sp := fmt.Sprintf("%s.steps[%d]", p, i)
		fn, err := compileStep(sp, st, fd, defs)
		if err != nil {
			return nil, err
		}
		out = append(out, fn)
	}
	if m.Default != nil {
		def := *m.Default
		out = append(out, func(w *work, vals []string) ([]string, string) {
			if allEmpty(vals) {
				return append(vals[:0], def), ""
			}
			return vals, ""
		})
	}
	for _, st := range tail {
		sp := fmt.Sprintf("%s.steps[%d]", p, len(m.Steps)-1)
		if !hasConv {
			sp = p
		}
		fn, err := compileStep(sp, st, fd, defs)
		if err != nil {
			return nil, err
		}
		out = append(out, fn)
	}
	return out, nil
}

func compileStep(p string, st Step, fd *schema.Field, defs Defaults) (stepFn, error) {
	if types, ok := conversionOps[st.Op]; ok {
		fits := false
		for _, t := range types {
			if fd.ItemType() == t {
				fits = true
			}
		}
		if !fits {
			return nil, invalid(p+".op", "%q cannot feed field %q of type %s", st.Op, fd.Name, describeType(fd))
		}
	}
	if err := onlyOptions(p, st); err != nil {
		return nil, err
	}
	switch st.Op {
	case "trim":
		chars := st.Chars
		return each(func(_ *work, s string) (string, string) {
			s = strings.TrimSpace(s)
			if chars != "" {
				s = strings.TrimSpace(strings.Trim(s, chars))
			}
			return s, ""
		}), nil
	case "case":
		switch st.To {
		case "lower":
			return each(func(_ *work, s string) (string, string) { return strings.ToLower(s), "" }), nil
		case "upper":
			return each(func(_ *work, s string) (string, string) { return strings.ToUpper(s), "" }), nil
		case "title":
			return each(func(_ *work, s string) (string, string) { return titleCase(s), "" }), nil
		}
		return nil, invalid(p+".to", "case needs \"to\": lower, upper or title")
	case "split":
		if st.Separator == "" {
			return nil, invalid(p+".separator", "split needs a separator")
		}
		sep := st.Separator
		if st.Index != nil {
			idx := *st.Index
			return each(func(_ *work, s string) (string, string) {
				n := strings.Count(s, sep) + 1
				k := idx
				if k < 0 {
					k += n
				}
				if k < 0 || k >= n {
					return "", ""
				}
				for ; k > 0; k-- {
					s = s[strings.Index(s, sep)+len(sep):]
				}
				if j := strings.Index(s, sep); j >= 0 {
					s = s[:j]
				}
				return strings.TrimSpace(s), ""
			}), nil
		}
		return func(_ *work, vals []string) ([]string, string) {
			var out []string
			for _, v := range vals {
				for v != "" {
					j := strings.Index(v, sep)
					if j < 0 {
						out = append(out, strings.TrimSpace(v))
						break
					}
					out = append(out, strings.TrimSpace(v[:j]))
					v = v[j+len(sep):]
				}
			}
			return out, ""
		}, nil
	case "join":
		sep := st.Separator
		if sep == "" {
			sep = " "
		}
		return func(_ *work, vals []string) ([]string, string) {
			if len(vals) < 2 {
				return vals, ""
			}
			var b strings.Builder
			for _, v := range vals {
				if v = strings.TrimSpace(v); v == "" {
					continue
				}
				if b.Len() > 0 {
					b.WriteString(sep)
				}
				b.WriteString(v)
			}
			return append(vals[:0], b.String()), ""
		}, nil
	case "replace":
		if st.Old == "" {
			return nil, invalid(p+".old", "replace needs \"old\"")
		}
		old, repl := st.Old, st.New
		return each(func(_ *work, s string) (string, string) { return strings.ReplaceAll(s, old, repl), "" }), nil
	case "default":
		if st.Value == nil {
			return nil, invalid(p+".value", "default needs \"value\"")
		}
		v := *st.Value
		return func(_ *work, vals []string) ([]string, string) {
			if allEmpty(vals) {
				return append(vals[:0], v), ""
			}
			return vals, ""
		}, nil
	case "constant":
		if st.Value == nil {
			return nil, invalid(p+".value", "constant needs \"value\"")
		}
		v := *st.Value
		return func(_ *work, vals []string) ([]string, string) { return append(vals[:0], v), "" }, nil
	case "regex":
		re, err := regexpCompile(p+".pattern", st.Pattern)
		if err != nil {
			return nil, err
		}
		group := 1
		if st.Group != nil {
			group = *st.Group
		}
		if group > re.NumSubexp() {
			if re.NumSubexp() == 0 {
				return nil, invalid(p+".pattern", "needs a capture group, e.g. \"(\\\\d+)\"")
			}
			return nil, invalid(p+".group", "the pattern has %d capture group(s), not %d", re.NumSubexp(), group)
		}
		mode := st.OnNoMatch
		return regexStep(re, group, mode), nil
	case "lookup":
		if len(st.Table) == 0 {
			return nil, invalid(p+".table", "lookup needs a table")
		}
		return lookupStep(p, st, fd)
	case "boolean":
		return booleanStep(p, st)
	case "number", "money":
		return numberStep(p, st, fd, defs)
	case "date":
		return dateStep(p, st, fd, defs)
	case "email":
		return each(normEmail), nil
	case "phone":
		region := st.Region
		if region == "" {
			region = defs.Region
		}
		if region == RegionAuto {
			region = "" // inferred per row: see Mapper.Infer
		}
		if region != "" && !phonenumbers.GetSupportedRegions()[region] {
			return nil, invalid(p+".region", "%q is not a region phone numbers know", region)
		}
		pc := &phoneConv{region: region}
		return each(pc.convert), nil
	case opAmount:
		return amountStep(p, st, fd, defs)
	case opPeriod:
		return periodStep(p, st, fd)
	}
	return nil, invalid(p+".op", "unknown op %q", st.Op)
}

func describeType(fd *schema.Field) string {
	if fd.Type == schema.List {
		return "list of " + string(fd.Of)
	}
	return string(fd.Type)
}

// onlyOptions rejects options that do not belong to the step's op, so a
// misplaced option is never silently ignored.
func onlyOptions(p string, st Step) error {
	allowed := map[string][]string{
		"trim": {"chars"}, "case": {"to"}, "split": {"separator", "index"}, "join": {"separator"},
		"replace": {"old", "new"}, "default": {"value"}, "constant": {"value"},
		"regex": {"pattern", "group", "onNoMatch"}, "lookup": {"table", "strict", "otherwise"},
		"boolean": {"true", "false", "invert"}, "number": {"decimal", "thousands"},
		"money": {"decimal", "thousands", "currency"}, "date": {"formats", "timezone"},
		"email": {}, "phone": {"region"}, opAmount: {"currency", "per"}, opPeriod: {},
	}[st.Op]
	set := map[string]bool{
		"chars": st.Chars != "", "to": st.To != "", "separator": st.Separator != "", "index": st.Index != nil,
		"old": st.Old != "", "new": st.New != "", "value": st.Value != nil, "pattern": st.Pattern != "",
		"group": st.Group != nil, "onNoMatch": st.OnNoMatch != "", "table": st.Table != nil, "strict": st.Strict,
		"otherwise": st.Otherwise != nil, "true": st.True != nil, "false": st.False != nil, "invert": st.Invert,
		"decimal": st.Decimal != "", "thousands": st.Thousands != nil, "currency": st.Currency != "",
		"formats": st.Formats != nil, "timezone": st.Timezone != "", "region": st.Region != "",
		"per": st.Per != "",
	}
	var bad []string
	for k, v := range set {
		if !v {
			continue
		}
		ok := false
		for _, a := range allowed {
			if a == k {
				ok = true
			}
		}
		if !ok {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return invalid(p, "option %q does not apply to op %q", bad[0], st.Op)
	}
	return nil
}

// titleCase upper-cases the first letter of every word (a word starts
// after any non-letter, so "o'neil-smith" becomes "O'Neil-Smith") and
// lower-cases the rest. A value already in title case is returned as is.
func titleCase(s string) string {
	needs, prev := false, false
	for _, r := range s {
		if prev && unicode.IsUpper(r) || !prev && unicode.IsLower(r) {
			needs = true
			break
		}
		prev = unicode.IsLetter(r)
	}
	if !needs {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	prev = false
	for _, r := range s {
		if prev {
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(unicode.ToUpper(r))
		}
		prev = unicode.IsLetter(r)
	}
	return b.String()
}

func regexStep(re *regexp.Regexp, group int, mode string) stepFn {
	return each(func(_ *work, s string) (string, string) {
		loc := re.FindStringSubmatchIndex(s)
		if loc == nil || loc[2*group] < 0 {
			switch mode {
			case "keep":
				return s, ""
			case "error":
				return "", fmt.Sprintf("%q does not match the pattern %s", s, re.String())
			}
			return "", ""
		}
		return s[loc[2*group]:loc[2*group+1]], ""
	})
}

func lookupStep(p string, st Step, fd *schema.Field) (stepFn, error) {
	table := make(map[string]string, len(st.Table))
	keys := make([]string, 0, len(st.Table))
	for k, v := range st.Table {
		lk := strings.ToLower(strings.TrimSpace(k))
		if prev, dup := table[lk]; dup && prev != v {
			return nil, invalid(p+".table", "keys %q differ only in case or spaces but map to different values", k)
		}
		if fd.ItemType() == schema.Enum && v != "" {
			if _, ok := fd.EnumValue(v); !ok {
				return nil, invalid(p+".table"+pathKey(k), "%q is not a value of field %q (%s)", v, fd.Name, strings.Join(fd.Values, ", "))
			}
		}
		table[lk] = v
		keys = append(keys, k)
	}
	if st.Otherwise != nil && fd.ItemType() == schema.Enum && *st.Otherwise != "" {
		if _, ok := fd.EnumValue(*st.Otherwise); !ok {
			return nil, invalid(p+".otherwise", "%q is not a value of field %q (%s)", *st.Otherwise, fd.Name, strings.Join(fd.Values, ", "))
		}
	}
	if st.Strict && st.Otherwise != nil {
		return nil, invalid(p, "a lookup is either strict or has \"otherwise\", not both")
	}
	sort.Strings(keys)
	known := strings.Join(keys, ", ")
	if len(keys) > 8 {
		known = strings.Join(keys[:8], ", ") + ", ..."
	}
	strict, otherwise := st.Strict, st.Otherwise
	return each(func(_ *work, s string) (string, string) {
		if v, ok := table[s]; ok {
			return v, ""
		}
		if v, ok := table[strings.ToLower(strings.TrimSpace(s))]; ok {
			return v, ""
		}
		if strict {
			return "", fmt.Sprintf("%q is not in the lookup table (%s)", s, known)
		}
		if otherwise != nil {
			return *otherwise, ""
		}
		return s, ""
	}), nil
}

func booleanStep(p string, st Step) (stepFn, error) {
	trues, falses := st.True, st.False
	if trues == nil {
		trues = defaultTrue
	}
	if falses == nil {
		falses = defaultFalse
	}
	bc := &boolConv{words: map[string]bool{}, invert: st.Invert}
	for _, w := range trues {
		bc.words[strings.ToLower(strings.TrimSpace(w))] = true
	}
	for _, w := range falses {
		lw := strings.ToLower(strings.TrimSpace(w))
		if bc.words[lw] {
			return nil, invalid(p+".false", "%q is both a true and a false word", w)
		}
		bc.words[lw] = false
	}
	bc.hint = "true: " + wordList(trues) + "; false: " + wordList(falses)
	return each(func(_ *work, s string) (string, string) { return bc.convert(s) }), nil
}

func numberStep(p string, st Step, fd *schema.Field, defs Defaults) (stepFn, error) {
	nc := &numConv{decimal: '.'}
	if st.Decimal == "," {
		nc.decimal = ','
	}
	switch {
	case st.Thousands != nil && *st.Thousands != "":
		nc.thousands = (*st.Thousands)[0]
	case st.Thousands != nil:
		nc.thousands = 0
	case nc.decimal == '.':
		nc.thousands = ','
	default:
		nc.thousands = '.'
	}
	if nc.thousands == nc.decimal {
		return nil, invalid(p+".thousands", "the thousands separator must differ from the decimal separator")
	}
	if st.Op == "money" {
		nc.money = true
		var err error
		if nc.currency, nc.minor, err = stepCurrency(p, st, defs); err != nil {
			return nil, err
		}
	}
	return each(func(_ *work, s string) (string, string) { return nc.parse(s) }), nil
}

func dateStep(p string, st Step, fd *schema.Field, defs Defaults) (stepFn, error) {
	dc, err := newDateConv(p, st, fd, defs)
	if err != nil {
		return nil, err
	}
	return each(dc.convert), nil
}

// newDateConv builds a date step's converter. Formats come from the step,
// else the defaults; with neither, the column's format is inferred
// (autoDateFormats) and the step reads any of them until Mapper.Infer
// has chosen one.
func newDateConv(p string, st Step, fd *schema.Field, defs Defaults) (*dateConv, error) {
	names := st.Formats
	dc := &dateConv{datetime: fd.ItemType() == schema.DateTime, notFuture: fd.NotFuture, explicit: names != nil}
	if names == nil {
		names = defs.DateFormats
	}
	if names == nil {
		dc.auto, dc.prefer = true, 'D'
		dc.names = "any date format the engine knows"
		dc.formats = compiledAutoDates
	} else {
		dc.names = strings.Join(names, ", ")
	}
	for i, n := range names {
		df, err := compileDateFormat(n)
		if err != nil {
			return nil, invalid(fmt.Sprintf("%s.formats[%d]", p, i), "%v", err)
		}
		dc.formats = append(dc.formats, df)
	}
	tz := st.Timezone
	if tz == "" {
		tz = defs.Timezone
	}
	dc.loc = time.UTC
	if tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return nil, invalid(p+".timezone", "unknown time zone %q", tz)
		}
		dc.loc = loc
	}
	return dc, nil
}

// truncateRunes reports the number of characters of s.
func runeCount(s string) int { return utf8.RuneCountInString(s) }

func wordList(ws []string) string {
	if len(ws) > 5 {
		return strings.Join(ws[:5], "/") + "/..."
	}
	return strings.Join(ws, "/")
}

// stepCurrency is the currency a money step writes (the step's own, else
// the defaults', else GBP) and its minor units.
//
// Errors: EINVALID at p.currency for a currency the engine does not know.
func stepCurrency(p string, st Step, defs Defaults) (string, int, error) {
	cur := st.Currency
	if cur == "" {
		cur = defs.Currency
	}
	if cur == "" {
		cur = "GBP"
	}
	ci, ok := currencies[cur]
	if !ok {
		return "", 0, invalid(p+".currency", "%q is not a supported currency (%s)", cur, currencyList())
	}
	return cur, ci.minor, nil
}
