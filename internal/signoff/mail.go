package signoff

import (
	"fmt"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/cutover"
)

// countsSentence is the test migration's account in a mail, every term
// shown so that the coordinator can add it up: rows read = migrated +
// merged + rejected + skipped. An account that does not balance says so
// rather than hiding the gap; records derived from people named inline
// are not rows read, so they are named apart.
func countsSentence(c cutover.Counts) string {
	s := fmt.Sprintf("Rows read %d = migrated %d + merged %d + rejected %d + skipped %d.", c.Read, c.Migrated, c.Merged, c.Rejected, c.Skipped)
	if !c.Balanced() {
		s += fmt.Sprintf(" These do not add up: %d rows are not accounted for; do not approve before the customer explains them.", c.Read-c.Migrated-c.Merged-c.Rejected-c.Skipped)
	}
	if c.Derived > 0 {
		s += fmt.Sprintf(" Besides, %d records were derived from people named inline.", c.Derived)
	}
	return s
}

// linkLines is the part of every sign-off mail that carries the link.
func linkLines(b *strings.Builder, siteURL, token string, exp time.Time) {
	fmt.Fprintf(b, "Review and decide here (opening the page decides nothing):\n%s/signoff.html#t=%s\n\nThe link works once and expires %s.\n",
		strings.TrimRight(siteURL, "/"), token, exp.Format(time.RFC1123))
}

// reapprovalMail is the mail asking the coordinator to re-approve a held
// go-live: it says why go-live is held, in the pre-flight's own words.
func reapprovalMail(m *cutover.Migration, siteURL, token string, exp time.Time) (subject, body string) {
	subject = "Go-live for " + m.CustomerName + " is held: the final extract differs from what you signed off"
	var b strings.Builder
	fmt.Fprintf(&b, "Go-live for %s (%s) is held: the final extract differs from the test migration you signed off, past the limits set for this service. Nothing has been written to the live system.\n\n", m.CustomerName, m.TenantID)
	if p := m.Preflight; p != nil && len(p.Breaches) > 0 {
		b.WriteString("The differences:\n")
		for _, br := range p.Breaches {
			fmt.Fprintf(&b, "- %s\n", br.Detail)
		}
		b.WriteString("\n")
	}
	b.WriteString("Approve to let the final migration go live as it is, or reject so the customer corrects the final extract.\n\n")
	linkLines(&b, siteURL, token, exp)
	return subject, b.String()
}
