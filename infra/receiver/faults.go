package receiver

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// Faults are the failures the receiver injects, so that a sender's retries,
// timeouts, exactly-once delivery and read-back can be tested against a
// real server. The counted ones (TooManyRequests, ServerErrors, Slow,
// Duplicates) apply to the next N signed, well-formed batch POSTs and are
// used up one per batch; the others hold until changed. Counts GETs are
// never failed, only planted (CountPlusOne).
type Faults struct {
	// TooManyRequests answers the next N batches 429 with Retry-After,
	// storing nothing.
	TooManyRequests int `json:"tooManyRequests,omitempty"`
	// RetryAfterSeconds is those 429s' Retry-After (1 when unset).
	RetryAfterSeconds int `json:"retryAfterSeconds,omitempty"`
	// ServerErrors answers the next N batches 500, storing nothing.
	ServerErrors int `json:"serverErrors,omitempty"`
	// Slow delays the next N batches by Delay before they are processed;
	// a sender that gives up meanwhile does not stop them being stored.
	Slow  int      `json:"slow,omitempty"`
	Delay Duration `json:"delay,omitzero"`
	// Duplicates stores the next N batches but answers 500 and forgets the
	// answer, as if it were lost on the way: the sender sends the batch
	// again, and the retry must learn that every record exists.
	Duplicates int `json:"duplicates,omitempty"`
	// RejectIDs and RejectSourceIDs name records refused with RejectReason
	// (the destination's own rules), by record id or source id.
	RejectIDs       []string `json:"rejectIds,omitempty"`
	RejectSourceIDs []string `json:"rejectSourceIds,omitempty"`
	RejectReason    string   `json:"rejectReason,omitempty"`
	// CountPlusOne names entities whose count the counts endpoint reports
	// one too high: a planted mismatch the sender's read-back must catch.
	CountPlusOne []string `json:"countPlusOne,omitempty"`
}

// Duration is a time.Duration written as text in JSON ("2s", "500ms").
type Duration time.Duration

// MarshalText writes d as time.Duration.String does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads a duration such as "2s".
//
// Errors: when text is not a duration time.ParseDuration reads, or is
// negative.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := time.ParseDuration(string(text))
	if err != nil || v < 0 {
		return fmt.Errorf("%q is not a duration such as \"2s\" or \"500ms\"", text)
	}
	*d = Duration(v)
	return nil
}

// defaultRejectReason is a rejection's reason when the faults name none.
const defaultRejectReason = "refused by the receiver's reject fault"

// Validate says what is wrong with f, for the person who set it.
//
// Errors: a message naming the field, when a count is negative or Slow is
// set without a Delay.
func (f Faults) Validate() error {
	for name, n := range map[string]int{
		"tooManyRequests": f.TooManyRequests, "retryAfterSeconds": f.RetryAfterSeconds,
		"serverErrors": f.ServerErrors, "slow": f.Slow, "duplicates": f.Duplicates,
	} {
		if n < 0 {
			return fmt.Errorf("%s is %d; it counts requests, so it is 0 or more", name, n)
		}
	}
	if f.Slow > 0 && f.Delay <= 0 {
		return errors.New("slow needs a delay, such as \"2s\"")
	}
	return nil
}

// faultState is the receiver's current faults, shared by every request.
type faultState struct {
	mu sync.Mutex
	f  Faults
}

func (s *faultState) set(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.f = f
}

func (s *faultState) get() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.f
}

// batchFaults is what happens to one batch: drawn, and the counted faults
// used up, in one step, so two batches never draw the same one.
type batchFaults struct {
	delay      time.Duration
	retryAfter int // > 0: answer 429
	fail       bool
	forget     bool
	reject     func(id, sourceID string) (string, bool)
}

func (s *faultState) draw() batchFaults {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b batchFaults
	if s.f.Slow > 0 {
		s.f.Slow--
		b.delay = time.Duration(s.f.Delay)
	}
	switch {
	case s.f.TooManyRequests > 0:
		s.f.TooManyRequests--
		b.retryAfter = max(s.f.RetryAfterSeconds, 1)
	case s.f.ServerErrors > 0:
		s.f.ServerErrors--
		b.fail = true
	case s.f.Duplicates > 0:
		s.f.Duplicates--
		b.forget = true
	}
	ids, sources := set(s.f.RejectIDs), set(s.f.RejectSourceIDs)
	reason := s.f.RejectReason
	if reason == "" {
		reason = defaultRejectReason
	}
	b.reject = func(id, sourceID string) (string, bool) {
		if ids[id] || (sourceID != "" && sources[sourceID]) {
			return reason, true
		}
		return "", false
	}
	return b
}

// plusOne reports whether entity's count is to be reported one too high.
func (s *faultState) plusOne(entity string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return set(s.f.CountPlusOne)[entity]
}

func set(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}
