package mapspec

import (
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/cutover/cutover/internal/schema"
)

// libraryPhone is the phone library used the plain way, as convert_phone.go
// did before the cache: Parse, IsValidNumber, Format. The tests compare
// against it.
func libraryPhone(s, region string) phoneResult {
	num, err := phonenumbers.Parse(s, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return phoneResult{}
	}
	return phoneResult{valid: true, e164: phonenumbers.Format(num, phonenumbers.E164), ext: num.GetExtension()}
}

var corpusRegions = []string{"GB", "US", "DE", "FR", "AU", "NL", "IE", "CA", "GG", "JE", "IM"}

// Calling codes shared by several regions (where validNSN tests regions
// in turn) and single-region ones.
var corpusCodes = []string{"44", "1", "49", "33", "61", "31", "353", "7", "47", "358", "212", "262", "590", "599", "39", "290", "800", "882", "979"}

// phoneCorpus generates n phone-number texts with a region each: national
// and international, valid and not, with spaces, dots, dashes, brackets,
// "(0)", "00" and "+" prefixes, extensions and stray letters.
func phoneCorpus(seed uint64, n int) []phoneKey {
	r := rand.New(rand.NewPCG(seed, 7))
	digits := func(k int) string {
		b := make([]byte, k)
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
		}
		return string(b)
	}
	// realistic leading digits, so that a good share is valid
	starts := []string{"20", "7911", "7700", "161", "1481", "1534", "1624", "212", "416", "604", "30", "151", "1", "6", "4", "2", "8", "9", "3", "5", "0", "800", "845", "87", "2025", "3491"}
	out := make([]phoneKey, 0, n)
	for len(out) < n {
		region := corpusRegions[r.IntN(len(corpusRegions))]
		body := starts[r.IntN(len(starts))] + digits(4+r.IntN(7))
		var s string
		if r.IntN(2) == 0 {
			// the shapes fastDigits reads, and their near misses: ten
			// (sometimes nine or eleven) digits starting anywhere, behind
			// 0, +44, +1, 1, 44 or nothing, mostly in GB and US
			k := 10
			if r.IntN(5) == 0 {
				k = 9 + r.IntN(3)
			}
			body = starts[r.IntN(len(starts))] + digits(10)
			body = body[:k]
			if r.IntN(3) == 0 {
				body = digits(k)
			}
			s = []string{"0", "0", "+44", "+1", "", "", "1", "44", "+440", "+11", "+"}[r.IntN(11)] + body
			region = []string{"GB", "US", "GB", "US", "CA", "IE"}[r.IntN(6)]
			if r.IntN(3) > 0 { // mostly a shape that fits
				pair := [][2]string{{"0", "GB"}, {"+44", "US"}, {"+1", "GB"}, {"", "US"}, {"1", "US"}, {"", "CA"}, {"1", "CA"}}[r.IntN(7)]
				s, region = pair[0]+body, pair[1]
			}
		} else {
			switch r.IntN(6) {
			case 0, 1: // national, with the trunk prefix
				s = "0" + body
			case 2: // national without it (NANP style)
				s = body
			case 3:
				s = "+" + corpusCodes[r.IntN(len(corpusCodes))] + body
			case 4:
				s = "+" + corpusCodes[r.IntN(len(corpusCodes))] + "(0)" + body
			case 5:
				s = "00" + corpusCodes[r.IntN(len(corpusCodes))] + body
			}
		}
		// separators
		if sep := []string{"", " ", ".", "-", ""}[r.IntN(5)]; sep != "" {
			var b strings.Builder
			for i, c := range s {
				if i > 1 && r.IntN(4) == 0 {
					b.WriteString(sep)
				}
				b.WriteRune(c)
			}
			s = b.String()
		}
		if r.IntN(8) == 0 && len(s) > 5 {
			s = "(" + s[:4] + ") " + s[4:]
		}
		switch r.IntN(12) {
		case 0:
			s += " ext " + digits(1+r.IntN(4))
		case 1:
			s += " x" + digits(1+r.IntN(4))
		case 2:
			s += "#" + digits(2)
		case 3:
			s = s[:len(s)/2] + "a" + s[len(s)/2:]
		}
		// what convert hands the library
		if strings.HasPrefix(s, "00") {
			s = "+" + s[2:]
		}
		if strings.HasPrefix(s, "+") {
			s = strings.Replace(s, "(0)", "", 1)
		}
		out = append(out, phoneKey{s, region})
	}
	return out
}

// conformancePhones reads the phone-like columns of the real exports in
// /work/shared/conformance (or $CUTOVER_CONFORMANCE) at test time, when
// they are there; they are not part of the repository.
func conformancePhones(t *testing.T) []string {
	dir := os.Getenv("CUTOVER_CONFORMANCE")
	if dir == "" {
		dir = "/work/shared/conformance"
	}
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.EqualFold(filepath.Ext(p), ".csv") {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return nil
		}
		defer f.Close()
		cr := csv.NewReader(f)
		cr.FieldsPerRecord, cr.LazyQuotes = -1, true
		head, err := cr.Read()
		if err != nil {
			return nil
		}
		var cols []int
		for i, h := range head {
			h = strings.ToLower(h)
			if strings.Contains(h, "phone") || strings.Contains(h, "mobile") || strings.Contains(h, "tel") || strings.Contains(h, "fax") {
				cols = append(cols, i)
			}
		}
		for len(cols) > 0 {
			row, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				continue
			}
			for _, c := range cols {
				if c < len(row) && strings.TrimSpace(row[c]) != "" {
					out = append(out, strings.TrimSpace(row[c]))
				}
			}
		}
		return nil
	})
	return out
}

func corpusSize(t *testing.T, def int) int {
	if v := os.Getenv("CUTOVER_PHONE_CORPUS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("CUTOVER_PHONE_CORPUS=%q: %v", v, err)
		}
		return n
	}
	if testing.Short() {
		return def / 10
	}
	return def
}

// TestValidNumberAgreesWithLibrary: parsePhone (fastDigits or the
// library's Parse, then validNSN) gives exactly the library's answer on a generated corpus and on the real
// exports' phone columns. CUTOVER_PHONE_CORPUS=N runs N generated numbers.
func TestValidNumberAgreesWithLibrary(t *testing.T) {
	corpus := phoneCorpus(1, corpusSize(t, 60000))
	real := conformancePhones(t)
	for _, s := range real {
		for _, region := range []string{"GB", "US", "FR", "DE"} {
			corpus = append(corpus, phoneKey{s, region})
		}
	}
	valid, multi, diffs, fast, parsed, decided := 0, 0, 0, 0, 0, 0
	for _, k := range corpus {
		if _, _, ok := fastDigits(k.text, k.region, nil); ok {
			fast++
		}
		got, want := parsePhone(k.text, k.region), libraryPhone(k.text, k.region)
		if got != want {
			if diffs++; diffs <= 10 {
				t.Errorf("%q in %s: got %+v, the library says %+v", k.text, k.region, got, want)
			}
		}
		// the compiled rules, asked directly about every number the library
		// parses, whichever way parsePhone read it
		if num, err := phonenumbers.Parse(k.text, k.region); err == nil {
			parsed++
			v, ok := validNSN(num.GetCountryCode(), appendNSN(nil, num))
			if ok {
				decided++
				if lib := phonenumbers.IsValidNumber(num); v != lib {
					if diffs++; diffs <= 10 {
						t.Errorf("%q in %s (+%d %d): the compiled rules say valid=%v, the library %v", k.text, k.region, num.GetCountryCode(), num.GetNationalNumber(), v, lib)
					}
				}
			}
		}
		if want.valid {
			valid++
			if num, err := phonenumbers.Parse(k.text, k.region); err == nil && len(phonenumbers.GetRegionCodesForCountryCode(int(num.GetCountryCode()))) > 1 {
				multi++
			}
		}
	}
	t.Logf("%d numbers (%d from real exports), %d valid, %d of them in calling codes shared by several regions, %d read by fastDigits; of the %d the library parses, %d judged by the compiled rules; %d disagreements", len(corpus), len(real), valid, multi, fast, parsed, decided, diffs)
	if decided < parsed*99/100 || parsed < len(corpus)/2 {
		t.Errorf("only %d of the %d numbers parsed (of %d) were judged by the compiled rules: the corpus does not test them", decided, parsed, len(corpus))
	}
	if fast < len(corpus)/10 {
		t.Errorf("only %d of %d numbers took fastDigits: the corpus does not test it", fast, len(corpus))
	}
	// the corpus must exercise both answers and the shared calling codes
	if valid < len(corpus)/20 || valid > len(corpus)*19/20 || multi < valid/10 {
		t.Errorf("corpus too one-sided: %d of %d valid, %d in shared calling codes", valid, len(corpus), multi)
	}
}

// TestPhoneCacheMatchesUncached maps rows whose phones repeat (more
// distinct numbers than the cache holds, so generations roll over) with
// several clones of one mapper at once, as pipeline.Run does, and checks
// every row's phone, error and warnings against the library asked directly.
// Run it with -race.
func TestPhoneCacheMatchesUncached(t *testing.T) {
	sp, err := Parse([]byte(`{"version":1,"defaults":{"region":"GB"},"files":[{"name":"c","entity":"contact","sourceId":["id"],
	 "fields":[{"target":"first_name","column":"name"},{"target":"phones","column":"phone"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Compile(sp.Files[0], schema.Default(), []string{"id", "name", "phone"}, "acme", time.Date(2024, 6, 15, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	distinct := phoneCorpus(2, 3*phoneGeneration)
	r := rand.New(rand.NewPCG(3, 3))
	n := corpusSize(t, 40000)
	rows := make([][]string, n)
	for i := range rows {
		// a few "switchboards" are most rows; the rest spread over the corpus
		j := r.IntN(len(distinct))
		if r.IntN(2) == 0 {
			j = r.IntN(20)
		}
		rows[i] = []string{strconv.Itoa(i), "Ann", distinct[j].text}
	}
	const workers = 4
	var wg sync.WaitGroup
	errs := make(chan string, workers)
	for w := 0; w < workers; w++ {
		mm := m.Clone()
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(rows); i += workers {
				if msg := checkPhoneRow(mm.Map(i+2, rows[i]), rows[i][2]); msg != "" {
					errs <- msg
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
}

// checkPhoneRow compares what the mapper made of one phone with the library.
func checkPhoneRow(o Outcome, raw string) string {
	want := libraryPhone(raw, "GB")
	if !want.valid {
		// lenient rows: the phone is left out with its reason, or the row rejected
		var reasons []string
		for _, is := range append(append([]Issue(nil), o.Errors...), o.Warnings...) {
			reasons = append(reasons, is.Reason)
		}
		if o.Record != nil {
			if v, ok := o.Record.Get("phones"); ok && v.String() != "" && v.String() != "[]" {
				return fmt.Sprintf("%q: the library finds it invalid, the mapper wrote %s", raw, v)
			}
		}
		if !strings.Contains(strings.Join(reasons, "|"), "is not a valid phone number") {
			return fmt.Sprintf("%q: the library finds it invalid, the mapper gave no reason (%v)", raw, reasons)
		}
		return ""
	}
	if o.Record == nil {
		return fmt.Sprintf("%q: the library reads %s, the mapper rejected the row: %+v", raw, want.e164, o.Errors)
	}
	v, _ := o.Record.Get("phones")
	if !strings.Contains(v.String(), want.e164) {
		return fmt.Sprintf("%q: the library reads %s, the mapper wrote %s", raw, want.e164, v)
	}
	if want.ext != "" {
		found := false
		for _, is := range o.Warnings {
			found = found || strings.Contains(is.Reason, "extension "+want.ext)
		}
		if !found {
			return fmt.Sprintf("%q: extension %s not reported: %+v", raw, want.ext, o.Warnings)
		}
	}
	return ""
}

// TestPhoneCacheLookup: the cache's answer for each (text, region) of a
// corpus with repeats, read in several regions and long enough for the
// generations to roll over, is the library's, and it stays bounded.
func TestPhoneCacheLookup(t *testing.T) {
	distinct := phoneCorpus(4, 3*phoneGeneration)
	r := rand.New(rand.NewPCG(5, 5))
	var c phoneCache
	for i := 0; i < corpusSize(t, 30000); i++ {
		k := distinct[r.IntN(len(distinct))]
		if r.IntN(3) == 0 {
			k = distinct[r.IntN(10)]
		}
		// the same text read in another region is another question
		k.region = corpusRegions[r.IntN(4)]
		if got, want := c.lookup(k.text, k.region), libraryPhone(k.text, k.region); got != want {
			t.Fatalf("lookup %d: %q in %s: cache says %+v, the library %+v", i, k.text, k.region, got, want)
		}
		if n := len(c.cur) + len(c.old); n > 2*phoneGeneration {
			t.Fatalf("the cache holds %d answers, more than %d", n, 2*phoneGeneration)
		}
	}
}

// TestPhoneCommonShapesAllocateOnlyTheResult: a UK or North American number
// in the commonest shapes is read and judged without the library's regular
// expressions (which build a pattern string for every look-up), so the
// only allocation left is the E.164 text of a valid number. This counts
// allocations, not time, so it holds on a loaded machine.
func TestPhoneCommonShapesAllocateOnlyTheResult(t *testing.T) {
	for _, c := range []struct {
		text, region string
		valid        bool
	}{
		{"07911 123456", "GB", true},
		{"020 7946 0958", "GB", true},
		{"+44 161 496 0000", "US", true},
		{"(201) 555-0123", "US", true},
		{"+1 416.555.0199", "GB", true},
		{"1-201-555-0123", "US", true},
		{"(416) 555-0199", "CA", true},
		{"01000 000000", "GB", false},
		{"(201) 155-0123", "US", false},
	} {
		if got := libraryPhone(c.text, c.region).valid; got != c.valid {
			t.Fatalf("%q in %s: the library says valid=%v, the test expects %v", c.text, c.region, got, c.valid)
		}
		want := 0.0
		if c.valid {
			want = 1
		}
		if n := testing.AllocsPerRun(20, func() { parsePhone(c.text, c.region) }); n > want {
			t.Errorf("%q in %s: %v allocations, want at most %v", c.text, c.region, n, want)
		}
	}
}

// TestDigitDFAMatchesRegexp: every pattern of the library's metadata (each
// region's number descriptions and leading digits), compiled to an
// automaton over digits, accepts exactly what package regexp matches with
// the library's anchoring ("^(?:p)$", and "^(?:p)" for leading digits), on
// each description's example number, its one-digit changes, cuts and
// extensions, and random digit strings of every length a number can have.
func TestDigitDFAMatchesRegexp(t *testing.T) {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(9, 9))
	// CUTOVER_PHONE_CORPUS=3000000 compares 10,000 random strings per pattern
	randomPer := max(200, corpusSize(t, 60000)/300)
	patterns, inputs, failed := 0, 0, 0
	check := func(where, pattern string, examples []string, prefix bool) {
		d, ok := compileDigitDFA(pattern)
		if !ok {
			failed++
			t.Logf("%s: %q is left to the library", where, pattern)
			return
		}
		patterns++
		anchored := "^(?:" + pattern + ")$"
		if prefix {
			anchored = "^(?:" + pattern + ")"
		}
		re := regexp.MustCompile(anchored)
		var in []string
		for _, ex := range examples {
			in = append(in, ex, ex+"0", ex+"9")
			for i := range ex {
				in = append(in, ex[:i])
				for c := byte('0'); c <= '9'; c++ {
					in = append(in, ex[:i]+string(c)+ex[i+1:])
				}
			}
		}
		for i := 0; i < randomPer; i++ {
			b := make([]byte, 1+r.IntN(17))
			for j := range b {
				b[j] = byte('0' + r.IntN(10))
			}
			in = append(in, string(b))
		}
		for _, s := range in {
			inputs++
			got := d.full([]byte(s))
			if prefix {
				got = d.prefix([]byte(s))
			}
			if want := re.MatchString(s); got != want {
				t.Errorf("%s: %q on %q: automaton %v, regexp %v", where, pattern, s, got, want)
				return
			}
		}
	}
	for _, md := range coll.GetMetadata() {
		descs := map[string]*phonenumbers.PhoneNumberDesc{
			"general": md.GetGeneralDesc(), "premium": md.GetPremiumRate(), "toll-free": md.GetTollFree(),
			"shared-cost": md.GetSharedCost(), "voip": md.GetVoip(), "personal": md.GetPersonalNumber(),
			"pager": md.GetPager(), "uan": md.GetUan(), "voicemail": md.GetVoicemail(),
			"fixed-line": md.GetFixedLine(), "mobile": md.GetMobile(),
		}
		var examples []string
		for _, d := range descs {
			if d.GetExampleNumber() != "" {
				examples = append(examples, d.GetExampleNumber())
			}
		}
		for name, d := range descs {
			if p := d.GetNationalNumberPattern(); p != "" {
				check(md.GetId()+" "+name, p, examples, false)
			}
		}
		if ld := md.GetLeadingDigits(); ld != "" {
			check(md.GetId()+" leading digits", ld, examples, true)
		}
	}
	t.Logf("%d patterns compiled, %d left to the library, %d inputs compared", patterns, failed, inputs)
	if patterns < 1000 || failed > patterns/100 {
		t.Errorf("%d patterns compiled and %d not: the automata cover too little", patterns, failed)
	}
}

// TestValidInRegionAgreesWithLibrary: what region inference asks of a
// national number for each candidate region (validInRegion) is the
// library's Parse and IsValidNumberForRegion, on a generated corpus and
// the real exports' phone columns, for every candidate region.
func TestValidInRegionAgreesWithLibrary(t *testing.T) {
	corpus := phoneCorpus(6, corpusSize(t, 60000)/20)
	for _, s := range conformancePhones(t) {
		corpus = append(corpus, phoneKey{s, ""})
	}
	regions := append(append([]string(nil), nationalCandidates...), "GG", "JE", "IM", "CA", "001", "ZZ")
	valid, diffs := 0, 0
	for _, k := range corpus {
		for _, region := range regions {
			want := false
			if num, err := phonenumbers.Parse(k.text, region); err == nil {
				want = phonenumbers.IsValidNumberForRegion(num, region)
			}
			if got := validInRegion(k.text, region); got != want {
				if diffs++; diffs <= 10 {
					t.Errorf("%q in %s: validInRegion says %v, the library %v", k.text, region, got, want)
				}
			}
			if want {
				valid++
			}
		}
	}
	t.Logf("%d numbers in %d regions, %d valid there; %d disagreements", len(corpus), len(regions), valid, diffs)
	if valid < len(corpus)/10 {
		t.Errorf("only %d valid answers: the corpus does not test validity", valid)
	}
}
