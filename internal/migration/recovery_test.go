package migration

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
)

// A held go-live whose execution dies says so, and the sweep watches it
// like any other step that waits.
func TestAHeldGoLiveIsWatchedAndDescribed(t *testing.T) {
	if r := deadReason(execAborted, cutover.StatusFinalHeld); !strings.Contains(r, "holding go-live for the coordinator's re-approval") {
		t.Fatalf("reason %q", r)
	}
	if !awaitsExecution(&cutover.Migration{ExecutionName: "x", Status: cutover.StatusFinalHeld}) {
		t.Fatal("a held go-live is not watched")
	}
}
