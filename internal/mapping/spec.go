// Package mapping turns the rows of a customer's export into canonical
// records: it reads delimited files, suggests which column feeds which field,
// and applies a versioned mapping spec with validation. It has no AWS types.
package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/mail"
	"regexp"
	"strconv"
	"strings"

	"github.com/cutover/cutover/internal/cutover"
)

// Spec is a mapping: for each file, its entity and how columns become fields.
type Spec struct {
	Version int        `json:"version"`
	Files   []FileSpec `json:"files"`
}

// FileSpec maps one file.
type FileSpec struct {
	FileID   string   `json:"fileId"`
	FileName string   `json:"fileName"`
	Entity   string   `json:"entity"`
	IDColumn string   `json:"idColumn,omitempty"` // source id; empty = the normalised email, then the row's content
	Columns  []Column `json:"columns"`
	Unmapped []string `json:"unmapped,omitempty"` // source columns nothing maps: they will not migrate
}

// Column maps one source column to one target field.
type Column struct {
	Source string `json:"source"`
	Target string `json:"target"`
}

// EntityContact is the entity the skeleton's default schema knows.
const EntityContact = "contact"

// contactSynonyms lists, per contact field, the headers that mean it.
var contactSynonyms = map[string][]string{
	"name":      {"name", "full name", "contact name"},
	"firstName": {"first name", "firstname", "first", "given name", "forename"},
	"lastName":  {"last name", "lastname", "last", "surname", "family name"},
	"email":     {"email", "e-mail", "email address", "e-mail address", "emailaddress"},
	"phone":     {"phone", "phone number", "telephone", "mobile", "mobile phone"},
	"company":   {"company", "company name", "organisation", "organization", "account name"},
}

var idSynonyms = []string{"id", "record id", "contact id", "external id"}

func normHeader(h string) string {
	return strings.Join(strings.Fields(strings.ToLower(strings.ReplaceAll(h, "_", " "))), " ")
}

// Suggest proposes a mapping for a file from its header.
func Suggest(fileID, fileName string, header []string) FileSpec {
	fs := FileSpec{FileID: fileID, FileName: fileName, Entity: EntityContact}
	for _, h := range header {
		n := normHeader(h)
		target := ""
		for field, syns := range contactSynonyms {
			for _, s := range syns {
				if n == s {
					target = field
				}
			}
		}
		switch {
		case target != "":
			fs.Columns = append(fs.Columns, Column{Source: h, Target: target})
		case fs.IDColumn == "" && contains(idSynonyms, n):
			fs.IDColumn = h
		default:
			fs.Unmapped = append(fs.Unmapped, h)
		}
	}
	return fs
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Hash returns the content hash of the spec: sign-off freezes it, and the
// final migration refuses any mapping with another hash.
func (s Spec) Hash() string {
	b, _ := json.Marshal(s) // a Spec always marshals
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// ForFile returns the spec of one file.
func (s Spec) ForFile(fileID string) (FileSpec, bool) {
	for _, f := range s.Files {
		if f.FileID == fileID {
			return f, true
		}
	}
	return FileSpec{}, false
}

// Parse decodes a stored spec.
//
// Errors: EINVALID when the JSON is not a spec.
func Parse(raw string) (Spec, error) {
	var s Spec
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return Spec{}, cutover.Wrap(cutover.EINVALID, err, "The mapping is not valid JSON.")
	}
	return s, nil
}

// Mapper applies a FileSpec to rows of a file with a known header.
type Mapper struct {
	spec     FileSpec
	tenantID string
	width    int
	idIdx    int
	cols     []compiled
}

type compiled struct {
	idx    int
	target string
}

// Compile binds a file spec to the file's actual header.
//
// Errors: EINVALID when a column the spec maps is not in the header.
func (fs FileSpec) Compile(tenantID string, header []string) (*Mapper, error) {
	idx := map[string]int{}
	for i, h := range header {
		idx[h] = i
	}
	m := &Mapper{spec: fs, tenantID: tenantID, width: len(header), idIdx: -1}
	if fs.IDColumn != "" {
		i, ok := idx[fs.IDColumn]
		if !ok {
			return nil, cutover.Errorf(cutover.EINVALID, "%s: the id column %q is not in the file.", fs.FileName, fs.IDColumn)
		}
		m.idIdx = i
	}
	for _, c := range fs.Columns {
		i, ok := idx[c.Source]
		if !ok {
			return nil, cutover.Errorf(cutover.EINVALID, "%s: the mapped column %q is not in the file.", fs.FileName, c.Source)
		}
		m.cols = append(m.cols, compiled{idx: i, target: c.Target})
	}
	return m, nil
}

// Outcome is what became of one row: a record, or reasons to reject it, or
// the named rule that skipped it.
type Outcome struct {
	Record   cutover.Record
	Reasons  []string
	SkipRule string
}

// SkipBlankRow is the rule that skips rows with every field empty.
const SkipBlankRow = "blank-row"

var phoneChars = regexp.MustCompile(`^\+?[0-9 ()./-]{6,20}$`)

// Map transforms one row (line is its line in the file, for the rejects).
func (m *Mapper) Map(line int, row []string) Outcome {
	blank := true
	for _, f := range row {
		if strings.TrimSpace(f) != "" {
			blank = false
			break
		}
	}
	if blank {
		return Outcome{SkipRule: SkipBlankRow}
	}
	for len(row) > m.width && strings.TrimSpace(row[len(row)-1]) == "" {
		row = row[:len(row)-1] // trailing empty cells past the header are harmless
	}
	if len(row) != m.width {
		return Outcome{Reasons: []string{raggedReason(len(row), m.width)}}
	}
	fields := make(map[string]string, len(m.cols))
	for _, c := range m.cols {
		if v := strings.TrimSpace(row[c.idx]); v != "" {
			fields[c.target] = v
		}
	}
	var reasons []string
	if e, ok := fields["email"]; ok {
		addr, err := mail.ParseAddress(e)
		if err != nil {
			reasons = append(reasons, "email: "+quote(e)+" is not a valid address")
		} else {
			fields["email"] = strings.ToLower(addr.Address)
		}
	}
	if p, ok := fields["phone"]; ok && !phoneChars.MatchString(p) {
		reasons = append(reasons, "phone: "+quote(p)+" is not a phone number")
	}
	if fields["email"] == "" && fields["name"] == "" && fields["firstName"] == "" && fields["lastName"] == "" && fields["company"] == "" {
		reasons = append(reasons, "contact: needs at least an email, a name or a company")
	}
	if len(reasons) > 0 {
		return Outcome{Reasons: reasons}
	}
	sourceID := ""
	if m.idIdx >= 0 {
		sourceID = strings.TrimSpace(row[m.idIdx])
	}
	if sourceID == "" {
		sourceID = "email:" + fields["email"]
		if fields["email"] == "" {
			sum := sha256.Sum256([]byte(strings.Join(row, "\x1f")))
			sourceID = "row:" + hex.EncodeToString(sum[:12])
		}
	}
	return Outcome{Record: cutover.Record{
		ID:        cutover.RecordID(m.tenantID, m.spec.Entity, sourceID),
		Entity:    m.spec.Entity,
		SourceID:  sourceID,
		SourceRow: line,
		Fields:    fields,
	}}
}

func raggedReason(got, want int) string {
	return "row has " + strconv.Itoa(got) + " fields but the header has " + strconv.Itoa(want)
}

func quote(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return `"` + s + `"`
}
