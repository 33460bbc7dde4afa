package engine

import (
	"bytes"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/benchdata"
	"github.com/cutover/cutover/internal/cutover"
)

// britishPhones maps the generated contacts' phones with the region left
// to inference, as the mapping the service proposes does.
const britishPhones = `{"version":1,"defaults":{"region":"auto"},"files":[{"name":"f1","entity":"contact","sourceId":["Record ID"],"fields":[` +
	`{"target":"emails","column":"Email"},{"target":"first_name","column":"First Name"},{"target":"phones","column":"Phone Number","optional":true}]}]}`

// A British contacts export goes into TEST with British numbers, in the
// market GB and without a market, although Italy's numbering takes more
// of its national numbers than Britain's does (a few are unallocated
// there): region inference once read the whole file as Italian, and every
// number went in as a wrong +39 one.
func TestABritishExportsNumbersGoInAsBritish(t *testing.T) {
	var body bytes.Buffer
	if err := benchdata.WriteContacts(&body, 600, 1); err != nil {
		t.Fatal(err)
	}
	for _, market := range []string{"GB", ""} {
		run, err := tryTestMapping(t, body.String(), britishPhones, 0, nil, func(m *cutover.Migration, _ *testRecords) { m.Market = market })
		if err != nil {
			t.Fatal(err)
		}
		british, other := 0, map[string]int{}
		for _, r := range run.records {
			for _, s := range r.Lists["phones"] {
				switch {
				case strings.HasPrefix(s, "+44"):
					british++
				case strings.HasPrefix(s, "+1"): // the export's American numbers
				default:
					other[s[:min(3, len(s))]]++
				}
			}
		}
		if british < 300 || len(other) > 0 {
			t.Errorf("market %q: %d British numbers in TEST, and others by calling code %v", market, british, other)
		}
	}
}
