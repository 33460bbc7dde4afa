package samtemplate

import (
	"strings"
	"testing"
	"time"
)

// Every Schedule event of the template is in the model with its rate, read
// from the template: the local stack fires them.
func TestScheduleEventsAreRead(t *testing.T) {
	m := loadReal(t, Options{})
	raw := readRawYAML(t)
	want := 0
	for id, res := range raw.Resources {
		if res.Type != "AWS::Serverless::Function" {
			continue
		}
		var props struct {
			Events map[string]struct {
				Type       string `yaml:"Type"`
				Properties struct {
					Schedule string `yaml:"Schedule"`
				} `yaml:"Properties"`
			} `yaml:"Events"`
		}
		rawProps(t, res.Properties, &props)
		for name, ev := range props.Events {
			if ev.Type != "Schedule" {
				continue
			}
			want++
			found := false
			for _, s := range m.Schedules {
				if s.Function == id && s.Event == name {
					found = true
					rate, err := ParseRate(ev.Properties.Schedule)
					if err != nil || s.Rate != rate || s.Expression != ev.Properties.Schedule || !s.Enabled {
						t.Errorf("%s.%s = %+v (%v)", id, name, s, err)
					}
				}
			}
			if !found {
				t.Errorf("schedule %s.%s is not in the model", id, name)
			}
		}
	}
	if want == 0 || len(m.Schedules) != want {
		t.Fatalf("%d schedules in the model, %d in the template", len(m.Schedules), want)
	}
}

func TestParseRate(t *testing.T) {
	for expr, want := range map[string]time.Duration{"rate(1 minute)": time.Minute, "rate(5 minutes)": 5 * time.Minute, "rate(2 hours)": 2 * time.Hour, "rate(1 day)": 24 * time.Hour} {
		if got, err := ParseRate(expr); err != nil || got != want {
			t.Errorf("%s = %v, %v; want %v", expr, got, err, want)
		}
	}
	for _, expr := range []string{"cron(0 12 * * ? *)", "rate(0 minutes)", "rate(1 fortnight)", ""} {
		if _, err := ParseRate(expr); err == nil || !strings.Contains(err.Error(), "schedule") {
			t.Errorf("%q: %v; want an error", expr, err)
		}
	}
}
