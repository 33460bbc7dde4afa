package awsenv

import (
	"strings"
	"testing"
)

// A tolerated failure percentage is a whole number from 0 (none, the
// default) to 100; anything else stops the function before it takes an
// invocation, naming the variable.
func TestPercent(t *testing.T) {
	for v, want := range map[string]int{"0": 0, "5": 5, "100": 100} {
		t.Setenv("CHUNK_TOLERATED_FAILURE_PERCENTAGE", v)
		if got, err := Percent("CHUNK_TOLERATED_FAILURE_PERCENTAGE"); err != nil || got != want {
			t.Errorf("%q: Percent() = %d, %v; want %d", v, got, err, want)
		}
	}
	for _, v := range []string{"", "-1", "101", "5%", "2.5"} {
		t.Setenv("CHUNK_TOLERATED_FAILURE_PERCENTAGE", v)
		if _, err := Percent("CHUNK_TOLERATED_FAILURE_PERCENTAGE"); err == nil || !strings.Contains(err.Error(), "CHUNK_TOLERATED_FAILURE_PERCENTAGE") {
			t.Errorf("%q: Percent() error %v; want one naming the variable", v, err)
		}
	}
}
