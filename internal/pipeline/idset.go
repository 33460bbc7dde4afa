package pipeline

// idTable maps records, by entity and record id, to a value V without
// pointers. It is what Seen and Written hold every id of a pass in: the
// collector (one goroutine every row passes through) looks each row's id
// up once or twice, so a map of strings cost it an allocated key per row
// and the garbage collector a pointer per id to scan, again at every
// cycle, however many ids it held.
//
// A record id is normally cutover.RecordID's: 32 lowercase hex digits.
// Such an id is kept as the 16 bytes they spell (a [16]byte key, in a map
// the collector never scans). Reading 32 lowercase hex digits as 16 bytes
// is a bijection, so two different ids of that shape never share a key:
// no collision can happen and none needs handling. Any other id (another
// length, upper case, not hex: ids a caller made itself) is kept as a
// string, in a map of its own, so the shape of an id can never make two
// ids one. Entities are kept apart by a table each.
//
// It is not safe for concurrent use.
type idTable[V any] struct {
	ents []*entityIDs[V]
	n    int
}

type entityIDs[V any] struct {
	entity string
	hex    map[[16]byte]V
	other  map[string]V
}

// of returns entity's table, made on first use when create is set (nil
// otherwise). A pass has a handful of entities: a scan beats a map.
func (t *idTable[V]) of(entity string, create bool) *entityIDs[V] {
	for _, e := range t.ents {
		if e.entity == entity {
			return e
		}
	}
	if !create {
		return nil
	}
	e := &entityIDs[V]{entity: entity, hex: map[[16]byte]V{}}
	t.ents = append(t.ents, e)
	return e
}

// get returns the value of (entity, id) and whether the table holds it.
func (t *idTable[V]) get(entity, id string) (V, bool) {
	var v V
	e := t.of(entity, false)
	if e == nil {
		return v, false
	}
	if k, ok := hexKey(id); ok {
		v, ok = e.hex[k]
		return v, ok
	}
	v, ok := e.other[id]
	return v, ok
}

// put sets the value of (entity, id).
func (t *idTable[V]) put(entity, id string, v V) {
	e := t.of(entity, true)
	if k, ok := hexKey(id); ok {
		if _, had := e.hex[k]; !had {
			t.n++
		}
		e.hex[k] = v
		return
	}
	if e.other == nil {
		e.other = map[string]V{}
	}
	if _, had := e.other[id]; !had {
		t.n++
	}
	e.other[id] = v
}

// len is the number of records held.
func (t *idTable[V]) len() int { return t.n }

// hexKey reads id as the 16 bytes its 32 lowercase hex digits spell; ok
// is false for an id of any other shape. Upper case is refused so that
// exactly one id reads as each key.
func hexKey(id string) (k [16]byte, ok bool) {
	if len(id) != 32 {
		return k, false
	}
	for i := range k {
		hi, lo := unhex[id[2*i]], unhex[id[2*i+1]]
		if hi|lo > 0xf {
			return k, false
		}
		k[i] = hi<<4 | lo
	}
	return k, true
}

// unhex is each byte's value as a lowercase hex digit, 0xff for a byte
// that is not one.
var unhex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := byte('a'); c <= 'f'; c++ {
		t[c] = c - 'a' + 10
	}
	return t
}()

// keyRef is where a Seen keeps a record's dedupe key: a span of its
// arena of key bytes (the zero keyRef is the empty key).
type keyRef struct {
	off uint64
	n   uint32
}
