package mapspec

import (
	"encoding/binary"
	"errors"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/schema"
)

// A record's binary form, for a pass that spills records to disk (or to
// object storage) instead of holding them: the CLI's shuffle writes each
// record once and reads it back to merge it with the others of its dedupe
// key. Unlike AppendJSON, which is the output format, it keeps every part
// of the record (absent fields, value kinds, the lines and rows merged,
// the values left out, the source row), so a record read back is equal to
// the one written and merges, serialises and resolves the same.

// recordCodecVersion starts every encoded record, so a spill file from
// another build is refused rather than misread.
const recordCodecVersion = 1

// AppendBinary appends rec's binary form to b.
func (r *Record) AppendBinary(b []byte) []byte {
	b = append(b, recordCodecVersion)
	b = appendStr(b, r.ID)
	b = appendStr(b, r.Entity)
	b = appendStr(b, r.SourceID)
	b = binary.AppendVarint(b, int64(r.Line))
	b = appendStr(b, r.File)
	b = binary.AppendUvarint(b, uint64(len(r.Fields)))
	for _, v := range r.Fields {
		b = append(b, byte(v.Kind))
		if v.Kind == Absent {
			continue
		}
		b = appendStr(b, v.Str)
		b = binary.AppendVarint(b, v.Int)
		if v.Bool {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
		b = appendStrs(b, v.List)
	}
	b = binary.AppendUvarint(b, uint64(len(r.Refs)))
	for _, ref := range r.Refs {
		b = appendStr(b, ref.Field)
		b = appendStr(b, ref.Entity)
		b = appendStr(b, ref.SourceID)
		b = appendStr(b, ref.ID)
	}
	b = binary.AppendUvarint(b, uint64(len(r.Lines)))
	for _, l := range r.Lines {
		b = binary.AppendVarint(b, int64(l))
	}
	b = binary.AppendUvarint(b, uint64(len(r.Merged)))
	for _, m := range r.Merged {
		b = appendStr(b, m.File)
		b = binary.AppendVarint(b, int64(m.Line))
	}
	b = binary.AppendUvarint(b, uint64(len(r.Invalid)))
	for _, iv := range r.Invalid {
		b = appendStr(b, iv.Field)
		b = appendStr(b, iv.Column)
		b = appendStr(b, iv.Value)
		b = appendStr(b, iv.Reason)
	}
	if r.Source == nil {
		return append(b, 0)
	}
	b = append(b, 1)
	b = appendStr(b, r.Source.File)
	b = binary.AppendVarint(b, int64(r.Source.Line))
	b = appendStrs(b, r.Source.Columns)
	return appendStrs(b, r.Source.Values)
}

// errBadRecord is DecodeRecord's answer to bytes AppendBinary did not write.
var errBadRecord = cutover.Errorf(cutover.EINTERNAL, "A spilled record could not be read back: the spill file is damaged or from another version.")

// DecodeRecord reads a record AppendBinary wrote, bound to its entity in
// sch. It keeps no reference to b.
//
// Errors: EINTERNAL when b is not a whole record AppendBinary wrote, or
// names an entity sch lacks or a different number of fields.
func DecodeRecord(b []byte, sch *schema.Schema) (*Record, error) {
	// The record's strings are cut from one copy of its bytes: one
	// allocation per record instead of one per string (the shuffle reads
	// every record of a pass back once). They keep that copy alive as
	// long as any of them lives; the record holds most of it anyway.
	d := decoder{b: b, all: string(b)}
	if d.byte() != recordCodecVersion {
		return nil, errBadRecord
	}
	r := &Record{ID: d.str(), Entity: d.str(), SourceID: d.str(), Line: d.int(), File: d.str()}
	ent, ok := sch.Entity(r.Entity)
	if d.err != nil || !ok {
		return nil, errBadRecord
	}
	r.def = ent
	n := d.count()
	if d.err != nil || n != len(ent.Fields) {
		return nil, errBadRecord
	}
	r.Fields = make([]Value, n)
	for i := range r.Fields {
		v := &r.Fields[i]
		v.Kind = Kind(d.byte())
		if v.Kind > KList {
			return nil, errBadRecord
		}
		if v.Kind == Absent {
			continue
		}
		v.Str, v.Int, v.Bool, v.List = d.str(), d.varint(), d.byte() == 1, d.strs()
	}
	if n := d.count(); n > 0 {
		r.Refs = make([]Ref, n)
		for i := range r.Refs {
			r.Refs[i] = Ref{Field: d.str(), Entity: d.str(), SourceID: d.str(), ID: d.str()}
		}
	}
	if n := d.count(); n > 0 {
		r.Lines = make([]int, n)
		for i := range r.Lines {
			r.Lines[i] = d.int()
		}
	}
	if n := d.count(); n > 0 {
		r.Merged = make([]RowAt, n)
		for i := range r.Merged {
			r.Merged[i] = RowAt{File: d.str(), Line: d.int()}
		}
	}
	if n := d.count(); n > 0 {
		r.Invalid = make([]InvalidValue, n)
		for i := range r.Invalid {
			r.Invalid[i] = InvalidValue{Field: d.str(), Column: d.str(), Value: d.str(), Reason: d.str()}
		}
	}
	if d.byte() == 1 {
		r.Source = &cutover.SourceRow{File: d.str(), Line: d.int(), Columns: d.strs(), Values: d.strs()}
	}
	if d.err != nil || len(d.b) != 0 {
		return nil, errBadRecord
	}
	return r, nil
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendStrs keeps nil apart from empty: a list value's items are
// compared and serialised as they were.
func appendStrs(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(ss))+1)
	for _, s := range ss {
		b = appendStr(b, s)
	}
	return b
}

// decoder reads what the append functions wrote; the first fault sticks
// in err and every later read returns zero values. all, when set, is b
// as a string from its start: strings are cut from it, not copied.
type decoder struct {
	b   []byte
	all string
	err error
}

var errShort = errors.New("short")

func (d *decoder) byte() byte {
	if d.err != nil || len(d.b) == 0 {
		d.err = errShort
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int() int { return int(d.varint()) }

// count is a length that must fit in what is left (each item takes at
// least a byte), so damaged input cannot ask for a huge allocation.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.err = errShort
		return 0
	}
	return int(n)
}

func (d *decoder) str() string {
	n := d.count()
	if d.err != nil {
		return ""
	}
	var s string
	if d.all != "" {
		off := len(d.all) - len(d.b)
		s = d.all[off : off+n]
	} else {
		s = string(d.b[:n])
	}
	d.b = d.b[n:]
	return s
}

func (d *decoder) strs() []string {
	n := d.uvarint()
	if d.err != nil || n == 0 {
		return nil
	}
	n--
	if n > uint64(len(d.b)) {
		d.err = errShort
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str()
	}
	return out
}
