package benchdata

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"strings"
)

// AgencyContactsHeader and AgencyTenanciesHeader are the headers of the
// generated estate-agency export (the estate-agency-crm preset's layout).
var (
	AgencyContactsHeader  = []string{"Contact ID", "Title", "Forename", "Surname", "Email", "Mobile", "Contact Type"}
	AgencyTenanciesHeader = []string{"Tenancy ID", "Property ID", "Tenant Name(s)", "Tenant Email", "Start Date", "Rent", "Rent Frequency", "Status"}
)

// agencyPerson is listed contact i's name and e-mail, made from i alone, so
// the tenancies can name a contact without the contacts being held.
func agencyPerson(i int) (first, last, email string) {
	h := fnv.New64a()
	fmt.Fprint(h, i)
	x := h.Sum64()
	first, last = firstNames[x%uint64(len(firstNames))], lastNames[(x>>8)%uint64(len(lastNames))]
	return first, last, strings.ToLower(first) + "." + strings.ToLower(strings.ReplaceAll(last, "'", "")) + fmt.Sprint(i) + "@agency.example"
}

// WriteAgency writes an estate agency's export of rows records: a contacts
// file (half of them) and a tenancies file (the other half) that names its
// tenants inline, as agencies' CRMs do: four in ten tenancies by a listed
// contact's name and e-mail (in other letter cases), three in ten by two
// people no contact is (each named on many tenancies across the file),
// the rest by a listed contact's name alone (which links only when no
// other contact has it). Deterministic for seed.
//
// Errors: whatever writing to contacts or tenancies returns.
func WriteAgency(contacts, tenancies io.Writer, rows int, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	listed := max(rows/2, 1)
	cw := bufio.NewWriterSize(contacts, 1<<20)
	fmt.Fprintln(cw, strings.Join(AgencyContactsHeader, ","))
	titles := []string{"Mr", "Mrs", "Ms", "Dr", ""}
	kinds := []string{"Tenant", "Landlord", "Applicant", "Vendor", `"Tenant,Applicant"`}
	for i := 1; i <= listed; i++ {
		first, last, email := agencyPerson(i)
		fmt.Fprintf(cw, "C%d,%s,%s,%s,%s,07911 %06d,%s\n", i, titles[r.IntN(len(titles))], first, last, email, r.IntN(1000000), kinds[r.IntN(len(kinds))])
	}
	if err := cw.Flush(); err != nil {
		return err
	}
	tw := bufio.NewWriterSize(tenancies, 1<<20)
	fmt.Fprintln(tw, strings.Join(AgencyTenanciesHeader, ","))
	statuses := []string{"Current", "Ended", "Periodic", "Notice Given"}
	for j := 1; j <= rows-listed; j++ {
		k := 1 + r.IntN(listed)
		first, last, email := agencyPerson(k)
		name := ""
		switch x := r.IntN(10); {
		case x < 4:
			name, email = first+" "+last, strings.ToUpper(email[:1])+email[1:]
		case x < 7:
			name, email = fmt.Sprintf("New %d & Other %d", r.IntN(max(rows/20, 1)), r.IntN(max(rows/20, 1))), ""
		default:
			name, email = first+" "+last, ""
		}
		fmt.Fprintf(tw, "T%d,P%d,%s,%s,%02d/%02d/%d,\"£%d,%03d.00\",Monthly,%s\n", j, r.IntN(max(rows/4, 1)), name, email,
			1+r.IntN(28), 1+r.IntN(12), 2015+r.IntN(11), 1+r.IntN(3), r.IntN(1000), statuses[r.IntN(len(statuses))])
	}
	return tw.Flush()
}
