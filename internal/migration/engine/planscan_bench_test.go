package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/benchdata"
	"github.com/cutover/cutover/internal/mapspec"
)

// BenchmarkPlanning plans a generated contacts export of each size (in
// chunks of 4 MiB) whole, as one planning step did before planning in
// parts, and in parts, and reports the longest single step of each:
// "whole-s" grows with the file; "longest-step-s" of the plan in parts
// (a planning step, or one part: a range scanned, a chunk checked) should
// not, and "parts" is how many ran. The parts run one after another here;
// the state machine runs them ChunkConcurrency at once.
//
//	go test -run '^$' -bench Planning -benchtime 1x ./internal/migration/engine
func BenchmarkPlanning(b *testing.B) {
	const chunk = 4 << 20
	for _, rows := range []int{150_000, 600_000, 2_400_000} {
		var body strings.Builder
		if err := benchdata.WriteContacts(&body, rows, 1); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("%dMB", body.Len()>>20), func(b *testing.B) {
			var whole, longest time.Duration
			parts := 0
			for b.Loop() {
				whole, longest, parts = planTimes(b, body.String(), chunk)
			}
			b.ReportMetric(whole.Seconds(), "whole-s")
			b.ReportMetric(longest.Seconds(), "longest-step-s")
			b.ReportMetric(float64(parts), "parts")
		})
	}
}

// planTimes plans body whole and in parts, and times the whole plan and
// the longest step or part of the plan in parts.
func planTimes(b *testing.B, body string, chunkBytes int64) (whole, longest time.Duration, parts int) {
	ctx := context.Background()
	svc, tr, in := oneTestFile(b, body, "", chunkBytes)
	spec, err := mapspec.Parse([]byte(`{"version":1,"files":[{"name":"f1","entity":"contact","sourceId":["Record ID"],"fields":[` +
		`{"target":"emails","column":"Email"},{"target":"first_name","column":"First Name"},{"target":"phones","column":"Phone Number"}]}]}`))
	if err != nil {
		b.Fatal(err)
	}
	in.spec = spec
	id, prefix := in.item.MigrationID, in.parts
	in.parts = ""
	start := time.Now()
	if _, _, err := tr.planExtract(ctx, in); err != nil {
		b.Fatal(err)
	}
	whole = time.Since(start)
	in.parts = prefix
	timed := func(f func() error) error {
		start := time.Now()
		err := f()
		longest = max(longest, time.Since(start))
		return err
	}
	for {
		var run *PlanningRun
		var done *extractPlan
		if err := timed(func() (err error) { done, run, err = tr.planExtract(ctx, in); return err }); err != nil {
			b.Fatal(err)
		}
		if done != nil {
			return whole, longest, parts
		}
		if err := svc.planParts(ctx, run, func(p PlanPart) error {
			parts++
			return timed(func() error { return tr.RunPlanPart(ctx, id, p) })
		}); err != nil {
			b.Fatal(err)
		}
	}
}
