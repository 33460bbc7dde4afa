package mapspec

import (
	"sort"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// Phone regions are inferred the way a person reads an export: a row that
// says which country it is in is read in that country; otherwise the
// file's own evidence decides (the country codes of the numbers that
// carry one, and its country or address columns); otherwise the
// migration's market. No country is assumed: a national number nobody can
// place is left out with a reason, not read as British.

// countryNames maps country names and codes, in several languages and
// spellings, to ISO 3166-1 alpha-2. Two-letter codes that phone numbers
// know are read directly and need no entry.
var countryNames = func() map[string]string {
	m := map[string]string{}
	add := func(code string, names ...string) {
		for _, n := range names {
			m[foldCountry(n)] = code
		}
	}
	add("US", "usa", "us", "u.s.", "u.s.a.", "united states", "united states of america", "america", "vereinigte staaten", "etats-unis", "états-unis", "estados unidos", "stati uniti", "verenigde staten", "eeuu", "ee.uu.")
	add("GB", "uk", "u.k.", "united kingdom", "great britain", "britain", "england", "scotland", "wales", "northern ireland", "royaume-uni", "vereinigtes königreich", "grossbritannien", "großbritannien", "reino unido", "regno unito", "verenigd koninkrijk", "gbr")
	add("FR", "france", "frankreich", "francia", "frankrijk", "frança", "fra")
	add("DE", "germany", "deutschland", "allemagne", "alemania", "germania", "duitsland", "alemanha", "deu", "ger")
	add("ES", "spain", "españa", "espana", "espagne", "spanien", "spagna", "spanje", "espanha", "esp")
	add("IT", "italy", "italia", "italie", "italien", "italië", "itália", "ita")
	add("NL", "netherlands", "the netherlands", "holland", "nederland", "pays-bas", "niederlande", "países bajos", "paesi bassi", "países baixos", "nld")
	add("BE", "belgium", "belgique", "belgië", "belgien", "bélgica", "belgio", "bel")
	add("CH", "switzerland", "schweiz", "suisse", "svizzera", "suiza", "zwitserland", "suíça", "che")
	add("AT", "austria", "österreich", "oesterreich", "autriche", "oostenrijk", "áustria", "aut")
	add("IE", "ireland", "republic of ireland", "eire", "éire", "irlande", "irland", "irlanda", "ierland", "irl")
	add("PT", "portugal", "prt")
	add("BR", "brazil", "brasil", "brésil", "brasilien", "brasile", "bra")
	add("MX", "mexico", "méxico", "mexique", "mexiko", "messico", "mex")
	add("CA", "canada", "kanada", "canadá", "can")
	add("AU", "australia", "australie", "australien", "australië", "aus")
	add("NZ", "new zealand", "nouvelle-zélande", "neuseeland", "nueva zelanda", "nieuw-zeeland", "nzl")
	add("IN", "india", "inde", "indien", "ind")
	add("JP", "japan", "japon", "japón", "giappone", "日本", "jpn")
	add("CN", "china", "chine", "cina", "中国", "chn")
	add("TW", "taiwan", "台灣", "台湾", "twn")
	add("HK", "hong kong", "香港", "hkg")
	add("SG", "singapore", "singapour", "singapur", "sgp")
	add("ZA", "south africa", "afrique du sud", "südafrika", "sudáfrica", "zaf")
	add("SE", "sweden", "sverige", "suède", "schweden", "suecia", "svezia", "zweden", "swe")
	add("NO", "norway", "norge", "norvège", "norwegen", "noruega", "norvegia", "noorwegen", "nor")
	add("DK", "denmark", "danmark", "danemark", "dänemark", "dinamarca", "danimarca", "denemarken", "dnk")
	add("FI", "finland", "suomi", "finlande", "finnland", "finlandia", "fin")
	add("PL", "poland", "polska", "pologne", "polen", "polonia", "pol")
	add("LU", "luxembourg", "luxemburg", "luxemburgo", "lussemburgo", "lux")
	add("AR", "argentina", "argentine", "argentinien", "arg")
	add("CO", "colombia", "colombie", "kolumbien", "col")
	add("CL", "chile", "chili", "chl")
	return m
}()

func foldCountry(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(strings.TrimSpace(s)), " "))
}

// CountryRegion returns the ISO 3166-1 alpha-2 region a country value
// names ("Deutschland", "USA", "fr", "Royaume-Uni"), or "" when it names
// none phone numbers know.
func CountryRegion(v string) string {
	k := foldCountry(v)
	if k == "" {
		return ""
	}
	if c, ok := countryNames[k]; ok {
		return c
	}
	if len(k) == 2 {
		up := strings.ToUpper(k)
		if phonenumbers.GetSupportedRegions()[up] {
			return up
		}
	}
	return ""
}

// countryHeaderWords are header words that name a country column, in the
// languages the header suggestions know.
var countryHeaderWords = []string{"country", "land", "pays", "país", "pais", "paese", "nation", "nazione", "country/region", "countrycode", "country code"}

// isCountryHeader reports whether a column's name says it holds a
// country: "Country", "Mailing Country", "Home Country/Region", "Land",
// "Pays", "País".
func isCountryHeader(h string) bool {
	k := normCol(h)
	words := strings.FieldsFunc(k, func(r rune) bool { return !unicode.IsLetter(r) })
	for _, w := range words {
		for _, c := range countryHeaderWords {
			if w == c {
				return true
			}
		}
	}
	return strings.Contains(k, "country")
}

// countryColumns lists the columns of header that name a country.
func countryColumns(header []string) []int {
	var out []int
	for i, h := range header {
		if isCountryHeader(h) {
			out = append(out, i)
		}
	}
	return out
}

// intlRegion returns the region of a value written with a country code
// ("+1 415 555 0100", "0049 30 1234567"), or "" when the value has none
// or is not a phone number.
func intlRegion(v string) string {
	s := strings.TrimSpace(v)
	if len(s) < 8 || len(s) > 30 {
		return ""
	}
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	if s[0] != '+' {
		return ""
	}
	digits := 0
	for _, r := range s[1:] {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '/':
		default:
			return ""
		}
	}
	if digits < 7 || digits > 15 {
		return ""
	}
	num, err := phonenumbers.Parse(strings.Replace(s, "(0)", "", 1), "")
	if err != nil {
		return ""
	}
	return phonenumbers.GetRegionCodeForNumber(num)
}

// maxRegionVotes bounds the numbers parsed to infer a region: a few
// hundred settle it, and parsing is the costly part of the mapping.
const maxRegionVotes = 300

// InferRegion infers the phone region of a file from a sample of its rows
// (phoneCols are the columns that hold phone numbers; market is ISO
// alpha-2, "" for none).
//
// The region is what the file's national numbers (those without a
// country code) are read in, so when it has some they are asked first:
// the market is taken when at least half of them are valid there; else,
// of the countries that at least a quarter of the file's +numbers or of
// its country column name, the one where the most of them are valid, if
// half are. Only then the majority of the +numbers (a file whose numbers
// are mostly +1 is American), of the country column, the one candidate
// country where 80% of the national numbers are valid (nationalRegion),
// and the market.
//
// Counting votes alone went wrong on real mixes: a British file whose
// +numbers were half +44 and half +1 was read as American when the +1
// were a few more, and its British national numbers were all lost.
func InferRegion(header []string, rows [][]string, phoneCols []int, market string) RegionGuess {
	intl, intlTotal := map[string]int{}, 0
	for _, row := range rows {
		if intlTotal >= maxRegionVotes {
			break
		}
		for _, v := range row {
			if r := intlRegion(v); r != "" {
				intl[r]++
				intlTotal++
			}
		}
	}
	country, countryTotal := map[string]int{}, 0
	for _, c := range countryColumns(header) {
		for _, row := range rows {
			if c < len(row) {
				if r := CountryRegion(row[c]); r != "" {
					country[r]++
					countryTotal++
				}
			}
		}
	}
	nums := nationalNumbers(rows, phoneCols)
	if len(nums) > 0 {
		if market != "" {
			if n := validCount(nums, market); 2*n >= len(nums) {
				return RegionGuess{Region: market, Confidence: float64(n) / float64(len(nums)), Source: "market", Evidence: len(nums)}
			}
		}
		best, bestN, source := "", 0, ""
		for _, v := range []struct {
			votes  map[string]int
			total  int
			source string
		}{{intl, intlTotal, "numbers"}, {country, countryTotal, "country column"}} {
			for _, r := range named(v.votes) {
				if 4*v.votes[r] < v.total {
					break // too few name it to outweigh the majority
				}
				if n := validCount(nums, r); n > bestN {
					best, bestN, source = r, n, v.source
				}
			}
		}
		if 2*bestN >= len(nums) {
			return RegionGuess{Region: best, Confidence: float64(bestN) / float64(len(nums)), Source: source, Evidence: len(nums)}
		}
	}
	if g, ok := winner(intl, intlTotal, "numbers"); ok {
		return g
	}
	if g, ok := winner(country, countryTotal, "country column"); ok {
		return g
	}
	if len(nums) > 0 {
		if g, ok := nationalRegion(nums); ok {
			return g
		}
	}
	if market != "" {
		return RegionGuess{Region: market, Confidence: 1, Source: "market"}
	}
	return RegionGuess{Source: "none"}
}

// nationalNumbers are up to 200 values of the phone columns written
// without a country code.
func nationalNumbers(rows [][]string, cols []int) []string {
	var nums []string
	for _, r := range rows {
		for _, c := range cols {
			if c >= len(r) {
				continue
			}
			v := strings.TrimSpace(r[c])
			if v == "" || v[0] == '+' || strings.HasPrefix(v, "00") {
				continue
			}
			nums = append(nums, v)
		}
		if len(nums) >= 200 {
			break
		}
	}
	return nums
}

// named lists the regions votes name, the most named first (then
// alphabetically, so the order does not depend on the map's).
func named(votes map[string]int) []string {
	keys := make([]string, 0, len(votes))
	for k := range votes {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if votes[keys[i]] != votes[keys[j]] {
			return votes[keys[i]] > votes[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}

// winner returns the region most of the votes name. A split vote (the
// leader has no more than half) decides nothing; neither does no vote.
func winner(votes map[string]int, total int, source string) (RegionGuess, bool) {
	if total == 0 {
		return RegionGuess{}, false
	}
	keys := named(votes)
	best := votes[keys[0]]
	if 2*best <= total {
		return RegionGuess{}, false
	}
	return RegionGuess{Region: keys[0], Confidence: float64(best) / float64(total), Source: source, Evidence: total}, true
}

// nationalCandidates are the regions whose national numbers a file may
// hold, tried when nothing else says where it is from.
var nationalCandidates = []string{"US", "GB", "AU", "FR", "DE", "ES", "IT", "NL", "IE", "NZ", "BE", "CH", "AT", "IN", "ZA"}

// nationalRegion is the one candidate region where at least 80% of the
// national numbers nums are valid, when nothing else names the country;
// when none or several are, it declines.
//
// Validity alone is weak evidence, because some regions accept almost any
// digits after a 0: Italy's fixed-line numbers, which keep their 0, take
// nearly every British national number, and more of them than Britain
// does once a few are unallocated there. A British file read as Italian
// would turn every number into a wrong +39 one. So what names a country
// comes first (InferRegion), and when two regions explain the numbers
// inference does not pick one: the numbers are then read in the market,
// or reported rather than guessed.
func nationalRegion(nums []string) (RegionGuess, bool) {
	best, bestN, fits := "", 0, 0
	for _, r := range nationalCandidates {
		n := validCount(nums, r)
		if 10*n < 8*len(nums) {
			continue
		}
		if fits++; n > bestN {
			best, bestN = r, n
		}
	}
	if fits != 1 {
		return RegionGuess{}, false // none explains the numbers, or several do
	}
	// Numbers only valid somewhere are weaker evidence than a country
	// code: the confidence says so.
	return RegionGuess{Region: best, Confidence: 0.5 * float64(bestN) / float64(len(nums)), Source: "national numbers", Evidence: len(nums)}, true
}

// validCount counts the numbers in nums that are valid in region. Where
// national numbers are dialled with a trunk "0" (most of the world),
// people write it: "30 1234567" is not a German number as written,
// "030 1234567" is.
func validCount(nums []string, region string) int {
	trunk := phonenumbers.GetNddPrefixForRegion(region, true) == "0"
	n := 0
	for _, v := range nums {
		if t := strings.TrimLeft(v, " ("); trunk && t != "" && t[0] != '0' {
			continue
		}
		if validInRegion(v, region) {
			n++
		}
	}
	return n
}
