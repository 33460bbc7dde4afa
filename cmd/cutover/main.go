// Command cutover is the analyst's offline tool: the same mapping engine
// the Lambdas run, with no AWS at all.
//
//	cutover inspect FILE...                        format, encoding, entity and preset guess, suggested mapping
//	cutover map --preset P|--mapping M.json FILE... --out DIR
//	                                               records JSONL, rejects CSV, review CSV, a report
//	cutover presets                                the presets it recognises
//	cutover schema                                 the default target schema (a starting point for your own)
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/cutover/cutover/internal/cutover"
)

const usage = `usage:
  cutover inspect [--json] [--market CC] [--delimiter C] [--encoding E] [--sheet S] [--write-mapping M.json] FILE...
  cutover map (--preset ID | --mapping M.json) [--market CC] [--tenant T] [--out DIR] [--records=false] [--workers N]
              [--in-memory] [--spill-dir DIR] [--partition-records N] [--delimiter C] [--encoding E] [--sheet S] FILE...
  cutover presets
  cutover schema
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command and returns the exit status: 0 done, 1 failed,
// 2 misused.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "inspect":
		err = inspect(args[1:], stdout)
	case "map":
		err = mapFiles(args[1:], stdout)
	case "presets":
		err = listPresets(stdout)
	case "schema":
		err = printSchema(stdout)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "cutover: unknown command %q\n%s", args[0], usage)
		return 2
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "cutover: %s\n%s", ue.msg, usage)
		return 2
	default:
		fmt.Fprintf(stderr, "cutover: %s\n", message(err))
		return 1
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// message is what the analyst sees: the application error's own message,
// or the error itself (a local tool may show its causes).
func message(err error) string {
	var e *cutover.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}
