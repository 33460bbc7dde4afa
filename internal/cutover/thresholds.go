package cutover

import (
	"strconv"
	"strings"
)

// ParseThresholds reads the pre-flight's thresholds from their deployment
// settings (the template's parameters, as text): fill-drop and reject-rise
// points and the delta share in percent, each a number from 0 to 100 (a
// delta of 0 is no limit), and "true" or "false" for holding on an
// unexplained reconciliation.
//
// Errors: EINVALID naming the setting that is out of range or unreadable.
func ParseThresholds(fillDrop, rejectRise, deltaPct, holdUnexplained string) (Thresholds, error) {
	var t Thresholds
	for _, f := range []struct {
		name, raw string
		to        *float64
	}{{"PREFLIGHT_FILL_DROP_POINTS", fillDrop, &t.FillDropPoints}, {"PREFLIGHT_REJECT_RISE_POINTS", rejectRise, &t.RejectRisePoints}, {"PREFLIGHT_DELTA_PCT", deltaPct, &t.DeltaPct}} {
		v, err := strconv.ParseFloat(strings.TrimSpace(f.raw), 64)
		if err != nil || v < 0 || v > 100 {
			return Thresholds{}, Errorf(EINVALID, "%s must be a number from 0 to 100, not %q.", f.name, f.raw)
		}
		*f.to = v
	}
	switch strings.TrimSpace(holdUnexplained) {
	case "true":
		t.HoldUnexplained = true
	case "false":
	default:
		return Thresholds{}, Errorf(EINVALID, "PREFLIGHT_HOLD_UNEXPLAINED must be true or false, not %q.", holdUnexplained)
	}
	return t, nil
}
