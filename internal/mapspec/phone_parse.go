package mapspec

// Reading a phone number costs far more than the rest of a contact row (see
// BENCHMARKS.md, issue 15 item 4): the library runs regular expressions over
// the region's metadata. So the commonest UK and North American shapes are
// read without them (fastDigits), validity follows the library's rule on
// its patterns compiled to automata over digits (validNSN, phone_valid.go),
// and each mapper keeps the answers for the numbers the library had to
// parse, because exports repeat switchboard and office numbers. Every
// answer is the library's; the tests compare them.

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// phoneResult is the library's answer for one (text, region): whether the
// number is valid and, if so, its E.164 form and its extension.
type phoneResult struct {
	valid     bool
	e164, ext string
}

// parsePhone answers for s read in region as the library would. The
// commonest shapes are read by fastDigits and everything else by the
// library's Parse; validity is then the library's rule followed on its
// compiled patterns (validNSN, phone_valid.go), and only when a region's
// patterns could not be compiled the library's IsValidNumber itself. An
// unparseable or invalid number is the zero phoneResult.
func parsePhone(s, region string) phoneResult {
	var buf [48]byte
	if cc, nsn, ok := fastDigits(s, region, buf[:0]); ok {
		return fastPhone(cc, nsn)
	}
	return libraryParsed(s, region)
}

// fastPhone judges a number fastDigits read.
func fastPhone(cc int32, nsn []byte) phoneResult {
	valid, decided := validNSN(cc, nsn)
	if !decided {
		var v uint64
		for _, c := range nsn {
			v = v*10 + uint64(c-'0')
		}
		valid = phonenumbers.IsValidNumber(&phonenumbers.PhoneNumber{CountryCode: &cc, NationalNumber: &v})
	}
	if !valid {
		return phoneResult{}
	}
	return phoneResult{valid: true, e164: e164(cc, nsn)}
}

// libraryParsed reads s with the library's Parse and judges the number.
func libraryParsed(s, region string) phoneResult {
	num, err := phonenumbers.Parse(s, region)
	if err != nil {
		return phoneResult{}
	}
	var buf [48]byte
	nsn := appendNSN(buf[:0], num)
	valid, decided := validNSN(num.GetCountryCode(), nsn)
	if !decided {
		valid = phonenumbers.IsValidNumber(num)
	}
	if !valid {
		return phoneResult{}
	}
	return phoneResult{valid: true, e164: e164(num.GetCountryCode(), nsn), ext: num.GetExtension()}
}

// fastDigits reads, without the library's regular expressions, the shapes
// most exports hold: a UK number as 0 and ten digits (read in GB) or +44
// and ten digits, a North American one as ten digits or 1 and ten (read in
// US or CA) or +1 and ten, written with digits, spaces, dashes, dots and
// brackets only, the national number not starting with 0 (or, for North
// America, 1). For these
// the library's Parse finds no extension, no carrier code and no national
// prefix to strip but the 0, so the number is the calling code and the ten
// digits, which are its national significant number (appended to b); ok is
// false for anything else, which the library then parses.
// TestValidNumberAgreesWithLibrary compares the two on millions of numbers.
func fastDigits(s, region string, b []byte) (cc int32, nsn []byte, ok bool) {
	var d [16]byte
	n, plus := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			if n == len(d) {
				return 0, nil, false
			}
			d[n] = c
			n++
		case c == '+' && i == 0:
			plus = true
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return 0, nil, false
		}
	}
	var digits []byte
	switch {
	case plus && n == 12 && d[0] == '4' && d[1] == '4' && d[2] != '0':
		cc, digits = 44, d[2:12]
	case plus && n == 11 && d[0] == '1' && d[1] >= '2':
		cc, digits = 1, d[1:11]
	case !plus && region == "GB" && n == 11 && d[0] == '0' && d[1] != '0':
		cc, digits = 44, d[1:11]
	case !plus && nanp(region) && n == 10 && d[0] >= '2':
		cc, digits = 1, d[:10]
	case !plus && nanp(region) && n == 11 && d[0] == '1' && d[1] >= '2':
		// "1-415-555-0100": eleven digits are too long for North America,
		// so the library takes the 1 for the calling code.
		cc, digits = 1, d[1:11]
	default:
		return 0, nil, false
	}
	return cc, append(b, digits...), true
}

// nanp reports whether region is one whose national numbers fastDigits
// reads as North American: the United States and Canada.
func nanp(region string) bool { return region == "US" || region == "CA" }

// phoneGeneration bounds the phone cache: it holds at most two generations
// of this many answers (a few hundred KB per mapper). When the current
// generation fills it becomes the old one and the oldest is dropped, so
// numbers in use stay (a hit in the old generation moves to the current
// one) and memory does not grow with the file.
const phoneGeneration = 4096

type phoneKey struct{ text, region string }

// phoneCache remembers the answers for the numbers the library had to
// parse for one mapper; the shapes fastDigits reads cost less to read again
// than to remember. A Mapper is used by one goroutine at a time
// (pipeline.Run gives each worker its own Clone, and Clone starts an empty
// cache), so it needs no lock.
type phoneCache struct {
	cur, old map[phoneKey]phoneResult
}

// lookup returns the library's answer for s in region, from the cache when
// it has it.
func (c *phoneCache) lookup(s, region string) phoneResult {
	var buf [48]byte
	if cc, nsn, ok := fastDigits(s, region, buf[:0]); ok {
		return fastPhone(cc, nsn)
	}
	k := phoneKey{s, region}
	if r, ok := c.cur[k]; ok {
		return r
	}
	r, ok := c.old[k]
	if !ok {
		r = libraryParsed(s, region)
	}
	if c.cur == nil || len(c.cur) >= phoneGeneration {
		c.old, c.cur = c.cur, make(map[phoneKey]phoneResult, phoneGeneration)
	}
	// The key is copied: s may be a slice of the reader's whole chunk, which
	// the cache must not keep alive.
	c.cur[phoneKey{strings.Clone(s), region}] = r
	return r
}
