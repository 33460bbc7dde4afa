package destination

import (
	"encoding/json"
	"regexp"
	"strings"
	"sync"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/schema"
)

// ListSeparator is how the engine joins a list's items into one field
// text (mapspec.Value.String): Typed splits on it only for a record that
// does not carry the list's items (cutover.Record.Lists).
const ListSeparator = "; "

// Money is a money value as a destination receives it. Amount is the
// decimal text the engine canonicalised ("1250.00"), carried as a JSON
// number but never through a float, so no amount is rounded on the way.
type Money struct {
	Amount   json.Number `json:"amount"`
	Currency string      `json:"currency"`
}

var (
	decimalRe  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`) })
	integerRe  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^-?[0-9]+$`) })
	currencyRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Z]{3}$`) })
)

// Typed is rec as a destination receives it: each field's text (what the
// engine's record carries, cutover.Record.Fields) read back into the
// target schema's type. Lists become []string: the items the mapping
// read (rec.Lists), or, for a record without them, the text split on
// ListSeparator;
// money becomes Money ("1250.00 GBP" → {"amount": 1250.00, "currency":
// "GBP"}); numbers and integers json.Number (exact, no float); booleans
// bool; dates and datetimes stay the ISO strings the engine wrote; a
// reference (or a list of them) becomes the referenced record's id.
//
// The engine keeps a reference as the referenced record's source id (the
// schema's "ref" type) and, once the pass knew every record, the id it
// resolved to (rec.RefIDs): a source id a dedupe merged into another
// record resolves to the surviving record, the one written. A reference
// not resolved (an orphan) becomes the engine's deterministic id,
// cutover.RecordID(tenantID, referenced entity, source id): the id a
// record of that source id would be written under.
//
// The values the mapping left out (rec.Invalid) are not part of the wire
// record: a destination gets only what was migrated; our own tables keep
// them beside the record.
//
// Errors: EINVALID naming the entity, the field and the value when a
// field is not in ent or its text does not read as its type (a money text
// without an amount and a currency, a number that is not a decimal, ...).
func Typed(tenantID string, rec cutover.Record, ent *schema.Entity) (Record, error) {
	out := Record{ID: rec.ID, Entity: rec.Entity, SourceID: rec.SourceID, Fields: make(map[string]any, len(rec.Fields))}
	for name, text := range rec.Fields {
		fd, ok := ent.Field(name)
		if !ok {
			return Record{}, cutover.Errorf(cutover.EINVALID, "Record %s: field %q is not a field of %s.", rec.ID, name, ent.Name)
		}
		var (
			v   any
			err error
		)
		if fd.Type == schema.List {
			v = typedList(tenantID, fd, text, rec.Lists[name], rec.RefIDs[name])
		} else {
			v, err = typedScalar(tenantID, fd, fd.Type, text, rec.RefIDs[name])
		}
		if err != nil {
			return Record{}, cutover.Wrap(cutover.EINVALID, err, "Record %s of %s: field %q: %s", rec.ID, ent.Name, name, cutover.ErrorMessage(err))
		}
		out.Fields[name] = v
	}
	return out, nil
}

// typedList is a list's items (the engine's, or else its text split);
// a list of references becomes the referenced records' ids. Items are
// kept as strings whatever their type (the schema's lists are of
// text-like items).
func typedList(tenantID string, fd *schema.Field, text string, items []string, refs map[string]string) []string {
	switch {
	case items != nil:
		items = append([]string{}, items...)
	case text == "":
		return []string{}
	default:
		items = strings.Split(text, ListSeparator)
	}
	if fd.ItemType() == schema.Ref {
		for i, it := range items {
			items[i] = refID(tenantID, fd, it, refs)
		}
	}
	return items
}

// refID is the id of the record a reference to sourceID names: the one
// the pass resolved it to, or else the id a record of that source id has.
func refID(tenantID string, fd *schema.Field, sourceID string, refs map[string]string) string {
	if id, ok := refs[sourceID]; ok {
		return id
	}
	return cutover.RecordID(tenantID, fd.Ref, sourceID)
}

func typedScalar(tenantID string, fd *schema.Field, t schema.Type, text string, refs map[string]string) (any, error) {
	switch t {
	case schema.Number:
		if !decimalRe().MatchString(text) {
			return nil, cutover.Errorf(cutover.EINVALID, "%q is not a decimal number.", text)
		}
		return json.Number(text), nil
	case schema.Integer:
		if !integerRe().MatchString(text) {
			return nil, cutover.Errorf(cutover.EINVALID, "%q is not a whole number.", text)
		}
		return json.Number(text), nil
	case schema.Boolean:
		switch text {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, cutover.Errorf(cutover.EINVALID, "%q is not true or false.", text)
	case schema.Money:
		amount, currency, ok := strings.Cut(text, " ")
		if !ok || !decimalRe().MatchString(amount) || !currencyRe().MatchString(currency) {
			return nil, cutover.Errorf(cutover.EINVALID, "%q is not an amount and a currency (like \"1250.00 GBP\").", text)
		}
		return Money{Amount: json.Number(amount), Currency: currency}, nil
	case schema.Ref:
		return refID(tenantID, fd, text, refs), nil
	}
	// string, text, email, phone, enum, date (YYYY-MM-DD), datetime (RFC 3339): as the engine wrote them
	return text, nil
}
