package mapspec

// Inline people. Agency exports often name a person on the row itself (a
// tenancy's "Tenant Name(s)": "Ann Lee & Bob Stone") instead of pointing at
// a contact id. Without this feature such a row had nothing to fill its
// required reference with and was rejected, although a person reading it
// knows exactly who the tenants are. A file spec's "inline" entries say
// which columns name the people; the Mapper then derives one contact record
// per person, with a deterministic id made from what identifies them (the
// name, and the e-mail or phone when the row has one), and fills the
// reference with them. Derived records are not rows read: they come back in
// Outcome.Derived, and the pipeline counts them apart ("derived") so that
// read = migrated + rejected + skipped still balances.

import (
	"fmt"
	"strings"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/schema"
)

// InlinePrefix starts the source id of every derived record, so it can
// never collide with an id from the source system's own id columns.
const InlinePrefix = "inline:"

var defaultInlineSeparators = []string{";", "&", "/", " and "}

// validateInline checks the file's inline entries against its entity.
func validateInline(f *FileSpec, p string, e *schema.Entity, sch *schema.Schema) error {
	seen := map[string]bool{}
	for i, in := range f.Inline {
		ip := fmt.Sprintf("%s.inline[%d]", p, i)
		fd, ok := e.Field(in.Target)
		if !ok {
			return invalid(ip+".target", "entity %q has no field %q", e.Name, in.Target)
		}
		if fd.ItemType() != schema.Ref {
			return invalid(ip+".target", "field %q is not a reference: only a reference can point at a derived record", in.Target)
		}
		if seen[in.Target] {
			return invalid(ip+".target", "field %q has two inline entries", in.Target)
		}
		seen[in.Target] = true
		ref, ok := sch.Entity(fd.Ref)
		if !ok {
			return invalid(ip+".target", "field %q refers to unknown entity %q", in.Target, fd.Ref)
		}
		if nf, ok := ref.Field("full_name"); !ok || nf.Type != schema.String {
			return invalid(ip+".target", "entity %q has no string field full_name to hold the name", ref.Name)
		}
		if strings.TrimSpace(in.Name) == "" {
			return invalid(ip+".name", "needs the column that names the person")
		}
		for j, s := range in.Separators {
			if s == "" {
				return invalid(fmt.Sprintf("%s.separators[%d]", ip, j), "a separator cannot be empty")
			}
		}
	}
	return nil
}

// compiledInline is one inline entry bound to a file's header.
type compiledInline struct {
	target            *schema.Field
	ref               *schema.Entity
	name, email, phon int // column indexes; -1 when absent
	seps              []string
	label             string
	pc                *phoneConv // nil without a phone column or a region
}

// compileInline binds the file's inline entries to header. It returns the
// columns it reads, so they are not listed as unmapped.
//
// Errors: EINVALID when a column an entry names is missing from the file
// (a missing name column drops an optional entry instead).
func compileInline(fs FileSpec, ent *schema.Entity, sch *schema.Schema, header []string) ([]compiledInline, []int, error) {
	idx := map[string]int{}
	for i, h := range header {
		if _, ok := idx[normCol(h)]; !ok {
			idx[normCol(h)] = i
		}
	}
	var out []compiledInline
	var used []int
	for _, in := range fs.Inline {
		fd, _ := ent.Field(in.Target)
		ref, _ := sch.Entity(fd.Ref)
		ci := compiledInline{target: fd, ref: ref, name: -1, email: -1, phon: -1, seps: in.Separators, label: in.Name}
		if ci.seps == nil {
			ci.seps = defaultInlineSeparators
		}
		n, _, ok := lookupColumn(&fs, idx, in.Name)
		if !ok {
			if in.Optional {
				continue
			}
			return nil, nil, cutover.Errorf(cutover.EINVALID, "file %q: column %q is not in the file (its columns: %s)", fs.Name, in.Name, headerList(header))
		}
		ci.name = n
		used = append(used, n)
		for _, c := range []struct {
			name string
			to   *int
		}{{in.Email, &ci.email}, {in.Phone, &ci.phon}} {
			if c.name == "" {
				continue
			}
			if i, _, ok := lookupColumn(&fs, idx, c.name); ok {
				*c.to = i
				used = append(used, i)
			}
		}
		if ci.phon >= 0 && fs.EffectiveDefaults().Region != "" {
			ci.pc = &phoneConv{region: fs.EffectiveDefaults().Region}
		}
		out = append(out, ci)
	}
	return out, used, nil
}

// fillInline fills each inline target the row's own columns left empty
// with references to the people its name column names, and returns the
// records derived for them. A person's e-mail or phone that does not read
// is left out with a warning: the name alone still identifies them.
//
// With LinkWith, it also returns the values as they were before linking
// (the derived people's source ids) of each target it linked: the row's
// dedupe key and content id are made from those, as one pass makes them
// before LinkInline rewrites the references.
func (m *Mapper) fillInline(w *work, fields []string, vals []Value) ([]*Record, []unlinked) {
	var derived []*Record
	var pre []unlinked
	for i := range m.inline {
		ci := &m.inline[i]
		if vals[ci.target.Index].Kind != Absent || ci.name >= len(fields) {
			continue
		}
		names := splitNames(fields[ci.name], ci.seps)
		if len(names) == 0 {
			continue
		}
		w.field, w.column = ci.target.Name, ci.label
		email, phone := "", ""
		if len(names) == 1 {
			if ci.email >= 0 && ci.email < len(fields) && strings.TrimSpace(fields[ci.email]) != "" {
				if e, reason := normEmail(w, fields[ci.email]); reason == "" {
					email = e
				} else {
					w.warn(fields[ci.email], reason+"; the person is kept without it")
				}
			}
			if ci.pc != nil && ci.phon < len(fields) && strings.TrimSpace(fields[ci.phon]) != "" {
				if p, reason := ci.pc.convert(w, fields[ci.phon]); reason == "" {
					phone = p
				} else {
					w.warn(fields[ci.phon], reason+"; the person is kept without it")
				}
			}
		}
		ids := make([]string, 0, len(names))
		var sids []string                        // the derived people's own ids, once one is linked
		people := make([]*Record, 0, len(names)) // nil for a person linked to a listed one (LinkWith)
		for _, n := range names {
			rec := m.derivePerson(ci.ref, n, email, phone)
			if m.link != nil {
				if to, ok := m.link(rec.Entity, rec.SourceID); ok {
					if sids == nil {
						sids = append(make([]string, 0, len(names)), ids...)
					}
					ids, sids, people = append(ids, to), append(sids, rec.SourceID), append(people, nil)
					continue
				}
			}
			ids, people = append(ids, rec.SourceID), append(people, rec)
			if sids != nil {
				sids = append(sids, rec.SourceID)
			}
		}
		if sids != nil {
			v := Value{Kind: KList, List: sids}
			if ci.target.Type != schema.List {
				v = Value{Kind: KString, Str: sids[0]}
			}
			pre = append(pre, unlinked{ci.target.Index, v})
		}
		if ci.target.Type == schema.List {
			vals[ci.target.Index] = Value{Kind: KList, List: ids}
		} else {
			vals[ci.target.Index] = Value{Kind: KString, Str: ids[0]}
			if len(ids) > 1 {
				w.warn(fields[ci.name], fmt.Sprintf("%q names %d people but %q holds one: linked to the first", fields[ci.name], len(ids), ci.target.Name))
				people = people[:1]
			}
		}
		for _, p := range people {
			if p != nil {
				derived = append(derived, p)
			}
		}
	}
	return derived, pre
}

// unlinked is a target's value before LinkWith linked its people.
type unlinked struct {
	index int
	value Value
}

// derivePerson builds the record for one person named inline. Its source
// id is the normalised name, plus the e-mail or phone when given, so the
// same person named on several rows is one record, and the id does not
// depend on the row or the file's order.
func (m *Mapper) derivePerson(ent *schema.Entity, name, email, phone string) *Record {
	key := strings.ToLower(strings.Join(strings.Fields(name), " "))
	switch {
	case email != "":
		key += "|" + email
	case phone != "":
		key += "|" + phone
	}
	sid := InlinePrefix + key
	rec := &Record{ID: cutover.RecordID(m.tenant, ent.Name, sid), Entity: ent.Name, SourceID: sid, Fields: make([]Value, len(ent.Fields)), def: ent}
	set := func(field string, v Value) {
		if f, ok := ent.Field(field); ok {
			rec.Fields[f.Index] = v
		}
	}
	set("full_name", Value{Kind: KString, Str: strings.Join(strings.Fields(name), " ")})
	if email != "" {
		set("emails", Value{Kind: KList, List: []string{email}})
	}
	if phone != "" {
		set("phones", Value{Kind: KList, List: []string{phone}})
	}
	return rec
}

// splitNames splits a cell naming people into the names, trimmed, without
// empty parts.
func splitNames(cell string, seps []string) []string {
	parts := []string{cell}
	for _, sep := range seps {
		var next []string
		for _, p := range parts {
			next = append(next, splitFold(p, sep)...)
		}
		parts = next
	}
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// splitFold splits s at every sep, matching letters case-insensitively
// (" and " also splits "Ann AND Bob").
func splitFold(s, sep string) []string {
	var out []string
	if len(strings.ToLower(s)) != len(s) || len(strings.ToLower(sep)) != len(sep) {
		return strings.Split(s, sep) // lower-casing changes the length: match exactly
	}
	for {
		i := strings.Index(strings.ToLower(s), strings.ToLower(sep))
		if i < 0 {
			return append(out, s)
		}
		out = append(out, s[:i])
		s = s[i+len(sep):]
	}
}

// IsDerived reports whether rec was derived from a person named inline.
func IsDerived(rec *Record) bool { return strings.HasPrefix(rec.SourceID, InlinePrefix) }

// LinkInline links each derived record to a record of the same entity
// that came from the export's own rows and is the same person, so a tenant
// also listed in the contacts file is not migrated twice: by e-mail when
// the derived record has one, else by the full name (a listed record's
// full_name, or its first and last names) when exactly one listed record
// has it. References to a linked record (and the fields holding them) are
// rewritten to the listed person's source id. It returns the records to
// write (without the linked derived ones), an alias per linked record (for
// a Resolver), and how many were linked per entity. LinkInline never fails.
func LinkInline(recs []*Record) ([]*Record, []Alias, map[string]int) {
	byEmail, byName := map[string]*Record{}, map[string][]*Record{}
	for _, r := range recs {
		if IsDerived(r) {
			continue
		}
		if v, ok := r.Get("emails"); ok {
			for _, e := range v.List {
				k := r.Entity + "\x00" + strings.ToLower(e)
				if _, dup := byEmail[k]; !dup {
					byEmail[k] = r
				}
			}
		}
		if n := personName(r); n != "" {
			k := r.Entity + "\x00" + n
			byName[k] = append(byName[k], r)
		}
	}
	if len(byEmail) == 0 && len(byName) == 0 {
		return recs, nil, nil
	}
	kept := make([]*Record, 0, len(recs))
	var aliases []Alias
	linked := map[string]int{}
	relink := map[string]string{} // entity, derived source id -> listed source id
	for _, r := range recs {
		if !IsDerived(r) {
			kept = append(kept, r)
			continue
		}
		var to *Record
		if v, ok := r.Get("emails"); ok && len(v.List) > 0 {
			to = byEmail[r.Entity+"\x00"+strings.ToLower(v.List[0])]
		} else if rs := byName[r.Entity+"\x00"+personName(r)]; len(rs) == 1 {
			to = rs[0]
		}
		if to == nil {
			kept = append(kept, r)
			continue
		}
		aliases = append(aliases, Alias{Entity: r.Entity, SourceID: r.SourceID, ID: to.ID})
		relink[r.Entity+"\x00"+r.SourceID] = to.SourceID
		linked[r.Entity]++
	}
	// The references, and the fields that hold them, name the listed
	// person's source id, as if the row had named them by id.
	for _, r := range kept {
		for i := range r.Refs {
			if to, ok := relink[r.Refs[i].Entity+"\x00"+r.Refs[i].SourceID]; ok {
				r.Relink(i, to)
			}
		}
	}
	return kept, aliases, linked
}

// Relink points the record's reference i, and the field that holds it,
// at the listed record whose source id is to: how LinkInline rewrites a
// reference to a derived person it linked, and how a pass that links
// them elsewhere (the CLI's shuffle) rewrites it the same way.
func (r *Record) Relink(i int, to string) {
	ref := &r.Refs[i]
	if f, ok := r.def.Field(ref.Field); ok {
		v := &r.Fields[f.Index]
		if v.Kind == KList {
			for j := range v.List {
				if v.List[j] == ref.SourceID {
					v.List[j] = to
				}
			}
		} else if v.Str == ref.SourceID {
			v.Str = to
		}
	}
	ref.SourceID = to
}

// personName is a record's name, lower-cased with single spaces: its
// full_name, else its first and last names; "" when it has none.
func personName(r *Record) string {
	var parts [len(NameFields)]*string
	for i, name := range NameFields {
		if v, ok := r.Get(name); ok {
			parts[i] = &v.Str
		}
	}
	return NameOf(parts)
}

// NameFields are the fields a person's name is read from: a full_name,
// else a first and a last name.
var NameFields = [...]string{"full_name", "first_name", "last_name"}

// NameOf is the name (lower-cased, single spaces; "" for none) of a
// person whose NameFields hold parts (nil: absent). A record merged from
// rows (Merger) takes each field from the first row that has it, so its
// name is NameOf those first values: how the id shuffle names a record
// merged across chunks.
func NameOf(parts [len(NameFields)]*string) string {
	if parts[0] != nil {
		return strings.ToLower(strings.Join(strings.Fields(*parts[0]), " "))
	}
	var first, last string
	if parts[1] != nil {
		first = *parts[1]
	}
	if parts[2] != nil {
		last = *parts[2]
	}
	return strings.ToLower(strings.Join(strings.Fields(first+" "+last), " "))
}
