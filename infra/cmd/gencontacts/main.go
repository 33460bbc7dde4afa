// Command gencontacts writes a generated contacts export for benchmarks:
//
//	go run ./infra/cmd/gencontacts -rows 1000000 -out contacts.csv
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/cutover/cutover/internal/benchdata"
)

func main() {
	rows := flag.Int("rows", 1000000, "rows to write")
	seed := flag.Uint64("seed", 1, "random seed; the same seed writes the same file")
	out := flag.String("out", "contacts.csv", "output file")
	flag.Parse()
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencontacts:", err)
		os.Exit(1)
	}
	if err := benchdata.WriteContacts(f, *rows, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "gencontacts:", err)
		os.Exit(1)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "gencontacts:", err)
		os.Exit(1)
	}
}
