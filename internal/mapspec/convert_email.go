package mapspec

// The e-mail conversion (op "email"): normalised, validated, and a likely
// typo in a well-known domain flagged.

import (
	"fmt"
	"strings"
)

var domainTypos = map[string]string{
	"gmial.com": "gmail.com", "gmai.com": "gmail.com", "gmal.com": "gmail.com", "gnail.com": "gmail.com",
	"gmail.co": "gmail.com", "gmail.con": "gmail.com", "gmail.cm": "gmail.com", "gmaill.com": "gmail.com",
	"gmail.co.uk": "gmail.com", "hotmial.com": "hotmail.com", "hotmal.com": "hotmail.com", "hotmail.con": "hotmail.com",
	"hotmai.com": "hotmail.com", "hotmail.co": "hotmail.co.uk", "hotmail.co.k": "hotmail.co.uk", "yahooo.com": "yahoo.com",
	"yaho.com": "yahoo.com", "yahoo.con": "yahoo.com", "yahoo.co": "yahoo.co.uk", "outlok.com": "outlook.com",
	"outloo.com": "outlook.com", "outlook.con": "outlook.com", "iclould.com": "icloud.com", "icoud.com": "icloud.com",
	"icloud.co": "icloud.com", "btinternet.co": "btinternet.com", "btinternt.com": "btinternet.com", "btinterent.com": "btinternet.com",
	"live.co": "live.co.uk", "aol.con": "aol.com", "sky.con": "sky.com",
}

func isLocalChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte(".!#$%&'*+/=?^_`{|}~-", c) >= 0 || c >= 0x80
}

// normEmail lower-cases, trims and validates an address.
func normEmail(w *work, raw string) (string, string) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", ""
	}
	if len(s) > 7 && strings.EqualFold(s[:7], "mailto:") {
		s = s[7:]
	}
	if len(s) > 2 && s[0] == '<' && s[len(s)-1] == '>' {
		s = s[1 : len(s)-1]
	}
	s = strings.ToLower(s)
	at := strings.IndexByte(s, '@')
	if at <= 0 || at != strings.LastIndexByte(s, '@') || len(s) > 254 || at > 64 {
		return "", fmt.Sprintf("%q is not a valid email address", raw)
	}
	local, domain := s[:at], s[at+1:]
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return "", fmt.Sprintf("%q is not a valid email address", raw)
	}
	for i := 0; i < len(local); i++ {
		if !isLocalChar(local[i]) {
			return "", fmt.Sprintf("%q is not a valid email address", raw)
		}
	}
	labels, start, last := 0, 0, 0
	for i := 0; i <= len(domain); i++ {
		if i == len(domain) || domain[i] == '.' {
			l := domain[start:i]
			last = start
			if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
				return "", fmt.Sprintf("%q is not a valid email address", raw)
			}
			labels++
			start = i + 1
			continue
		}
		c := domain[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c >= 0x80) {
			return "", fmt.Sprintf("%q is not a valid email address", raw)
		}
	}
	tld := domain[last:]
	if labels < 2 || len(tld) < 2 || strings.Trim(tld, "0123456789") == "" {
		return "", fmt.Sprintf("%q is not a valid email address", raw)
	}
	if fix, ok := domainTypos[domain]; ok {
		w.warn(raw, fmt.Sprintf("%q: the domain looks like a typo of %s", s, fix))
	}
	return s, ""
}
