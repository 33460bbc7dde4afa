package lambdastep

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
)

// The state machine's Retry and Catch match step errors by the Go type
// name aws-lambda-go reports as errorType. Locally every failure is
// States.TaskFailed, so a renamed type would silently turn the retries off
// on AWS; this test ties the names in the ASL to the types Named returns.
func TestTheStateMachineNamesTheStepErrors(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "statemachine", "migration.asl.json"))
	if err != nil {
		t.Fatal(err)
	}
	var asl struct {
		States map[string]json.RawMessage
	}
	if err := json.Unmarshal(raw, &asl); err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	failed := map[string]bool{} // names the state machine's own Fail states raise
	var walk func(states map[string]json.RawMessage)
	walk = func(states map[string]json.RawMessage) {
		for _, s := range states {
			var st struct {
				Type, Error   string
				Retry, Catch  []struct{ ErrorEquals []string }
				ItemProcessor *struct{ States map[string]json.RawMessage }
				Iterator      *struct{ States map[string]json.RawMessage }
			}
			if err := json.Unmarshal(s, &st); err != nil {
				t.Fatal(err)
			}
			if st.Type == "Fail" && st.Error != "" {
				failed[st.Error] = true
			}
			for _, r := range append(st.Retry, st.Catch...) {
				for _, n := range r.ErrorEquals {
					used[n] = true
				}
			}
			for _, inner := range []*struct{ States map[string]json.RawMessage }{st.ItemProcessor, st.Iterator} {
				if inner != nil {
					walk(inner.States)
				}
			}
		}
	}
	walk(asl.States)

	ours := map[string]bool{}
	for _, code := range []string{cutover.EUNAVAILABLE, cutover.ECONFLICT, cutover.EGONE, cutover.EINVALID, cutover.ENOTFOUND, cutover.EINTERNAL} {
		ours[reflect.TypeOf(Named(cutover.Errorf(code, "x"))).Elem().Name()] = true
	}
	var custom []string
	for n := range used {
		if strings.HasPrefix(n, "States.") || strings.HasPrefix(n, "Lambda.") {
			continue // AWS's own names
		}
		custom = append(custom, n)
		if !ours[n] && !failed[n] {
			t.Errorf("the state machine matches %q, which no step returns (lambdastep.Named returns %v) and no Fail state raises (%v)", n, slices.Sorted(maps.Keys(ours)), slices.Sorted(maps.Keys(failed)))
		}
	}
	if !used["TransientError"] {
		t.Errorf("the state machine retries no TransientError: a dependency failing for now would fail the migration (names used: %v)", custom)
	}
}
