// Command gencontacts writes a generated contacts export for benchmarks:
//
//	go run ./infra/cmd/gencontacts -rows 1000000 -out contacts.csv
//
// or, with -tenancies, an estate agency's export in the estate-agency
// preset's layout (benchdata.WriteAgency): half the rows contacts (-out),
// half tenancies naming their tenants inline:
//
//	go run ./infra/cmd/gencontacts -rows 1000000 -out contacts.csv -tenancies tenancies.csv
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
	tenancies := flag.String("tenancies", "", "with a file: write an agency's export, its contacts to -out and its tenancies here")
	flag.Parse()
	if err := write(*out, *tenancies, *rows, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "gencontacts:", err)
		os.Exit(1)
	}
}

// write writes the contacts export to out, or with tenancies an agency's
// export to out and tenancies.
func write(out, tenancies string, rows int, seed uint64) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if tenancies == "" {
		err = benchdata.WriteContacts(f, rows, seed)
	} else {
		var t *os.File
		if t, err = os.Create(tenancies); err == nil {
			err = benchdata.WriteAgency(f, t, rows, seed)
			if cerr := t.Close(); err == nil {
				err = cerr
			}
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
