package cutover

import "strings"

// marketRegions are the regions with a telephone numbering plan, the ones
// github.com/nyaruka/phonenumbers knows (GetSupportedRegions), each
// followed by a space. They are written out here so that validating a
// market does not link the phone library (about 12 MB and its start-up
// cost) into every Lambda: this package is linked by all of them, most
// of which never read a phone number. market_test.go checks the list
// against the library, so an upgrade that adds a region fails a test
// instead of drifting.
const marketRegions = "" +
	"AC AD AE AF AG AI AL AM AO AR AS AT AU AW AX AZ BA BB BD BE " +
	"BF BG BH BI BJ BL BM BN BO BQ BR BS BT BW BY BZ CA CC CD CF " +
	"CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO " +
	"DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG " +
	"GH GI GL GM GN GP GQ GR GT GU GW GY HK HN HR HT HU ID IE IL " +
	"IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW " +
	"KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH " +
	"MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF " +
	"NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PR PS PT " +
	"PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM " +
	"SN SO SR SS ST SV SX SY SZ TA TC TD TG TH TJ TK TL TM TN TO " +
	"TR TT TV TW TZ UA UG US UY UZ VA VC VE VG VI VN VU WF WS XK " +
	"YE YT ZA ZM ZW "

// isMarketRegion reports whether code, two upper-case letters, is a
// region with a numbering plan.
func isMarketRegion(code string) bool {
	if len(code) != 2 {
		return false
	}
	for i := 0; i+3 <= len(marketRegions); i += 3 {
		if marketRegions[i:i+2] == code {
			return true
		}
	}
	return false
}

// marketRegionList returns the regions of marketRegions.
func marketRegionList() []string { return strings.Fields(marketRegions) }
