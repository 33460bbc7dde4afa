package mapspec

// The yes/no conversion (op "boolean"): words read as true or false.

import (
	"fmt"
	"strings"
)

var (
	defaultTrue  = []string{"true", "yes", "y", "1", "t", "on", "x", "subscribed", "opted in", "opt-in", "opt in"}
	defaultFalse = []string{"false", "no", "n", "0", "f", "off", "unsubscribed", "opted out", "opt-out", "opt out"}
)

type boolConv struct {
	words  map[string]bool
	invert bool
	hint   string
}

func (bc *boolConv) convert(raw string) (string, string) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", ""
	}
	v, ok := bc.words[s]
	if !ok {
		v, ok = bc.words[strings.ToLower(s)]
	}
	if !ok {
		return "", fmt.Sprintf("%q is not a recognised yes/no value (%s)", raw, bc.hint)
	}
	if v != bc.invert {
		return "true", ""
	}
	return "false", ""
}
