package mapspec

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/cutover/cutover/internal/tabular"
)

// Suggestion proposes a target for one source column of an unknown file.
type Suggestion struct {
	Column     string  `json:"column"`
	Entity     string  `json:"entity"`
	Target     string  `json:"target"` // "" when nothing fits: the column will not migrate unless mapped by hand
	Confidence float64 `json:"confidence"`
	Reason     string  `json:"reason"`
	SourceID   bool    `json:"sourceId,omitempty"` // the column looks like the record's id in the old CRM
}

type synonym struct {
	entity, field string
	names         []string // normalised header spellings
}

// synonyms are normalised header spellings (lower case, accents folded,
// words separated by single spaces, punctuation dropped) per entity and
// field; foreignSynonyms (synonyms.go) adds other languages'.
var synonyms = []synonym{
	{"contact", "first_name", []string{"first name", "firstname", "forename", "given name", "first"}},
	{"contact", "last_name", []string{"last name", "lastname", "surname", "family name", "last"}},
	{"contact", "full_name", []string{"name", "full name", "contact name", "display name", "person name"}},
	{"contact", "title", []string{"title", "salutation", "honorific"}},
	{"contact", "emails", []string{"email", "e mail", "email address", "e mail address", "emailaddress", "mail", "primary email"}},
	{"contact", "phones", []string{"phone", "phone number", "telephone", "tel", "mobile", "mobile phone", "cell", "mobile number", "home phone", "work phone"}},
	{"contact", "company", []string{"company", "company name", "organisation", "organization", "account name", "employer"}},
	{"contact", "address_line1", []string{"address", "address 1", "address line 1", "street", "street address", "address1"}},
	{"contact", "address_line2", []string{"address 2", "address line 2", "address2"}},
	{"contact", "town", []string{"town", "city", "town city", "locality"}},
	{"contact", "county", []string{"county", "state", "region", "province", "state region"}},
	{"contact", "postcode", []string{"postcode", "post code", "postal code", "zip", "zip code", "zipcode"}},
	{"contact", "country", []string{"country", "country region"}},
	{"contact", "tags", []string{"tags", "tag", "labels", "label", "groups", "segments"}},
	{"contact", "roles", []string{"role", "roles", "contact type", "type"}},
	{"contact", "marketing_consent", []string{"marketing consent", "consent", "opt in", "optin", "subscribed", "newsletter", "gdpr consent"}},
	{"contact", "marketing_consent_date", []string{"consent date", "opt in date", "optin time"}},
	{"contact", "referring_affiliate", []string{"referring affiliate", "affiliate", "referrer", "referred by"}},
	{"contact", "order_ids", []string{"order ids", "orders", "order numbers"}},
	{"contact", "notes", []string{"notes", "note", "comments", "description"}},
	{"contact", "created_at", []string{"created", "created at", "create date", "created date", "date created", "date added", "registered", "signup date"}},
	{"contact", "updated_at", []string{"updated", "updated at", "modified", "last modified", "last modified date", "modified date", "last updated"}},
	{"property", "bedrooms", []string{"bedrooms", "beds", "bedroom count", "no of bedrooms"}},
	{"property", "bathrooms", []string{"bathrooms", "baths"}},
	{"property", "price", []string{"price", "asking price", "sale price", "list price"}},
	{"property", "rent", []string{"rent", "monthly rent", "rent amount"}},
	{"property", "property_type", []string{"property type", "prop type", "house type"}},
	{"property", "status", []string{"status", "property status", "availability"}},
	{"property", "landlord", []string{"landlord", "landlord id", "owner id"}},
	{"tenancy", "start_date", []string{"start date", "tenancy start", "move in date", "start"}},
	{"tenancy", "end_date", []string{"end date", "tenancy end", "move out date", "end"}},
	{"tenancy", "tenants", []string{"tenants", "tenant ids", "tenant id"}},
	{"applicant", "min_price", []string{"min price", "minimum price", "price from"}},
	{"applicant", "max_price", []string{"max price", "maximum price", "price to", "budget"}},
	{"applicant", "areas", []string{"areas", "area", "locations", "preferred areas"}},
	{"applicant", "expiry_date", []string{"expiry date", "expires", "expiry"}},
	{"order", "order_id", []string{"order id", "order number", "order no"}},
	{"order", "total", []string{"total", "order total", "amount", "grand total"}},
}

var idNames = []string{"id", "record id", "contact id", "external id", "person id", "uid", "reference", "ref"}

var (
	reEmail    = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$`)
	rePhone    = regexp.MustCompile(`^\+?[0-9][0-9 ()\-.]{6,18}[0-9]$`)
	rePostcode = regexp.MustCompile(`^(?i)[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$`)
	reDate     = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?.*)?|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}( \d{1,2}:\d{2}(:\d{2})?)?)$`)
	reMoney    = regexp.MustCompile(`^(£|\$|€)\s?-?[0-9][0-9,]*(\.[0-9]{2})?$|^-?[0-9][0-9,]*\.[0-9]{2}$`)
	reInt      = regexp.MustCompile(`^-?[0-9]{1,9}$`)
	reURL      = regexp.MustCompile(`^(?i)(https?://|www\.)[^\s]+$`)
	// rePostcodeIntl are postcodes of other countries (NL 1012 LG, PT
	// 1100-053, CA K1A 0B1, and the 4- and 5-digit codes of most of
	// Europe and the US). Digits alone may as well be ids, so they only
	// confirm a postcode header; they never name a column on their own.
	rePostcodeIntl = regexp.MustCompile(`^(?i)([0-9]{4} ?[A-Z]{2}|[0-9]{4}-[0-9]{3}|[A-Z][0-9][A-Z] ?[0-9][A-Z][0-9]|[0-9]{2}-[0-9]{3}|[0-9]{4,5}(-[0-9]{4})?)$`)
	boolWords      = map[string]bool{"yes": true, "no": true, "true": true, "false": true, "y": true, "n": true, "0": true, "1": true}
)

// normHeader lower-cases a header and keeps letters and digits, splitting
// camelCase and snake_case into words: "MailingPostalCode" and
// "mailing_postal_code" both become "mailing postal code".
func normHeader(h string) string {
	var b strings.Builder
	prevLower := false
	space := false
	for _, r := range foldAccents(strings.TrimPrefix(h, "\ufeff")) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if unicode.IsUpper(r) && prevLower {
				space = true
			}
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(unicode.ToLower(r))
			prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
		default:
			space, prevLower = true, false
		}
	}
	return b.String()
}

// singular is a normalised header with its last word made singular the
// English way ("cities" -> "city", "addresses" -> "address", "phones" ->
// "phone"), so a plural column name (a list export's "Cities") meets its
// synonym; a header that is not plural comes back unchanged.
func singular(n string) string {
	head, last := "", n
	if i := strings.LastIndexByte(n, ' '); i >= 0 {
		head, last = n[:i+1], n[i+1:]
	}
	switch {
	case len(last) < 4 || strings.HasSuffix(last, "ss") || strings.HasSuffix(last, "us"):
		return n
	case strings.HasSuffix(last, "ies"):
		last = last[:len(last)-3] + "y"
	case strings.HasSuffix(last, "sses"), strings.HasSuffix(last, "ches"), strings.HasSuffix(last, "shes"), strings.HasSuffix(last, "xes"):
		last = last[:len(last)-2]
	case strings.HasSuffix(last, "s"):
		last = last[:len(last)-1]
	}
	return head + last
}

// sampleKind says what most non-empty sample values of a column look like.
func sampleKind(vals []string) (kind string, hits, n int) {
	counts := map[string]int{}
	for _, v := range vals {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		n++
		switch {
		case reEmail.MatchString(v):
			counts["email"]++
		case reURL.MatchString(v):
			counts["url"]++
		case rePostcode.MatchString(v):
			counts["postcode"]++
		case reDate.MatchString(v):
			counts["date"]++
		case boolWords[strings.ToLower(v)]:
			counts["boolean"]++
		case reMoney.MatchString(v):
			counts["money"]++
		case reInt.MatchString(v) && len(v) <= 3:
			counts["integer"]++
		case rePhone.MatchString(v) && countDigits(v) >= 9:
			counts["phone"]++
		case rePostcodeIntl.MatchString(v):
			counts["postcode-like"]++
		}
	}
	for k, c := range counts {
		if c > hits || c == hits && k < kind {
			kind, hits = k, c
		}
	}
	return kind, hits, n
}

func countDigits(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

var kindTargets = map[string][2]string{
	"email":    {"contact", "emails"},
	"phone":    {"contact", "phones"},
	"postcode": {"contact", "postcode"},
	"date":     {"contact", "created_at"},
	"boolean":  {"contact", "marketing_consent"},
	"money":    {"property", "price"},
}

var kindFits = map[string]map[string]bool{
	"email":         {"emails": true},
	"phone":         {"phones": true},
	"postcode":      {"postcode": true},
	"postcode-like": {"postcode": true},
	"date":          {"created_at": true, "updated_at": true, "marketing_consent_date": true, "start_date": true, "end_date": true, "expiry_date": true},
	"boolean":       {"marketing_consent": true},
	"money":         {"price": true, "rent": true, "min_price": true, "max_price": true, "total": true},
	"integer":       {"bedrooms": true, "bathrooms": true},
}

// Suggest proposes, for each column of an unknown file, the target field it
// most likely feeds, from its header (synonyms of normalised header words)
// and its sample values (what most look like: emails, phones, dates, UK
// postcodes, money, booleans). The entity is the one most columns point to;
// a column whose header and samples disagree gets a lower confidence, and a
// column nothing fits gets Target "". Suggest never fails.
func Suggest(header []string, sample [][]string) []Suggestion {
	type cand struct {
		entity, field string
		conf          float64
		reason        string
		sourceID      bool
	}
	cands := make([]cand, len(header))
	votes := map[string]float64{}
	numbered := make([]bool, len(header))
	for i, h := range header {
		// A repeated header, numbered by the reader ("Create Date (2)"),
		// is read by the name it had in the export.
		base := tabular.BaseHeader(h)
		numbered[i] = base != h
		n := normHeader(base)
		var col []string
		for _, row := range sample {
			if i < len(row) {
				col = append(col, row[i])
			}
		}
		kind, hits, total := sampleKind(col)
		sampleNote := ""
		if total > 0 && hits*2 > total {
			sampleNote = fmt.Sprintf("%d of %d sample values look like %s", hits, total, kindNoun(kind))
		} else {
			kind = ""
		}
		var c cand
		one := singular(n)
		for _, s := range synonyms {
			for _, name := range s.names {
				switch {
				case n == name:
					if c.conf < 0.9 {
						c = cand{s.entity, s.field, 0.9, fmt.Sprintf("header %q is a synonym of %s.%s", h, s.entity, s.field), false}
					}
				case one != n && one == name:
					if c.conf < 0.85 {
						c = cand{s.entity, s.field, 0.85, fmt.Sprintf("header %q is the plural of %q, a synonym of %s.%s", h, name, s.entity, s.field), false}
					}
				case c.conf < 0.6 && len(name) > 3 && (strings.HasSuffix(n, " "+name) || strings.HasPrefix(n, name+" ")):
					c = cand{s.entity, s.field, 0.6, fmt.Sprintf("header %q contains %q, a synonym of %s.%s", h, name, s.entity, s.field), false}
				}
			}
		}
		isID := false
		for _, id := range idNames {
			isID = isID || n == id
		}
		switch {
		case isID:
			c = cand{"", "", 0, fmt.Sprintf("header %q looks like the source id: use it as sourceId", h), true}
		case kind == "email" && hits == total && c.field != "emails":
			// Every value is an e-mail address: that is what the column
			// holds, whatever its header says.
			c = cand{"contact", "emails", 0.8, sampleNote + ", whatever the header says", false}
		case kind == "url" && c.field != "":
			c = cand{"", "", 0, fmt.Sprintf("header %q suggests %s.%s, but %s: no field takes them", h, c.entity, c.field, sampleNote), false}
		case kind == "url":
			c.reason = sampleNote + ": no field takes them"
		case c.field != "" && kind != "":
			if kindFits[kind][c.field] {
				c.conf = min(0.99, c.conf+0.09)
				c.reason += "; " + sampleNote
			} else {
				c.conf -= 0.3
				c.reason += "; but " + sampleNote
			}
		case c.field == "" && kind != "" && kindTargets[kind][1] != "":
			t := kindTargets[kind]
			c = cand{t[0], t[1], 0.5 * float64(hits) / float64(total), sampleNote, false}
		case c.field == "":
			c.reason = fmt.Sprintf("no synonym for header %q and no recognisable sample values", h)
		}
		if numbered[i] && c.field != "" {
			// A repeat usually belongs to an associated record (HubSpot's
			// associated company), so it is less sure than a header of its own.
			c.conf = max(0.05, c.conf-numberedPenalty)
			c.reason += fmt.Sprintf("; read by its base name %q, as a repeated column", tabular.BaseHeader(h))
		}
		cands[i] = c
		if c.entity != "" {
			votes[c.entity] += c.conf
		}
	}
	entity := "contact"
	best := 0.0
	for _, e := range []string{"contact", "company", "property", "tenancy", "applicant", "appointment", "order"} {
		if votes[e] > best {
			entity, best = e, votes[e]
		}
	}
	out := make([]Suggestion, len(header))
	for i, c := range cands {
		s := Suggestion{Column: header[i], Entity: entity, Target: c.field, Confidence: round2(c.conf), Reason: c.reason, SourceID: c.sourceID}
		if c.entity != "" && c.entity != entity {
			if alt := sameFieldIn(entity, c.field); alt {
				s.Reason += fmt.Sprintf(" (read as %s.%s: the file looks like %s records)", entity, c.field, entity)
			} else {
				s.Target, s.Confidence = "", 0
				s.Reason += fmt.Sprintf("; not suggested: the file looks like %s records", entity)
			}
		}
		out[i] = s
	}
	dropRepeatedTargets(out, numbered)
	return out
}

// numberedPenalty is how much less sure a numbered repeat of a header is
// than the header itself.
const numberedPenalty = 0.2

// dropRepeatedTargets leaves a numbered repeat of a header without a
// target that another column already feeds: the second "Create Date" of a
// HubSpot export is the associated company's and must not overwrite the
// contact's created_at, while the second "Company name" feeds the
// contact's company when no other column does.
func dropRepeatedTargets(out []Suggestion, numbered []bool) {
	fedBy := map[string]string{}
	for i, s := range out {
		if !numbered[i] && s.Target != "" {
			if _, ok := fedBy[s.Target]; !ok {
				fedBy[s.Target] = s.Column
			}
		}
	}
	for i := range out {
		s := &out[i]
		if !numbered[i] || s.Target == "" {
			continue
		}
		if by, ok := fedBy[s.Target]; ok {
			s.Reason += fmt.Sprintf("; not suggested: it repeats %q and %s already feeds %s", tabular.BaseHeader(s.Column), "column "+strconv.Quote(by), s.Target)
			s.Target, s.Confidence = "", 0
			continue
		}
		fedBy[s.Target] = s.Column
	}
}

func sameFieldIn(entity, field string) bool {
	shared := map[string][]string{
		"property":  {"address_line1", "address_line2", "town", "postcode", "created_at", "updated_at"},
		"applicant": {"created_at"},
		"order":     {},
	}
	for _, f := range shared[entity] {
		if f == field {
			return true
		}
	}
	return false
}

func kindNoun(k string) string {
	return map[string]string{
		"email": "email addresses", "phone": "phone numbers", "postcode": "UK postcodes", "date": "dates",
		"boolean": "yes/no values", "money": "amounts of money", "integer": "small whole numbers",
		"url": "web addresses", "postcode-like": "postcodes",
	}[k]
}

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }
