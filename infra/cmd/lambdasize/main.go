// Command lambdasize builds every Lambda function as `sam build` does and
// prints, as the markdown table BENCHMARKS.md keeps, what each carries into
// a cold start: its stripped linux/arm64 bootstrap's size and its package
// init (the minimum of -runs runs of a host build under
// GODEBUG=inittrace=1; a light function's and its SDK floor's are measured
// again, up to three rounds, while the function is over budget:
// lambdasize.SettleInit). With -check it also enforces the budgets of
// infra/lambdasize (make lambdasize, part of make test) and exits 1 when a
// function breaks one.
//
//	go run ./infra/cmd/lambdasize -check
//	go run ./infra/cmd/lambdasize -before /tmp/before   # a checkout of an older commit
//	go run ./infra/cmd/lambdasize -composition park,mapping
//
// -before measures the same functions in another checkout as well (as the
// old `make lambdas` built them, unstripped, and stripped), for the
// before/after table; -renamed says what a function was called there.
// -composition prints what each named function's size is made of, read from
// an unstripped build's symbol table.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/cutover/cutover/infra/lambdasize"
)

func main() {
	root := flag.String("root", ".", "the checkout to measure (the repository root)")
	before := flag.String("before", "", "another checkout to measure as the before columns")
	renamed := flag.String("renamed", "park=awaitcustomer", "name=former pairs, comma separated: a function's directory in -before")
	runs := flag.Int("runs", 5, "init runs per function; the minimum is reported")
	check := flag.Bool("check", false, "fail when a function breaks its class's budgets")
	composition := flag.String("composition", "", "comma-separated functions whose size composition to print")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	if err := run(ctx, os.Stdout, options{
		root: *root, before: *before, renamed: pairs(*renamed), runs: *runs,
		check: *check, composition: split(*composition),
	}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

type options struct {
	root, before string
	renamed      map[string]string
	runs         int
	check        bool
	composition  []string
}

// errBudget reports that -check found a function over its budgets.
var errBudget = errors.New("lambdasize: functions break their budgets (above); see infra/lambdasize and BENCHMARKS.md")

func run(ctx context.Context, w io.Writer, o options) error {
	tmp, err := os.MkdirTemp("", "lambdasize-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	fmt.Fprintf(w, "| function | class | before: arm64 as built | before: stripped | before: init (min of %d) | before: init allocs | after: stripped | after: init (min of %d) | after: init allocs | budget |\n", o.runs, o.runs)
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|---|")

	var problems []string

	for _, f := range lambdasize.Functions {
		b := row{"—", "—", "—", "—"}
		if o.before != "" {
			dir := f.Name
			if former, ok := o.renamed[f.Name]; ok {
				if _, err := os.Stat(filepath.Join(o.before, "functions", f.Name)); err != nil {
					dir = former
				}
			}

			if b, err = measureBefore(ctx, o.before, dir, filepath.Join(tmp, "before", f.Name), o.runs); err != nil {
				return err
			}
		}

		m, err := measure(ctx, o.root, f, filepath.Join(tmp, "after", f.Name), o.runs)
		if err != nil {
			return err
		}

		budget := fmt.Sprintf("≤ %s; init < %s over its AWS SDK clients' (%s in this run, so %s of its own); no engine imports",
			lambdasize.MB(lambdasize.LightMaxBytes), lambdasize.FormatMS(lambdasize.LightMaxInit), fmtFloor(m), lambdasize.FormatMS(m.OwnInit()))
		if f.Class == lambdasize.Engine {
			budget = "≤ " + lambdasize.MB(m.Ceiling) + " (its dependencies' probe + " + lambdasize.MB(lambdasize.EngineAllowanceBytes) + ")"
		}

		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", f.Name, f.Class,
			b.unstripped, b.stripped, b.init, b.allocs,
			lambdasize.MB(m.Bytes), lambdasize.FormatMS(m.Init.Clock), allocs(*m.Init), budget)

		problems = append(problems, m.Problems()...)
	}

	for _, name := range o.composition {
		if err := printComposition(ctx, w, o.root, name, filepath.Join(tmp, "composition", name)); err != nil {
			return err
		}
	}

	if len(problems) > 0 {
		fmt.Fprintln(w)

		for _, p := range problems {
			fmt.Fprintln(w, "- "+p)
		}

		if o.check {
			return errBudget
		}
	} else if o.check {
		fmt.Fprintln(w, "\nevery function keeps its budgets")
	}

	return nil
}

func fmtFloor(m lambdasize.Measurement) string {
	if m.Floor == nil {
		return "—"
	}

	return lambdasize.FormatMS(m.Floor.Clock)
}

// row is the before columns, formatted ("—" when not measured).
type row struct{ unstripped, stripped, init, allocs string }

func measureBefore(ctx context.Context, root, dir, tmp string, runs int) (row, error) {
	pkg := "./functions/" + dir
	r := row{}

	for _, b := range []struct {
		t   lambdasize.Target
		out *string
	}{
		{lambdasize.Target{GOOS: "linux", GOARCH: "arm64"}, &r.unstripped},
		{lambdasize.Lambda, &r.stripped},
	} {
		bin := filepath.Join(tmp, fmt.Sprintf("%s-%v", b.t.GOARCH, b.t.Strip))
		if err := lambdasize.Build(ctx, root, pkg, b.t, bin); err != nil {
			return r, err
		}

		n, err := lambdasize.Size(bin)
		if err != nil {
			return r, err
		}

		*b.out = lambdasize.MB(n)
	}

	in, err := hostInit(ctx, root, pkg, tmp, runs)
	if err != nil {
		return r, err
	}

	r.init, r.allocs = lambdasize.FormatMS(in.Clock), allocs(in)

	return r, nil
}

// settleRounds is how many rounds of -runs runs a light function's init
// and its floor get at most while the function is over budget
// (lambdasize.SettleInit).
const settleRounds = 3

func measure(ctx context.Context, root string, f lambdasize.Function, tmp string, runs int) (lambdasize.Measurement, error) {
	pkg := "./functions/" + f.Name
	m := lambdasize.Measurement{Function: f}

	bin := filepath.Join(tmp, "bootstrap")
	if err := lambdasize.Build(ctx, root, pkg, lambdasize.Lambda, bin); err != nil {
		return m, err
	}

	var err error
	if m.Bytes, err = lambdasize.Size(bin); err != nil {
		return m, err
	}

	if m.Deps, err = lambdasize.Deps(ctx, root, pkg); err != nil {
		return m, err
	}

	host := filepath.Join(tmp, "host")
	if err := lambdasize.Build(ctx, root, pkg, lambdasize.Host, host); err != nil {
		return m, err
	}

	if f.Class != lambdasize.Light {
		in, err := lambdasize.MeasureInit(ctx, host, runs)
		if err != nil {
			return m, err
		}

		m.Init = &in
	} else {
		probe := filepath.Join(tmp, "probe")
		if err := lambdasize.BuildProbe(ctx, root, m.Deps, lambdasize.Host, probe); err != nil {
			return m, err
		}

		in, floor, err := lambdasize.SettleInit(settleRounds, lambdasize.LightMaxInit, func() (lambdasize.Init, lambdasize.Init, error) {
			in, err := lambdasize.MeasureInit(ctx, host, runs)
			if err != nil {
				return in, lambdasize.Init{}, err
			}

			floor, err := lambdasize.MeasureInit(ctx, probe, runs)

			return in, floor, err
		})
		if err != nil {
			return m, err
		}

		m.Init, m.Floor = &in, &floor
	}

	if f.Class == lambdasize.Engine {
		if m.Ceiling, err = lambdasize.EngineCeiling(ctx, root, m.Deps); err != nil {
			return m, err
		}
	}

	return m, nil
}

func hostInit(ctx context.Context, root, pkg, tmp string, runs int) (lambdasize.Init, error) {
	bin := filepath.Join(tmp, "host")
	if err := lambdasize.Build(ctx, root, pkg, lambdasize.Host, bin); err != nil {
		return lambdasize.Init{}, err
	}

	return lambdasize.MeasureInit(ctx, bin, runs)
}

func printComposition(ctx context.Context, w io.Writer, root, name, tmp string) error {
	bin := filepath.Join(tmp, "bootstrap")
	if err := lambdasize.Build(ctx, root, "./functions/"+name, lambdasize.Target{GOOS: "linux", GOARCH: "arm64"}, bin); err != nil {
		return err
	}

	shares, sections, err := lambdasize.Composition(bin)
	if err != nil {
		return err
	}

	total, err := lambdasize.Size(bin)
	if err != nil {
		return err
	}

	fmt.Fprintf(w, "\n%s (unstripped linux/arm64, %s): symbols by group, then what no symbol accounts for, by section\n\n", name, lambdasize.MB(total))
	fmt.Fprintln(w, "| part | size |")
	fmt.Fprintln(w, "|---|--:|")

	for _, s := range shares {
		if s.Bytes >= 64*1024 {
			fmt.Fprintf(w, "| %s | %s |\n", s.Group, lambdasize.MB(s.Bytes))
		}
	}

	for _, s := range sections {
		if s.Bytes >= 64*1024 {
			fmt.Fprintf(w, "| section %s, not in a symbol | %s |\n", s.Group, lambdasize.MB(s.Bytes))
		}
	}

	return nil
}

func allocs(in lambdasize.Init) string {
	return fmt.Sprintf("%.2f MB in %d", float64(in.Bytes)/(1024*1024), in.Allocs)
}

func split(s string) []string {
	var out []string

	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}

	return out
}

func pairs(s string) map[string]string {
	out := map[string]string{}

	for _, p := range split(s) {
		if k, v, ok := strings.Cut(p, "="); ok {
			out[k] = v
		}
	}

	return out
}
