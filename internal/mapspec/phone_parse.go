package mapspec

// Reading a phone number costs far more than the rest of a contact row (see
// BENCHMARKS.md, issue 15 item 4): the library runs regular expressions over
// the region's metadata. So the commonest UK and North American shapes are
// read without them (fastParse), validity is decided without repeating the
// library's work (validNumber), and each mapper keeps the answers for the
// numbers it has seen, because exports repeat switchboard and office
// numbers. Every answer is the library's; the tests compare them.

import (
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// phoneResult is the library's answer for one (text, region): whether the
// number is valid and, if so, its E.164 form and its extension.
type phoneResult struct {
	valid     bool
	e164, ext string
}

// parsePhone answers for s read in region as the library would: the number
// from fastParse or else the library's Parse, then the library's own
// validity rule (validNumber), then E.164. An unparseable or invalid number
// is the zero phoneResult.
func parsePhone(s, region string) phoneResult {
	num, ok := fastParse(s, region)
	if !ok {
		var err error
		if num, err = phonenumbers.Parse(s, region); err != nil {
			return phoneResult{}
		}
	}
	if !validNumber(num) {
		return phoneResult{}
	}
	return phoneResult{valid: true, e164: phonenumbers.Format(num, phonenumbers.E164), ext: num.GetExtension()}
}

// fastParse reads, without the library's regular expressions, the shapes
// most exports hold: a UK number as 0 and ten digits (read in GB) or +44
// and ten digits, a North American one as ten digits (read in US) or +1
// and ten, written with digits, spaces, dashes, dots and brackets only, the
// national number not starting with 0 (or, for North America, 1). For these
// the library's Parse finds no extension, no carrier code and no national
// prefix to strip but the 0, so the number is the calling code and the ten
// digits; ok is false for anything else, which the library then parses.
// Validity is still the library's (validNumber). TestValidNumberAgreesWithLibrary
// compares the two on millions of numbers.
func fastParse(s, region string) (*phonenumbers.PhoneNumber, bool) {
	var d [16]byte
	n, plus := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			if n == len(d) {
				return nil, false
			}
			d[n] = c
			n++
		case c == '+' && i == 0:
			plus = true
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return nil, false
		}
	}
	var cc int32
	var nsn []byte
	switch {
	case plus && n == 12 && d[0] == '4' && d[1] == '4' && d[2] != '0':
		cc, nsn = 44, d[2:12]
	case plus && n == 11 && d[0] == '1' && d[1] >= '2':
		cc, nsn = 1, d[1:11]
	case !plus && region == "GB" && n == 11 && d[0] == '0' && d[1] != '0':
		cc, nsn = 44, d[1:11]
	case !plus && region == "US" && n == 10 && d[0] >= '2':
		cc, nsn = 1, d[:10]
	default:
		return nil, false
	}
	var v uint64
	for _, c := range nsn {
		v = v*10 + uint64(c-'0')
	}
	return &phonenumbers.PhoneNumber{CountryCode: &cc, NationalNumber: &v}, true
}

// validNumber is phonenumbers.IsValidNumber without its repeated work. The
// library finds the number's region by testing each region of the calling
// code in turn (by its leading digits if it has them, else by matching the
// number against every number type), then tests the number against that
// region's types once more. Here the first match is the answer: a region
// without leading digits that matches is the region the library would pick,
// and it has just been found valid. As soon as a region has leading digits
// the library's own function decides, so the answer is the library's by
// construction; TestValidNumberAgreesWithLibrary checks it on a corpus.
func validNumber(num *phonenumbers.PhoneNumber) bool {
	regions := phonenumbers.GetRegionCodesForCountryCode(int(num.GetCountryCode()))
	if len(regions) <= 1 {
		return phonenumbers.IsValidNumber(num)
	}
	lead := regionsWithLeadingDigits()
	for _, r := range regions {
		if lead[r] {
			return phonenumbers.IsValidNumber(num)
		}
		if phonenumbers.IsValidNumberForRegion(num, r) {
			return true
		}
	}
	return false
}

var leadingDigits struct {
	once    sync.Once
	regions map[string]bool
}

// regionsWithLeadingDigits names the regions whose metadata identifies
// their numbers by leading digits, read once from the library's metadata.
// If the metadata cannot be read, every region is listed, so validNumber
// always defers to the library.
func regionsWithLeadingDigits() map[string]bool {
	leadingDigits.once.Do(func() {
		m := map[string]bool{}
		coll, err := phonenumbers.MetadataCollection()
		if err != nil || coll == nil {
			for r := range phonenumbers.GetSupportedRegions() {
				m[r] = true
			}
		} else {
			for _, md := range coll.GetMetadata() {
				if md.GetLeadingDigits() != "" {
					m[md.GetId()] = true
				}
			}
		}
		leadingDigits.regions = m
	})
	return leadingDigits.regions
}

// phoneGeneration bounds the phone cache: it holds at most two generations
// of this many answers (a few hundred KB per mapper). When the current
// generation fills it becomes the old one and the oldest is dropped, so
// numbers in use stay (a hit in the old generation moves to the current
// one) and memory does not grow with the file.
const phoneGeneration = 4096

type phoneKey struct{ text, region string }

// phoneCache remembers the library's answers for one mapper. A Mapper is
// used by one goroutine at a time (pipeline.Run gives each worker its own
// Clone, and Clone starts an empty cache), so it needs no lock.
type phoneCache struct {
	cur, old map[phoneKey]phoneResult
}

// lookup returns the library's answer for s in region, from the cache when
// it has it.
func (c *phoneCache) lookup(s, region string) phoneResult {
	k := phoneKey{s, region}
	if r, ok := c.cur[k]; ok {
		return r
	}
	r, ok := c.old[k]
	if !ok {
		r = parsePhone(s, region)
	}
	if c.cur == nil || len(c.cur) >= phoneGeneration {
		c.old, c.cur = c.cur, make(map[phoneKey]phoneResult, phoneGeneration)
	}
	// The key is copied: s may be a slice of the reader's whole chunk, which
	// the cache must not keep alive.
	c.cur[phoneKey{strings.Clone(s), region}] = r
	return r
}
