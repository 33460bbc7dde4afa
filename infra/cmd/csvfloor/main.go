// Command csvfloor reads a CSV file with the standard library's
// encoding/csv and nothing else: the floor the mapping benchmark compares
// cutover's full path against.
//
//	go run ./infra/cmd/csvfloor contacts.csv
package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: csvfloor FILE")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "csvfloor:", err)
		os.Exit(1)
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
	r.ReuseRecord = true
	r.FieldsPerRecord = -1
	rows, bytes := 0, 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "csvfloor:", err)
			os.Exit(1)
		}
		rows++
		for _, f := range rec {
			bytes += len(f)
		}
	}
	fmt.Printf("rows %d, field bytes %d\n", rows, bytes)
}
