package signoff

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
)

// The sign-off mail's counts add up: every row read is shown as migrated,
// merged, rejected or skipped, and the terms the mail shows sum to the
// rows read (counted here from the mail's own text).
func TestSignOffMailCountsAddUp(t *testing.T) {
	w := newWorld(t)
	w.mig.Test = &cutover.Counts{Read: 1000, Migrated: 900, Merged: 40, Rejected: 35, Skipped: 25}
	w.request(t)
	mail := w.mails[len(w.mails)-1]
	terms := map[string]int{}
	for _, m := range regexp.MustCompile(`(?i)\b(read|migrated|merged|rejected|skipped)\s+([0-9,]+)`).FindAllStringSubmatch(mail, -1) {
		n, err := strconv.Atoi(strings.ReplaceAll(m[2], ",", ""))
		if err != nil {
			t.Fatalf("count %q: %v", m[2], err)
		}
		terms[strings.ToLower(m[1])] = n
	}
	for _, k := range []string{"read", "migrated", "merged", "rejected", "skipped"} {
		if _, ok := terms[k]; !ok {
			t.Fatalf("the mail does not show %q: %q", k, mail)
		}
	}
	if sum := terms["migrated"] + terms["merged"] + terms["rejected"] + terms["skipped"]; sum != terms["read"] || terms["read"] != 1000 {
		t.Fatalf("read %d, but migrated+merged+rejected+skipped = %d in %q", terms["read"], sum, mail)
	}
}
