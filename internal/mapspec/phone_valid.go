package mapspec

// Validity without regular expressions. After the fast parse, nearly all of
// the time spent on a phone number went to the library matching it against
// its region's number-type patterns with package regexp, building a
// "^(?:...)$" string for every look-up (BENCHMARKS.md, issue 15 item 4).
// The patterns only ever see digits, so each one is compiled here, from the
// library's own metadata, into a small automaton over the ten digits, and
// the library's validity rule (IsValidNumber: find the region, then match
// the general description and the number types) is followed step by step
// on those automata. Because the patterns are the library's, the answer
// stays the library's when its metadata changes; whatever cannot be
// compiled (a pattern with anchors inside, an automaton too big) is left to
// the library. TestDigitDFAMatchesRegexp and TestValidNumberAgreesWithLibrary
// check both claims.

import (
	"regexp/syntax"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/nyaruka/phonenumbers"
)

// maxDFAStates bounds one pattern's automaton; a bigger one is not built
// and the library decides. The largest metadata pattern needs a few
// hundred states.
const maxDFAStates = 1 << 14

// digitDFA accepts the digit strings a metadata pattern matches: next[s][d]
// is the state after digit d in state s, -1 when no match can follow.
// State 0 is the start.
type digitDFA struct {
	next   [][10]int32
	accept []bool
}

// compileDigitDFA builds the automaton of pattern as package regexp reads
// it (syntax.Perl). ok is false when the pattern does not parse, holds an
// anchor or word boundary (which an automaton over digits alone cannot
// follow), or needs more than maxDFAStates states.
func compileDigitDFA(pattern string) (*digitDFA, bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, false
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil, false
	}
	// closure adds pc and every instruction reachable from it without
	// reading a digit; it reports false on an empty-width assertion.
	var closure func(pc uint32, set map[uint32]bool, match *bool) bool
	closure = func(pc uint32, set map[uint32]bool, match *bool) bool {
		if set[pc] {
			return true
		}
		set[pc] = true
		in := &prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			return closure(in.Out, set, match) && closure(in.Arg, set, match)
		case syntax.InstCapture, syntax.InstNop:
			return closure(in.Out, set, match)
		case syntax.InstMatch:
			*match = true
		case syntax.InstEmptyWidth:
			return false
		}
		return true
	}
	// A state is the set of digit-reading instructions it may be at, kept
	// sorted as its key, and whether a match has been reached.
	type state struct {
		pcs   []uint32
		match bool
	}
	seal := func(set map[uint32]bool, match bool) (state, string) {
		st := state{match: match}
		for pc := range set {
			switch prog.Inst[pc].Op {
			case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
				st.pcs = append(st.pcs, pc)
			}
		}
		sort.Slice(st.pcs, func(i, j int) bool { return st.pcs[i] < st.pcs[j] })
		var key strings.Builder
		if match {
			key.WriteByte('m')
		}
		for _, pc := range st.pcs {
			key.WriteString(strconv.FormatUint(uint64(pc), 36))
			key.WriteByte(',')
		}
		return st, key.String()
	}
	start, match := map[uint32]bool{}, false
	if !closure(uint32(prog.Start), start, &match) {
		return nil, false
	}
	first, key := seal(start, match)
	d := &digitDFA{}
	states := []state{first}
	index := map[string]int32{key: 0}
	d.next = append(d.next, [10]int32{})
	d.accept = append(d.accept, first.match)
	for s := 0; s < len(states); s++ {
		for digit := 0; digit < 10; digit++ {
			r := rune('0' + digit)
			set, match := map[uint32]bool{}, false
			for _, pc := range states[s].pcs {
				in := &prog.Inst[pc]
				var ok bool
				switch in.Op {
				case syntax.InstRune1:
					ok = in.Rune[0] == r
				case syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
					ok = true
				default:
					ok = in.MatchRune(r)
				}
				if ok && !closure(in.Out, set, &match) {
					return nil, false
				}
			}
			if len(set) == 0 {
				d.next[s][digit] = -1
				continue
			}
			st, key := seal(set, match)
			t, seen := index[key]
			if !seen {
				if len(states) == maxDFAStates {
					return nil, false
				}
				t = int32(len(states))
				index[key] = t
				states = append(states, st)
				d.next = append(d.next, [10]int32{})
				d.accept = append(d.accept, st.match)
			}
			d.next[s][digit] = t
		}
	}
	return d, true
}

// full reports whether the whole of digits is matched (the library's
// "^(?:pattern)$").
func (d *digitDFA) full(digits []byte) bool {
	s := int32(0)
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
		if s = d.next[s][c-'0']; s < 0 {
			return false
		}
	}
	return d.accept[s]
}

// prefix reports whether some start of digits, perhaps empty, is matched
// (the library's "^(?:pattern)" for leading digits).
func (d *digitDFA) prefix(digits []byte) bool {
	s := int32(0)
	for _, c := range digits {
		if d.accept[s] {
			return true
		}
		if c < '0' || c > '9' {
			return false
		}
		if s = d.next[s][c-'0']; s < 0 {
			return false
		}
	}
	return d.accept[s]
}

// numberDesc is one of the library's PhoneNumberDesc, compiled: the number
// must have one of the possible lengths (any, when none are listed) and
// match the pattern. A nil dfa (no pattern) matches nothing, as an empty
// pattern does in the library for a number that always has a digit.
type numberDesc struct {
	anyLength bool
	lengths   uint64 // bit n: length n is possible
	dfa       *digitDFA
}

func (nd *numberDesc) matches(nsn []byte) bool {
	if nd.dfa == nil || (!nd.anyLength && (len(nsn) >= 64 || nd.lengths&(1<<len(nsn)) == 0)) {
		return false
	}
	return nd.dfa.full(nsn)
}

// compileDesc compiles desc; ok is false if its pattern cannot be.
func compileDesc(desc *phonenumbers.PhoneNumberDesc) (numberDesc, bool) {
	nd := numberDesc{anyLength: len(desc.GetPossibleLength()) == 0}
	for _, l := range desc.GetPossibleLength() {
		if l >= 0 && l < 64 {
			nd.lengths |= 1 << l
		}
	}
	if p := desc.GetNationalNumberPattern(); p != "" {
		var ok bool
		if nd.dfa, ok = compileDigitDFA(p); !ok {
			return nd, false
		}
	}
	return nd, true
}

// regionRule is one region's metadata as validity needs it.
type regionRule struct {
	countryCode int32
	leading     *digitDFA // the region's leading digits, nil when it has none
	general     numberDesc
	types       []numberDesc // premium rate, ..., fixed line, mobile: any one will do
}

// valid is the library's getNumberTypeHelper(nsn) != UNKNOWN: the general
// description and then any number type. Mobile counts only when its
// pattern differs from fixed line's, as in the library (when they are the
// same, fixed line has already answered).
func (r *regionRule) valid(nsn []byte) bool {
	if !r.general.matches(nsn) {
		return false
	}
	for i := range r.types {
		if r.types[i].matches(nsn) {
			return true
		}
	}
	return false
}

// compileRule compiles md; ok is false if any of its patterns cannot be.
func compileRule(md *phonenumbers.PhoneMetadata) (*regionRule, bool) {
	r := &regionRule{countryCode: md.GetCountryCode()}
	if ld := md.GetLeadingDigits(); ld != "" {
		var ok bool
		if r.leading, ok = compileDigitDFA(ld); !ok {
			return nil, false
		}
	}
	var ok bool
	if r.general, ok = compileDesc(md.GetGeneralDesc()); !ok {
		return nil, false
	}
	descs := []*phonenumbers.PhoneNumberDesc{
		md.GetPremiumRate(), md.GetTollFree(), md.GetSharedCost(), md.GetVoip(),
		md.GetPersonalNumber(), md.GetPager(), md.GetUan(), md.GetVoicemail(), md.GetFixedLine(),
	}
	if !md.GetSameMobileAndFixedLinePattern() {
		descs = append(descs, md.GetMobile())
	}
	for _, desc := range descs {
		if desc == nil {
			continue // matches nothing in the library
		}
		nd, ok := compileDesc(desc)
		if !ok {
			return nil, false
		}
		if nd.dfa != nil {
			r.types = append(r.types, nd)
		}
	}
	return r, true
}

// lazyRule compiles one region's rule on first use, so a file of UK
// numbers compiles the few regions of +44 and not the world.
type lazyRule struct {
	once sync.Once
	md   *phonenumbers.PhoneMetadata
	rule *regionRule // nil: the library decides
}

func (l *lazyRule) get() *regionRule {
	l.once.Do(func() {
		if r, ok := compileRule(l.md); ok {
			l.rule = r
		}
	})
	return l.rule
}

var phoneRules struct {
	once     sync.Once
	byRegion map[string]*lazyRule // geographic regions by id
	nonGeo   map[int32]*lazyRule  // the "001" entities by calling code
}

// ruleFor returns the compiled rule of region for calling code cc, or nil
// when the library must decide: the metadata could not be read or
// compiled, or the region is unknown.
func ruleFor(region string, cc int32) *regionRule {
	phoneRules.once.Do(func() {
		phoneRules.byRegion, phoneRules.nonGeo = map[string]*lazyRule{}, map[int32]*lazyRule{}
		coll, err := phonenumbers.MetadataCollection()
		if err != nil || coll == nil {
			return
		}
		// as the library indexes them: the last entry of an id wins
		for _, md := range coll.GetMetadata() {
			if md.GetId() == "001" {
				phoneRules.nonGeo[md.GetCountryCode()] = &lazyRule{md: md}
			} else {
				phoneRules.byRegion[md.GetId()] = &lazyRule{md: md}
			}
		}
	})
	var l *lazyRule
	if region == "001" {
		l = phoneRules.nonGeo[cc]
	} else {
		l = phoneRules.byRegion[region]
	}
	if l == nil {
		return nil
	}
	r := l.get()
	if r == nil || (region != "001" && r.countryCode != cc) {
		return nil
	}
	return r
}

// codeRules are the regions of one calling code, in the library's order,
// with their compiled rules (a nil rule: the library decides).
type codeRules struct {
	regions []string
	rules   []*regionRule
}

// byCode caches codeRules per calling code (all are below 1000), so a
// number costs no map look-up by region name.
var byCode [1000]atomic.Pointer[codeRules]

func rulesForCode(cc int32) *codeRules {
	if cc < 0 || int(cc) >= len(byCode) {
		return nil
	}
	if cr := byCode[cc].Load(); cr != nil {
		return cr
	}
	// Two goroutines may build it at once; both build the same.
	cr := &codeRules{regions: phonenumbers.GetRegionCodesForCountryCode(int(cc))}
	for _, region := range cr.regions {
		r := ruleFor(region, cc)
		if len(cr.regions) > 1 && region == "001" {
			r = nil // not a region the library can find a number in
		}
		cr.rules = append(cr.rules, r)
	}
	byCode[cc].Store(cr)
	return cr
}

// validNSN is phonenumbers.IsValidNumber for the number with calling code
// cc and national significant number nsn, on the compiled rules: the
// region is the only one of the calling code, or the first of its regions
// whose leading digits start nsn (and then that region's types decide) or,
// for a region without leading digits, whose types match. decided is false
// when a region on the way has no compiled rule; the caller then asks the
// library.
func validNSN(cc int32, nsn []byte) (valid, decided bool) {
	cr := rulesForCode(cc)
	switch {
	case cr == nil:
		return false, false
	case len(cr.regions) == 0:
		return false, true
	case len(cr.regions) == 1:
		if cr.rules[0] == nil {
			return false, false
		}
		return cr.rules[0].valid(nsn), true
	}
	for _, r := range cr.rules {
		if r == nil {
			return false, false
		}
		if r.leading != nil {
			if r.leading.prefix(nsn) {
				return r.valid(nsn), true
			}
		} else if r.valid(nsn) {
			return true, true
		}
	}
	return false, true
}

// appendNSN appends num's national significant number as the library
// writes it (GetNationalSignificantNumber): its Italian leading zeros,
// bounded as the library bounds them, then the national number.
func appendNSN(b []byte, num *phonenumbers.PhoneNumber) []byte {
	if num.GetItalianLeadingZero() && num.GetNumberOfLeadingZeros() > 0 {
		for i := 0; i < int(min(num.GetNumberOfLeadingZeros(), 17)); i++ {
			b = append(b, '0')
		}
	}
	return strconv.AppendUint(b, num.GetNationalNumber(), 10)
}

// e164 is phonenumbers.Format(num, E164) for a number with calling code
// cc and national significant number nsn: "+", the code, the number.
func e164(cc int32, nsn []byte) string {
	var buf [48]byte
	b := append(buf[:0], '+')
	b = strconv.AppendInt(b, int64(cc), 10)
	return string(append(b, nsn...))
}

// validInRegion is phonenumbers.IsValidNumberForRegion(Parse(s, region),
// region), which region inference asks of a file's national numbers for
// each candidate region: read by fastDigits or Parse, judged on region's
// compiled rule, and by the library when it has none.
func validInRegion(s, region string) bool {
	var buf [48]byte
	cc, nsn, ok := fastDigits(s, region, buf[:0])
	var num *phonenumbers.PhoneNumber
	if !ok {
		var err error
		if num, err = phonenumbers.Parse(s, region); err != nil {
			return false
		}
		cc, nsn = num.GetCountryCode(), appendNSN(buf[:0], num)
	}
	if region != "001" {
		if r := ruleFor(region, cc); r != nil {
			return r.valid(nsn)
		}
	}
	if num == nil {
		var v uint64
		for _, c := range nsn {
			v = v*10 + uint64(c-'0')
		}
		num = &phonenumbers.PhoneNumber{CountryCode: &cc, NationalNumber: &v}
	}
	return phonenumbers.IsValidNumberForRegion(num, region)
}
