package migration

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/cutover/cutover/internal/cutover"
)

// The kinds of TEST destination a deployment has (its TEST_DESTINATION):
// only the built-in one keeps the records where the customer can browse
// them here; the others hold them in the vendor's staging environment.
const (
	DestinationBuiltin = "builtin"
	DestinationHTTPS   = "https"
	DestinationS3      = "s3"
)

// Browsing bounds. A page holds at most MaxBrowseLimit records
// (DefaultBrowseLimit when the customer asks for none). One request reads
// at most MaxBrowseExamined records of the TEST environment, however few
// match a search: it answers what it found with a cursor to go on, so a
// rare name in a large migration costs several short requests, never one
// that reads the whole environment.
const (
	DefaultBrowseLimit = 25
	MaxBrowseLimit     = 100
	MaxBrowseExamined  = 1000
	MaxBrowseQuery     = 200 // bytes
	browseReadSize     = 250 // records per read while searching
)

// BrowseConfig is how a deployment's TEST environment is browsed.
type BrowseConfig struct {
	// Destination is the TEST destination's kind: DestinationBuiltin
	// ("" too), DestinationHTTPS or DestinationS3.
	Destination string
	// StagingURL, for a destination other than the built-in one, is the
	// vendor's staging UI, where the customer looks at the TEST records
	// instead; "{tenantId}" and "{migrationId}" in it are replaced by the
	// migration's. "" when the deployment names none.
	StagingURL string
}

// TestBrowser lets the customer page and search the TEST records of the
// round they review, each beside the source row it came from.
type TestBrowser struct {
	records TestRecords
	cfg     BrowseConfig
}

// NewTestBrowser returns a browser over records (needed for the built-in
// destination only).
//
// Errors: EINVALID for an unknown destination kind or a staging URL that
// is not an absolute http(s) URL; EINTERNAL for a built-in destination
// without its TestRecords port.
func NewTestBrowser(records TestRecords, cfg BrowseConfig) (*TestBrowser, error) {
	switch cfg.Destination {
	case "":
		cfg.Destination = DestinationBuiltin
	case DestinationBuiltin, DestinationHTTPS, DestinationS3:
	default:
		return nil, cutover.Errorf(cutover.EINVALID, "The TEST destination %q is none of builtin, https or s3.", cfg.Destination)
	}
	if cfg.Destination == DestinationBuiltin && records == nil {
		return nil, cutover.Errorf(cutover.EINTERNAL, "NewTestBrowser: the built-in TEST destination needs its TestRecords port.")
	}
	if cfg.StagingURL != "" {
		u, err := url.Parse(strings.NewReplacer("{tenantId}", "t", "{migrationId}", "m").Replace(cfg.StagingURL))
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, cutover.Errorf(cutover.EINVALID, "The TEST staging URL must be an absolute http(s) URL.")
		}
	}
	return &TestBrowser{records: records, cfg: cfg}, nil
}

// BrowseInput is what the customer asks for: a search (by name, e-mail
// or source id; "" lists every record), the cursor of the page before
// (the answer's next) and a page size.
type BrowseInput struct {
	Query  string
	Cursor string
	Limit  int
}

// BrowseResult is one page of TEST records, or where they are instead.
type BrowseResult struct {
	Round       int    `json:"round"`
	Destination string `json:"destination"`
	Query       string `json:"query,omitempty"`
	// Records are the page's records in the environment's order, each
	// with its source row.
	Records []cutover.TestRecord `json:"records"`
	// Examined is how many records this request read to find them.
	Examined int `json:"examined"`
	// Next continues the listing or search; "" when it is complete.
	Next string `json:"next,omitempty"`
	// StagingURL and Message, for a TEST destination that is not ours:
	// where the records are, in words, and the vendor's staging UI.
	StagingURL string `json:"stagingUrl,omitempty"`
	Message    string `json:"message,omitempty"`
}

// cursor is what a page's next carries: the migration, round and search
// it belongs to, and the key of the last record read.
type cursor struct {
	Migration string `json:"m"`
	Round     int    `json:"r"`
	Query     string `json:"q"`
	After     string `json:"k"`
}

// Browse answers one page of the TEST records of the round whose workbook
// the customer reviews. Only m's records can be read: the migration comes
// from the customer's authorised key, and a cursor is refused unless it
// was made for this migration, round and search.
//
// Errors: ENOTFOUND before the first test migration finished; EINVALID
// for a search longer than MaxBrowseQuery, a page size outside 1 to
// MaxBrowseLimit or a cursor this search did not give; EUNAVAILABLE when
// storage cannot be read.
func (b *TestBrowser) Browse(ctx context.Context, m *cutover.Migration, in BrowseInput) (*BrowseResult, error) {
	if m.Workbook == nil {
		return nil, cutover.Errorf(cutover.ENOTFOUND, "There are no TEST records yet: the test migration writes them.")
	}
	round := m.Workbook.Round
	res := &BrowseResult{Round: round, Destination: b.cfg.Destination, Records: []cutover.TestRecord{}}
	if b.cfg.Destination != DestinationBuiltin {
		res.StagingURL = b.stagingURL(m)
		res.Message = "The records of this test migration are in the vendor's staging environment, not here: look at them there."
		if res.StagingURL == "" {
			res.Message = "The records of this test migration are in the vendor's staging environment, not here: ask your contact where to look at them."
		}
		return res, nil
	}
	query := strings.TrimSpace(in.Query)
	if len(query) > MaxBrowseQuery || !utf8.ValidString(query) {
		return nil, cutover.Errorf(cutover.EINVALID, "A search can be at most %d characters long.", MaxBrowseQuery)
	}
	res.Query = query
	limit := in.Limit
	if limit == 0 {
		limit = DefaultBrowseLimit
	}
	if limit < 1 || limit > MaxBrowseLimit {
		return nil, cutover.Errorf(cutover.EINVALID, "A page holds 1 to %d records.", MaxBrowseLimit)
	}
	after := ""
	if in.Cursor != "" {
		c, err := readCursor(in.Cursor)
		if err != nil || c.Migration != m.ID || c.After == "" {
			return nil, cutover.Errorf(cutover.EINVALID, "That page link is not one of this migration's: start the listing again.")
		}
		if c.Round != round {
			return nil, cutover.Errorf(cutover.EINVALID, "That page link is of round %d; the workbook is of round %d now: start the listing again.", c.Round, round)
		}
		if c.Query != query {
			return nil, cutover.Errorf(cutover.EINVALID, "That page link is of another search: start the search again.")
		}
		after = c.After
	}
	terms := searchTerms(query)
	for len(res.Records) < limit && res.Examined < MaxBrowseExamined {
		n := min(limit-len(res.Records), MaxBrowseExamined-res.Examined)
		if len(terms) > 0 {
			n = min(browseReadSize, MaxBrowseExamined-res.Examined)
		}
		page, err := b.records.TestRecords(ctx, m.ID, after, n)
		if err != nil {
			return nil, err
		}
		full := false
		for i, r := range page.Records {
			res.Examined++
			after = r.Key
			if r.Round == round && matches(r, terms) {
				res.Records = append(res.Records, r)
				if len(res.Records) == limit {
					full = i < len(page.Records)-1 // else the page's own end says whether more follow
					break
				}
			}
		}
		if !full {
			after = page.After
		}
		if after == "" || len(page.Records) == 0 {
			after = ""
			break
		}
	}
	if after != "" {
		res.Next = writeCursor(cursor{Migration: m.ID, Round: round, Query: query, After: after})
	}
	return res, nil
}

// stagingURL is the configured staging UI for m, "" for none.
func (b *TestBrowser) stagingURL(m *cutover.Migration) string {
	if b.cfg.StagingURL == "" {
		return ""
	}
	return strings.NewReplacer("{tenantId}", url.PathEscape(m.TenantID), "{migrationId}", url.PathEscape(m.ID)).Replace(b.cfg.StagingURL)
}

func writeCursor(c cursor) string {
	b, _ := json.Marshal(c) // a struct of strings and an int always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

// readCursor decodes a cursor. Errors: any, for text that is not one.
func readCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, err
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	err = dec.Decode(&c)
	return c, err
}

// searchTerms are a search's words, lower-cased: a record matches when
// each one is in its source id, a name or an e-mail address.
func searchTerms(q string) []string {
	return strings.Fields(strings.ToLower(q))
}

// matches says whether every term is in r's searchable text: its source
// id and the values of its name and e-mail fields (the fields whose name
// says "name" or "email": first_name, full_name, emails, ...). Searching
// other fields (notes, addresses) would find records the customer did
// not look for.
func matches(r cutover.TestRecord, terms []string) bool {
	if len(terms) == 0 {
		return true
	}
	var sb strings.Builder
	sb.WriteString(strings.ToLower(r.SourceID))
	for k, v := range r.Fields {
		lk := strings.ToLower(k)
		if !strings.Contains(lk, "name") && !strings.Contains(lk, "email") {
			continue
		}
		switch v := v.(type) {
		case string:
			sb.WriteString("\x00" + strings.ToLower(v))
		case []any:
			for _, e := range v {
				if s, ok := e.(string); ok {
					sb.WriteString("\x00" + strings.ToLower(s))
				}
			}
		}
	}
	hay := sb.String()
	for _, t := range terms {
		if !strings.Contains(hay, t) {
			return false
		}
	}
	return true
}
