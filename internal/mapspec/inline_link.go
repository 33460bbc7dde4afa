package mapspec

// Linking people named inline across chunks. LinkInline links a derived
// person to a listed one over every record of a pass at once; an extract
// read in chunks cannot hold them all. Instead each chunk states, for
// every listed record, the keys a derived person could be linked by
// (ListedLinkKeys), and for every derived person the one key it is looked
// up by (DerivedLinkKey); a step that sees every chunk's keys of one key
// (partitioned by it) decides the links by LinkInline's rule; and each
// chunk's Mapper then fills its inline references with the listed
// person's source id (Mapper.LinkWith), as LinkInline would have
// rewritten them.

import (
	"strings"

	"github.com/cutover/cutover/internal/schema"
)

// LinkKey is what a derived person is linked to a listed one by: an
// e-mail address (lower-cased) or a name (personName's form), within an
// entity.
type LinkKey struct {
	Entity string
	Email  bool   // Key is an e-mail address; else a name
	Key    string // never holds a line end or a tab
}

// ListedLinkKeys returns the keys a derived person can be linked to the
// listed (not derived) record rec by: each of its e-mail addresses, and
// its name. A derived person with an e-mail is linked to the first listed
// record (in record order) with it; one without, by name, to the only
// listed record with it.
func ListedLinkKeys(rec *Record) []LinkKey {
	var out []LinkKey
	if v, ok := rec.Get("emails"); ok {
		for _, e := range v.List {
			out = append(out, LinkKey{Entity: rec.Entity, Email: true, Key: oneLine(strings.ToLower(e))})
		}
	}
	if n := personName(rec); n != "" {
		out = append(out, LinkKey{Entity: rec.Entity, Key: n})
	}
	return out
}

// DerivedLinkKey returns the key the derived person rec is linked by, as
// LinkInline links it: its e-mail when it has one, else its name; false
// when it has neither.
func DerivedLinkKey(rec *Record) (LinkKey, bool) {
	if v, ok := rec.Get("emails"); ok && len(v.List) > 0 {
		return LinkKey{Entity: rec.Entity, Email: true, Key: oneLine(strings.ToLower(v.List[0]))}, true
	}
	if n := personName(rec); n != "" {
		return LinkKey{Entity: rec.Entity, Key: n}, true
	}
	return LinkKey{}, false
}

// oneLine replaces the line ends and tabs a normalised e-mail address
// could still hold (it never should) with spaces, so a LinkKey fits a
// line of text. personName's names have none.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\t") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == '\t' {
			return ' '
		}
		return r
	}, s)
}

// InlineEntities returns the entities spec derives people of (the
// entities its inline entries' references point at): the ones whose
// listed records a derived person may be linked to.
func InlineEntities(spec *Spec, sch *schema.Schema) map[string]bool {
	out := map[string]bool{}
	for _, f := range spec.Files {
		ent, ok := sch.Entity(f.Entity)
		if !ok {
			continue
		}
		for _, in := range f.Inline {
			if fd, ok := ent.Field(in.Target); ok && fd.Ref != "" {
				out[fd.Ref] = true
			}
		}
	}
	return out
}

// LinkWith makes the Mapper link the people its rows name inline by link
// instead of leaving that to LinkInline: link returns, for a derived
// person's entity and source id, the source id of the listed record it is
// linked to, and true; or false when it is not linked. A linked person is
// not derived (Outcome.Derived lacks it): the row's reference names the
// listed record, as LinkInline would have rewritten it.
func (m *Mapper) LinkWith(link func(entity, sourceID string) (string, bool)) { m.link = link }
