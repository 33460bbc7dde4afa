package e2e

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// waitMail waits until at least n mails whose subject starts with subject
// have been sent to to, and returns them in the order sent.
func (m mailbox) waitMail(to, subject string, n int) []mail {
	m.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var got []mail
		for _, e := range m.all() {
			if len(e.To) == 1 && e.To[0] == to && strings.HasPrefix(e.Subject, subject) {
				got = append(got, e)
			}
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("%d mail(s) %q to %s, want %d", len(got), subject, to, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

var inviteLink = regexp.MustCompile(`/upload\.html#m=([A-Za-z0-9-]+)&k=([A-Za-z0-9_-]+)`)

// opsMail is the ops detail's list of a migration's mail.
type opsMail struct {
	Mail []struct {
		Purpose, To, Subject, Status, LastError string
		Attempts                                int
		SentAt                                  time.Time
	} `json:"mail"`
	Audit []struct{ Actor, Action string } `json:"audit"`
}

func TestInviteIsMailedAndReissueRevokesTheOldLink(t *testing.T) {
	a := api{t: t, base: st.APIURL}
	box := mailbox{t: t, endpoint: st.Endpoint}
	ops := st.MintOpsToken("ana@vendor.test", time.Hour)
	id, key := a.create(ops, "hooli-invite", "Hooli", "hooli-invite.test", "gavin")
	customer := "it@hooli-invite.test"

	// The invite mail carries a link that opens the migration.
	first := box.waitMail(customer, "Your data migration: your invite link", 1)[0]
	link := inviteLink.FindStringSubmatch(first.Body)
	if link == nil || link[1] != id || link[2] != key || !strings.Contains(first.Body, st.SiteURL+"/upload.html#m=") {
		t.Fatalf("invite mail without this migration's link: %q", first.Body)
	}
	a.must(http.StatusOK, "GET", "/migrations/"+link[1], link[2], nil)

	// Ops re-issue it: a new key, mailed; the old link no longer opens it.
	a.must(http.StatusUnauthorized, "POST", "/ops/migrations/"+id+"/invite", "", nil)
	a.must(http.StatusNotFound, "POST", "/ops/migrations/m-doesnotexist/invite", ops, nil)
	var again struct {
		CustomerKey  string `json:"customerKey"`
		InviteURL    string `json:"inviteUrl"`
		InviteMailed bool   `json:"inviteMailed"`
	}
	a.must(http.StatusCreated, "POST", "/ops/migrations/"+id+"/invite", ops, nil).decode(t, &again)
	if again.CustomerKey == "" || again.CustomerKey == key || !again.InviteMailed || !strings.HasSuffix(again.InviteURL, "#m="+id+"&k="+again.CustomerKey) {
		t.Fatalf("re-issue answered %+v", again)
	}
	a.must(http.StatusForbidden, "GET", "/migrations/"+id, key, nil)
	second := box.waitMail(customer, "Your data migration: your invite link", 2)[1]
	link = inviteLink.FindStringSubmatch(second.Body)
	if link == nil || link[2] != again.CustomerKey || strings.Contains(second.Body, key) {
		t.Fatalf("the re-issued invite mail: %q", second.Body)
	}
	a.must(http.StatusOK, "GET", "/migrations/"+id, link[2], nil)

	// Ops see both invites as sent (the address masked) and the re-issue
	// in the audit trail.
	var detail opsMail
	a.must(http.StatusOK, "GET", "/ops/migrations/"+id, ops, nil).decode(t, &detail)
	if len(detail.Mail) != 2 || detail.Mail[0].Purpose != "invite" || detail.Mail[1].Status != "sent" || detail.Mail[1].To != "i***@hooli-invite.test" || detail.Mail[1].SentAt.IsZero() {
		t.Fatalf("ops mail list %+v", detail.Mail)
	}
	reissued := false
	for _, e := range detail.Audit {
		reissued = reissued || e.Action == "invite.reissued" && e.Actor == "ops:ana@vendor.test"
	}
	if !reissued {
		t.Fatalf("no re-issue in the audit trail: %+v", detail.Audit)
	}
}

func TestCustomerIsMailedWhenTheWorkbookIsReadyAndGoLiveIsScheduled(t *testing.T) {
	a := api{t: t, base: st.APIURL}
	box := mailbox{t: t, endpoint: st.Endpoint}
	ops := st.MintOpsToken("ana@vendor.test", time.Hour)
	id, key := a.create(ops, "umbrella-mail", "Umbrella", "umbrella-mail.test", "alice")
	customer, coordinator := "it@umbrella-mail.test", "alice@umbrella-mail.test"

	a.upload(id, key, "contacts.csv", "test", []byte(round1))
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
	a.waitStatus(id, key, "awaiting_review", 1)
	ready := box.waitMail(customer, "Your test migration workbook is ready", 1)[0]
	if !strings.Contains(ready.Body, `"Your data migration: your invite link"`) || strings.Contains(ready.Body, key) {
		t.Fatalf("workbook-ready mail: %q", ready.Body)
	}

	a.reviewAll(id, key, 1)
	a.must(http.StatusOK, "POST", "/signoff", box.signOffLink(coordinator, 1), map[string]any{"decision": "approve"})
	a.waitStatus(id, key, "awaiting_final", 1)

	goLive := time.Now().Add(2 * time.Hour).UTC().Truncate(time.Minute)
	if r := a.do("POST", "/migrations/"+id+"/final", key, map[string]any{"goLiveAt": goLive.Format(time.RFC3339), "timeZone": "Mars/Olympus_Mons"}); r.Status != http.StatusBadRequest || !strings.Contains(r.errorMessage(), "time zone") {
		t.Fatalf("an unknown time zone answered %d %s", r.Status, r.Body)
	}
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/final", key, map[string]any{"goLiveAt": goLive.Format(time.RFC3339), "timeZone": "Asia/Kolkata"})
	scheduled := box.waitMail(customer, "Your go-live is scheduled", 1)
	body := scheduled[0].Body
	kolkata := goLive.Add(5*time.Hour + 30*time.Minute) // IST, no daylight saving
	for _, want := range []string{
		kolkata.Format("Monday 2 January 2006, 15:04") + " (Asia/Kolkata)",
		goLive.Format("Monday 2 January 2006, 15:04") + " UTC",
		"Freeze your old CRM now",
	} {
		if !strings.Contains(body, want) {
			t.Fatalf("go-live mail lacks %q:\n%s", want, body)
		}
	}

	// Ops see each mail as sent, once.
	var detail opsMail
	a.must(http.StatusOK, "GET", "/ops/migrations/"+id, ops, nil).decode(t, &detail)
	seen := map[string]int{}
	for _, m := range detail.Mail {
		if m.Status != "sent" || m.Attempts != 1 {
			t.Fatalf("mail %+v", m)
		}
		seen[m.Purpose]++
	}
	if seen["invite"] != 1 || seen["workbook-ready"] != 1 || seen["signed-off"] != 1 || seen["golive-scheduled"] != 1 {
		t.Fatalf("ops mail list %+v", detail.Mail)
	}
	if n := len(box.waitMail(customer, "Your go-live is scheduled", 1)); n != 1 {
		t.Fatalf("%d go-live mails", n)
	}
}

func TestCustomerIsToldWhenAStepFails(t *testing.T) {
	a := api{t: t, base: st.APIURL}
	box := mailbox{t: t, endpoint: st.Endpoint}
	ops := st.MintOpsToken("ana@vendor.test", time.Hour)
	id, key := a.create(ops, "initech-mail", "Initech", "initech-mail.test", "bill")
	a.upload(id, key, "broken.csv", "test", []byte("Email,Name\nann@initech.test,Ann\nbo@initech.test,\"Bo\n"))
	a.must(http.StatusAccepted, "POST", "/migrations/"+id+"/submit", key, nil)
	a.waitStatus(id, key, "failed", 1)
	got := box.waitMail("it@initech-mail.test", "Your migration stopped", 1)
	if len(got) != 1 || !strings.Contains(got[0].Body, "broken.csv, line 3") || !strings.Contains(got[0].Body, "operations team has been alerted") {
		t.Fatalf("failure mail %+v", got)
	}
}
