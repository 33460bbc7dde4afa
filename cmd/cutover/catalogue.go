package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/cutover/cutover/internal/mapspec/presets"
	"github.com/cutover/cutover/internal/schema"
)

func listPresets(w io.Writer) error {
	for _, p := range presets.All() {
		var files []string
		for _, f := range p.Spec.Files {
			files = append(files, f.Name+" ("+f.Entity+")")
		}
		sort.Strings(files)
		fmt.Fprintf(w, "%-28s %s\n%-28s files: %s\n", p.ID, p.Title, "", strings.Join(files, ", "))
	}
	return nil
}

func printSchema(w io.Writer) error {
	_, err := w.Write(schema.DefaultJSON())
	return err
}
