// Package benchdata generates realistic CRM exports for benchmarks and load
// tests: the quirks real exports have (stray spaces, mixed case, national
// phone formats, day-first dates, quoted notes with commas and newlines,
// blank rows, a sprinkling of invalid values), deterministic for a seed.
package benchdata

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
)

// ContactsHeader is the header of the generated contacts export (a
// HubSpot-style layout).
var ContactsHeader = []string{"Record ID", "First Name", "Last Name", "Email", "Phone Number", "Company Name", "Create Date", "Lifecycle Stage", "Notes", "Tags"}

var (
	firstNames = []string{"ann", "Bo", "CY", "di", "Ed", "Fay", "gus", "Hal", "Ida", "Jo", "Kim", "Lou", "Mo", "Ned", "Ola", "Pat"}
	lastNames  = []string{"Lee", "ng", "OLD", "Smith", "o'brien", "Jones", "Taylor", "brown", "Davies", "Evans", "Wilson", "Thomas"}
	companies  = []string{"Acme Lettings", "Globex", "Initech Ltd", "Umbrella, Inc.", "", "Hooli", "Vandelay Industries"}
	stages     = []string{"lead", "customer", "Subscriber", "opportunity", "other"}
	tags       = []string{"buyer", "landlord;vip", "tenant", "", "vendor;newsletter", "applicant"}
	phones     = []string{"+44 20 7123 %04d", "020 8123 %04d", "07911 12%04d", "+44 (0)7700-90%04d", "+1 212 736 %04d", "0161 496 %04d"}
)

// WriteContacts writes a header and rows contact records to w.
//
// Errors: whatever writing to w returns.
func WriteContacts(w io.Writer, rows int, seed uint64) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	fmt.Fprintln(bw, strings.Join(ContactsHeader, ","))
	for i := 1; i <= rows; i++ {
		if r.IntN(200) == 0 {
			bw.WriteString(",,,,,,,,,\n") // a blank row, as spreadsheets leave them
			continue
		}
		first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
		email := strings.ToLower(first) + "." + strings.ToLower(strings.ReplaceAll(last, "'", "")) + fmt.Sprint(i) + "@example.com"
		switch r.IntN(100) {
		case 0:
			email = strings.Replace(email, "@", " at ", 1) // invalid
		case 1, 2, 3:
			email = " " + strings.ToUpper(email) + " "
		}
		phone := fmt.Sprintf(phones[r.IntN(len(phones))], r.IntN(10000))
		if r.IntN(50) == 0 {
			phone = "ask reception"
		}
		note := ""
		switch r.IntN(20) {
		case 0:
			note = `"Called twice, left a message; said ""call after 5"""`
		case 1:
			note = "\"Viewing booked\nbring keys, spare set\""
		case 2:
			note = "=HYPERLINK(\"http://x\")" // formula-like: kept as data
		}
		company := companies[r.IntN(len(companies))]
		if strings.Contains(company, ",") {
			company = `"` + company + `"`
		}
		fmt.Fprintf(bw, "%d, %s ,%s,%s,%s,%s,%02d/%02d/%d %02d:%02d,%s,%s,%s\n",
			100000+i, first, last, email, phone, company,
			1+r.IntN(28), 1+r.IntN(12), 2015+r.IntN(11), r.IntN(24), r.IntN(60),
			stages[r.IntN(len(stages))], csvSafe(note), tags[r.IntN(len(tags))])
	}
	return bw.Flush()
}

// csvSafe quotes a note that holds a delimiter and is not quoted yet.
func csvSafe(s string) string {
	if strings.HasPrefix(s, `"`) || !strings.ContainsAny(s, ",\n\"") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
