package cutover

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds on what the API stores on a migration. A migration is one
// DynamoDB item, and an item holds at most 400 KB: every list and string a
// customer or ops can grow is bounded here, and TestWorstCaseMigrationFits
// (internal/dynamostore) builds a migration with each at its maximum and
// checks that the item still fits with room to spare. Raise one only
// with that test passing.
const (
	MaxFileNameBytes    = 255 // an uploaded file's name
	MaxContentTypeBytes = 200 // the MIME type an upload declares
	MaxUploadsPerRound  = 25  // files of one round and purpose, refused and unfinished ones included
	MaxUploads          = 50  // files on a migration, across rounds (removing one frees its place)
	MaxReasonBytes      = 300 // why a file was refused, one rejection reason in the workbook summary
	// MaxFailureBytes caps why a migration failed as kept on it: a step's
	// message, or the cause Step Functions caught (up to 32 KiB).
	MaxFailureBytes = 2000
	// MaxInvalidValueBytes caps the raw text a record keeps of one value
	// it left out (Record.Invalid), so a record's item stays bounded.
	MaxInvalidValueBytes = 1024
	MaxEncodingNameBytes = 32 // a file's chosen encoding ("windows-1252", "shift_jis")
	MaxDelimiterBytes    = 1  // a file's chosen delimiter: one ASCII character

	MaxCustomerNameBytes = 200
	MaxEmailBytes        = 254 // RFC 5321's limit on a forward path
	MaxTimeZoneBytes     = 64  // an IANA time zone name (the longest today is 32)

	MaxSpotCheckIDs     = 20  // source ids named for spot checks, per entity
	MaxSpotCheckIDBytes = 100 // one source id

	MaxReviewNoteBytes = 300   // a review mark's note (there can be one per spot check)
	MaxCommentBytes    = 4000  // the coordinator's sign-off comment (internal/signoff)
	MaxMappingBytes    = 64000 // a mapping spec, as stored (canonical JSON); the draft too
	MaxSummaryReasons  = 20    // rejection reasons kept in the workbook summary
)

// invisible reports runes that are not allowed in names: C0 and C1
// controls, bidirectional overrides and isolates (which make "cod.exe" read
// as "exe.doc"), zero-width characters (which make two names that look
// the same differ) and other format characters, and U+FFFD, the trace of
// an encoding accident.
func invisible(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError ||
		r == '\u2028' || r == '\u2029'
}

// CheckName validates a short, single-line name a person typed or a
// browser sent (a file name, a customer's name): valid UTF-8, not blank,
// at most max bytes, and free of control, bidirectional and zero-width
// characters. Names are refused rather than silently cleaned, so what is
// stored is exactly what the sender sees (and a spoofing trick is visible
// as an error, not hidden). field names it in the message.
//
// Errors: EINVALID saying what is wrong and where.
func CheckName(field, s string, max int) error {
	if strings.TrimSpace(s) == "" {
		return Errorf(EINVALID, "%s is required.", field)
	}
	if len(s) > max {
		return Errorf(EINVALID, "%s is %d bytes long; at most %d are allowed.", field, len(s), max)
	}
	if !utf8.ValidString(s) {
		return Errorf(EINVALID, "%s is not valid UTF-8 text.", field)
	}
	for i, r := range s {
		if invisible(r) {
			return Errorf(EINVALID, "%s contains an invisible or control character (%U at byte %d); remove it and try again.", field, r, i)
		}
	}
	return nil
}

// CheckContentType validates a declared MIME type: "type/subtype" with
// optional parameters, printable ASCII only (a CR or LF would end up in a
// storage request header), at most MaxContentTypeBytes.
//
// Errors: EINVALID naming the problem.
func CheckContentType(s string) error {
	if len(s) > MaxContentTypeBytes {
		return Errorf(EINVALID, "contentType is %d bytes long; at most %d are allowed.", len(s), MaxContentTypeBytes)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return Errorf(EINVALID, "contentType may hold printable ASCII only, such as text/csv; it has byte 0x%02x at %d.", c, i)
		}
	}
	mt, _, _ := strings.Cut(s, ";")
	typ, sub, ok := strings.Cut(strings.TrimSpace(mt), "/")
	if !ok || !token(typ) || !token(sub) {
		return Errorf(EINVALID, "contentType must be a media type such as text/csv; %q is not one.", s)
	}
	return nil
}

// token reports an RFC 7230 token.
func token(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}

// Clip cuts s to at most max bytes at a rune boundary, marking the cut
// with "…" within the bound. It is for text the service itself stores on
// the migration (a refusal reason, a rejection reason) whose length
// depends on input it does not control.
func Clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const mark = "…"
	n := max - len(mark)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	if n < 0 {
		return ""
	}
	return s[:n] + mark
}

// CheckMarket validates a migration's market: "" (none) or an ISO 3166-1
// alpha-2 country code such as "GB" or "US" (any case). The engine reads
// national phone numbers in it, so only countries with a numbering plan
// are markets.
//
// Errors: EINVALID, with a message that says what is expected.
func CheckMarket(market string) error {
	if market == "" {
		return nil
	}
	up := strings.ToUpper(market)
	if len(up) != 2 || !marketSet[up] {
		return Errorf(EINVALID, "market must be a two-letter country code such as GB, US, FR or DE (ISO 3166-1 alpha-2); %q is not one.", market)
	}
	return nil
}
