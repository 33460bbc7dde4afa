package samtemplate

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/awslabs/goformation/v7/cloudformation"
)

// Schedule is a function's Schedule event: EventBridge invokes the
// function at a fixed rate. The local emulator fires no schedule rules, so
// the local stack fires these itself.
type Schedule struct {
	// Function is the logical id of the function the schedule invokes.
	Function string
	// Event is the event's name in the function's Events.
	Event string
	// Expression is the template's schedule, e.g. "rate(1 minute)".
	Expression string
	// Rate is how often the function is invoked.
	Rate time.Duration
	// Enabled is false when the template disables the schedule.
	Enabled bool
}

// rateExpr is an EventBridge rate expression: rate(value unit).
var rateExpr = regexp.MustCompile(`^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$`)

// ParseRate returns the interval of an EventBridge rate expression such
// as "rate(5 minutes)".
//
// It returns an error for anything else (cron expressions included: the
// local stack does not fire them) and for a zero rate.
func ParseRate(expr string) (time.Duration, error) {
	mt := rateExpr.FindStringSubmatch(expr)
	if mt == nil {
		return 0, fmt.Errorf("schedule %q: only rate(N minute(s)|hour(s)|day(s)) is supported by the local stack", expr)
	}
	n, err := strconv.Atoi(mt[1])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("schedule %q: the rate must be a positive number", expr)
	}
	unit := map[string]time.Duration{"minute": time.Minute, "minutes": time.Minute, "hour": time.Hour, "hours": time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour}[mt[2]]
	return time.Duration(n) * unit, nil
}

func (m *Model) buildSchedules(tpl *cloudformation.Template, raw *rawTemplate) error {
	fns := tpl.GetAllServerlessFunctionResources()
	for _, fnID := range slices.Sorted(maps.Keys(fns)) {
		for _, evName := range slices.Sorted(maps.Keys(fns[fnID].Events)) {
			if fns[fnID].Events[evName].Type != "Schedule" {
				continue
			}
			where := fmt.Sprintf("samtemplate: function %s event %s", fnID, evName)
			events, _ := raw.Resources[fnID].Properties["Events"].(map[string]any)
			ev, _ := events[evName].(map[string]any)
			props, _ := ev["Properties"].(map[string]any)
			expr, ok := props["Schedule"].(string)
			if !ok {
				return fmt.Errorf("%s: Schedule must be a literal rate expression", where)
			}
			rate, err := ParseRate(expr)
			if err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			enabled := true
			if e, ok := props["Enabled"].(bool); ok {
				enabled = e
			}
			m.Schedules = append(m.Schedules, Schedule{Function: fnID, Event: evName, Expression: expr, Rate: rate, Enabled: enabled})
		}
	}
	return nil
}
