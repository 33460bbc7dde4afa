package mapspec

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/schema"
)

func TestAmountReadsPeriodsAndBothConventions(t *testing.T) {
	gbp := &amountConv{currency: "GBP", minor: 2}
	eur := &amountConv{currency: "EUR", minor: 2}
	monthly := &amountConv{currency: "GBP", minor: 2, per: "monthly"}
	for _, tc := range []struct {
		ac       *amountConv
		in, want string
		period   string
	}{
		{gbp, "£1,250.00 pcm", "1250.00", "monthly"},
		{gbp, "£295.00 pw", "295.00", "weekly"},
		{gbp, "£14,400 pa", "14400.00", "annually"},
		{gbp, "950 p/m", "950.00", "monthly"},
		{gbp, "£1200 per month", "1200.00", "monthly"},
		{gbp, "£1,200 per calendar month", "1200.00", "monthly"},
		{gbp, "£150 weekly", "150.00", "weekly"},
		{gbp, "GBP 1.100,00 monthly", "1100.00", "monthly"},
		{gbp, "1250pcm", "1250.00", "monthly"},
		{gbp, "£ 1 250,50 PCM", "1250.50", "monthly"},
		{gbp, "£1,250", "1250.00", ""},
		{gbp, "1.250", "1250.00", ""},
		{gbp, "12,5", "12.50", ""},
		{gbp, "(£12.00)", "-12.00", ""},
		{eur, "1.250,00 € / Monat", "1250.00", "monthly"},
		{eur, "EUR 950 par mois", "950.00", "monthly"},
		{eur, "€1'250.00 p.a.", "1250.00", "annually"},
		{monthly, "£295.00 pw", "1278.33", "weekly"},
		{monthly, "£14,400 pa", "1200.00", "annually"},
		{monthly, "£1,250 pcm", "1250.00", "monthly"},
		{monthly, "£3,000 per quarter", "1000.00", "quarterly"},
		{monthly, "£295 pw pw", "1278.33", "weekly"},
		{monthly, "£1,250", "", ""}, // no period: not guessed
	} {
		got, reason := tc.ac.convert(nil, tc.in)
		if reason != "" || got != tc.want {
			t.Errorf("%s: got %q (%s), want %q", tc.in, got, reason, tc.want)
		}
		_, per := splitPeriod(tc.in)
		if per != tc.period {
			t.Errorf("%s: period %q, want %q", tc.in, per, tc.period)
		}
	}
}

func TestAmountRejectsInWords(t *testing.T) {
	gbp := &amountConv{currency: "GBP", minor: 2}
	for in, want := range map[string]string{
		"$1,250 pcm":   "is in USD, but the field is in GBP",
		"£1,25,0 pcm":  "is not an amount of money",
		"£1.2345":      "more than 2 decimal places",
		"pcm":          "is not an amount of money",
		"£295 pw pcm":  "names two periods",
		"about £1,000": "is not an amount of money",
		"£1,250.00.00": "is not an amount of money",
	} {
		got, reason := gbp.convert(nil, in)
		if !strings.Contains(reason, want) {
			t.Errorf("%q: got %q, reason %q, want a reason with %q", in, got, reason, want)
		}
	}
}

func TestPeriodWords(t *testing.T) {
	for in, want := range map[string]string{
		"pcm": "monthly", "PW": "weekly", "Per Annum": "annually", "p/m": "monthly", "Monthly": "monthly",
		"£295.00 pw": "weekly", "p4w": "four_weekly", "fortnightly": "fortnightly", "1250": "", "monatlich": "monthly",
	} {
		st, _ := periodStep("$", Step{Op: opPeriod}, &schema.Field{Name: "f", Type: schema.Enum})
		got, reason := st(nil, []string{in})
		if reason != "" || got[0] != want {
			t.Errorf("%q: got %q (%s), want %q", in, got[0], reason, want)
		}
	}
}

func TestAmountSpecOptions(t *testing.T) {
	for spec, want := range map[string]string{
		`{"op":"amount","per":"daily"}`:    `must be one of the following`,
		`{"op":"amount","region":"GB"}`:    `option "region" does not apply to op "amount"`,
		`{"op":"period","per":"monthly"}`:  `option "per" does not apply to op "period"`,
		`{"op":"amount","currency":"GBP"}`: "",
		`{"op":"amount","per":"monthly"}`:  "",
	} {
		data := `{"version":1,"files":[{"name":"t","entity":"tenancy","fields":[
			{"target":"property","column":"P"},{"target":"tenants","column":"T"},{"target":"start_date","column":"S"},
			{"target":"rent","column":"R","steps":[` + spec + `]}]}]}`
		_, err := Parse([]byte(data))
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", spec, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want) || cutover.ErrorCode(err) != cutover.EINVALID):
			t.Errorf("%s: got %v, want %q", spec, err, want)
		}
	}
}

// FuzzAmount: any text either converts to a canonical decimal that reads
// back as the same amount, or is refused with a reason; never a panic.
func FuzzAmount(f *testing.F) {
	for _, s := range []string{"£1,250.00 pcm", "£295.00 pw", "1.250,00 € / Monat", "(£12)", "pcm", "£ 1 250,50", "1'250.00 pa", "-0,00", "£295 pw pw"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, monthly bool) {
		ac := &amountConv{currency: "GBP", minor: 2}
		if monthly {
			ac.per = "monthly"
		}
		out, reason := ac.convert(nil, s)
		if reason != "" {
			if out != "" {
				t.Fatalf("%q: refused (%s) but gave %q", s, reason, out)
			}
			return
		}
		if out == "" {
			return
		}
		n, ok := minorUnits(out)
		if !ok || formatMinor(n, 2) != out {
			t.Fatalf("%q: %q is not canonical", s, out)
		}
		again, reason := (&amountConv{currency: "GBP", minor: 2}).convert(nil, out)
		if reason != "" || again != out {
			t.Fatalf("%q: canonical %q reads back as %q (%s)", s, out, again, reason)
		}
	})
}
