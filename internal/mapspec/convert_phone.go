package mapspec

// The phone conversion (op "phone"): E.164 through the phone library,
// with the region from the step, the row or the file.

import (
	"fmt"
	"strconv"
	"strings"
)

type phoneConv struct {
	region string // "" infers it: the row's region (see work.region)
}

func (pc *phoneConv) convert(w *work, raw string) (string, string) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", ""
	}
	intl := s[0] == '+' || strings.HasPrefix(s, "00")
	region := pc.region
	if region == "" {
		region = w.region
	}
	if region == "" && !intl {
		return "", fmt.Sprintf("%q has no country code, and nothing says which country this file is from: set the migration's market or a \"region\"", raw)
	}
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	if intl {
		// "+44 (0)20 ..." writes the national trunk prefix beside the country
		// code, as many UK and European exports do; dialled, it is left out.
		s = strings.Replace(s, "(0)", "", 1)
	}
	res := w.phones.lookup(s, region)
	if !res.valid {
		if intl {
			return "", fmt.Sprintf("%q is not a valid phone number", raw)
		}
		return "", fmt.Sprintf("%q is not a valid phone number (default region %s)", raw, region)
	}
	if !intl && region != w.market {
		// A national number in the migration's own market is how people
		// write them there: nothing to review.
		// written out rather than with fmt, in one allocation: most rows of
		// a file from abroad take this warning (the same text as %q)
		var buf [128]byte
		b := strconv.AppendQuote(buf[:0], raw)
		b = append(append(append(b, " has no country code; read as a "...), region...), " number"...)
		w.warn(raw, string(b))
	}
	if res.ext != "" {
		w.warn(raw, fmt.Sprintf("%q has the extension %s, which an E.164 number cannot hold: it is left out, so note it by hand", raw, res.ext))
	}
	return res.e164, ""
}
