package main

import (
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/cutover/cutover/internal/mapspec"
)

// fileInference is what inspect infers from a file's values, the way the
// map step will: its phone region and each date column's format, each with
// how sure the engine is, so that no guess is silent.
type fileInference struct {
	Region mapspec.RegionGuess `json:"region"`
	Dates  []mapspec.DateGuess `json:"dates"`
}

// keepForInference keeps up to mapspec.InferSample rows for inference (the
// sample the pipeline reads before mapping).
func keepForInference(rows [][]string, fields []string) [][]string {
	if len(rows) >= mapspec.InferSample {
		return rows
	}
	return append(rows, append([]string(nil), fields...))
}

// phoneWords name a phone column in the languages the suggestions know.
var phoneWords = []string{"phone", "tel", "telephone", "téléphone", "telefon", "telefono", "teléfono", "telefone", "mobile", "mobil", "móvil", "movil", "cell", "portable", "handy", "fax", "gsm", "cellulare"}

func phoneColumns(header []string) []int {
	var out []int
	for i, h := range header {
		for _, w := range strings.FieldsFunc(strings.ToLower(h), func(r rune) bool { return !unicode.IsLetter(r) }) {
			found := false
			for _, p := range phoneWords {
				if w == p {
					found = true
				}
			}
			if found {
				out = append(out, i)
				break
			}
		}
	}
	return out
}

// inferFile infers a file's phone region and date formats from its rows.
func inferFile(header []string, rows [][]string, market string) *fileInference {
	market = strings.ToUpper(strings.TrimSpace(market))
	return &fileInference{
		Region: mapspec.InferRegion(header, rows, phoneColumns(header), market),
		Dates:  append([]mapspec.DateGuess{}, mapspec.InferDates(header, rows, market)...),
	}
}

// printInference writes the inference for a person: the region and where
// it comes from, and each date column, ambiguous ones with examples.
func printInference(w io.Writer, inf *fileInference) {
	if inf == nil {
		return
	}
	r := inf.Region
	if r.Region == "" {
		fmt.Fprintln(w, "  phone region: unknown (no country codes, no country column, no market, and the national numbers fit several countries or none): national numbers will be left out; pass --market")
	} else {
		fmt.Fprintf(w, "  phone region: %s, from %s (%.0f%% sure)\n", r.Region, r.Source, 100*r.Confidence)
	}
	for _, d := range inf.Dates {
		fmt.Fprintf(w, "  dates in %-24s %s (%.0f%% sure, reads %d of %d)", d.Column+":", d.Format, 100*d.Confidence, d.Read, d.Values)
		if d.Ambiguous {
			fmt.Fprintf(w, "; AMBIGUOUS: could be %s (e.g. %s), please choose", d.Other, strings.Join(d.Examples, ", "))
		}
		fmt.Fprintln(w)
	}
}
