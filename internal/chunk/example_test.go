package chunk_test

import (
	"bytes"
	"fmt"
	"io"

	"github.com/cutover/cutover/internal/chunk"
	"github.com/cutover/cutover/internal/tabular"
)

func Example() {
	file := []byte("id,note\r\n1,\"two\r\nlines\"\r\n2,plain\r\n3,Ren\xE9e\r\n")

	// The planner: one pass that validates the file and plans its chunks.
	s := chunk.NewScanner(10)
	tables, err := tabular.Open(io.TeeReader(bytes.NewReader(file), s), "contacts.csv", tabular.Options{})
	if err != nil {
		panic(err)
	}
	s.SetFormat(tables[0].Format())
	for _, err := tables[0].Next(); err != io.EOF; _, err = tables[0].Next() {
		if err != nil {
			panic(err)
		}
	}
	f := tables[0].Format() // after the last row: the final encoding
	plan, err := s.Plan()
	if err != nil {
		panic(err)
	}
	fmt.Printf("header [0, %d)\n", plan.HeaderEnd)

	// Each chunk, as a chunk Lambda would read it from two Range GETs.
	for _, r := range plan.Chunks {
		src := io.MultiReader(bytes.NewReader(file[:plan.HeaderEnd]), bytes.NewReader(file[r.Start:r.End]))
		tables, err := tabular.Open(src, "contacts.csv", plan.Options(r, f, tabular.Options{}))
		if err != nil {
			panic(err)
		}
		fmt.Printf("chunk [%d, %d):", r.Start, r.End)
		for row, err := tables[0].Next(); err != io.EOF; row, err = tables[0].Next() {
			if err != nil {
				panic(err)
			}
			fmt.Printf(" line %d %q", row.Line, row.Fields)
		}
		fmt.Println()
	}
	// Output:
	// header [0, 9)
	// chunk [9, 25): line 2 ["1" "two\r\nlines"]
	// chunk [25, 43): line 4 ["2" "plain"] line 5 ["3" "Renée"]
}
