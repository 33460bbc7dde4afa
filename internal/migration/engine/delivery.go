package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/destination"
)

// deliverySink is a pass's sink onto a destination (issue 14): it hands
// each batch to the Deliverer and keeps, per entity, the distinct ids the
// destination accepted (created, or held already), which the read-back
// compares with what the destination says it holds.
//
// A record the destination rejects is returned as a refusal: the pass
// accounts for it as a rejected row (its rejects file, the workbook, the
// counts), and it is not among the ids the read-back expects. The
// built-in destination never rejects a record; the HTTPS one reports its
// ledger's answer again for a record it answered before, so a retried
// chunk reports the same rejection again.
type deliverySink struct {
	d cutover.Deliverer

	mu  sync.Mutex
	ids accepted
}

func newDeliverySink(d cutover.Deliverer) *deliverySink {
	return &deliverySink{d: d, ids: accepted{}}
}

// Write implements cutover.Sink.
//
// Errors: the Deliverer's; EINVALID when the destination answered
// without a result for a record, or with an outcome that is not one.
func (s *deliverySink) Write(ctx context.Context, recs []cutover.Record) ([]cutover.Refusal, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	res, err := s.d.Deliver(ctx, recs)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]cutover.DeliveryResult, len(res))
	for _, r := range res {
		byID[r.ID] = r
	}
	var refused []cutover.Refusal
	var took []cutover.Record
	for _, r := range recs {
		got, ok := byID[r.ID]
		switch {
		case !ok:
			return nil, cutover.Errorf(cutover.EINVALID, "The destination gave no result for %s record %s (source id %s).", r.Entity, r.ID, r.SourceID)
		case got.Outcome == cutover.Rejected:
			reason := got.Reason
			if reason == "" {
				reason = "the destination gave no reason"
			}
			refused = append(refused, cutover.Refusal{Entity: r.Entity, ID: r.ID, Reason: reason})
		case got.Outcome != cutover.Created && got.Outcome != cutover.Existed:
			return nil, cutover.Errorf(cutover.EINVALID, "The destination answered %q for %s record %s, which is not a delivery outcome.", got.Outcome, r.Entity, r.ID)
		default:
			took = append(took, r)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range took {
		s.ids.add(r.Entity, r.ID)
	}
	return refused, nil
}

// accepted is, per entity, a set of distinct record ids.
type accepted map[string]map[string]struct{}

func (a accepted) add(entity, id string) {
	if a[entity] == nil {
		a[entity] = map[string]struct{}{}
	}
	a[entity][id] = struct{}{}
}

// holdings is what a read-back should find: per entity, the count and
// the checksum of the ids.
func (a accepted) holdings() map[string]cutover.Holding {
	out := make(map[string]cutover.Holding, len(a))
	for e, ids := range a {
		var c destination.IDChecksum
		for id := range ids {
			c.Add(id)
		}
		out[e] = cutover.Holding{Count: int64(len(ids)), IDChecksum: c.String()}
	}
	return out
}

// readBack compares, per entity, what the destination holds of t with
// want (what the migration wrote): "nothing lost" checked against the
// destination itself, not our own accounting. held is what the
// comparison's key ranges read back of it, range by range (compared's
// Held when every range read it: heldAll); nil asks the destination for
// the whole here.
//
// Errors: EINTERNAL naming the first entity (in name order) whose count
// or id checksum differs, with both counts (the state machine does not
// retry it: the step fails for a person to look at); the Destination's
// errors from Holdings.
func readBack(ctx context.Context, dest cutover.Destination, t cutover.Target, want, held map[string]cutover.Holding) error {
	got := held
	if got == nil {
		var err error
		if got, err = dest.Holdings(ctx, t); err != nil {
			return err
		}
	}
	entities := make([]string, 0, len(want)+len(got))
	for e := range want {
		entities = append(entities, e)
	}
	for e := range got {
		if _, ok := want[e]; !ok {
			entities = append(entities, e)
		}
	}
	sort.Strings(entities)
	where := "TEST"
	if t.Env == cutover.EnvLive {
		where = "LIVE"
	}
	for _, e := range entities {
		w, g := want[e], got[e]
		if w.Count == 0 && g.Count == 0 {
			continue
		}
		switch {
		case w.Count != g.Count:
			return cutover.Errorf(cutover.EINTERNAL, "Read-back of %s: the destination holds %d %s record(s); the migration wrote %d.", where, g.Count, e, w.Count)
		case w.IDChecksum != g.IDChecksum:
			return cutover.Errorf(cutover.EINTERNAL, "Read-back of %s: the destination holds %d %s record(s), as many as the migration wrote, but not the same ones (id checksum %s, not %s).", where, g.Count, e, g.IDChecksum, w.IDChecksum)
		}
	}
	return nil
}

// readBackAndSeal is readBack (of found's holdings, when the key ranges
// read the destination back), then, when the destination closes its
// deliveries (cutover.Sealer), the seal, told how many parts the ranges
// read: a drop is marked complete only once the destination was seen to
// hold what the migration wrote.
//
// Errors: readBack's; the Sealer's.
func readBackAndSeal(ctx context.Context, dest cutover.Destination, t cutover.Target, want map[string]cutover.Holding, found readBackFound) error {
	if err := readBack(ctx, dest, t, want, found.held); err != nil {
		return err
	}
	if s, ok := dest.(cutover.Sealer); ok {
		return s.Seal(ctx, t, want, found.parts)
	}
	return nil
}

// snapshotHoldings is what the final migration wrote to LIVE, from its
// chunks' snapshots (each sorted by key, entity#id): per entity, the
// distinct ids of every chunk (a record two chunks wrote counts once: the
// id shuffle keeps that from happening, but a plan made before it had none),
// merged as a stream so that no chunk is held in memory.
//
// Errors: EINVALID when a snapshot line is not an entry; EUNAVAILABLE
// when a snapshot cannot be read.
func snapshotHoldings(snaps []io.Reader) (map[string]cutover.Holding, error) {
	return mergeSnapshots(snaps, nil, nil)
}

type keyReader struct {
	sc  *bufio.Scanner
	idx int
	key string
}

// next reads the next entry's key.
func (k *keyReader) next() (bool, error) {
	if !k.sc.Scan() {
		if err := k.sc.Err(); err != nil && !errors.Is(err, io.EOF) {
			return false, cutover.Wrap(cutover.EUNAVAILABLE, err, "A chunk's snapshot could not be read.")
		}
		return false, nil
	}
	var e struct {
		Key string `json:"k"`
	}
	if err := json.Unmarshal(k.sc.Bytes(), &e); err != nil || !strings.Contains(e.Key, "#") {
		return false, cutover.Errorf(cutover.EINVALID, "A chunk's snapshot has a line that is not a record entry.")
	}
	k.key = e.Key
	return true, nil
}

type keyHeap []*keyReader

func (h keyHeap) Len() int { return len(h) }
func (h keyHeap) Less(i, j int) bool {
	if h[i].key != h[j].key {
		return h[i].key < h[j].key
	}
	return h[i].idx < h[j].idx
}
func (h keyHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *keyHeap) Push(x any)   { *h = append(*h, x.(*keyReader)) }
func (h *keyHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
