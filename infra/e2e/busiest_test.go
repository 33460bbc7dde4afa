package e2e

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/infra/lambdarunner"
)

// busiest is where a benchmark's time went between from and to, from the
// local runner's invocation reports (stack.Options.Reports): per function
// and action, the seconds its invocations that started then ran, added up
// (invocations of one step overlap, up to the runner's processes per
// function, so a step's seconds can exceed the wall time), the n busiest,
// as "FinalMigrate/chunk 31.2 s ×12". An invocation still running when
// it reads is not counted (it has no report yet), nor a line the runner
// is still writing.
func busiest(tb testing.TB, path string, from, to time.Time, n int) string {
	tb.Helper()
	body, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	lines := strings.Split(string(body), "\n")
	type busy struct {
		step  string
		ms    float64
		count int
	}
	by := map[string]*busy{}
	for _, line := range lines[:len(lines)-1] { // the last: "" or a line being written
		var r lambdarunner.Report
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			tb.Fatalf("an invocation report that is not one: %v", err)
		}
		if r.StartedAt.Before(from) || !r.StartedAt.Before(to) {
			continue
		}
		step := strings.TrimSuffix(r.Function, "Function")
		if r.Action != "" {
			step += "/" + r.Action
		}
		if by[step] == nil {
			by[step] = &busy{step: step}
		}
		by[step].ms += r.DurationMs
		by[step].count++
	}
	all := make([]*busy, 0, len(by))
	total := 0.0
	for _, b := range by {
		all = append(all, b)
		total += b.ms
	}
	slices.SortFunc(all, func(a, b *busy) int { return cmp.Compare(b.ms, a.ms) })
	out := []string{fmt.Sprintf("%.1f s in all", total/1000)}
	for _, b := range all[:min(n, len(all))] {
		out = append(out, fmt.Sprintf("%s %.1f s ×%d", b.step, b.ms/1000, b.count))
	}
	return strings.Join(out, ", ")
}
