package mapspec

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestCountryRegion(t *testing.T) {
	for in, want := range map[string]string{
		"Deutschland": "DE", "  united   states ": "US", "USA": "US", "Royaume-Uni": "GB", "España": "ES", "fr": "FR",
		"Países Bajos": "NL", "Australia": "AU", "Österreich": "AT", "Narnia": "", "": "", "xx": "",
	} {
		if got := CountryRegion(in); got != want {
			t.Errorf("CountryRegion(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInferRegion(t *testing.T) {
	// British numbers of the kind kept for drama: valid in Britain (the
	// test checks), and the 01632 960 ones unallocated there.
	var british, unallocated [][]string
	for i := range 30 {
		v := fmt.Sprintf([]string{"0161 496 0%03d", "020 7946 0%03d", "0131 496 0%03d", "0121 496 0%03d", "0113 496 0%03d", "0117 496 0%03d"}[i%6], 17*i)
		if !validInRegion(v, "GB") {
			t.Fatalf("%s is not valid in GB", v)
		}
		british = append(british, []string{v})
		if i%3 == 0 {
			unallocated = append(unallocated, []string{fmt.Sprintf("01632 960%03d", i)})
		}
	}
	withUnallocated := append(append([][]string(nil), british[:15]...), unallocated...)
	for name, tc := range map[string]struct {
		header []string
		rows   [][]string
		market string
		want   string
		source string
	}{
		"mostly +1":           {[]string{"Phone"}, [][]string{{"+1 415 555 0132"}, {"+1 212 555 0147"}, {"+44 20 7946 0958"}, {"415 555 0199"}}, "", "US", "numbers"},
		"French 0033":         {[]string{"Tél"}, [][]string{{"0033 1 23 45 67 89"}, {"0033 6 12 34 56 78"}}, "GB", "FR", "numbers"},
		"German Land column":  {[]string{"Telefon", "Land"}, [][]string{{"030 1234567", "Deutschland"}, {"089 1234567", "DE"}}, "", "DE", "country column"},
		"Spanish país":        {[]string{"Teléfono", "País"}, [][]string{{"912 345 678", "España"}}, "", "ES", "country column"},
		"US national numbers": {[]string{"Contact Phone Number"}, [][]string{{"2095257564"}, {"(415) 555-0199"}}, "", "US", "national numbers"},
		"AU national in AU":   {[]string{"Mobile"}, [][]string{{"0412 345 678"}, {"02 9374 4000"}}, "AU", "AU", "market"},
		// Italy's numbering takes nearly any digits after a 0, so it takes
		// every British number, and more of them than Britain does when a
		// few are unallocated there (01632 960xxx is kept for drama).
		"British beside +44 and +1": {[]string{"Phone"}, append([][]string{{"+44 20 7123 0166"}, {"+1 212 736 4086"}}, withUnallocated...), "", "GB", "numbers"},
		// One +1 more than +44 once made the file American.
		"British, a few more +1": {[]string{"Phone"}, append([][]string{{"+44 20 7123 0166"}, {"+1 212 736 4086"}, {"+1 212 736 4087"}}, withUnallocated...), "", "GB", "numbers"},
		"British in the market":  {[]string{"Phone"}, withUnallocated, "GB", "GB", "market"},
		// Valid in Britain and in Italy: nothing says which.
		"British alone": {[]string{"Phone"}, british, "", "", "none"},
		// A country a few rows name does not outweigh the majority
		// because its permissive numbering takes the numbers.
		"Italy named once": {[]string{"Phone", "Country"}, append(slices.Repeat([][]string{{"0161 496 0123", "US"}}, 8), []string{"020 7946 0123", "Italy"}), "", "US", "country column"},
		"Italian alone":    {[]string{"Telefono"}, [][]string{{"06 1234 5678"}, {"333 123 4567"}, {"02 1234 5678"}}, "", "IT", "national numbers"},
		"nothing":          {[]string{"Name"}, [][]string{{"Ann"}}, "", "", "none"},
		"market only":      {[]string{"Name"}, [][]string{{"Ann"}}, "NZ", "NZ", "market"},
	} {
		t.Run(name, func(t *testing.T) {
			g := InferRegion(tc.header, tc.rows, []int{0}, tc.market)
			if g.Region != tc.want || g.Source != tc.source {
				t.Fatalf("got %+v, want %s from %s", g, tc.want, tc.source)
			}
		})
	}
}

func TestInferDateColumns(t *testing.T) {
	for name, tc := range map[string]struct {
		vals      []string
		market    string
		want      string
		ambiguous bool
	}{
		"day over 12":        {[]string{"01/02/2024", "13/02/2024", "05/06/2024"}, "US", "D/M/YYYY", false},
		"month first":        {[]string{"01/02/2024", "02/13/2024"}, "GB", "M/D/YYYY", false},
		"ambiguous GB":       {[]string{"01/02/2024", "03/04/2024"}, "GB", "D/M/YYYY", true},
		"ambiguous US":       {[]string{"01/02/2024", "03/04/2024"}, "US", "M/D/YYYY", true},
		"german":             {[]string{"05.01.2023", "24.12.2022", "0/0/00"}, "", "D.M.YYYY", false},
		"zoho":               {[]string{"2023/01/05 14:30:00", "2023/11/25 08:00:00"}, "", "YYYY/MM/DD", false},
		"hubspot":            {[]string{"1/5/23 9:05", "11/25/23 18:00"}, "", "M/D/YY", false},
		"beehiiv":            {[]string{"2023-01-05 10:00:00 UTC"}, "", "ISO", false},
		"french month names": {[]string{"5 janvier 2023", "24 décembre 2022", "1 août 2021"}, "", "D MMM YYYY", false},
		"german month names": {[]string{"5. Januar 2023", "24. Dezember 2022", "3. März 2020"}, "", "D. MMMM YYYY", false},
		"spanish":            {[]string{"5 de enero de 2023", "24 de diciembre de 2022"}, "", "D de MMMM de YYYY", false},
		"english abbrev":     {[]string{"Jan 5, 2023", "Dec 24, 2022"}, "", "MMM D, YYYY", false},
	} {
		t.Run(name, func(t *testing.T) {
			g := inferDate("c", tc.vals, compiledAutoDates, tc.market)
			if g.Format != tc.want || g.Ambiguous != tc.ambiguous {
				t.Fatalf("got %+v, want %s ambiguous=%v", g, tc.want, tc.ambiguous)
			}
			if tc.ambiguous && (len(g.Examples) == 0 || g.Confidence >= 1) {
				t.Fatalf("ambiguity not shown: %+v", g)
			}
			if !tc.ambiguous && g.Read != g.Values {
				t.Fatalf("reads %d of %d", g.Read, g.Values)
			}
		})
	}
}

// Whatever a date value is, inference never panics, a chosen format
// reads at least one value, and reading with it agrees with parsing.
func FuzzInferDate(f *testing.F) {
	for _, s := range []string{"13/02/2024", "2023/01/05 14:30:00", "1/5/23 9:05", "0/0/00", "5. Januar 2023", "24 déc. 2022", "2023-01-05 10:00:00 UTC", "31.02.2023", "", "ÿ/ÿ/ÿ"} {
		f.Add(s, "01/02/2024")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		g := inferDate("c", []string{a, b}, compiledAutoDates, "US")
		if g.Format == "" {
			return
		}
		if g.Read == 0 || g.Read > g.Values {
			t.Fatalf("guess %+v", g)
		}
		df, err := compileDateFormat(g.Format)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, v := range []string{a, b} {
			if v = strings.TrimSpace(v); emptyDate(v) {
				continue
			}
			if _, ok := df.parse(v); ok {
				n++
			}
		}
		if n != g.Read {
			t.Fatalf("format %s reads %d, guess says %d", g.Format, n, g.Read)
		}
	})
}
